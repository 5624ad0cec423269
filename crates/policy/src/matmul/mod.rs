//! The policy's one matrix-multiplication module: `C (+)= A · B` on f32 operands, computed either
//! in f32 (gemm's AVX-512/AVX2 kernels) or in bf16 on Intel AMX tiles with f32 accumulation
//! (bf16 rounding only inside packing, as PyTorch's `mkldnn.matmul.fp32_precision = "bf16"`).
//!
//! Every caller (linear layers forward and backward, attention tiles, KV-cached decoding) goes
//! through [`matmul`] or, for a right operand used many times (weights between optimizer steps),
//! [`PackedB`] + [`matmul_packed`]. Inside the crate, the rollout engine's bf16 KV caches are
//! right operands that grow a token at a time in the AMX tile layout (`append`: `AppendCols`,
//! `AppendRows`, `matmul_appended`). The backend is chosen once per process by [`backend`]:
//! `CROSSGYM_MATMUL=f32|bf16|auto` (default `auto`: bf16 where the CPU has AMX-BF16, else f32),
//! overridable by [`set_backend`] (a config field).
//!
//! Operands are strided views ([`MatRef`]), so transposes cost nothing: `x Wᵀ` with `W`
//! `[out, in]` is `matmul(x, MatRef::new(w, out, in).t(), ..)`.
//!
//! # The bf16 AMX backend
//! Intel AMX (Sapphire Rapids and later Xeons) multiplies 16 × 32 bf16 tiles by 32 × 16 bf16
//! tiles into 16 × 16 f32 accumulators (`tdpbf16ps`), about ten times the f32 FMA rate of a
//! core. The operands are f32 everywhere else in the policy; they are rounded to bf16 (to
//! nearest, ties to even, [`round_to_bf16`]) only while being packed into tiles, and the products
//! (exact in f32) are summed in f32. The error is therefore that of rounding each input once,
//! a relative 2⁻⁹ per operand, not that of a bf16 model. Layouts, blocking, edges, threads and
//! the per-thread tile configuration are documented in the submodules (`pack`, `amx`); the OS
//! permission that tile instructions need (an `arch_prctl` once per process) is asked by
//! [`amx_available`].
//!
//! Results are deterministic: each output element is summed over `k` in a fixed order whatever
//! the number of threads of rayon's current pool, which both backends use.

#[cfg(target_arch = "x86_64")]
mod amx;
#[cfg(target_arch = "x86_64")]
mod append;
mod bf16;
mod detect;
mod f32;
#[cfg(target_arch = "x86_64")]
mod few_rows;
#[cfg(target_arch = "x86_64")]
mod pack;

#[cfg(target_arch = "x86_64")]
pub(crate) use append::{AppendCols, AppendRows, Appended, matmul_appended};
pub use bf16::round_to_bf16;
pub use detect::amx_available;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

mod serial;
pub use serial::{
    PreparedLeft, PreparedRight, TilesHeld, hold_tiles, matmul_prepared, matmul_serial,
};

/// Which arithmetic the matmuls use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatmulBackend {
    /// f32 multiply-adds (exact to f32 rounding; every CPU).
    F32,
    /// bf16 products with f32 accumulation on AMX tiles (CPUs with AMX-BF16 only).
    Bf16Amx,
}

/// A read-only strided matrix view over f32 data: element `(i, j)` is
/// `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    /// The backing slice (must contain every addressed element).
    pub data: &'a [f32],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance between rows, in elements.
    pub row_stride: usize,
    /// Distance between columns, in elements.
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows × cols` matrix.
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose (a view; nothing is copied).
    pub fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Whether every addressed element lies inside `data`.
    pub fn in_bounds(&self) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last = (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
        last < self.data.len()
    }
}

const UNSET: u8 = 0;
const F32: u8 = 1;
const BF16: u8 = 2;

static OVERRIDE: AtomicU8 = AtomicU8::new(UNSET);

/// Forces a backend for the rest of the process (`None`: back to `CROSSGYM_MATMUL` / detection).
/// Asking for [`MatmulBackend::Bf16Amx`] where the CPU has no AMX-BF16 falls back to f32.
pub fn set_backend(backend: Option<MatmulBackend>) {
    let v = match backend {
        None => UNSET,
        Some(MatmulBackend::F32) => F32,
        Some(MatmulBackend::Bf16Amx) => BF16,
    };
    OVERRIDE.store(v, Ordering::Relaxed);
}

/// The backend in use: [`set_backend`]'s choice, else `CROSSGYM_MATMUL` (`f32`, `bf16`, `auto`;
/// read once per process, anything else counts as `auto` with a warning on stderr), else bf16 on
/// AMX where available. A bf16 choice where [`amx_available`] is false gives f32.
pub fn backend() -> MatmulBackend {
    let wanted = match OVERRIDE.load(Ordering::Relaxed) {
        F32 => MatmulBackend::F32,
        BF16 => MatmulBackend::Bf16Amx,
        _ => *ENV_CHOICE.get_or_init(env_choice),
    };
    if wanted == MatmulBackend::Bf16Amx && !amx_available() {
        MatmulBackend::F32
    } else {
        wanted
    }
}

static ENV_CHOICE: OnceLock<MatmulBackend> = OnceLock::new();

/// `CROSSGYM_MATMUL`'s choice (`auto` and unset mean bf16 where available).
fn env_choice() -> MatmulBackend {
    match std::env::var("CROSSGYM_MATMUL").as_deref() {
        Ok("f32") => MatmulBackend::F32,
        Ok("bf16" | "auto" | "") | Err(_) => MatmulBackend::Bf16Amx,
        Ok(other) => {
            eprintln!("crossgym: CROSSGYM_MATMUL={other:?} is not f32, bf16 or auto; using auto");
            MatmulBackend::Bf16Amx
        }
    }
}

/// `C = A · B` (or `C += A · B` when `accumulate`), with `C` row-major `a.rows × b.cols` and
/// leading dimension `ldc`, on the process's [`backend`]. Panics (a programming error, not
/// input) when shapes disagree.
pub fn matmul(a: MatRef<'_>, b: MatRef<'_>, c: &mut [f32], ldc: usize, accumulate: bool) {
    matmul_with(backend(), a, b, c, ldc, accumulate);
}

/// [`matmul`] on a given backend (tests, benchmarks). [`MatmulBackend::Bf16Amx`] where
/// [`amx_available`] is false runs in f32.
pub fn matmul_with(
    backend: MatmulBackend,
    a: MatRef<'_>,
    b: MatRef<'_>,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
) {
    if !check_operands(a, b, (c, ldc), accumulate) {
        return;
    }
    match backend {
        #[cfg(target_arch = "x86_64")]
        MatmulBackend::Bf16Amx if amx_available() => {
            let packed = pack::pack_b(b, parallel_packing(a.rows, b.cols, a.cols));
            bf16_product(a, &packed, b.cols, (c, ldc), accumulate);
        }
        _ => f32::matmul(a, b, c, ldc, accumulate),
    }
}

/// `C (+)= A · B[.., ..n]` for `B` packed in bf16 tiles: AVX-512 BF16 dot products for a few
/// rows (decoding), AMX tiles otherwise. Packed and unpacked operands both come here, so a
/// product has the same bits whichever way its weight was held.
#[cfg(target_arch = "x86_64")]
fn bf16_product(
    a: MatRef<'_>,
    tiles: &pack::PackedTiles,
    n: usize,
    (c, ldc): (&mut [f32], usize),
    accumulate: bool,
) {
    if a.rows <= few_rows::FEW_ROWS && few_rows::few_rows_available() {
        few_rows::matmul_few_rows_spread(a, tiles, n, (c, ldc), accumulate)
    } else {
        amx::matmul(a, tiles, n, c, ldc, accumulate, true)
    }
}

/// Checks both operands and the output of `C (+)= A · B` (panics: a programming error, not
/// input) and does the work of an empty product. Returns whether a real product remains.
fn check_operands(
    a: MatRef<'_>,
    b: MatRef<'_>,
    (c, ldc): (&mut [f32], usize),
    accumulate: bool,
) -> bool {
    assert_eq!(a.cols, b.rows, "matmul: inner dimensions differ");
    assert!(b.in_bounds(), "matmul: right operand out of bounds");
    check_and_trivial(a, b.cols, c, ldc, accumulate)
}

/// Checks `a` and `c` against an output of `n` columns, and does the work of an empty product
/// (`m`, `n` or `k` zero). Returns whether a real product remains.
fn check_and_trivial(a: MatRef<'_>, n: usize, c: &mut [f32], ldc: usize, accumulate: bool) -> bool {
    assert!(a.in_bounds(), "matmul: left operand out of bounds");
    check_output_and_trivial((a.rows, a.cols, n), c, ldc, accumulate)
}

/// Checks `c` against an `m × n` output and does the work of an empty product (`m`, `n` or `k`
/// zero). Returns whether a real product remains.
fn check_output_and_trivial(
    (m, k, n): (usize, usize, usize),
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
) -> bool {
    assert!(ldc >= n, "matmul: ldc smaller than the output's columns");
    if m == 0 || n == 0 {
        return false;
    }
    assert!(c.len() >= (m - 1) * ldc + n, "matmul: output too small");
    if k == 0 {
        if !accumulate {
            for row in c.chunks_mut(ldc).take(m) {
                row[..n].fill(0.0);
            }
        }
        return false;
    }
    true
}

/// Whether packing B for an `m × n × k` product is worth spreading over the pool.
#[cfg(target_arch = "x86_64")]
fn parallel_packing(m: usize, n: usize, k: usize) -> bool {
    rayon::current_num_threads() > 1 && m * n * k >= 1 << 21
}

/// A right operand packed once for repeated products (a weight between optimizer steps, or
/// during decoding).
///
/// On the bf16 AMX backend it holds the bf16 tiles of [`pack`](self#the-bf16-amx-backend)
/// (half the bytes of f32), so [`matmul_packed`] only packs the left operand; on the f32
/// backend it holds a row-major f32 copy. A packed operand keeps the backend it was packed for:
/// later [`set_backend`] calls do not change how it multiplies.
#[derive(Clone)]
pub struct PackedB {
    rows: usize,
    cols: usize,
    storage: Storage,
}

#[derive(Clone)]
enum Storage {
    F32(Vec<f32>),
    #[cfg(target_arch = "x86_64")]
    Bf16(pack::PackedTiles),
}

impl std::fmt::Debug for PackedB {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackedB")
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .field("backend", &self.backend())
            .finish()
    }
}

impl PackedB {
    /// Packs `b` (`k × n`) for the process's [`backend`].
    pub fn new(b: MatRef<'_>) -> Self {
        Self::new_for(backend(), b)
    }

    /// Packs `b` (`k × n`) for `backend` ([`MatmulBackend::Bf16Amx`] where [`amx_available`] is
    /// false packs for f32).
    pub fn new_for(backend: MatmulBackend, b: MatRef<'_>) -> Self {
        assert!(b.in_bounds(), "PackedB: operand out of bounds");
        let storage = match backend {
            #[cfg(target_arch = "x86_64")]
            MatmulBackend::Bf16Amx if amx_available() => {
                let parallel = rayon::current_num_threads() > 1 && b.rows * b.cols >= 1 << 16;
                Storage::Bf16(pack::pack_b(b, parallel))
            }
            _ => {
                let mut data = Vec::with_capacity(b.rows * b.cols);
                for i in 0..b.rows {
                    for j in 0..b.cols {
                        data.push(b.data[i * b.row_stride + j * b.col_stride]);
                    }
                }
                Storage::F32(data)
            }
        };
        Self {
            rows: b.rows,
            cols: b.cols,
            storage,
        }
    }

    /// Rows (`k`).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns (`n`).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The backend this operand was packed for, which [`matmul_packed`] uses.
    pub fn backend(&self) -> MatmulBackend {
        match self.storage {
            Storage::F32(_) => MatmulBackend::F32,
            #[cfg(target_arch = "x86_64")]
            Storage::Bf16(_) => MatmulBackend::Bf16Amx,
        }
    }
}

/// `b` packed for repeated products on `backend` where that saves work: `Some` on the bf16 AMX
/// backend (which packs its right operand on every [`matmul_with`] call), `None` on f32 (whose
/// kernels read the view as it is, so a packed copy would only cost memory). Pair it with
/// [`matmul_reusing`].
pub fn pack_for_reuse(backend: MatmulBackend, b: MatRef<'_>) -> Option<PackedB> {
    match backend {
        #[cfg(target_arch = "x86_64")]
        MatmulBackend::Bf16Amx if amx_available() => Some(PackedB::new_for(backend, b)),
        _ => None,
    }
}

/// [`matmul_with`] when `packed` is `None`, else [`matmul_packed`] with it; `packed` must come
/// from [`pack_for_reuse`] of the same `b`.
pub fn matmul_reusing(
    backend: MatmulBackend,
    a: MatRef<'_>,
    b: MatRef<'_>,
    packed: Option<&PackedB>,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
) {
    match packed {
        Some(p) => {
            debug_assert!(p.rows == b.rows && p.cols == b.cols);
            matmul_packed(a, p, c, ldc, accumulate);
        }
        None => matmul_with(backend, a, b, c, ldc, accumulate),
    }
}

/// [`matmul`] with a packed right operand, on the backend it was packed for.
pub fn matmul_packed(a: MatRef<'_>, b: &PackedB, c: &mut [f32], ldc: usize, accumulate: bool) {
    assert_eq!(a.cols, b.rows, "matmul: inner dimensions differ");
    if !check_and_trivial(a, b.cols, c, ldc, accumulate) {
        return;
    }
    match &b.storage {
        Storage::F32(data) => {
            f32::matmul(a, MatRef::new(data, b.rows, b.cols), c, ldc, accumulate);
        }
        #[cfg(target_arch = "x86_64")]
        Storage::Bf16(tiles) => bf16_product(a, tiles, b.cols, (c, ldc), accumulate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random matrix in (-1, 1).
    fn matrix(len: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state as f32 / u32::MAX as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn amx_matches_an_exact_reference_on_bf16_inputs() {
        if !amx_available() {
            assert!(
                std::env::var("CROSSGYM_REQUIRE_AMX").as_deref() != Ok("1"),
                "CROSSGYM_REQUIRE_AMX=1 but this CPU/OS cannot run AMX-BF16"
            );
            eprintln!("SKIPPED: no AMX-BF16 on this CPU (amx_matches_an_exact_reference)");
            return;
        }
        for (m, n, k) in [(1, 1, 1), (17, 33, 65), (64, 48, 100), (3, 130, 31)] {
            let (a, b) = (matrix(m * k, 1), matrix(n * k, 2));
            for accumulate in [false, true] {
                let c0 = matrix(m * n, 3);
                let mut c = c0.clone();
                // A row-major, B given as the transpose of an n × k row-major matrix.
                let bt = MatRef::new(&b, n, k).t();
                matmul_with(
                    MatmulBackend::Bf16Amx,
                    MatRef::new(&a, m, k),
                    bt,
                    &mut c,
                    n,
                    accumulate,
                );
                for i in 0..m {
                    for j in 0..n {
                        let mut exact = if accumulate {
                            f64::from(c0[i * n + j])
                        } else {
                            0.0
                        };
                        let mut size = exact.abs();
                        for p in 0..k {
                            let (x, y) = (round_to_bf16(a[i * k + p]), round_to_bf16(b[j * k + p]));
                            exact += f64::from(x) * f64::from(y);
                            size += f64::from(x.abs() * y.abs());
                        }
                        // Only the f32 summation differs: (k + 1) roundings of at most 2⁻²⁴.
                        let bound = (k as f64 + 2.0) * size / f64::from(1u32 << 24);
                        let got = f64::from(c[i * n + j]);
                        assert!(
                            (got - exact).abs() <= bound,
                            "{m}×{n}×{k} [{i}][{j}]: {got} vs {exact}"
                        );
                    }
                }
            }
        }
    }
}
