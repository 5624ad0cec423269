//! Scaled masked softmax, `softmax(scale · x + mask)`, forward and backward.

use candle_core::backend::BackendStorage;
use candle_core::{Layout, Tensor};
use rayon::prelude::*;

use super::{Real, fused_op, per_float, rows_per_task, slice};
use crate::Result;

/// `softmax(scale · x + mask)` over the last dimension of `x` `[B, H, T, S]`, with `mask`
/// `[T, S]` or `[B, 1, T, S]` (additive, finite). Differentiable in `x`.
pub(crate) fn masked_softmax(x: &Tensor, mask: &Tensor, scale: f64) -> Result<Tensor> {
    Ok(x.contiguous()?
        .apply_op2(&mask.contiguous()?, MaskedSoftmax { scale })?)
}

struct MaskedSoftmax {
    scale: f64,
}

impl MaskedSoftmax {
    fn fwd<T: Real>(&self, x: &[T], l: &Layout, mask: &[T]) -> candle_core::Result<Vec<T>> {
        let [b, h, t, s] = *l.dims() else {
            candle_core::bail!("fused-softmax: x must be [B, H, T, S], got {:?}", l.dims());
        };
        let per_batch = if mask.len() == t * s {
            false
        } else if mask.len() == b * t * s {
            true
        } else {
            candle_core::bail!("fused-softmax: mask of {} for x {:?}", mask.len(), l.dims());
        };
        let scale = T::of(self.scale);
        let mut out = vec![T::of(0.0); x.len()];
        let rows = rows_per_task(s);
        out.par_chunks_mut(rows * s)
            .zip(x.par_chunks(rows * s))
            .enumerate()
            .for_each(|(c, (o, x))| {
                for (k, (o, x)) in o.chunks_exact_mut(s).zip(x.chunks_exact(s)).enumerate() {
                    let row = c * rows + k;
                    let (bi, ti) = (row / (h * t), row % t);
                    let m = if per_batch { (bi * t + ti) * s } else { ti * s };
                    let mask = &mask[m..m + s];
                    let mut max = T::of(f64::NEG_INFINITY);
                    for ((o, &x), &m) in o.iter_mut().zip(x).zip(mask) {
                        *o = x * scale + m;
                        if *o > max {
                            max = *o;
                        }
                    }
                    let mut sum = 0.0f64;
                    for o in o.iter_mut() {
                        *o = (*o - max).exp();
                        sum += o.f64();
                    }
                    let inv = T::of(1.0 / sum);
                    for o in o.iter_mut() {
                        *o *= inv;
                    }
                }
            });
        Ok(out)
    }

    /// `scale · p ⊙ (g − Σ g p)`.
    fn bwd<T: Real>(&self, p: &[T], g: &[T], s: usize) -> Vec<T> {
        let scale = self.scale;
        let mut out = vec![T::of(0.0); p.len()];
        let chunk = rows_per_task(s) * s;
        out.par_chunks_mut(chunk)
            .zip(p.par_chunks(chunk).zip(g.par_chunks(chunk)))
            .for_each(|(o, (p, g))| {
                for ((o, p), g) in o
                    .chunks_exact_mut(s)
                    .zip(p.chunks_exact(s))
                    .zip(g.chunks_exact(s))
                {
                    let dot: f64 = p.iter().zip(g).map(|(&p, &g)| p.f64() * g.f64()).sum();
                    let dot = T::of(dot);
                    let sc = T::of(scale);
                    for ((o, &p), &g) in o.iter_mut().zip(p).zip(g) {
                        *o = sc * p * (g - dot);
                    }
                }
            });
        out
    }
}

fused_op! {
    CustomOp2 for MaskedSoftmax, "fused-masked-softmax",
    fwd(self, s1 l1, s2 l2) {
        let out = per_float!(s1.dtype(), self.name(), |F| {
            F::storage(self.fwd(slice(s1, l1, "softmax")?, l1, slice(s2, l2, "softmax")?)?)
        });
        Ok((out, l1.shape().clone()))
    }
    bwd(self, _x, _mask, res, grad) -> (Option<Tensor>, Option<Tensor>) {
        let dx = res.apply_op2_no_bwd(&grad.contiguous()?, &SoftmaxBwd { scale: self.scale })?;
        Ok((Some(dx), None))
    }
}

struct SoftmaxBwd {
    scale: f64,
}

fused_op! {
    CustomOp2 for SoftmaxBwd, "fused-masked-softmax-bwd",
    fwd(self, s1 l1, s2 l2) {
        let s = *l1.dims().last().unwrap_or(&1);
        let op = MaskedSoftmax { scale: self.scale };
        let out = per_float!(s1.dtype(), self.name(), |F| {
            F::storage(op.bwd(slice(s1, l1, "softmax")?, slice(s2, l2, "softmax")?, s))
        });
        Ok((out, l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{D, Device, Tensor};

    use super::*;
    use crate::model::MASK_VALUE;
    use crate::test_util::{check_gradients, max_diff, values_f64, var, weighted};

    #[test]
    fn masked_softmax_matches_elementary_ops_and_finite_differences() {
        let x = var(&[2, 3, 4, 5], 11);
        let causal: Vec<f64> = (0..4)
            .flat_map(|i| (0..5).map(move |j| if j > i + 1 { MASK_VALUE } else { 0.0 }))
            .collect();
        let per_row: Vec<f64> = values_f64(40, 12)
            .into_iter()
            .map(|v| if v > 0.5 { MASK_VALUE } else { v })
            .collect();
        for mask in [
            Tensor::from_vec(causal, (4, 5), &Device::Cpu).unwrap(),
            Tensor::from_vec(per_row, (2, 1, 4, 5), &Device::Cpu).unwrap(),
        ] {
            let fused = masked_softmax(x.as_tensor(), &mask, 0.7).unwrap();
            let plain = candle_nn::ops::softmax(
                &(x.as_tensor() * 0.7).unwrap().broadcast_add(&mask).unwrap(),
                D::Minus1,
            )
            .unwrap();
            assert!(max_diff(&fused, &plain) < 1e-12);
            check_gradients(&[&x], || {
                weighted(&masked_softmax(x.as_tensor(), &mask, 0.7).unwrap(), 13)
            });
        }
    }
}
