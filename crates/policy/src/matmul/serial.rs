//! [`matmul_serial`]: the product of [`super::matmul`] on the calling thread only, for callers
//! that already split their work over rayon tasks (the attention tiles of [`crate::flash`]).

use super::MatRef;

/// `C = A · B` (or `C += A · B` when `accumulate`), exactly as [`super::matmul`] (same contract,
/// same panics on shape errors), but computed on the calling thread with no rayon work of its own.
///
/// Meant for small products (tiles of a few dozen rows) inside a parallel loop, where nested
/// parallelism would only add scheduling cost. Results are identical whatever the thread count.
/// It computes in f32; where [`super::backend`] gains a bf16 AMX kernel, this function should
/// dispatch to its single-threaded variant the same way.
pub fn matmul_serial(a: MatRef<'_>, b: MatRef<'_>, c: &mut [f32], ldc: usize, accumulate: bool) {
    assert_eq!(a.cols, b.rows, "matmul_serial: inner dimensions differ");
    assert!(b.in_bounds(), "matmul_serial: right operand out of bounds");
    if super::check_and_trivial(a, b.cols, c, ldc, accumulate) {
        super::f32::matmul_on(gemm::Parallelism::None, a, b, c, ldc, accumulate);
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
        super::super::matmul_with(super::super::MatmulBackend::F32, av, bv, &mut want, 6, true);
        matmul_serial(av, bv, &mut got, 6, true);
        assert_eq!(want, got);
        // Columns 4 and 5 of each row lie outside the product and stay untouched.
        assert!(got.chunks(6).all(|r| r[4] == 0.5 && r[5] == 0.5));
    }
}
