//! GFLOP/s of the two matmul backends (f32 via gemm, bf16 on AMX tiles) on SmolLM2-135M's
//! shapes: the linear layers' forward products at 512 tokens (`x Wᵀ`, weights as transposed
//! views), a weight gradient (`dYᵀ X`, a transposed left operand), KV-cached decoding against
//! packed weights, and flash-attention tiles. Criterion's "elements" are floating-point
//! operations (2·m·n·k), so its `Gelem/s` reads as GFLOP/s.
//!
//! Run with `cargo bench -p crossgym-policy --bench matmul -- --warm-up-time 1
//! --measurement-time 3`; `RAYON_NUM_THREADS=1` measures one core. Where the CPU has no AMX the
//! bf16 rows are skipped with a message.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use crossgym_policy::matmul::{
    MatRef, MatmulBackend, PackedB, amx_available, matmul_packed, matmul_with,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

fn backends() -> Vec<(&'static str, MatmulBackend)> {
    let mut list = vec![("f32", MatmulBackend::F32)];
    if amx_available() {
        list.push(("bf16-amx", MatmulBackend::Bf16Amx));
    } else {
        eprintln!("SKIPPED: no AMX-BF16 on this CPU; only f32 is measured");
    }
    list
}

/// How the operands of a product are stored.
#[derive(Clone, Copy)]
enum Kind {
    /// `x Wᵀ`: `A` row-major `m × k`, `W` row-major `n × k` used transposed.
    Linear,
    /// `dYᵀ X`: `dY` row-major `k × m` used transposed, `X` row-major `k × n`.
    WeightGrad,
    /// `A` and `B` both row-major (attention tiles: `Q Kᵀ` after packing, `P V`).
    Plain,
}

fn product(c: &mut Criterion, name: &str, kind: Kind, m: usize, k: usize, n: usize) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements((2 * m * n * k) as u64));
    let a = random(m * k, 1);
    let b = random(k * n, 2);
    let mut out = vec![0.0f32; m * n];
    let (av, bv) = match kind {
        Kind::Linear => (MatRef::new(&a, m, k), MatRef::new(&b, n, k).t()),
        Kind::WeightGrad => (MatRef::new(&a, k, m).t(), MatRef::new(&b, k, n)),
        Kind::Plain => (MatRef::new(&a, m, k), MatRef::new(&b, k, n)),
    };
    for (label, backend) in backends() {
        group.bench_function(BenchmarkId::from_parameter(label), |bench| {
            bench.iter(|| matmul_with(backend, av, bv, &mut out, n, false))
        });
    }
    group.finish();
}

/// Products against a weight packed once (`PackedB`), as in decoding.
fn packed(c: &mut Criterion, name: &str, ms: &[usize], k: usize, n: usize) {
    let w = random(n * k, 3);
    for (label, backend) in backends() {
        let weight = PackedB::new_for(backend, MatRef::new(&w, n, k).t());
        let mut group = c.benchmark_group(format!("{name}/{label}"));
        for &m in ms {
            let x = random(m * k, 4);
            let mut out = vec![0.0f32; m * n];
            group.throughput(Throughput::Elements((2 * m * n * k) as u64));
            group.bench_function(BenchmarkId::new("m", m), |bench| {
                bench.iter(|| matmul_packed(MatRef::new(&x, m, k), &weight, &mut out, n, false))
            });
        }
        group.finish();
    }
}

fn shapes(c: &mut Criterion) {
    product(c, "mlp_up 512x576x1536", Kind::Linear, 512, 576, 1536);
    product(c, "mlp_down 512x1536x576", Kind::Linear, 512, 1536, 576);
    product(c, "attn_proj 512x576x576", Kind::Linear, 512, 576, 576);
    product(c, "kv_proj 512x576x192", Kind::Linear, 512, 576, 192);
    product(c, "lm_head 512x576x49152", Kind::Linear, 512, 576, 49152);
    product(c, "dW 576x512x1536", Kind::WeightGrad, 576, 512, 1536);
    packed(c, "packed 576x1536", &[1, 16, 32, 512], 576, 1536);
    packed(c, "packed 576x49152", &[1, 16, 32], 576, 49152);
    product(c, "attn_tile 64x64x64", Kind::Plain, 64, 64, 64);
    product(c, "attn_tile 128x64x128", Kind::Plain, 128, 64, 128);
}

criterion_group!(benches, shapes);
criterion_main!(benches);
