//! AdamW with state that can be saved, gradient accumulation, norm clipping and the NaN guard.
//!
//! candle-nn's `AdamW` keeps its moments private, so a run could not be resumed exactly; this
//! one keeps them as named tensors ([`AdamW::state_tensors`]) next to a step count.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{DType, Tensor, Var};
use candle_nn::VarMap;

use crate::config::AdamWConfig;
use crate::{GrpoError, Result};

/// Prefix of the first-moment tensors in [`AdamW::state_tensors`] (PyTorch's `exp_avg`).
pub const EXP_AVG: &str = "exp_avg.";
/// Prefix of the second-moment tensors in [`AdamW::state_tensors`] (PyTorch's `exp_avg_sq`).
pub const EXP_AVG_SQ: &str = "exp_avg_sq.";

/// Named trainable parameters in a fixed (name-sorted) order.
pub fn named_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let data = varmap
        .data()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut vars: Vec<(String, Var)> = data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// Gradients summed over micro-batches, one slot per parameter of an [`AdamW`].
#[derive(Clone, Debug)]
pub struct Gradients {
    grads: Vec<Option<Tensor>>,
}

impl Gradients {
    /// Adds the gradients of `store` for `params` (a parameter without gradient keeps its slot).
    pub fn accumulate(&mut self, params: &[(String, Var)], store: &GradStore) -> Result<()> {
        for (slot, (_, var)) in self.grads.iter_mut().zip(params) {
            if let Some(g) = store.get(var.as_tensor()) {
                let g = g.detach();
                *slot = Some(match slot.take() {
                    Some(sum) => (sum + g)?,
                    None => g,
                });
            }
        }
        Ok(())
    }

    /// The global L2 norm over every gradient, in f64 (NaN or inf if any entry is).
    pub fn global_norm(&self) -> Result<f64> {
        let mut sum = 0.0f64;
        for g in self.grads.iter().flatten() {
            sum += g
                .to_dtype(DType::F64)?
                .sqr()?
                .sum_all()?
                .to_scalar::<f64>()?;
        }
        Ok(sum.sqrt())
    }

    /// Multiplies every gradient by `factor`.
    pub fn scale(&mut self, factor: f64) -> Result<()> {
        for g in self.grads.iter_mut().flatten() {
            *g = (&*g * factor)?;
        }
        Ok(())
    }

    /// Clips the global norm to `max_norm` (0 disables) as PyTorch's `clip_grad_norm_` does
    /// (factor `max_norm / (norm + 1e-6)` when it is below 1), returning the norm before
    /// clipping.
    pub fn clip_norm(&mut self, max_norm: f64) -> Result<f64> {
        let norm = self.global_norm()?;
        if max_norm > 0.0 && norm.is_finite() {
            let factor = max_norm / (norm + 1e-6);
            if factor < 1.0 {
                self.scale(factor)?;
            }
        }
        Ok(norm)
    }

    /// How many parameters received a gradient.
    pub fn count(&self) -> usize {
        self.grads.iter().flatten().count()
    }
}

/// AdamW over named candle [`Var`]s, in PyTorch's formulation (decoupled weight decay, bias
/// correction with the step count).
#[derive(Debug)]
pub struct AdamW {
    config: AdamWConfig,
    params: Vec<(String, Var)>,
    exp_avg: Vec<Tensor>,
    exp_avg_sq: Vec<Tensor>,
    step: u64,
}

impl AdamW {
    /// A fresh optimizer (zero moments, step 0) over `params`.
    pub fn new(mut params: Vec<(String, Var)>, config: AdamWConfig) -> Result<Self> {
        params.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(pair) = params.windows(2).find(|p| p[0].0 == p[1].0) {
            return Err(GrpoError::Input(format!(
                "optimizer: parameter {} given twice",
                pair[0].0
            )));
        }
        let exp_avg = params
            .iter()
            .map(|(_, v)| v.as_tensor().zeros_like())
            .collect::<candle_core::Result<Vec<_>>>()?;
        // Separate storage for each moment: the update writes them in place.
        let exp_avg_sq = params
            .iter()
            .map(|(_, v)| v.as_tensor().zeros_like())
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self {
            config,
            params,
            exp_avg,
            exp_avg_sq,
            step: 0,
        })
    }

    /// A fresh optimizer over every variable of `varmap`.
    pub fn from_varmap(varmap: &VarMap, config: AdamWConfig) -> Result<Self> {
        Self::new(named_vars(varmap), config)
    }

    /// The parameters, sorted by name.
    pub fn params(&self) -> &[(String, Var)] {
        &self.params
    }

    /// The settings.
    pub fn config(&self) -> &AdamWConfig {
        &self.config
    }

    /// Changes the learning rate (e.g. between a warm start and RL).
    pub fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    /// Updates applied so far.
    pub fn step_count(&self) -> u64 {
        self.step
    }

    /// An empty gradient accumulator for these parameters.
    pub fn zero_grads(&self) -> Gradients {
        Gradients {
            grads: vec![None; self.params.len()],
        }
    }

    /// Applies one update with `grads` (already accumulated and clipped). Parameters without a
    /// gradient are left alone, moments and weight decay included.
    pub fn step(&mut self, grads: &Gradients) -> Result<()> {
        let AdamWConfig {
            lr,
            beta1,
            beta2,
            eps,
            weight_decay,
            ..
        } = self.config;
        let params = candle_nn::ParamsAdamW {
            lr,
            beta1,
            beta2,
            eps,
            weight_decay,
        };
        self.step += 1;
        for (i, g) in grads.grads.iter().enumerate() {
            let Some(g) = g else { continue };
            // In place: the moments are this optimizer's own storage (see `new`, `load_state`).
            crossgym_policy::adamw_step(
                &self.params[i].1,
                &self.exp_avg[i],
                &self.exp_avg_sq[i],
                g,
                &params,
                self.step,
            )?;
        }
        Ok(())
    }

    /// The moments as named tensors (`exp_avg.<param>`, `exp_avg_sq.<param>`), copied (the live
    /// moments change in place at the next step).
    pub fn state_tensors(&self) -> Result<HashMap<String, Tensor>> {
        let mut out = HashMap::with_capacity(2 * self.params.len());
        for (i, (name, _)) in self.params.iter().enumerate() {
            out.insert(format!("{EXP_AVG}{name}"), self.exp_avg[i].copy()?);
            out.insert(format!("{EXP_AVG_SQ}{name}"), self.exp_avg_sq[i].copy()?);
        }
        Ok(out)
    }

    /// Restores moments and step count saved by [`AdamW::state_tensors`]; every parameter's
    /// two moments must be present with the parameter's shape.
    pub fn load_state(&mut self, mut tensors: HashMap<String, Tensor>, step: u64) -> Result<()> {
        for (i, (name, var)) in self.params.iter().enumerate() {
            for (prefix, slot) in [
                (EXP_AVG, &mut self.exp_avg[i]),
                (EXP_AVG_SQ, &mut self.exp_avg_sq[i]),
            ] {
                let key = format!("{prefix}{name}");
                let tensor = tensors.remove(&key).ok_or_else(|| {
                    GrpoError::Input(format!("optimizer state: {key} is missing"))
                })?;
                if tensor.dims() != var.dims() {
                    return Err(GrpoError::Input(format!(
                        "optimizer state: {key} has shape {:?}, the parameter {:?}",
                        tensor.dims(),
                        var.dims()
                    )));
                }
                // An owned, contiguous copy: the update writes it in place.
                *slot = tensor
                    .to_dtype(var.dtype())?
                    .to_device(var.device())?
                    .contiguous()?
                    .copy()?;
            }
        }
        if let Some(extra) = tensors.keys().min() {
            return Err(GrpoError::Input(format!(
                "optimizer state: {extra} matches no parameter"
            )));
        }
        self.step = step;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    fn var(values: &[f32]) -> Var {
        Var::from_slice(values, values.len(), &Device::Cpu).unwrap()
    }

    #[test]
    fn two_steps_match_hand_computed_adamw() {
        let w = var(&[1.0, -2.0]);
        let config = AdamWConfig {
            lr: 0.1,
            weight_decay: 0.5,
            ..AdamWConfig::default()
        };
        let mut opt = AdamW::new(vec![("w".into(), w.clone())], config).unwrap();
        // Loss = sum(w²)/2, gradient = w.
        let mut expect = [1.0f64, -2.0];
        let (mut m, mut v) = ([0.0f64; 2], [0.0f64; 2]);
        for t in 1..=2 {
            let loss = (w.as_tensor().sqr().unwrap().sum_all().unwrap() * 0.5).unwrap();
            let mut grads = opt.zero_grads();
            grads
                .accumulate(opt.params(), &loss.backward().unwrap())
                .unwrap();
            opt.step(&grads).unwrap();
            for i in 0..2 {
                let g = expect[i];
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                let denom = (v[i] / (1.0 - 0.999f64.powi(t))).sqrt() + 1e-8;
                expect[i] =
                    expect[i] * (1.0 - 0.1 * 0.5) - 0.1 / (1.0 - 0.9f64.powi(t)) * m[i] / denom;
            }
        }
        let got: Vec<f32> = w.as_tensor().to_vec1().unwrap();
        for (g, e) in got.iter().zip(expect) {
            assert!((f64::from(*g) - e).abs() < 1e-6, "{g} vs {e}");
        }
        assert_eq!(opt.step_count(), 2);
    }

    #[test]
    fn clipping_scales_to_max_norm() {
        let w = var(&[3.0, 4.0]);
        let opt = AdamW::new(vec![("w".into(), w.clone())], AdamWConfig::default()).unwrap();
        let loss = (w.as_tensor().sqr().unwrap().sum_all().unwrap() * 0.5).unwrap();
        let mut grads = opt.zero_grads();
        let store = loss.backward().unwrap();
        grads.accumulate(opt.params(), &store).unwrap();
        grads.accumulate(opt.params(), &store).unwrap(); // accumulation: gradient (6, 8)
        assert!((grads.global_norm().unwrap() - 10.0).abs() < 1e-9);
        let before = grads.clip_norm(1.0).unwrap();
        assert!((before - 10.0).abs() < 1e-9);
        assert!((grads.global_norm().unwrap() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn state_round_trips_and_rejects_mismatch() {
        let w = var(&[1.0, 2.0]);
        let mut opt = AdamW::new(vec![("w".into(), w.clone())], AdamWConfig::default()).unwrap();
        let loss = w.as_tensor().sum_all().unwrap();
        let mut grads = opt.zero_grads();
        grads
            .accumulate(opt.params(), &loss.backward().unwrap())
            .unwrap();
        opt.step(&grads).unwrap();
        let state = opt.state_tensors().unwrap();
        let mut other =
            AdamW::new(vec![("w".into(), var(&[0.0, 0.0]))], AdamWConfig::default()).unwrap();
        other.load_state(state.clone(), 1).unwrap();
        assert_eq!(other.step_count(), 1);
        let a: Vec<f32> = other.state_tensors().unwrap()["exp_avg.w"]
            .to_vec1()
            .unwrap();
        assert_eq!(a, vec![0.1, 0.1]);
        let mut wrong =
            AdamW::new(vec![("u".into(), var(&[0.0, 0.0]))], AdamWConfig::default()).unwrap();
        let err = wrong.load_state(state, 1).unwrap_err();
        assert!(err.to_string().contains("exp_avg.u"), "{err}");
    }
}
