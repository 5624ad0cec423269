//! The f32 backend: gemm's AVX-512/AVX2/NEON kernels (the ones candle uses), multithreaded on
//! rayon's current pool.
#![allow(unsafe_code)]

use super::MatRef;

/// `C (+)= A · B` in f32 on rayon's pool. The caller checked shapes and bounds; `k > 0`,
/// `m, n > 0`.
pub(crate) fn matmul(a: MatRef<'_>, b: MatRef<'_>, c: &mut [f32], ldc: usize, accumulate: bool) {
    matmul_on(gemm::Parallelism::Rayon(0), a, b, c, ldc, accumulate);
}

/// [`matmul`] with an explicit gemm parallelism (`None`: the calling thread only).
pub(crate) fn matmul_on(
    parallelism: gemm::Parallelism,
    a: MatRef<'_>,
    b: MatRef<'_>,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
) {
    let (m, n, k) = (a.rows, b.cols, a.cols);
    debug_assert!(a.in_bounds() && b.in_bounds() && c.len() >= (m - 1) * ldc + n);
    // SAFETY: the caller checked that every element addressed through the three views and
    // `ldc` lies inside its slice; `c` is borrowed mutably, so nothing else aliases it.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            ldc as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}
