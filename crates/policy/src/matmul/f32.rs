//! The f32 backend: gemm's AVX-512/AVX2/NEON kernels (the ones candle uses), multithreaded on
//! rayon's current pool.
//!
//! A product of one left row runs as a product of two (the row twice): gemm gives a lone row its
//! own matrix-vector path, which sums long rows (`k` > 576 here) in another order than its
//! kernels for two rows or more, whose sums for a row do not depend on the other rows. So a
//! row's bits are the same alone or in any batch (a decoding step with one sequence left, a
//! session's one-row output head).
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
    if m == 1 {
        return one_row_as_two(parallelism, a, b, &mut c[..n], accumulate);
    }
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

/// [`matmul_on`] of one left row as the product of that row twice, into `c` (its `n` outputs).
fn one_row_as_two(
    parallelism: gemm::Parallelism,
    a: MatRef<'_>,
    b: MatRef<'_>,
    c: &mut [f32],
    accumulate: bool,
) {
    let n = c.len();
    let twice = MatRef {
        rows: 2,
        row_stride: 0,
        ..a
    };
    let mut out = vec![0f32; 2 * n];
    if accumulate {
        out[..n].copy_from_slice(c);
        out[n..].copy_from_slice(c);
    }
    matmul_on(parallelism, twice, b, &mut out, n, accumulate);
    c.copy_from_slice(&out[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_gets_the_same_bits_alone_as_among_other_rows() {
        // k above the length where gemm's one-row path sums in another order.
        let (m, k, n) = (5, 1536, 40);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.61).cos()).collect();
        let bv = MatRef::new(&b, k, n);
        let start: Vec<f32> = (0..m * n).map(|i| (i as f32 * 0.11).sin()).collect();
        for accumulate in [false, true] {
            let mut all = start.clone();
            matmul(MatRef::new(&a, m, k), bv, &mut all, n, accumulate);
            for i in 0..m {
                let mut one = start[i * n..(i + 1) * n].to_vec();
                let row = MatRef::new(&a[i * k..(i + 1) * k], 1, k);
                matmul(row, bv, &mut one, n, accumulate);
                assert_eq!(
                    one,
                    all[i * n..(i + 1) * n],
                    "row {i}, accumulate {accumulate}"
                );
            }
        }
    }
}
