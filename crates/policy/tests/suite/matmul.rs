//! The matmul module: the bf16 AMX backend against exact references on every shape class,
//! layout and edge (strides, transposes, accumulation, `k = 0`, decoding shapes, NaN/inf),
//! determinism across thread counts, and the backend switch.
//!
//! Tests that need AMX print `SKIPPED: no AMX-BF16 on this CPU` on stderr where it is missing,
//! and fail instead when `CROSSGYM_REQUIRE_AMX=1` (set it on machines that must exercise AMX).

use crossgym_policy::matmul::{
    MatRef, MatmulBackend, PackedB, amx_available, backend, matmul_packed, matmul_with,
    round_to_bf16, set_backend,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const BF16: MatmulBackend = MatmulBackend::Bf16Amx;
/// f32 unit roundoff.
const U32: f64 = 1.0 / (1u64 << 24) as f64;
/// bf16 unit roundoff (8 significant bits).
const U_BF16: f64 = 1.0 / 256.0;

/// Whether AMX tests can run; says so loudly when they cannot, and fails under
/// `CROSSGYM_REQUIRE_AMX=1`.
fn amx_or_skip(test: &str) -> bool {
    if amx_available() {
        return true;
    }
    assert!(
        std::env::var("CROSSGYM_REQUIRE_AMX").as_deref() != Ok("1"),
        "{test}: CROSSGYM_REQUIRE_AMX=1 but this CPU/OS cannot run AMX-BF16"
    );
    eprintln!("SKIPPED: no AMX-BF16 on this CPU ({test})");
    false
}

/// A matrix stored in some layout, with the data that backs it.
struct Stored {
    data: Vec<f32>,
    rows: usize,
    cols: usize,
    offset: usize,
    row_stride: usize,
    col_stride: usize,
}

/// How an operand is laid out in memory.
#[derive(Clone, Copy, Debug)]
enum Layout {
    /// Row-major, dense.
    RowMajor,
    /// Column-major (a transposed view of a row-major matrix).
    ColMajor,
    /// A sub-matrix of a wider row-major matrix (row stride > cols), at an offset.
    SubRowMajor,
    /// A sub-matrix of a taller column-major matrix.
    SubColMajor,
    /// Neither stride is 1.
    Scattered,
}

const LAYOUTS: [Layout; 5] = [
    Layout::RowMajor,
    Layout::ColMajor,
    Layout::SubRowMajor,
    Layout::SubColMajor,
    Layout::Scattered,
];

impl Stored {
    fn random(rows: usize, cols: usize, layout: Layout, rng: &mut ChaCha8Rng) -> Self {
        let (offset, row_stride, col_stride, len) = match layout {
            Layout::RowMajor => (0, cols, 1, rows * cols),
            Layout::ColMajor => (0, 1, rows, rows * cols),
            Layout::SubRowMajor => (3, cols + 5, 1, 3 + rows * (cols + 5)),
            Layout::SubColMajor => (7, 1, rows + 9, 7 + cols * (rows + 9)),
            Layout::Scattered => (1, 2 * cols + 1, 2, 1 + rows * (2 * cols + 1)),
        };
        let data = (0..len.max(1))
            .map(|_| rng.random_range(-1.0f32..1.0))
            .collect();
        Self {
            data,
            rows,
            cols,
            offset,
            row_stride,
            col_stride,
        }
    }

    fn view(&self) -> MatRef<'_> {
        MatRef {
            data: &self.data[self.offset..],
            rows: self.rows,
            cols: self.cols,
            row_stride: self.row_stride,
            col_stride: self.col_stride,
        }
    }

    fn at(&self, i: usize, j: usize) -> f32 {
        self.data[self.offset + i * self.row_stride + j * self.col_stride]
    }

    fn set(&mut self, i: usize, j: usize, v: f32) {
        self.data[self.offset + i * self.row_stride + j * self.col_stride] = v;
    }
}

/// The output buffer: `m` rows at stride `ldc`, with sentinels between rows.
fn output(m: usize, n: usize, ldc: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let mut c = vec![f32::from_bits(0x7FC0_1234); m.saturating_sub(1) * ldc + n + 3];
    for i in 0..m {
        for v in &mut c[i * ldc..i * ldc + n] {
            *v = rng.random_range(-1.0f32..1.0);
        }
    }
    c
}

/// Checks one AMX product against exact references, element by element, and that nothing
/// outside the output was written.
#[allow(clippy::too_many_arguments)]
fn check_shape(
    m: usize,
    n: usize,
    k: usize,
    la: Layout,
    lb: Layout,
    accumulate: bool,
    ldc_pad: usize,
    seed: u64,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let a = Stored::random(m, k, la, &mut rng);
    let b = Stored::random(k, n, lb, &mut rng);
    let ldc = n + ldc_pad;
    let c0 = output(m, n, ldc, &mut rng);
    let mut c = c0.clone();
    matmul_with(BF16, a.view(), b.view(), &mut c, ldc, accumulate);
    let mut c32 = c0.clone();
    matmul_with(
        MatmulBackend::F32,
        a.view(),
        b.view(),
        &mut c32,
        ldc,
        accumulate,
    );
    let what = format!("{m}×{k}·{k}×{n} {la:?}·{lb:?} acc={accumulate} ldc={ldc}");
    for (idx, (&got, &init)) in c.iter().zip(&c0).enumerate() {
        let (i, j) = (idx / ldc, idx % ldc);
        if i >= m || j >= n {
            assert_eq!(
                got.to_bits(),
                init.to_bits(),
                "{what}: wrote outside C at {idx}"
            );
            continue;
        }
        let start = if accumulate { f64::from(init) } else { 0.0 };
        let (mut exact_bf16, mut exact, mut magnitude) = (start, start, start.abs());
        for p in 0..k {
            let (x, y) = (a.at(i, p), b.at(p, j));
            exact_bf16 += f64::from(round_to_bf16(x)) * f64::from(round_to_bf16(y));
            exact += f64::from(x) * f64::from(y);
            magnitude += f64::from(x.abs()) * f64::from(y.abs());
        }
        // Against the bf16-rounded inputs only the f32 summation differs: at most (k+1)·u of
        // Σ|terms| for k + 1 additions (products of two bf16 are exact in f32).
        let summation = (k as f64 + 2.0) * U32 * magnitude * (1.0 + 4.0 * U_BF16) + 1e-37;
        let err = (f64::from(got) - exact_bf16).abs();
        assert!(
            err <= summation,
            "{what}: C[{i}][{j}] = {got}, exact on bf16 inputs {exact_bf16}, error {err:e} > {summation:e}"
        );
        // Against the f32 inputs, rounding each operand to bf16 moves each product by at most
        // (2u + u²)·|x·y| with u = 2⁻⁸, plus both backends' f32 summation.
        let rounding = (2.0 * U_BF16 + U_BF16 * U_BF16) * magnitude + 2.0 * summation;
        let err = (f64::from(got) - exact).abs();
        assert!(
            err <= rounding,
            "{what}: C[{i}][{j}] = {got}, exact {exact}, error {err:e} > {rounding:e}"
        );
        let err32 = (f64::from(got) - f64::from(c32[idx])).abs();
        assert!(
            err32 <= rounding,
            "{what}: C[{i}][{j}] = {got}, f32 path {}, error {err32:e}",
            c32[idx]
        );
    }
}

/// The shape list of the brief: sizes around the tile edges and SmolLM2's dimensions.
const SPECIAL: [usize; 13] = [1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 577, 1536];

#[test]
fn small_shapes_on_a_sampled_grid() {
    if !amx_or_skip("small_shapes_on_a_sampled_grid") {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut shapes = vec![
        (1, 1, 1),
        (40, 40, 40),
        (1, 40, 1),
        (40, 1, 40),
        (16, 16, 32),
    ];
    for _ in 0..400 {
        shapes.push((
            rng.random_range(1..=40),
            rng.random_range(1..=40),
            rng.random_range(1..=40),
        ));
    }
    for (s, &(m, n, k)) in shapes.iter().enumerate() {
        let la = LAYOUTS[s % 5];
        let lb = LAYOUTS[(s / 5) % 5];
        check_shape(m, n, k, la, lb, s % 2 == 1, s % 3, s as u64);
    }
}

#[test]
fn edge_sizes_in_every_dimension() {
    if !amx_or_skip("edge_sizes_in_every_dimension") {
        return;
    }
    for (s, &size) in SPECIAL.iter().enumerate() {
        let seed = 100 + s as u64;
        check_shape(
            size,
            33,
            65,
            Layout::RowMajor,
            Layout::ColMajor,
            false,
            0,
            seed,
        );
        check_shape(
            31,
            size,
            65,
            Layout::SubRowMajor,
            Layout::RowMajor,
            true,
            1,
            seed,
        );
        check_shape(
            17,
            33,
            size,
            Layout::ColMajor,
            Layout::SubColMajor,
            false,
            2,
            seed,
        );
    }
    check_shape(
        65,
        100,
        577,
        Layout::RowMajor,
        Layout::ColMajor,
        false,
        0,
        7,
    );
    check_shape(
        100,
        65,
        1536,
        Layout::RowMajor,
        Layout::RowMajor,
        true,
        0,
        8,
    );
}

#[test]
fn every_layout_pair_and_accumulate() {
    if !amx_or_skip("every_layout_pair_and_accumulate") {
        return;
    }
    for (ia, &la) in LAYOUTS.iter().enumerate() {
        for (ib, &lb) in LAYOUTS.iter().enumerate() {
            for accumulate in [false, true] {
                let seed = (ia * 10 + ib) as u64;
                check_shape(37, 45, 70, la, lb, accumulate, 3, seed);
                check_shape(64, 64, 64, la, lb, accumulate, 0, seed);
            }
        }
    }
}

#[test]
fn parallel_shapes_match_the_reference() {
    if !amx_or_skip("parallel_shapes_match_the_reference") {
        return;
    }
    // Large enough to be split over the pool, by rows and by columns.
    check_shape(
        200,
        130,
        577,
        Layout::RowMajor,
        Layout::ColMajor,
        false,
        0,
        11,
    );
    check_shape(
        2,
        1000,
        1100,
        Layout::RowMajor,
        Layout::ColMajor,
        true,
        5,
        12,
    );
}

#[test]
fn empty_inner_dimension_zeroes_or_keeps_c() {
    // Holds on both backends: no AMX needed.
    for backend in [MatmulBackend::F32, BF16] {
        let a = vec![0.0f32; 0];
        let mut c = vec![5.0f32; 6];
        // Accumulating keeps C; overwriting zeroes it.
        for (accumulate, want) in [(true, 5.0), (false, 0.0)] {
            matmul_with(
                backend,
                MatRef::new(&a, 2, 0),
                MatRef::new(&a, 0, 3),
                &mut c,
                3,
                accumulate,
            );
            assert_eq!(c, vec![want; 6], "accumulate {accumulate}");
        }
    }
}

#[test]
fn packed_weights_match_the_unpacked_product_bit_for_bit() {
    if !amx_or_skip("packed_weights_match_the_unpacked_product_bit_for_bit") {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    // A linear layer's weight [out = 1536, in = 576], used as Wᵀ (576 × 1536).
    let w = Stored::random(1536, 576, Layout::RowMajor, &mut rng);
    let packed = PackedB::new_for(BF16, w.view().t());
    assert_eq!(
        (packed.rows(), packed.cols(), packed.backend()),
        (576, 1536, BF16)
    );
    for m in [1, 2, 16, 17, 32] {
        let x = Stored::random(m, 576, Layout::RowMajor, &mut rng);
        let mut direct = vec![0.0f32; m * 1536];
        matmul_with(BF16, x.view(), w.view().t(), &mut direct, 1536, false);
        let mut via_packed = vec![1.0f32; m * 1536];
        matmul_packed(x.view(), &packed, &mut via_packed, 1536, false);
        assert!(bits(&direct) == bits(&via_packed), "m = {m}");
    }
    // Decode shapes against the exact reference too.
    for m in [1, 16, 32] {
        check_shape(
            m,
            1536,
            576,
            Layout::RowMajor,
            Layout::ColMajor,
            false,
            0,
            30 + m as u64,
        );
    }
}

#[test]
fn f32_packing_keeps_f32_results() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let w = Stored::random(30, 40, Layout::RowMajor, &mut rng);
    let x = Stored::random(3, 30, Layout::RowMajor, &mut rng);
    let packed = PackedB::new_for(MatmulBackend::F32, w.view());
    assert_eq!(packed.backend(), MatmulBackend::F32);
    // The f32 copy is row-major, so the product is the one on a row-major operand, bit for bit.
    let mut want = vec![0.0f32; 3 * 40];
    matmul_with(MatmulBackend::F32, x.view(), w.view(), &mut want, 40, false);
    let mut got = vec![0.0f32; 3 * 40];
    matmul_packed(x.view(), &packed, &mut got, 40, false);
    assert!(bits(&want) == bits(&got));
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// One product computed inside a rayon pool of `threads` threads.
fn product_in_pool(threads: usize, m: usize, n: usize, k: usize, accumulate: bool) -> Vec<u32> {
    let mut rng = ChaCha8Rng::seed_from_u64((m * n * k) as u64);
    let a = Stored::random(m, k, Layout::RowMajor, &mut rng);
    let b = Stored::random(k, n, Layout::ColMajor, &mut rng);
    let mut c = output(m, n, n, &mut rng);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| matmul_with(BF16, a.view(), b.view(), &mut c, n, accumulate));
    bits(&c)
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    if !amx_or_skip("results_do_not_depend_on_the_thread_count") {
        return;
    }
    for (m, n, k) in [
        (256, 200, 577),
        (1, 1536, 1536),
        (33, 700, 1100),
        (100, 100, 1536),
    ] {
        let one = product_in_pool(1, m, n, k, true);
        for threads in [2, 3] {
            assert!(
                one == product_in_pool(threads, m, n, k, true),
                "{m}×{n}×{k}, {threads} threads"
            );
        }
    }
}

#[test]
fn nan_and_infinity_propagate() {
    if !amx_or_skip("nan_and_infinity_propagate") {
        return;
    }
    // k and n off the tile multiples, so padding sits next to the special values.
    let (m, n, k) = (20, 37, 45);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut a = Stored::random(m, k, Layout::RowMajor, &mut rng);
    let mut b = Stored::random(k, n, Layout::RowMajor, &mut rng);
    for p in 0..k {
        a.set(4, p, a.at(4, p).abs() + 0.5); // row 4 of A strictly positive
    }
    a.set(7, k - 1, f32::NAN); // NaN in the last (partial) k tile
    b.set(k - 1, n - 1, f32::INFINITY); // +inf in the last column and last k
    b.set(0, 2, f32::NEG_INFINITY);
    let mut c = vec![0.0f32; m * n];
    matmul_with(BF16, a.view(), b.view(), &mut c, n, false);
    for i in 0..m {
        for j in 0..n {
            let v = c[i * n + j];
            if i == 7 || (j == n - 1 && a.at(i, k - 1) == 0.0) {
                assert!(v.is_nan(), "C[{i}][{j}] = {v}, want NaN");
            } else if j == n - 1 {
                assert!(v.is_infinite(), "C[{i}][{j}] = {v}");
                assert_eq!(
                    v.is_sign_positive(),
                    a.at(i, k - 1) > 0.0,
                    "C[{i}][{j}] = {v}"
                );
            } else if j == 2 {
                assert!(v.is_infinite(), "C[{i}][{j}] = {v}");
                assert_eq!(v.is_sign_negative(), a.at(i, 0) > 0.0, "C[{i}][{j}] = {v}");
            } else {
                assert!(v.is_finite(), "C[{i}][{j}] = {v}: a special value leaked");
            }
        }
    }
    assert!(c[4 * n + n - 1] == f32::INFINITY);
}

/// Runs the ignored `backend_probe` test in a child process with `CROSSGYM_MATMUL` set to
/// `value` and returns what it printed.
fn probe_with_env(value: Option<&str>) -> String {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "matmul::backend_probe",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd.env_remove("CROSSGYM_MATMUL");
    if let Some(v) = value {
        cmd.env("CROSSGYM_MATMUL", v);
    }
    let out = cmd.output().expect("run the test binary");
    assert!(
        out.status.success(),
        "probe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // libtest prints the test's name on the same line, before the probe's output.
    let line = stdout
        .lines()
        .find_map(|l| l.find("probe:").map(|at| &l[at..]));
    line.unwrap_or_else(|| panic!("no probe line in {stdout}"))
        .to_string()
}

/// Prints the backend under each `set_backend` override; run by `backend_selection` in a child
/// process, since the override is process-wide.
#[test]
#[ignore = "run by backend_selection in a child process"]
fn backend_probe() {
    let env = backend();
    set_backend(Some(MatmulBackend::F32));
    let forced_f32 = backend();
    set_backend(Some(BF16));
    let forced_bf16 = backend();
    set_backend(None);
    let reset = backend();
    println!("probe: {env:?} {forced_f32:?} {forced_bf16:?} {reset:?}");
}

#[test]
fn backend_selection() {
    let best = if amx_available() { "Bf16Amx" } else { "F32" };
    for (value, env) in [
        (None, best),
        (Some("auto"), best),
        (Some("bf16"), best),
        (Some("f32"), "F32"),
        (Some("fast"), best),
    ] {
        let want = format!("probe: {env} F32 {best} {env}");
        assert_eq!(probe_with_env(value), want, "CROSSGYM_MATMUL={value:?}");
    }
    if !amx_available() {
        amx_or_skip("backend_selection (bf16 half)");
    }
}
