//! Rotate-half RoPE, forward and backward (the inverse rotation).

use candle_core::backend::BackendStorage;
use candle_core::{Layout, Tensor};
use rayon::prelude::*;

use super::{Real, fused_op, per_float, rows_per_task, slice};
use crate::Result;

/// Rotate-half RoPE of `x` `[B, H, T, D]` (any strides, the last dimension dense) with `cos`/`sin`
/// `[T, D/2]` or `[B, 1, T, D/2]`; the result is contiguous. Differentiable in `x`.
pub(crate) fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let x = if x.stride().last() == Some(&1) {
        x.clone()
    } else {
        x.contiguous()?
    };
    Ok(x.apply_op3(
        &cos.contiguous()?,
        &sin.contiguous()?,
        Rope { inverse: false },
    )?)
}

/// RoPE as a rotation by the position's angles; `inverse` rotates back (its backward pass).
struct Rope {
    inverse: bool,
}

impl Rope {
    fn run<T: Real>(
        &self,
        x: &[T],
        l: &Layout,
        cos: &[T],
        sin: &[T],
    ) -> candle_core::Result<Vec<T>> {
        let [b, h, t, d] = *l.dims() else {
            candle_core::bail!("fused-rope: x must be [B, H, T, D], got {:?}", l.dims());
        };
        let half = d / 2;
        let per_batch = if cos.len() == t * half {
            false
        } else if cos.len() == b * t * half {
            true
        } else {
            candle_core::bail!("fused-rope: {} angles for x {:?}", cos.len(), l.dims());
        };
        let st = l.stride();
        let base = l.start_offset();
        let sign = if self.inverse { -1.0 } else { 1.0 };
        let mut out = vec![T::of(0.0); b * h * t * d];
        let rows = rows_per_task(d);
        out.par_chunks_mut(rows * d).enumerate().for_each(|(c, o)| {
            for (k, o) in o.chunks_exact_mut(d).enumerate() {
                let row = c * rows + k;
                let (bi, hi, ti) = (row / (h * t), (row / t) % h, row % t);
                let src = base + bi * st[0] + hi * st[1] + ti * st[2];
                let x = &x[src..src + d];
                let a = if per_batch {
                    (bi * t + ti) * half
                } else {
                    ti * half
                };
                let (cos, sin) = (&cos[a..a + half], &sin[a..a + half]);
                let (o1, o2) = o.split_at_mut(half);
                for j in 0..half {
                    let s = sin[j] * T::of(sign);
                    o1[j] = x[j] * cos[j] - x[j + half] * s;
                    o2[j] = x[j + half] * cos[j] + x[j] * s;
                }
            }
        });
        Ok(out)
    }
}

fused_op! {
    CustomOp3 for Rope, "fused-rope",
    fwd(self, s1 l1, s2 l2, s3 l3) {
        let out = per_float!(s1.dtype(), self.name(), |F| {
            F::storage(self.run(
                s1.as_slice()?,
                l1,
                slice(s2, l2, "rope")?,
                slice(s3, l3, "rope")?,
            )?)
        });
        Ok((out, l1.shape().clone()))
    }
    bwd(self, _x, cos, sin, _res, grad) -> (Option<Tensor>, Option<Tensor>, Option<Tensor>) {
        let grad = if grad.stride().last() == Some(&1) {
            grad.clone()
        } else {
            grad.contiguous()?
        };
        let dx = grad.apply_op3_no_bwd(
            cos,
            sin,
            &Rope {
                inverse: !self.inverse,
            },
        )?;
        Ok((Some(dx), None, None))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor};

    use super::*;
    use crate::model::rope_elementary;
    use crate::test_util::{check_gradients, max_diff, values_f64, var, weighted};

    #[test]
    fn rope_matches_elementary_ops_and_finite_differences() {
        // x as the transposed view the decoder passes: [B, T, H, D] -> [B, H, T, D].
        let x = var(&[2, 3, 2, 6], 4);
        let view = || x.as_tensor().transpose(1, 2).unwrap();
        let cos = Tensor::from_vec(values_f64(9, 5), (3, 3), &Device::Cpu).unwrap();
        let sin = Tensor::from_vec(values_f64(9, 6), (3, 3), &Device::Cpu).unwrap();
        let fused = rope(&view(), &cos, &sin).unwrap();
        let plain = rope_elementary(&view().contiguous().unwrap(), &cos, &sin).unwrap();
        assert!(max_diff(&fused, &plain) < 1e-12);
        check_gradients(&[&x], || weighted(&rope(&view(), &cos, &sin).unwrap(), 7));
        // Per-row angles `[B, 1, T, D/2]` (the KV-cached session).
        let cos = Tensor::from_vec(values_f64(18, 8), (2, 1, 3, 3), &Device::Cpu).unwrap();
        let sin = Tensor::from_vec(values_f64(18, 9), (2, 1, 3, 3), &Device::Cpu).unwrap();
        let fused = rope(&view(), &cos, &sin).unwrap();
        let plain = rope_elementary(&view().contiguous().unwrap(), &cos, &sin).unwrap();
        assert!(max_diff(&fused, &plain) < 1e-12);
        check_gradients(&[&x], || weighted(&rope(&view(), &cos, &sin).unwrap(), 10));
    }
}
