//! [`matmul_serial`]: a product of [`super::matmul_with`]'s arithmetic on the calling thread
//! only, for callers that already split their work over rayon tasks (the attention tiles of
//! [`crate::flash`] and of the rollout engine's f32 caches).

use super::{MatRef, MatmulBackend};
#[cfg(target_arch = "x86_64")]
use super::{amx, amx_available, pack};

/// `C = A · B` (or `C += A · B` when `accumulate`), `C` with leading dimension `ldc`, on `backend`, as [`super::matmul_with`] (same
/// contract, same panics on shape errors), but computed on the calling thread with no rayon work
/// of its own.
///
/// Meant for small products (tiles of a few dozen rows) inside a parallel loop, where nested
/// parallelism would only add scheduling cost. Results are identical whatever the thread count.
/// On [`MatmulBackend::Bf16Amx`] (where [`super::amx_available`]) both operands are packed into bf16
/// tiles and multiplied on AMX, always (no few-row dot-product kernel: the callers' tiles are
/// blocks of up to 64 rows), so the bits equal [`super::matmul_with`]'s wherever that takes the
/// AMX kernel too (more than four rows); elsewhere it computes in f32.
pub fn matmul_serial(
    backend: MatmulBackend,
    a: MatRef<'_>,
    b: MatRef<'_>,
    (c, ldc): (&mut [f32], usize),
    accumulate: bool,
) {
    if !super::check_operands(a, b, (c, ldc), accumulate) {
        return;
    }
    match backend {
        #[cfg(target_arch = "x86_64")]
        MatmulBackend::Bf16Amx if amx_available() => {
            let packed = pack::pack_b(b, false);
            amx::matmul(a, &packed, b.cols, c, ldc, accumulate, false);
        }
        _ => super::f32::matmul_on(gemm::Parallelism::None, a, b, c, ldc, accumulate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_parallel_matmul_with_transposed_views() {
        let a: Vec<f32> = (0..35).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..28).map(|i| (i as f32 * 0.11).cos()).collect();
        // a is 5×7; b is stored 4×7 and used transposed (7×4).
        let (av, bv) = (MatRef::new(&a, 5, 7), MatRef::new(&b, 4, 7).t());
        let mut want = vec![0.5f32; 5 * 6];
        let mut got = want.clone();
        super::super::matmul_with(MatmulBackend::F32, av, bv, &mut want, 6, true);
        matmul_serial(MatmulBackend::F32, av, bv, (&mut got, 6), true);
        assert_eq!(want, got);
        // Columns 4 and 5 of each row lie outside the product and stay untouched.
        assert!(got.chunks(6).all(|r| r[4] == 0.5 && r[5] == 0.5));
    }

    #[test]
    fn bf16_tiles_match_the_parallel_bf16_matmul() {
        // 70 × 90 times (90 × 50)ᵀ-view: edges in every dimension, more rows than the few-row
        // kernel takes. Without AMX both sides compute in f32 and still agree.
        let a: Vec<f32> = (0..70 * 90).map(|i| (i as f32 * 0.013).sin()).collect();
        let b: Vec<f32> = (0..50 * 90).map(|i| (i as f32 * 0.007).cos()).collect();
        let (av, bv) = (MatRef::new(&a, 70, 90), MatRef::new(&b, 50, 90).t());
        for accumulate in [false, true] {
            let mut want = vec![0.25f32; 70 * 52];
            let mut got = want.clone();
            super::super::matmul_with(MatmulBackend::Bf16Amx, av, bv, &mut want, 52, accumulate);
            matmul_serial(MatmulBackend::Bf16Amx, av, bv, (&mut got, 52), accumulate);
            assert_eq!(want, got, "accumulate {accumulate}");
        }
        // The bf16 products differ from the f32 ones (operands rounded), by little.
        if crate::matmul::amx_available() {
            let mut f32_out = vec![0f32; 70 * 52];
            let mut bf16_out = vec![0f32; 70 * 52];
            matmul_serial(MatmulBackend::F32, av, bv, (&mut f32_out, 52), false);
            matmul_serial(MatmulBackend::Bf16Amx, av, bv, (&mut bf16_out, 52), false);
            assert_ne!(f32_out, bf16_out);
            let worst = f32_out
                .iter()
                .zip(&bf16_out)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            assert!(worst < 0.5, "worst {worst}");
        }
    }
}
