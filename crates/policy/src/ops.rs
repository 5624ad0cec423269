//! Fused CPU kernels with hand-written backward passes: RMSNorm, the linear map `x Wᵀ`,
//! rotate-half RoPE, scaled masked softmax, and log-softmax + gather + entropy.
//!
//! Each is a candle custom op whose `bwd` is itself a fused kernel, so the autograd graph stays
//! whole (unlike candle's own fused kernels, which have no backward pass) while a training step
//! makes one pass and one allocation where the elementary-op composition made five to fifteen.
//! They run on CPU tensors of f32 or f64; every other device or dtype goes through the
//! elementary-op versions in [`crate::model`] and [`crate::logprobs`], which also serve as the
//! reference in the tests. Rows are split over rayon threads in fixed-size chunks, and every
//! reduction runs in a fixed order, so results do not depend on the thread count.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp2, CustomOp3, DType, Layout, Shape, Tensor};
use rayon::prelude::*;

use crate::Result;

/// The floats the kernels support.
pub(crate) trait Real:
    candle_core::WithDType
    + Copy
    + Send
    + Sync
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
    + std::ops::AddAssign
    + std::ops::MulAssign
    + PartialOrd
{
    fn exp(self) -> Self;
    fn of(v: f64) -> Self;
    fn f64(self) -> f64;
}

impl Real for f32 {
    fn exp(self) -> Self {
        f32::exp(self)
    }

    fn of(v: f64) -> Self {
        v as f32
    }
    fn f64(self) -> f64 {
        f64::from(self)
    }
}

impl Real for f64 {
    fn exp(self) -> Self {
        f64::exp(self)
    }

    fn of(v: f64) -> Self {
        v
    }
    fn f64(self) -> f64 {
        self
    }
}

/// Whether the fused kernels handle `t` (CPU, f32 or f64).
pub(crate) fn fused(t: &Tensor) -> bool {
    t.device().is_cpu() && matches!(t.dtype(), DType::F32 | DType::F64)
}

/// Rows handed to one rayon task: large enough to amortise scheduling, fixed so that no result
/// depends on the number of threads.
fn rows_per_task(row_len: usize) -> usize {
    (16_384 / row_len.max(1)).clamp(1, 256)
}

/// The contiguous slice of a storage, or an error naming the op.
pub(crate) fn slice<'a, T: Real>(
    s: &'a CpuStorage,
    l: &Layout,
    op: &str,
) -> candle_core::Result<&'a [T]> {
    let (start, end) = l
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg(format!("{op}: input must be contiguous")))?;
    Ok(&s.as_slice::<T>()?[start..end])
}

pub(crate) fn unsupported(op: &str, dtype: DType) -> candle_core::Error {
    candle_core::Error::Msg(format!("{op}: unsupported dtype {dtype:?}"))
}

// ---------------------------------------------------------------------------------------------
// RMSNorm

/// `x / sqrt(mean(x²) + eps) * w` over the last dimension; differentiable in `x` and `w`.
pub(crate) fn rms_norm(x: &Tensor, w: &Tensor, eps: f64) -> Result<Tensor> {
    Ok(x.contiguous()?
        .apply_op2(&w.contiguous()?, RmsNorm { eps })?)
}

struct RmsNorm {
    eps: f64,
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

impl CustomOp2 for RmsNorm {
    fn name(&self) -> &'static str {
        "fused-rms-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let h = *l1.dims().last().unwrap_or(&0);
        if l2.dims() != [h] {
            candle_core::bail!("fused-rms-norm: weight {:?} for rows of {h}", l2.dims());
        }
        let out = match s1.dtype() {
            DType::F32 => CpuStorage::F32(self.fwd(slice(s1, l1, "rms")?, slice(s2, l2, "rms")?)),
            DType::F64 => CpuStorage::F64(self.fwd(slice(s1, l1, "rms")?, slice(s2, l2, "rms")?)),
            d => return Err(unsupported(self.name(), d)),
        };
        Ok((out, l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
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

impl CustomOp3 for RmsNormBwd {
    fn name(&self) -> &'static str {
        "fused-rms-norm-bwd"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let h = l2.shape().elem_count();
        let n = l1.shape().elem_count() / h.max(1);
        let op = RmsNorm { eps: self.eps };
        let out = match s1.dtype() {
            DType::F32 => CpuStorage::F32(op.bwd(
                slice(s1, l1, "rms")?,
                slice(s2, l2, "rms")?,
                slice(s3, l3, "rms")?,
            )),
            DType::F64 => CpuStorage::F64(op.bwd(
                slice(s1, l1, "rms")?,
                slice(s2, l2, "rms")?,
                slice(s3, l3, "rms")?,
            )),
            d => return Err(unsupported(self.name(), d)),
        };
        Ok((out, Shape::from((n + 1, h))))
    }
}

// ---------------------------------------------------------------------------------------------
// Linear map

/// `x Wᵀ` for `x` `[N, in]` and `W` `[out, in]`: gemm reads `W` transposed in place, and the
/// backward pass writes `dW` in `W`'s own layout (no transposed view in the graph, no strided
/// gradient sums). Differentiable in `x` and `W`.
pub(crate) fn linear(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    Ok(x.apply_op2(&w.contiguous()?, Linear)?)
}

struct Linear;

impl CustomOp2 for Linear {
    fn name(&self) -> &'static str {
        "fused-linear"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
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

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let grad = grad.contiguous()?;
        let dx = grad.matmul(w)?;
        let dw = grad.t()?.matmul(x)?;
        Ok((Some(dx), Some(dw)))
    }
}

// ---------------------------------------------------------------------------------------------
// RoPE

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

impl CustomOp3 for Rope {
    fn name(&self) -> &'static str {
        "fused-rope"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let out = match s1.dtype() {
            DType::F32 => CpuStorage::F32(self.run(
                s1.as_slice()?,
                l1,
                slice(s2, l2, "rope")?,
                slice(s3, l3, "rope")?,
            )?),
            DType::F64 => CpuStorage::F64(self.run(
                s1.as_slice()?,
                l1,
                slice(s2, l2, "rope")?,
                slice(s3, l3, "rope")?,
            )?),
            d => return Err(unsupported(self.name(), d)),
        };
        Ok((out, l1.shape().clone()))
    }

    fn bwd(
        &self,
        _x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
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

// ---------------------------------------------------------------------------------------------
// Scaled masked softmax

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

impl CustomOp2 for MaskedSoftmax {
    fn name(&self) -> &'static str {
        "fused-masked-softmax"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let out = match s1.dtype() {
            DType::F32 => CpuStorage::F32(self.fwd(
                slice(s1, l1, "softmax")?,
                l1,
                slice(s2, l2, "softmax")?,
            )?),
            DType::F64 => CpuStorage::F64(self.fwd(
                slice(s1, l1, "softmax")?,
                l1,
                slice(s2, l2, "softmax")?,
            )?),
            d => return Err(unsupported(self.name(), d)),
        };
        Ok((out, l1.shape().clone()))
    }

    fn bwd(
        &self,
        _x: &Tensor,
        _mask: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let dx = res.apply_op2_no_bwd(&grad.contiguous()?, &SoftmaxBwd { scale: self.scale })?;
        Ok((Some(dx), None))
    }
}

struct SoftmaxBwd {
    scale: f64,
}

impl CustomOp2 for SoftmaxBwd {
    fn name(&self) -> &'static str {
        "fused-masked-softmax-bwd"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let s = *l1.dims().last().unwrap_or(&1);
        let op = MaskedSoftmax { scale: self.scale };
        let out = match s1.dtype() {
            DType::F32 => {
                CpuStorage::F32(op.bwd(slice(s1, l1, "softmax")?, slice(s2, l2, "softmax")?, s))
            }
            DType::F64 => {
                CpuStorage::F64(op.bwd(slice(s1, l1, "softmax")?, slice(s2, l2, "softmax")?, s))
            }
            d => return Err(unsupported(self.name(), d)),
        };
        Ok((out, l1.shape().clone()))
    }
}

// ---------------------------------------------------------------------------------------------
// Log-softmax + gather + entropy

/// `[B, S, 2]`: for each of the first `S` positions of `logits` `[B, T, V]` (`S ≤ T`), the
/// log-prob of `targets[b, s]` (u32, `[B, S]`) and the entropy of the distribution.
/// Differentiable in `logits`; positions `S..T` get a zero gradient.
pub(crate) fn logprob_entropy(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let targets = targets.to_dtype(DType::U32)?.contiguous()?;
    Ok(logits.contiguous()?.apply_op2(&targets, LogProb)?)
}

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

impl CustomOp2 for LogProb {
    fn name(&self) -> &'static str {
        "fused-logprob-entropy"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let dims = logprob_dims(l1, l2)?;
        let targets = slice_u32(s2, l2)?;
        let out = match s1.dtype() {
            DType::F32 => CpuStorage::F32(self.fwd(slice(s1, l1, "logprob")?, dims, targets)?),
            DType::F64 => CpuStorage::F64(self.fwd(slice(s1, l1, "logprob")?, dims, targets)?),
            d => return Err(unsupported(self.name(), d)),
        };
        Ok((out, Shape::from((dims.0, dims.3, 2))))
    }

    fn bwd(
        &self,
        logits: &Tensor,
        targets: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let dz = logits.apply_op3_no_bwd(targets, &grad.contiguous()?, &LogProbBwd)?;
        Ok((Some(dz), None))
    }
}

fn slice_u32<'a>(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<&'a [u32]> {
    let (start, end) = l.contiguous_offsets().ok_or_else(|| {
        candle_core::Error::Msg("fused-logprob: targets must be contiguous".into())
    })?;
    Ok(&s.as_slice::<u32>()?[start..end])
}

struct LogProbBwd;

impl CustomOp3 for LogProbBwd {
    fn name(&self) -> &'static str {
        "fused-logprob-entropy-bwd"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let dims = logprob_dims(l1, l2)?;
        let targets = slice_u32(s2, l2)?;
        let out = match s1.dtype() {
            DType::F32 => CpuStorage::F32(LogProb.bwd(
                slice(s1, l1, "logprob")?,
                dims,
                targets,
                slice(s3, l3, "logprob")?,
            )),
            DType::F64 => CpuStorage::F64(LogProb.bwd(
                slice(s1, l1, "logprob")?,
                dims,
                targets,
                slice(s3, l3, "logprob")?,
            )),
            d => return Err(unsupported(self.name(), d)),
        };
        Ok((out, l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{D, Device, Tensor, Var};

    use super::*;
    use crate::model::{MASK_VALUE, rms_norm_elementary, rope_elementary};

    /// Deterministic pseudo-random values in [-1, 1).
    fn values(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
            })
            .collect()
    }

    fn var(shape: &[usize], seed: u64) -> Var {
        let n = shape.iter().product();
        Var::from_tensor(&Tensor::from_vec(values(n, seed), shape, &Device::Cpu).unwrap()).unwrap()
    }

    /// A fixed random weighting of `y`, summed: a scalar loss that exercises every output.
    fn weighted(y: &Tensor, seed: u64) -> Tensor {
        let w = Tensor::from_vec(values(y.elem_count(), seed), y.shape(), &Device::Cpu).unwrap();
        (y * w).unwrap().sum_all().unwrap()
    }

    /// Checks the backward pass of `loss` against central finite differences for every element
    /// of every var (f64).
    fn check_gradients(vars: &[&Var], loss: impl Fn() -> Tensor) {
        let grads = loss().backward().unwrap();
        let eps = 1e-6;
        for (i, var) in vars.iter().enumerate() {
            let g = grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("var {i} has no gradient"))
                .flatten_all()
                .unwrap()
                .to_vec1::<f64>()
                .unwrap();
            let original = var
                .as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f64>()
                .unwrap();
            for k in 0..original.len() {
                let at = |delta: f64| {
                    let mut v = original.clone();
                    v[k] += delta;
                    var.set(&Tensor::from_vec(v, var.shape(), &Device::Cpu).unwrap())
                        .unwrap();
                    loss().to_scalar::<f64>().unwrap()
                };
                let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
                var.set(&Tensor::from_vec(original.clone(), var.shape(), &Device::Cpu).unwrap())
                    .unwrap();
                assert!(
                    (numeric - g[k]).abs() <= 1e-7 + 1e-6 * g[k].abs(),
                    "var {i}[{k}]: analytic {} vs numeric {numeric}",
                    g[k]
                );
            }
        }
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap()
    }

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

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        // Enough rows for several rayon tasks in every kernel.
        let x = var(&[3, 2, 150, 64], 22);
        let w = var(&[64], 23);
        let mask = Tensor::zeros((150, 64), DType::F64, &Device::Cpu).unwrap();
        let targets = Tensor::from_vec(
            (0..300u32).map(|i| (i * 7) % 64).collect::<Vec<_>>(),
            (2, 150),
            &Device::Cpu,
        )
        .unwrap();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let y = rms_norm(x.as_tensor(), w.as_tensor(), 1e-6).unwrap();
                let p = masked_softmax(&y, &mask, 0.5).unwrap();
                let lp = logprob_entropy(&p.get(0).unwrap(), &targets).unwrap();
                let grads = weighted(&lp, 24).backward().unwrap();
                [x.as_tensor(), w.as_tensor()].map(|v| {
                    grads
                        .get(v)
                        .unwrap()
                        .flatten_all()
                        .unwrap()
                        .to_vec1::<f64>()
                        .unwrap()
                })
            })
        };
        assert_eq!(run(1), run(3));
    }

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

    #[test]
    fn rope_matches_elementary_ops_and_finite_differences() {
        // x as the transposed view the decoder passes: [B, T, H, D] -> [B, H, T, D].
        let x = var(&[2, 3, 2, 6], 4);
        let view = || x.as_tensor().transpose(1, 2).unwrap();
        let cos = Tensor::from_vec(values(9, 5), (3, 3), &Device::Cpu).unwrap();
        let sin = Tensor::from_vec(values(9, 6), (3, 3), &Device::Cpu).unwrap();
        let fused = rope(&view(), &cos, &sin).unwrap();
        let plain = rope_elementary(&view().contiguous().unwrap(), &cos, &sin).unwrap();
        assert!(max_diff(&fused, &plain) < 1e-12);
        check_gradients(&[&x], || weighted(&rope(&view(), &cos, &sin).unwrap(), 7));
        // Per-row angles `[B, 1, T, D/2]` (the KV-cached session).
        let cos = Tensor::from_vec(values(18, 8), (2, 1, 3, 3), &Device::Cpu).unwrap();
        let sin = Tensor::from_vec(values(18, 9), (2, 1, 3, 3), &Device::Cpu).unwrap();
        let fused = rope(&view(), &cos, &sin).unwrap();
        let plain = rope_elementary(&view().contiguous().unwrap(), &cos, &sin).unwrap();
        assert!(max_diff(&fused, &plain) < 1e-12);
        check_gradients(&[&x], || weighted(&rope(&view(), &cos, &sin).unwrap(), 10));
    }

    #[test]
    fn masked_softmax_matches_elementary_ops_and_finite_differences() {
        let x = var(&[2, 3, 4, 5], 11);
        let causal: Vec<f64> = (0..4)
            .flat_map(|i| (0..5).map(move |j| if j > i + 1 { MASK_VALUE } else { 0.0 }))
            .collect();
        let per_row: Vec<f64> = values(40, 12)
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
