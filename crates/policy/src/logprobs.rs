//! Per-token log-probabilities and entropies of given targets (differentiable), for losses.

use candle_core::{D, DType, Tensor};

use crate::Result;

/// `log p(targets[b, t] | ·)` from `logits` `[B, T, V]` and `targets` `[B, T]` (u32), as
/// `[B, T]` in the logits' dtype. Differentiable with respect to the logits.
pub fn token_logprobs(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    if let Some(both) = fused(logits, targets)? {
        return Ok(both.narrow(D::Minus1, 0, 1)?.squeeze(D::Minus1)?);
    }
    let log_probs = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    gather_last(&log_probs, targets)
}

/// [`token_logprobs`] and the entropy of each position's distribution (`[B, T]` each).
pub fn token_logprobs_and_entropy(logits: &Tensor, targets: &Tensor) -> Result<(Tensor, Tensor)> {
    if let Some(both) = fused(logits, targets)? {
        return Ok((
            both.narrow(D::Minus1, 0, 1)?.squeeze(D::Minus1)?,
            both.narrow(D::Minus1, 1, 1)?.squeeze(D::Minus1)?,
        ));
    }
    let log_probs = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let chosen = gather_last(&log_probs, targets)?;
    let entropy = (log_probs.exp()? * &log_probs)?.sum(D::Minus1)?.neg()?;
    Ok((chosen, entropy))
}

/// Next-token log-probabilities of a right-padded batch `ids` `[B, T]`: element `[b, t]` is
/// `log p(ids[b, t+1] | ids[b, ..=t])`, shape `[B, T-1]`. `logits` are the model's outputs
/// for `ids` (`[B, T, V]`).
pub fn next_token_logprobs(logits: &Tensor, ids: &Tensor) -> Result<Tensor> {
    let t = ids.dim(1)?;
    if logits.rank() == 3 && crate::ops::fused(logits) {
        // Straight from the full logits: no narrowed copy, no padded gradient.
        let targets = ids.narrow(1, 1, t.saturating_sub(1))?;
        let both = crate::ops::logprob_entropy(logits, &targets)?;
        return Ok(both.narrow(D::Minus1, 0, 1)?.squeeze(D::Minus1)?);
    }
    let logits = logits.narrow(1, 0, t.saturating_sub(1))?;
    let targets = ids.narrow(1, 1, t.saturating_sub(1))?;
    token_logprobs(&logits, &targets)
}

/// The fused log-softmax + gather + entropy kernel (`[B, T, 2]`) where it applies: CPU f32/f64
/// logits `[B, T, V]` with targets `[B, T]`.
fn fused(logits: &Tensor, targets: &Tensor) -> Result<Option<Tensor>> {
    if logits.rank() != 3 || targets.rank() != 2 || !crate::ops::fused(logits) {
        return Ok(None);
    }
    if targets.dims() != &logits.dims()[..2] {
        return Err(crate::PolicyError::Config(format!(
            "targets {:?} do not match logits {:?}",
            targets.dims(),
            logits.dims()
        )));
    }
    crate::ops::logprob_entropy(logits, targets).map(Some)
}

fn gather_last(values: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let index = targets
        .to_dtype(DType::U32)?
        .unsqueeze(D::Minus1)?
        .contiguous()?;
    Ok(values
        .contiguous()?
        .gather(&index, D::Minus1)?
        .squeeze(D::Minus1)?)
}

/// Right-pads token sequences with `pad` into a `[B, T]` u32 tensor (T = the longest length) and
/// returns it with the lengths. Feed it to [`crate::CausalLm::forward`]: with right padding the
/// causal mask alone keeps every real position exact, and padded positions are masked out of the
/// loss by the caller (e.g. with [`crate::Trajectory::loss_mask`] padded with 0).
pub fn right_pad(
    sequences: &[Vec<u32>],
    pad: u32,
    device: &candle_core::Device,
) -> Result<(Tensor, Vec<usize>)> {
    let lengths: Vec<usize> = sequences.iter().map(Vec::len).collect();
    let t = lengths.iter().copied().max().unwrap_or(0);
    let flat: Vec<u32> = sequences
        .iter()
        .flat_map(|s| {
            s.iter()
                .copied()
                .chain(std::iter::repeat_n(pad, t - s.len()))
        })
        .collect();
    Ok((
        Tensor::from_vec(flat, (sequences.len(), t), device)?,
        lengths,
    ))
}
