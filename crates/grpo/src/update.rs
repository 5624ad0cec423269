//! One optimizer update over a mini-batch: micro-batches, gradient accumulation, norm clipping
//! and the NaN/inf guard.
//!
//! The mini-batch's loss is the token-level mean over all its masked tokens; each micro-batch's
//! loss is its token *sum* divided by the mini-batch's token count, so the accumulated gradient
//! equals the gradient of the whole mini-batch at once, whatever the micro-batch size.

use candle_core::{DType, Tensor};
use crossgym_policy::{CausalLm, Decoder, LossAndGradients, Recompute};

use crate::batch::{PaddedBatch, Sequence};
use crate::config::LossConfig;
use crate::loss::{LossInputs, LossSums, grpo_loss, sft_loss};
use crate::optim::AdamW;
use crate::{GrpoError, Result};

/// What one update did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UpdateStats {
    /// Token sums of the loss terms (GRPO only; `tokens` always).
    pub sums: LossSums,
    /// The mini-batch loss (token mean).
    pub loss: f64,
    /// Global gradient norm before clipping (NaN when the loss already was).
    pub grad_norm: f64,
    /// Whether the optimizer stepped.
    pub applied: bool,
    /// Whether the update was skipped because the loss or a gradient was NaN or infinite.
    pub skipped_nonfinite: bool,
    /// Real tokens of the mini-batch's sequences.
    pub total_tokens: usize,
}

/// Settings of a GRPO update that are not in [`LossConfig`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UpdateSettings {
    /// Sequences per forward/backward pass.
    pub micro_batch_size: usize,
    /// Global gradient-norm clip (0: off).
    pub max_grad_norm: f64,
    /// Sampling temperature: logits are divided by it, as they were when the tokens were drawn.
    pub temperature: f64,
    /// Whether decoder blocks are recomputed in the backward pass (memory vs compute).
    pub recompute: Recompute,
}

/// The reference model's log-probs of `batch`'s targets (no graph).
fn reference_logprobs(
    reference: &Decoder,
    batch: &PaddedBatch,
    temperature: f64,
) -> Result<Tensor> {
    Ok(reference
        .target_logprobs(&batch.inputs, &batch.targets, temperature)?
        .detach())
}

/// Runs `micro` over micro-batches of `sequences`, accumulates gradients, clips and steps.
fn accumulate_and_step<F>(
    optimizer: &mut AdamW,
    sequences: &[Sequence<'_>],
    micro_batch_size: usize,
    max_grad_norm: f64,
    mut micro: F,
) -> Result<UpdateStats>
where
    F: FnMut(&PaddedBatch, usize, f64) -> Result<(LossAndGradients, LossSums)>,
{
    let tokens: usize = sequences.iter().map(Sequence::loss_tokens).sum();
    let mut stats = UpdateStats {
        total_tokens: sequences.iter().map(|s| s.tokens.len()).sum(),
        ..UpdateStats::default()
    };
    if tokens == 0 {
        return Ok(stats);
    }
    let normalizer = tokens as f64;
    let device = optimizer
        .params()
        .first()
        .map(|(_, v)| v.device().clone())
        .ok_or_else(|| GrpoError::Input("the optimizer has no parameters".into()))?;
    let mut grads = optimizer.zero_grads();
    let mut start = 0;
    for chunk in sequences.chunks(micro_batch_size.max(1)) {
        let batch = PaddedBatch::new(chunk, &device)?;
        let (out, sums) = micro(&batch, start, normalizer)?;
        start += chunk.len();
        let value = out.loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        stats.loss += value;
        stats.sums.add(&sums);
        if !value.is_finite() {
            stats.skipped_nonfinite = true;
            stats.grad_norm = f64::NAN;
            return Ok(stats);
        }
        grads.accumulate(optimizer.params(), &out.gradients)?;
    }
    stats.grad_norm = grads.clip_norm(max_grad_norm)?;
    if !stats.grad_norm.is_finite() {
        stats.skipped_nonfinite = true;
        return Ok(stats);
    }
    optimizer.step(&grads)?;
    stats.applied = true;
    Ok(stats)
}

/// One GRPO update of `model` on `sequences` with one advantage each. `reference` (a frozen
/// model) adds the KL term; π_old is each sequence's recorded log-probs.
pub fn grpo_update(
    model: &CausalLm,
    reference: Option<&Decoder>,
    optimizer: &mut AdamW,
    sequences: &[Sequence<'_>],
    advantages: &[f64],
    loss: &LossConfig,
    settings: &UpdateSettings,
) -> Result<UpdateStats> {
    if advantages.len() != sequences.len() {
        return Err(GrpoError::Input(format!(
            "{} advantages for {} sequences",
            advantages.len(),
            sequences.len()
        )));
    }
    let temperature = settings.temperature;
    accumulate_and_step(
        optimizer,
        sequences,
        settings.micro_batch_size,
        settings.max_grad_norm,
        |batch, start, normalizer| {
            let rows = batch.inputs.dim(0)?;
            let reference = match reference {
                Some(r) => Some(reference_logprobs(r, batch, temperature)?),
                None => None,
            };
            let adv: Vec<f32> = advantages[start..start + rows]
                .iter()
                .map(|&a| a as f32)
                .collect();
            let adv = Tensor::from_vec(adv, rows, batch.old_logp.device())?
                .to_dtype(batch.old_logp.dtype())?;
            let mut sums = LossSums::default();
            let out = model.loss_and_gradients(
                &batch.inputs,
                &batch.targets,
                temperature,
                settings.recompute,
                |terms| -> Result<Tensor> {
                    let inputs = LossInputs {
                        logp: &terms.logp,
                        old_logp: &batch.old_logp,
                        ref_logp: reference.as_ref(),
                        entropy: Some(&terms.entropy),
                        advantages: &adv,
                        mask: &batch.mask,
                    };
                    let out = grpo_loss(&inputs, loss, normalizer)?;
                    sums = out.sums;
                    Ok(out.loss)
                },
            )?;
            Ok((out, sums))
        },
    )
}

/// One supervised update: cross-entropy on the masked (assistant) tokens.
pub fn sft_update(
    model: &CausalLm,
    optimizer: &mut AdamW,
    sequences: &[Sequence<'_>],
    micro_batch_size: usize,
    max_grad_norm: f64,
    recompute: Recompute,
) -> Result<UpdateStats> {
    accumulate_and_step(
        optimizer,
        sequences,
        micro_batch_size,
        max_grad_norm,
        |batch, _start, normalizer| {
            let out = model.loss_and_gradients(
                &batch.inputs,
                &batch.targets,
                1.0,
                recompute,
                |terms| -> Result<Tensor> { sft_loss(&terms.logp, &batch.mask, normalizer) },
            )?;
            let sums = LossSums {
                tokens: batch.loss_tokens as f64,
                ..LossSums::default()
            };
            Ok((out, sums))
        },
    )
}
