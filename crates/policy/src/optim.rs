//! AdamW that updates parameters and moments in place: [`FusedAdamW`] (a drop-in
//! [`candle_nn::Optimizer`]) and the per-tensor step [`adamw_step`].
//!
//! candle-nn's `AdamW` builds about ten new tensors per parameter and step (for SmolLM2-135M,
//! gigabytes of fresh pages each step); these kernels make three passes over each parameter and
//! allocate nothing. The arithmetic is candle-nn's (decoupled weight decay, bias-corrected
//! moments, `eps` added to the square root), element by element in the parameter's dtype.

use candle_core::backend::BackendStorage;
use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, DType, InplaceOp2, InplaceOp3, Layout, Tensor, Var};
use candle_nn::{Optimizer, ParamsAdamW};
use rayon::prelude::*;

use crate::ops::Real;
use crate::{PolicyError, Result};

/// One AdamW step for one parameter: updates `param`, `exp_avg` and `exp_avg_sq` in place from
/// `grad` (all the same shape and dtype). `step` is the 1-based step count used for bias
/// correction. On CPU with f32/f64 contiguous tensors this makes three passes and allocates
/// nothing; elsewhere it falls back to tensor ops with the same formula.
pub fn adamw_step(
    param: &Var,
    exp_avg: &Tensor,
    exp_avg_sq: &Tensor,
    grad: &Tensor,
    params: &ParamsAdamW,
    step: u64,
) -> Result<()> {
    let p = param.as_tensor();
    if p.shape() != grad.shape() || p.shape() != exp_avg.shape() || p.shape() != exp_avg_sq.shape()
    {
        return Err(PolicyError::Config(format!(
            "adamw_step: parameter {:?}, gradient {:?}, moments {:?} and {:?} differ in shape",
            p.dims(),
            grad.dims(),
            exp_avg.dims(),
            exp_avg_sq.dims()
        )));
    }
    let step = i32::try_from(step.max(1)).unwrap_or(i32::MAX);
    let scale_m = 1.0 / (1.0 - params.beta1.powi(step));
    let scale_v = 1.0 / (1.0 - params.beta2.powi(step));
    let fused = p.device().is_cpu()
        && matches!(p.dtype(), DType::F32 | DType::F64)
        && [p, exp_avg, exp_avg_sq].iter().all(|t| t.is_contiguous());
    if !fused {
        let g = grad;
        let next_m = ((exp_avg * params.beta1)? + (g * (1.0 - params.beta1))?)?;
        let next_v = ((exp_avg_sq * params.beta2)? + (g.sqr()? * (1.0 - params.beta2))?)?;
        let adjusted = ((&next_m * scale_m)? / (((&next_v * scale_v)?.sqrt()? + params.eps)?))?;
        let next_p = ((p * (1.0 - params.lr * params.weight_decay))? - (adjusted * params.lr)?)?;
        exp_avg.slice_set(&next_m, 0, 0)?;
        exp_avg_sq.slice_set(&next_v, 0, 0)?;
        param.set(&next_p)?;
        return Ok(());
    }
    let grad = grad.to_dtype(p.dtype())?.contiguous()?;
    exp_avg.inplace_op2(
        &grad,
        &Moment {
            beta: params.beta1,
            square: false,
        },
    )?;
    exp_avg_sq.inplace_op2(
        &grad,
        &Moment {
            beta: params.beta2,
            square: true,
        },
    )?;
    p.inplace_op3(
        exp_avg,
        exp_avg_sq,
        &Update {
            lr: params.lr,
            decay: 1.0 - params.lr * params.weight_decay,
            eps: params.eps,
            scale_m,
            scale_v,
        },
    )?;
    Ok(())
}

/// AdamW over a set of variables, with candle-nn's `ParamsAdamW` and semantics, stepping each
/// parameter in place with [`adamw_step`].
#[derive(Debug)]
pub struct FusedAdamW {
    vars: Vec<(Var, Tensor, Tensor)>,
    params: ParamsAdamW,
    step: u64,
}

impl FusedAdamW {
    /// The first and second moments of each variable, in the order given to `new`.
    pub fn moments(&self) -> impl Iterator<Item = (&Var, &Tensor, &Tensor)> {
        self.vars.iter().map(|(v, m, s)| (v, m, s))
    }

    /// Steps taken so far.
    pub fn step_count(&self) -> u64 {
        self.step
    }
}

impl Optimizer for FusedAdamW {
    type Config = ParamsAdamW;

    fn new(vars: Vec<Var>, params: ParamsAdamW) -> candle_core::Result<Self> {
        let vars = vars
            .into_iter()
            .filter(|v| v.dtype().is_float())
            .map(|v| {
                let m = v.as_tensor().zeros_like()?;
                let s = v.as_tensor().zeros_like()?;
                Ok((v, m, s))
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self {
            vars,
            params,
            step: 0,
        })
    }

    fn step(&mut self, grads: &GradStore) -> candle_core::Result<()> {
        self.step += 1;
        for (var, m, v) in &self.vars {
            if let Some(g) = grads.get(var.as_tensor()) {
                adamw_step(var, m, v, g, &self.params, self.step)
                    .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
            }
        }
        Ok(())
    }

    fn learning_rate(&self) -> f64 {
        self.params.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.params.lr = lr;
    }
}

/// Elements per rayon task.
const CHUNK: usize = 1 << 16;

fn dense<'a, T: candle_core::WithDType>(
    s: &'a CpuStorage,
    l: &Layout,
) -> candle_core::Result<&'a [T]> {
    let (a, b) = l
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg("adamw: non-contiguous tensor".into()))?;
    Ok(&s.as_slice::<T>()?[a..b])
}

fn range(l: &Layout) -> candle_core::Result<std::ops::Range<usize>> {
    let (a, b) = l
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg("adamw: non-contiguous tensor".into()))?;
    Ok(a..b)
}

/// `m ← β m + (1 − β) g` (or `g²`).
struct Moment {
    beta: f64,
    square: bool,
}

impl Moment {
    fn run<T: Real>(&self, m: &mut [T], g: &[T]) {
        let (beta, rest) = (T::of(self.beta), T::of(1.0 - self.beta));
        let square = self.square;
        m.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .for_each(|(m, g)| {
                for (m, &g) in m.iter_mut().zip(g) {
                    let g = if square { g * g } else { g };
                    *m = *m * beta + g * rest;
                }
            });
    }
}

impl InplaceOp2 for Moment {
    fn name(&self) -> &'static str {
        "adamw-moment"
    }

    fn cpu_fwd(
        &self,
        dst: &mut CpuStorage,
        dst_l: &Layout,
        g: &CpuStorage,
        gl: &Layout,
    ) -> candle_core::Result<()> {
        let r = range(dst_l)?;
        match dst {
            CpuStorage::F32(d) => self.run::<f32>(&mut d[r], dense(g, gl)?),
            CpuStorage::F64(d) => self.run::<f64>(&mut d[r], dense(g, gl)?),
            d => candle_core::bail!("adamw: unsupported dtype {:?}", d.dtype()),
        }
        Ok(())
    }
}

/// `p ← p (1 − lr·wd) − lr · (m·scale_m) / (sqrt(v·scale_v) + eps)`.
struct Update {
    lr: f64,
    decay: f64,
    eps: f64,
    scale_m: f64,
    scale_v: f64,
}

impl Update {
    fn run<T: Real>(&self, p: &mut [T], m: &[T], v: &[T]) {
        let (lr, decay, eps) = (T::of(self.lr), T::of(self.decay), T::of(self.eps));
        let (scale_m, scale_v) = (T::of(self.scale_m), T::of(self.scale_v));
        p.par_chunks_mut(CHUNK)
            .zip(m.par_chunks(CHUNK).zip(v.par_chunks(CHUNK)))
            .for_each(|(p, (m, v))| {
                for ((p, &m), &v) in p.iter_mut().zip(m).zip(v) {
                    let adjusted = (m * scale_m) / ((v * scale_v).sqrt() + eps);
                    *p = *p * decay - adjusted * lr;
                }
            });
    }
}

impl InplaceOp3 for Update {
    fn name(&self) -> &'static str {
        "adamw-update"
    }

    fn cpu_fwd(
        &self,
        dst: &mut CpuStorage,
        dst_l: &Layout,
        m: &CpuStorage,
        ml: &Layout,
        v: &CpuStorage,
        vl: &Layout,
    ) -> candle_core::Result<()> {
        let r = range(dst_l)?;
        match dst {
            CpuStorage::F32(d) => self.run::<f32>(&mut d[r], dense(m, ml)?, dense(v, vl)?),
            CpuStorage::F64(d) => self.run::<f64>(&mut d[r], dense(m, ml)?, dense(v, vl)?),
            d => candle_core::bail!("adamw: unsupported dtype {:?}", d.dtype()),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor, Var};
    use candle_nn::{AdamW, Optimizer, ParamsAdamW};

    use super::FusedAdamW;

    #[test]
    fn fused_adamw_follows_candle_nn_adamw() {
        let params = ParamsAdamW {
            lr: 0.01,
            weight_decay: 0.1,
            ..Default::default()
        };
        let start: Vec<f64> = (0..300)
            .map(|i| ((i * 37) % 101) as f64 / 50.0 - 1.0)
            .collect();
        let a = Var::from_tensor(&Tensor::from_vec(start.clone(), (3, 100), &Device::Cpu).unwrap())
            .unwrap();
        let b =
            Var::from_tensor(&Tensor::from_vec(start, (3, 100), &Device::Cpu).unwrap()).unwrap();
        let mut reference = AdamW::new(vec![a.clone()], params.clone()).unwrap();
        let mut fused = FusedAdamW::new(vec![b.clone()], params).unwrap();
        for step in 0..5 {
            let loss = |v: &Var| {
                (v.as_tensor().sqr().unwrap() * (step as f64 + 1.0))
                    .unwrap()
                    .sin()
                    .unwrap()
                    .sum_all()
                    .unwrap()
            };
            reference.backward_step(&loss(&a)).unwrap();
            fused.backward_step(&loss(&b)).unwrap();
        }
        assert_eq!(fused.step_count(), 5);
        let d = (a.as_tensor() - b.as_tensor())
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f64>()
            .unwrap();
        assert!(d < 1e-12, "fused AdamW differs from candle-nn's by {d}");
        let moved = (a.as_tensor().sum_all().unwrap().to_scalar::<f64>().unwrap()).abs();
        assert!(moved.is_finite());
    }
}
