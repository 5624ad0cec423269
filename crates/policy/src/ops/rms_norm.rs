//! RMSNorm, `x / sqrt(mean(x²) + eps) * w`, forward and backward.

use candle_core::backend::BackendStorage;
use candle_core::{Shape, Tensor};
use rayon::prelude::*;

use super::{Real, fused_op, per_float, rows_per_task, slice};
use crate::Result;

/// `x / sqrt(mean(x²) + eps) * w` over the last dimension; differentiable in `x` and `w`.
pub(crate) fn rms_norm(x: &Tensor, w: &Tensor, eps: f64) -> Result<Tensor> {
    Ok(x.contiguous()?
        .apply_op2(&w.contiguous()?, RmsNorm { eps })?)
}

struct RmsNorm {
    eps: f64,
}

/// [`rms_norm`] of every `w.len()`-wide row of `x`, on plain slices.
pub(crate) fn rms_norm_rows<T: Real>(x: &[T], w: &[T], eps: f64) -> Vec<T> {
    RmsNorm { eps }.fwd(x, w)
}

/// The backward pass of [`rms_norm_rows`] for the upstream gradient `g`: `(dL/dx, dL/dw)`.
pub(crate) fn rms_norm_rows_backward<T: Real>(
    x: &[T],
    w: &[T],
    g: &[T],
    eps: f64,
) -> (Vec<T>, Vec<T>) {
    let mut dx = RmsNorm { eps }.bwd(x, w, g);
    let dw = dx.split_off(x.len());
    (dx, dw)
}

/// `1 / sqrt(mean(row²) + eps)`, accumulated in f64 (also the rollout engine's RMSNorm).
pub(crate) fn inv_rms<T: Real>(row: &[T], eps: f64) -> f64 {
    let sum: f64 = row.iter().map(|v| v.f64() * v.f64()).sum();
    1.0 / (sum / row.len() as f64 + eps).sqrt()
}

impl RmsNorm {
    fn fwd<T: Real>(&self, x: &[T], w: &[T]) -> Vec<T> {
        let h = w.len();
        let mut out = vec![T::of(0.0); x.len()];
        let chunk = rows_per_task(h) * h;
        out.par_chunks_mut(chunk)
            .zip(x.par_chunks(chunk))
            .for_each(|(o, x)| {
                for (o, x) in o.chunks_exact_mut(h).zip(x.chunks_exact(h)) {
                    let r = T::of(inv_rms(x, self.eps));
                    for ((o, &x), &w) in o.iter_mut().zip(x).zip(w) {
                        *o = x * r * w;
                    }
                }
            });
        out
    }

    /// `[N + 1, H]`: rows `0..N` are dL/dx, row `N` is dL/dw.
    fn bwd<T: Real>(&self, x: &[T], w: &[T], g: &[T]) -> Vec<T> {
        let h = w.len();
        let n = x.len() / h.max(1);
        let mut out = vec![T::of(0.0); (n + 1) * h];
        let rows = rows_per_task(h);
        let chunk = rows * h;
        let (dx, dw) = out.split_at_mut(n * h);
        let partial: Vec<Vec<f64>> = dx
            .par_chunks_mut(chunk)
            .zip(x.par_chunks(chunk).zip(g.par_chunks(chunk)))
            .map(|(dx, (x, g))| {
                let mut dw = vec![0.0f64; h];
                for ((dx, x), g) in dx
                    .chunks_exact_mut(h)
                    .zip(x.chunks_exact(h))
                    .zip(g.chunks_exact(h))
                {
                    let r = inv_rms(x, self.eps);
                    let dot: f64 = x
                        .iter()
                        .zip(g)
                        .zip(w)
                        .map(|((&x, &g), &w)| x.f64() * g.f64() * w.f64())
                        .sum();
                    let c = T::of(r * r * r * dot / h as f64);
                    let rt = T::of(r);
                    for (k, dx) in dx.iter_mut().enumerate() {
                        *dx = rt * g[k] * w[k] - c * x[k];
                        dw[k] += g[k].f64() * x[k].f64() * r;
                    }
                }
                dw
            })
            .collect();
        for (k, d) in dw.iter_mut().enumerate() {
            *d = T::of(partial.iter().map(|p| p[k]).sum());
        }
        out
    }
}

fused_op! {
    CustomOp2 for RmsNorm, "fused-rms-norm",
    fwd(self, s1 l1, s2 l2) {
        let h = *l1.dims().last().unwrap_or(&0);
        if l2.dims() != [h] {
            candle_core::bail!("fused-rms-norm: weight {:?} for rows of {h}", l2.dims());
        }
        let out = per_float!(s1.dtype(), self.name(), |F| {
            F::storage(self.fwd(slice(s1, l1, "rms")?, slice(s2, l2, "rms")?))
        });
        Ok((out, l1.shape().clone()))
    }
    bwd(self, x, w, _res, grad) -> (Option<Tensor>, Option<Tensor>) {
        let h = w.elem_count();
        let n = x.elem_count() / h.max(1);
        let both = x.apply_op3_no_bwd(w, &grad.contiguous()?, &RmsNormBwd { eps: self.eps })?;
        let dx = both.narrow(0, 0, n)?.reshape(x.shape())?;
        let dw = both.narrow(0, n, 1)?.reshape(w.shape())?;
        Ok((Some(dx), Some(dw)))
    }
}

struct RmsNormBwd {
    eps: f64,
}

fused_op! {
    CustomOp3 for RmsNormBwd, "fused-rms-norm-bwd",
    fwd(self, s1 l1, s2 l2, s3 l3) {
        let h = l2.shape().elem_count();
        let n = l1.shape().elem_count() / h.max(1);
        let op = RmsNorm { eps: self.eps };
        let out = per_float!(s1.dtype(), self.name(), |F| {
            F::storage(op.bwd(
                slice(s1, l1, "rms")?,
                slice(s2, l2, "rms")?,
                slice(s3, l3, "rms")?,
            ))
        });
        Ok((out, Shape::from((n + 1, h))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rms_norm_elementary;
    use crate::test_util::{check_gradients, max_diff, var, weighted};

    #[test]
    fn rms_norm_matches_elementary_ops_and_finite_differences() {
        let x = var(&[2, 3, 8], 1);
        let w = var(&[8], 2);
        let fused = rms_norm(x.as_tensor(), w.as_tensor(), 1e-5).unwrap();
        let plain = rms_norm_elementary(x.as_tensor(), w.as_tensor(), 1e-5).unwrap();
        assert!(max_diff(&fused, &plain) < 1e-12);
        check_gradients(&[&x, &w], || {
            weighted(&rms_norm(x.as_tensor(), w.as_tensor(), 1e-5).unwrap(), 3)
        });
    }
}
