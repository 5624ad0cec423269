//! The per-token GRPO loss and the supervised (cross-entropy) loss, over candle tensors.
//!
//! All inputs are `(batch, time)` tensors of per-token values aligned with a 0/1 loss mask of
//! the same shape; advantages are one value per row (trajectory). For each masked token with
//! ratio `r = exp(logp − old_logp)` and advantage `A`:
//!
//! ```text
//! pg      = −min(r·A, clip(r, 1 − ε, 1 + ε)·A)                  PPO clipped surrogate
//! kl      = clamp(exp(ref − logp) − (ref − logp) − 1, ±c)       low-variance KL estimator (k3)
//! loss_t  = pg + β·kl − c_H·entropy
//! ```
//!
//! and the loss is `Σ mask·loss_t / normalizer`. With `normalizer` = the number of masked tokens
//! in the whole mini-batch, summing the losses of its micro-batches gives the token-level mean
//! over the mini-batch, so gradient accumulation gives exactly the gradient of one big batch.
//!
//! Inputs must be finite at every position, masked or not (a masked `-inf` would still turn the
//! sum into NaN); the trainer's NaN guard catches what slips through.

use candle_core::{DType, Tensor};

use crate::config::LossConfig;
use crate::{GrpoError, Result};

/// The per-token tensors of one (micro-)batch.
#[derive(Clone, Copy, Debug)]
pub struct LossInputs<'a> {
    /// Log-probs of the taken tokens under the policy being trained (carries the graph).
    pub logp: &'a Tensor,
    /// Log-probs recorded by the sampling policy (π_old).
    pub old_logp: &'a Tensor,
    /// Log-probs under the frozen reference model; `None` skips the KL term.
    pub ref_logp: Option<&'a Tensor>,
    /// Per-token entropy of the policy's distribution (carries the graph); `None` skips the
    /// entropy term.
    pub entropy: Option<&'a Tensor>,
    /// One advantage per row, shape `(batch,)`.
    pub advantages: &'a Tensor,
    /// 1 on tokens that count (assistant tokens), 0 elsewhere.
    pub mask: &'a Tensor,
}

/// Token sums of the loss terms of one (micro-)batch, for metrics; add them up over the
/// micro-batches and divide by `tokens`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LossSums {
    /// Masked tokens.
    pub tokens: f64,
    /// Σ pg over masked tokens.
    pub pg: f64,
    /// Σ clamped KL estimate over masked tokens (0 without a reference).
    pub kl: f64,
    /// Σ entropy over masked tokens (0 without entropies).
    pub entropy: f64,
    /// Masked tokens where the clipped branch was the smaller one (clipping active).
    pub clipped: f64,
    /// Σ ratio over masked tokens.
    pub ratio: f64,
}

impl LossSums {
    /// Adds another micro-batch's sums.
    pub fn add(&mut self, other: &Self) {
        self.tokens += other.tokens;
        self.pg += other.pg;
        self.kl += other.kl;
        self.entropy += other.entropy;
        self.clipped += other.clipped;
        self.ratio += other.ratio;
    }

    /// Per-token mean of a sum (0 with no tokens).
    pub fn mean(&self, sum: f64) -> f64 {
        if self.tokens > 0.0 {
            sum / self.tokens
        } else {
            0.0
        }
    }
}

/// The loss of one (micro-)batch and its token sums.
#[derive(Clone, Debug)]
pub struct LossOutput {
    /// Scalar loss `Σ mask·loss_t / normalizer`, differentiable w.r.t. `logp` and `entropy`.
    pub loss: Tensor,
    /// Token sums for metrics.
    pub sums: LossSums,
}

fn check_shapes(inputs: &LossInputs<'_>) -> Result<(usize, usize)> {
    let (rows, cols) = inputs.logp.dims2()?;
    let mut named = vec![("old_logp", inputs.old_logp), ("mask", inputs.mask)];
    if let Some(r) = inputs.ref_logp {
        named.push(("ref_logp", r));
    }
    if let Some(e) = inputs.entropy {
        named.push(("entropy", e));
    }
    for (name, tensor) in named {
        if tensor.dims() != [rows, cols] {
            return Err(GrpoError::Input(format!(
                "loss: {name} has shape {:?}, logp has [{rows}, {cols}]",
                tensor.dims()
            )));
        }
    }
    if inputs.advantages.dims() != [rows] {
        return Err(GrpoError::Input(format!(
            "loss: advantages have shape {:?}, expected [{rows}] (one per row)",
            inputs.advantages.dims()
        )));
    }
    Ok((rows, cols))
}

fn scalar(t: &Tensor) -> Result<f64> {
    Ok(t.to_dtype(DType::F64)?.sum_all()?.to_scalar::<f64>()?)
}

/// The GRPO loss of one (micro-)batch, divided by `normalizer` (the masked-token count of the
/// whole mini-batch; see the module docs).
pub fn grpo_loss(
    inputs: &LossInputs<'_>,
    config: &LossConfig,
    normalizer: f64,
) -> Result<LossOutput> {
    let (rows, cols) = check_shapes(inputs)?;
    if !(normalizer.is_finite() && normalizer > 0.0) {
        return Err(GrpoError::Input(format!(
            "loss: normalizer {normalizer} must be a positive token count"
        )));
    }
    let dtype = inputs.logp.dtype();
    let mask = inputs.mask.to_dtype(dtype)?;
    let old = inputs.old_logp.to_dtype(dtype)?;
    let adv = inputs
        .advantages
        .to_dtype(dtype)?
        .reshape((rows, 1))?
        .broadcast_as((rows, cols))?;

    let ratio = (inputs.logp - &old)?.exp()?;
    let eps = config.clip_eps;
    let surr1 = (&ratio * &adv)?;
    let surr2 = (ratio.clamp(1.0 - eps, 1.0 + eps)? * &adv)?;
    let pg = surr1.minimum(&surr2)?.neg()?;
    let mut per_token = pg.clone();

    let mut kl_sum = 0.0;
    if let Some(reference) = inputs.ref_logp {
        let d = (reference.to_dtype(dtype)? - inputs.logp)?;
        let kl = ((d.exp()? - &d)? - 1.0)?.clamp(-config.kl_clamp, config.kl_clamp)?;
        kl_sum = scalar(&(&kl * &mask)?.detach())?;
        if config.kl_coef != 0.0 {
            per_token = (per_token + (kl * config.kl_coef)?)?;
        }
    }
    let mut entropy_sum = 0.0;
    if let Some(entropy) = inputs.entropy {
        let entropy = entropy.to_dtype(dtype)?;
        entropy_sum = scalar(&(&entropy * &mask)?.detach())?;
        if config.entropy_coef != 0.0 {
            per_token = (per_token - (entropy * config.entropy_coef)?)?;
        }
    }
    let loss = ((per_token * &mask)?.sum_all()? / normalizer)?;

    let clipped = surr2.lt(&surr1)?.to_dtype(dtype)?;
    let sums = LossSums {
        tokens: scalar(&mask)?,
        pg: scalar(&(&pg * &mask)?.detach())?,
        kl: kl_sum,
        entropy: entropy_sum,
        clipped: scalar(&(clipped * &mask)?)?,
        ratio: scalar(&(&ratio * &mask)?.detach())?,
    };
    Ok(LossOutput { loss, sums })
}

/// Supervised loss: negative log-likelihood of the masked tokens, `−Σ mask·logp / normalizer`
/// (cross-entropy on assistant tokens only, for the warm start).
pub fn sft_loss(logp: &Tensor, mask: &Tensor, normalizer: f64) -> Result<Tensor> {
    if logp.dims() != mask.dims() {
        return Err(GrpoError::Input(format!(
            "sft loss: mask has shape {:?}, logp has {:?}",
            mask.dims(),
            logp.dims()
        )));
    }
    if !(normalizer.is_finite() && normalizer > 0.0) {
        return Err(GrpoError::Input(format!(
            "sft loss: normalizer {normalizer} must be a positive token count"
        )));
    }
    let mask = mask.to_dtype(logp.dtype())?;
    Ok(((logp * mask)?.sum_all()?.neg()? / normalizer)?)
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;

    fn t(values: &[f64], shape: (usize, usize)) -> Tensor {
        Tensor::from_slice(values, shape, &Device::Cpu).unwrap()
    }

    /// Two rows: ratios 1.5 and 0.9 with A = 1 (first clipped to 1.2), ratio 0.5 with A = −2
    /// (clipped to 0.8), one masked token.
    fn example() -> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor) {
        let logp = t(&[1.5f64.ln(), 0.9f64.ln(), 0.5f64.ln(), 0.0], (2, 2));
        let old = t(&[0.0; 4], (2, 2));
        let reference = t(&[0.0; 4], (2, 2));
        let entropy = t(&[1.0, 2.0, 3.0, 100.0], (2, 2));
        let adv = Tensor::from_slice(&[1.0f64, -2.0], 2, &Device::Cpu).unwrap();
        let mask = t(&[1.0, 1.0, 1.0, 0.0], (2, 2));
        (logp, old, reference, entropy, adv, mask)
    }

    #[test]
    fn hand_computed_loss() {
        let (logp, old, reference, entropy, adv, mask) = example();
        let inputs = LossInputs {
            logp: &logp,
            old_logp: &old,
            ref_logp: Some(&reference),
            entropy: Some(&entropy),
            advantages: &adv,
            mask: &mask,
        };
        let out = grpo_loss(&inputs, &LossConfig::default(), 3.0).unwrap();
        // pg: −min(1.5, 1.2) = −1.2; −min(0.9, 0.9) = −0.9; −min(−1.0, −1.6) = 1.6.
        assert!((out.sums.pg - (-1.2 - 0.9 + 1.6)).abs() < 1e-12);
        // k3 with ref = old = 0: 1/r + ln r − 1 = 0.0721318, 0.0057506, 0.3068528.
        let kl = 0.072_131_8 + 0.005_750_6 + 0.306_852_8;
        assert!((out.sums.kl - kl).abs() < 1e-6, "{}", out.sums.kl);
        assert_eq!(out.sums.entropy, 6.0);
        assert_eq!(out.sums.clipped, 2.0);
        assert_eq!(out.sums.tokens, 3.0);
        let expected = (-0.5 + 0.001 * kl - 0.001 * 6.0) / 3.0; // = −0.168538..
        let got = out.loss.to_scalar::<f64>().unwrap();
        assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
        assert!((got + 0.168_538_4).abs() < 1e-6, "{got}");
    }

    #[test]
    fn kl_is_clamped() {
        let logp = t(&[-20.0], (1, 1));
        let zero = t(&[0.0], (1, 1));
        let one = t(&[1.0], (1, 1));
        let adv = Tensor::from_slice(&[0.0f64], 1, &Device::Cpu).unwrap();
        let inputs = LossInputs {
            logp: &logp,
            old_logp: &logp,
            ref_logp: Some(&zero),
            entropy: None,
            advantages: &adv,
            mask: &one,
        };
        let out = grpo_loss(&inputs, &LossConfig::default(), 1.0).unwrap();
        assert_eq!(out.sums.kl, 10.0);
        assert!((out.loss.to_scalar::<f64>().unwrap() - 0.01).abs() < 1e-12);
    }

    fn loss_value(logp: &Tensor, entropy: &Tensor, rest: &(Tensor, Tensor, Tensor, Tensor)) -> f64 {
        let (old, reference, adv, mask) = rest;
        let config = LossConfig {
            kl_coef: 0.3, // large, so the KL gradient matters in the check
            entropy_coef: 0.2,
            ..LossConfig::default()
        };
        let inputs = LossInputs {
            logp,
            old_logp: old,
            ref_logp: Some(reference),
            entropy: Some(entropy),
            advantages: adv,
            mask,
        };
        grpo_loss(&inputs, &config, 5.0)
            .unwrap()
            .loss
            .to_scalar::<f64>()
            .unwrap()
    }

    #[test]
    fn gradient_matches_finite_differences() {
        // Ratios away from the clip boundaries (where the loss has kinks), both signs of A,
        // clipped and unclipped tokens, one masked token.
        let logp_values = [-1.0, -0.5, -2.0, -0.7, -1.3, -0.2];
        let old = t(&[-1.1, -0.9, -1.7, -0.65, -1.0, -0.2], (2, 3));
        let reference = t(&[-0.8, -0.6, -2.5, -1.0, -1.2, -0.3], (2, 3));
        let adv = Tensor::from_slice(&[0.8f64, -1.3], 2, &Device::Cpu).unwrap();
        let mask = t(&[1.0, 1.0, 1.0, 1.0, 1.0, 0.0], (2, 3));
        let entropy_values = [0.5, 1.5, 2.5, 0.1, 0.9, 3.0];
        let rest = (old, reference, adv, mask);

        let logp = Var::from_slice(&logp_values, (2, 3), &Device::Cpu).unwrap();
        let entropy = Var::from_slice(&entropy_values, (2, 3), &Device::Cpu).unwrap();
        let config = LossConfig {
            kl_coef: 0.3,
            entropy_coef: 0.2,
            ..LossConfig::default()
        };
        let inputs = LossInputs {
            logp: logp.as_tensor(),
            old_logp: &rest.0,
            ref_logp: Some(&rest.1),
            entropy: Some(entropy.as_tensor()),
            advantages: &rest.2,
            mask: &rest.3,
        };
        let out = grpo_loss(&inputs, &config, 5.0).unwrap();
        assert!(
            out.sums.clipped >= 1.0,
            "the example must exercise clipping"
        );
        let grads = out.loss.backward().unwrap();
        let grad = |var: &Var| -> Vec<f64> {
            grads
                .get(var.as_tensor())
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap()
        };
        let (g_logp, g_ent) = (grad(&logp), grad(&entropy));

        let h = 1e-6;
        for i in 0..6 {
            for (which, values, analytic) in [
                ("logp", &logp_values, &g_logp),
                ("entropy", &entropy_values, &g_ent),
            ] {
                let eval = |delta: f64| {
                    let mut v = *values;
                    v[i] += delta;
                    let moved = t(&v, (2, 3));
                    if which == "logp" {
                        loss_value(&moved, &t(&entropy_values, (2, 3)), &rest)
                    } else {
                        loss_value(&t(&logp_values, (2, 3)), &moved, &rest)
                    }
                };
                let numeric = (eval(h) - eval(-h)) / (2.0 * h);
                assert!(
                    (numeric - analytic[i]).abs() < 1e-7,
                    "d loss / d {which}[{i}]: analytic {} numeric {numeric}",
                    analytic[i]
                );
            }
        }
        // The masked token gets no gradient.
        assert_eq!(g_logp[5], 0.0);
    }

    #[test]
    fn sft_loss_is_masked_mean_nll() {
        let logp = t(&[-1.0, -2.0, -3.0, -4.0], (2, 2));
        let mask = t(&[1.0, 0.0, 1.0, 1.0], (2, 2));
        let loss = sft_loss(&logp, &mask, 3.0)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap();
        assert!((loss - 8.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn shape_mismatch_is_an_error() {
        let (logp, old, _, _, _, mask) = example();
        let adv = Tensor::from_slice(&[1.0f64, 2.0, 3.0], 3, &Device::Cpu).unwrap();
        let inputs = LossInputs {
            logp: &logp,
            old_logp: &old,
            ref_logp: None,
            entropy: None,
            advantages: &adv,
            mask: &mask,
        };
        let err = grpo_loss(&inputs, &LossConfig::default(), 1.0).unwrap_err();
        assert!(err.to_string().contains("advantages"), "{err}");
    }
}
