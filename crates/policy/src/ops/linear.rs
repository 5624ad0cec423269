//! The linear map `x Wᵀ`, forward and backward.

use candle_core::backend::BackendStorage;
use candle_core::{Shape, Tensor};

use super::fused_op;
use crate::Result;

/// `x Wᵀ` for `x` `[N, in]` and `W` `[out, in]`: gemm reads `W` transposed in place, and the
/// backward pass writes `dW` in `W`'s own layout (no transposed view in the graph, no strided
/// gradient sums). Differentiable in `x` and `W`.
pub(crate) fn linear(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    Ok(x.apply_op2(&w.contiguous()?, Linear)?)
}

struct Linear;

fused_op! {
    CustomOp2 for Linear, "fused-linear",
    fwd(self, s1 l1, s2 l2) {
        let (&[n, k], &[o, k2]) = (l1.dims(), l2.dims()) else {
            candle_core::bail!("fused-linear: x {:?}, w {:?}", l1.dims(), l2.dims());
        };
        if k != k2 {
            candle_core::bail!(
                "fused-linear: x {:?} does not fit w {:?}",
                l1.dims(),
                l2.dims()
            );
        }
        let out = s1.matmul(s2, (1, n, o, k), l1, &l2.transpose(0, 1)?)?;
        Ok((out, Shape::from((n, o))))
    }
    bwd(self, x, w, _res, grad) -> (Option<Tensor>, Option<Tensor>) {
        let grad = grad.contiguous()?;
        let dx = grad.matmul(w)?;
        let dw = grad.t()?.matmul(x)?;
        Ok((Some(dx), Some(dw)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{check_gradients, max_diff, var, weighted};

    #[test]
    fn linear_matches_matmul_and_finite_differences() {
        for rows in [5, 19] {
            let x = var(&[rows, 37], 17);
            let w = var(&[3, 37], 18);
            let fused = linear(x.as_tensor(), w.as_tensor()).unwrap();
            let plain = x.as_tensor().matmul(&w.as_tensor().t().unwrap()).unwrap();
            assert!(max_diff(&fused, &plain) < 1e-12);
            check_gradients(&[&x, &w], || {
                weighted(&linear(x.as_tensor(), w.as_tensor()).unwrap(), 19)
            });
        }
    }
}
