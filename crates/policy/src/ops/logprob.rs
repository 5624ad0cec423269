//! Log-softmax + gather + entropy over the vocabulary, forward and backward.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, DType, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::{Real, fused_op, per_float, slice};
use crate::Result;

/// `[B, S, 2]`: for each of the first `S` positions of `logits` `[B, T, V]` (`S ≤ T`), the
/// log-prob of `targets[b, s]` (u32, `[B, S]`) and the entropy of the distribution.
/// Differentiable in `logits`; positions `S..T` get a zero gradient.
pub(crate) fn logprob_entropy(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let targets = targets.to_dtype(DType::U32)?.contiguous()?;
    Ok(logits.contiguous()?.apply_op2(&targets, LogProb)?)
}

/// The op: logits and targets in, `[B, S, 2]` (log-prob, entropy) out.
struct LogProb;

/// Shape checks: `(B, T, V, S)`.
fn logprob_dims(l: &Layout, targets: &Layout) -> candle_core::Result<(usize, usize, usize, usize)> {
    let [b, t, v] = *l.dims() else {
        candle_core::bail!(
            "fused-logprob: logits must be [B, T, V], got {:?}",
            l.dims()
        );
    };
    let [tb, s] = *targets.dims() else {
        candle_core::bail!(
            "fused-logprob: targets must be [B, S], got {:?}",
            targets.dims()
        );
    };
    if tb != b || s > t {
        candle_core::bail!(
            "fused-logprob: targets {:?} do not fit logits {:?}",
            targets.dims(),
            l.dims()
        );
    }
    Ok((b, t, v, s))
}

/// `(max, ln Σ exp(z − max), Σ exp(z − max)(z − max) / Σ exp(z − max))` of one row.
pub(crate) fn row_stats<T: Real>(z: &[T]) -> (T, f64, f64) {
    let mut max = T::of(f64::NEG_INFINITY);
    for &v in z {
        if v > max {
            max = v;
        }
    }
    let (mut sum, mut dot) = (0.0f64, 0.0f64);
    for &v in z {
        let d = v - max;
        let e = d.exp().f64();
        sum += e;
        dot += e * d.f64();
    }
    (max, sum.ln(), dot / sum)
}

/// `target` as an index into a vocabulary of `v`, or an error when it is outside.
pub(crate) fn check_target(target: u32, v: usize) -> candle_core::Result<usize> {
    let target = target as usize;
    if target >= v {
        candle_core::bail!("fused-logprob: target id {target} out of a vocabulary of {v}");
    }
    Ok(target)
}

impl LogProb {
    fn fwd<T: Real>(
        &self,
        z: &[T],
        dims: (usize, usize, usize, usize),
        targets: &[u32],
    ) -> candle_core::Result<Vec<T>> {
        let (b, t, v, s) = dims;
        for &id in targets {
            check_target(id, v)?;
        }
        let mut out = vec![T::of(0.0); b * s * 2];
        out.par_chunks_mut(2).enumerate().for_each(|(row, o)| {
            let (bi, si) = (row / s, row % s);
            let z = &z[(bi * t + si) * v..(bi * t + si + 1) * v];
            let (max, ln_sum, mean_shifted) = row_stats(z);
            let target = targets[row] as usize;
            o[0] = T::of((z[target] - max).f64() - ln_sum);
            o[1] = T::of(ln_sum - mean_shifted);
        });
        Ok(out)
    }

    /// dL/dz = g_lp (onehot − p) − g_H p (log p + H).
    fn bwd<T: Real>(
        &self,
        z: &[T],
        dims: (usize, usize, usize, usize),
        targets: &[u32],
        g: &[T],
    ) -> Vec<T> {
        let (b, t, v, s) = dims;
        let mut out = vec![T::of(0.0); b * t * v];
        out.par_chunks_mut(v).enumerate().for_each(|(row, o)| {
            let (bi, ti) = (row / t, row % t);
            if ti >= s {
                return;
            }
            let k = bi * s + ti;
            let z = &z[row * v..(row + 1) * v];
            logprob_entropy_grad(z, targets[k] as usize, g[2 * k], g[2 * k + 1], o);
        });
        out
    }
}

/// The gradient with respect to one row of logits `z` of `g_lp · log p(target) + g_h · H(p)`:
/// `g_lp (onehot − p) − g_h p (log p + H)`, written into `out` (same length as `z`).
pub(crate) fn logprob_entropy_grad<T: Real>(
    z: &[T],
    target: usize,
    g_lp: T,
    g_h: T,
    out: &mut [T],
) {
    let (max, ln_sum, mean_shifted) = row_stats(z);
    let entropy = ln_sum - mean_shifted;
    let shift = max.f64() + ln_sum;
    if g_h.f64() == 0.0 {
        let shift = T::of(shift);
        for (o, &z) in out.iter_mut().zip(z) {
            *o = -(g_lp * (z - shift).exp());
        }
    } else {
        for (o, &z) in out.iter_mut().zip(z) {
            let log_p = (z - T::of(shift)).f64();
            let p = log_p.exp();
            *o = T::of(-g_lp.f64() * p - g_h.f64() * p * (log_p + entropy));
        }
    }
    out[target] += g_lp;
}

fused_op! {
    CustomOp2 for LogProb, "fused-logprob-entropy",
    fwd(self, s1 l1, s2 l2) {
        let dims = logprob_dims(l1, l2)?;
        let targets = slice_u32(s2, l2)?;
        let out = per_float!(s1.dtype(), self.name(), |F| {
            F::storage(self.fwd(slice(s1, l1, "logprob")?, dims, targets)?)
        });
        Ok((out, Shape::from((dims.0, dims.3, 2))))
    }
    bwd(self, logits, targets, _res, grad) -> (Option<Tensor>, Option<Tensor>) {
        let dz = logits.apply_op3_no_bwd(targets, &grad.contiguous()?, &LogProbBwd)?;
        Ok((Some(dz), None))
    }
}

/// The contiguous u32 slice of the targets' storage.
fn slice_u32<'a>(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<&'a [u32]> {
    let (start, end) = l.contiguous_offsets().ok_or_else(|| {
        candle_core::Error::Msg("fused-logprob: targets must be contiguous".into())
    })?;
    Ok(&s.as_slice::<u32>()?[start..end])
}

/// The backward op: logits, targets and the output's gradient in, dL/dlogits out.
struct LogProbBwd;

fused_op! {
    CustomOp3 for LogProbBwd, "fused-logprob-entropy-bwd",
    fwd(self, s1 l1, s2 l2, s3 l3) {
        let dims = logprob_dims(l1, l2)?;
        let targets = slice_u32(s2, l2)?;
        let out = per_float!(s1.dtype(), self.name(), |F| {
            F::storage(LogProb.bwd(
                slice(s1, l1, "logprob")?,
                dims,
                targets,
                slice(s3, l3, "logprob")?,
            ))
        });
        Ok((out, l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{D, Device, Tensor};

    use super::*;
    use crate::test_util::{check_gradients, max_diff, var, weighted};

    #[test]
    fn logprob_entropy_matches_elementary_ops_and_finite_differences() {
        let logits = var(&[2, 4, 7], 14);
        let scaled = || (logits.as_tensor() * 3.0).unwrap();
        let targets = Tensor::new(&[[1u32, 6, 0], [3, 3, 5]], &Device::Cpu).unwrap();
        let both = logprob_entropy(&scaled(), &targets).unwrap();
        let log_p =
            candle_nn::ops::log_softmax(&scaled().narrow(1, 0, 3).unwrap(), D::Minus1).unwrap();
        let lp = log_p
            .gather(&targets.unsqueeze(D::Minus1).unwrap(), D::Minus1)
            .unwrap()
            .squeeze(D::Minus1)
            .unwrap();
        let entropy = (log_p.exp().unwrap() * &log_p)
            .unwrap()
            .sum(D::Minus1)
            .unwrap()
            .neg()
            .unwrap();
        assert!(max_diff(&both.narrow(2, 0, 1).unwrap().squeeze(2).unwrap(), &lp) < 1e-12);
        assert!(max_diff(&both.narrow(2, 1, 1).unwrap().squeeze(2).unwrap(), &entropy) < 1e-12);
        // Both terms, and the log-prob alone (the entropy-free fast path of the backward).
        check_gradients(&[&logits], || {
            weighted(&logprob_entropy(&scaled(), &targets).unwrap(), 15)
        });
        check_gradients(&[&logits], || {
            weighted(
                &logprob_entropy(&scaled(), &targets)
                    .unwrap()
                    .narrow(2, 0, 1)
                    .unwrap(),
                16,
            )
        });
        let bad = Tensor::new(&[[1u32, 7, 0], [3, 3, 5]], &Device::Cpu).unwrap();
        assert!(logprob_entropy(&scaled(), &bad).is_err());
    }
}
