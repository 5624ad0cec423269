//! A training pass whose memory grows linearly with the sequence length: per-token log-probs and
//! entropies, a caller's loss on them, and the gradients of every parameter.
//!
//! candle keeps the whole forward graph alive until the loss is dropped, so a plain
//! `loss.backward()` over a 30-layer decoder holds every intermediate of every layer (and the
//! `[tokens, vocab]` logits) at once. [`CausalLm::loss_and_gradients`] instead runs the decoder
//! block by block on plain buffers ([`crate::block_pass`]) and chains the gradients by hand:
//!
//! 1. forward, keeping each block's input (`[B·T, hidden]`) and, without recompute, what its
//!    backward pass reads;
//! 2. the head segment with a candle graph — final norm, the chunked output head with
//!    log-softmax, gather and entropy ([`crate::head`]), the caller's loss — and its backward;
//! 3. for each block from the last: its saved state, or its forward pass run again from the saved
//!    input (*recompute*), then its hand-written backward pass, which writes the gradients of
//!    its parameters and passes its input's gradient down;
//! 4. the embedding lookup, through candle again.
//!
//! The gradients are the same as one backward over the whole graph (up to float summation
//! order). Where the fused CPU f32 kernels do not apply (other devices and dtypes), it falls back
//! to exactly that: full logits and one backward.

use candle_core::backprop::GradStore;
use candle_core::{D, Tensor, Var};

use crate::block_pass::{Angles, BlockPass, PassShape, Saved};
use crate::{CausalLm, PolicyError, Result, head, token_logprobs_and_entropy};

/// Whether blocks are recomputed in the backward pass (activation checkpointing per layer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Recompute {
    /// Recompute when the batch holds more than [`RECOMPUTE_ABOVE_TOKENS`] positions.
    #[default]
    Auto,
    /// Always recompute: memory of one block's saved state plus the block inputs.
    Always,
    /// Keep every block's saved state from the forward pass: one forward less, memory linear in
    /// tokens with a larger factor (about 36 KB per token and layer for SmolLM2; no `[T, T]`
    /// scores with flash attention).
    Never,
}

/// The batch size (positions, `B × T`) above which [`Recompute::Auto`] recomputes.
pub const RECOMPUTE_ABOVE_TOKENS: usize = 2048;

impl Recompute {
    fn applies(self, positions: usize) -> bool {
        match self {
            Self::Auto => positions > RECOMPUTE_ABOVE_TOKENS,
            Self::Always => true,
            Self::Never => false,
        }
    }
}

/// What a loss receives: per-position log-probs of the targets and entropies, `[B, T]` each,
/// with an autograd graph to the model.
#[derive(Clone, Debug)]
pub struct TokenTerms {
    /// `log p(targets[b, t] | ids[b, ..=t])` at the model's temperature.
    pub logp: Tensor,
    /// The entropy of each position's distribution.
    pub entropy: Tensor,
}

/// The loss value and the gradient of every parameter that it depends on.
#[derive(Debug)]
pub struct LossAndGradients {
    /// The loss (a detached scalar).
    pub loss: Tensor,
    /// Gradients by parameter (look them up with the model's variables).
    pub gradients: GradStore,
}

impl CausalLm {
    /// Computes [`TokenTerms`] for `targets` (`[B, T]` u32) after `ids` (`[B, T]`, right-padded),
    /// with logits divided by `temperature`, hands them to `loss` (which returns a scalar), and
    /// returns the loss with the gradients of every parameter. Memory grows linearly with `T`
    /// (see the module docs); `recompute` trades compute for memory. An error of `loss` is
    /// returned as it is.
    pub fn loss_and_gradients<E: From<PolicyError>>(
        &self,
        ids: &Tensor,
        targets: &Tensor,
        temperature: f64,
        recompute: Recompute,
        loss: impl FnOnce(&TokenTerms) -> std::result::Result<Tensor, E>,
    ) -> std::result::Result<LossAndGradients, E> {
        let mut failure = None;
        let result = self.pass(ids, targets, temperature, recompute, |terms| {
            loss(terms).map_err(|e| {
                failure = Some(e);
                PolicyError::Config("the loss failed".into())
            })
        });
        match failure {
            Some(e) => Err(e),
            None => Ok(result?),
        }
    }

    fn pass(
        &self,
        ids: &Tensor,
        targets: &Tensor,
        temperature: f64,
        recompute: Recompute,
        loss: impl FnOnce(&TokenTerms) -> Result<Tensor>,
    ) -> Result<LossAndGradients> {
        if ids.dims() != targets.dims() {
            return Err(PolicyError::Config(format!(
                "ids {:?} and targets {:?} differ in shape",
                ids.dims(),
                targets.dims()
            )));
        }
        if !(temperature > 0.0 && temperature.is_finite()) {
            return Err(PolicyError::Config(format!(
                "temperature must be positive and finite, got {temperature}"
            )));
        }
        let decoder = self.decoder();
        let (b, t) = ids.dims2()?;
        if t > decoder.config.max_position_embeddings {
            return Err(PolicyError::Config(format!(
                "sequence of {t} tokens exceeds max_position_embeddings {}",
                decoder.config.max_position_embeddings
            )));
        }
        if !head::supported(&decoder.embed) {
            return self.whole_graph(ids, targets, temperature, loss);
        }
        let detached = decoder.detached();
        let shape = PassShape::new(&decoder.config, b, t);
        let angles = Angles::new(&decoder.cos, &decoder.sin, t)?;
        let recompute = recompute.applies(b * t);
        let pass = |block| BlockPass {
            block,
            shape,
            angles: &angles,
            backend: decoder.matmul,
        };

        // 1. Forward: block inputs (and, without recompute, what each block's backward reads).
        let mut x = detached.embed(ids)?.flatten_all()?.to_vec1::<f32>()?;
        let mut inputs: Vec<Vec<f32>> = Vec::with_capacity(decoder.blocks.len());
        let mut saved: Vec<Saved> = Vec::new();
        for block in &decoder.blocks {
            let (y, kept) = pass(block).forward(&x)?;
            inputs.push(std::mem::replace(&mut x, y));
            if !recompute {
                saved.push(kept);
            }
        }

        // 2. The head segment.
        let hd = decoder.config.hidden_size;
        let top = Var::from_tensor(&Tensor::from_vec(x, (b, t, hd), ids.device())?)?;
        let hidden =
            crate::model::rms_norm(top.as_tensor(), &decoder.norm, decoder.config.rms_norm_eps)?;
        let both = head::token_terms(
            &hidden.reshape((b * t, hd))?,
            &decoder.lm_head,
            &targets.flatten_all()?,
            1.0 / temperature,
            decoder.matmul,
        )?
        .reshape((b, t, 2))?;
        let terms = TokenTerms {
            logp: both.narrow(D::Minus1, 0, 1)?.squeeze(D::Minus1)?,
            entropy: both.narrow(D::Minus1, 1, 1)?.squeeze(D::Minus1)?,
        };
        let value = loss(&terms)?;
        drop(terms);
        let mut gradients = value.backward()?;
        let mut upstream = take(&mut gradients, &top)?
            .flatten_all()?
            .to_vec1::<f32>()?;

        // 3. Blocks, last first.
        for (block, input) in decoder.blocks.iter().zip(&inputs).rev() {
            let kept = match saved.pop() {
                Some(kept) => kept,
                None => pass(block).forward(input)?.1,
            };
            upstream = pass(block).backward(input, kept, &upstream, &mut gradients)?;
        }
        let upstream = Tensor::from_vec(upstream, (b, t, hd), ids.device())?;

        // 4. The embedding lookup.
        let embedded = decoder.embed(ids)?;
        gradients.extend((embedded * &upstream)?.sum_all()?.backward()?)?;
        Ok(LossAndGradients {
            loss: value.detach(),
            gradients,
        })
    }

    /// The fallback: full logits, one graph, one backward.
    fn whole_graph(
        &self,
        ids: &Tensor,
        targets: &Tensor,
        temperature: f64,
        loss: impl FnOnce(&TokenTerms) -> Result<Tensor>,
    ) -> Result<LossAndGradients> {
        let mut logits = self.forward(ids)?;
        if temperature != 1.0 {
            logits = (logits / temperature)?;
        }
        let (logp, entropy) = token_logprobs_and_entropy(&logits, targets)?;
        let value = loss(&TokenTerms { logp, entropy })?;
        let gradients = value.backward()?;
        Ok(LossAndGradients {
            loss: value.detach(),
            gradients,
        })
    }
}

/// Removes and returns the gradient of a segment's input (zeros when the loss does not depend
/// on it).
fn take(store: &mut GradStore, input: &Var) -> Result<Tensor> {
    match store.remove(input.as_tensor()) {
        Some(g) => Ok(g),
        None => Ok(input.as_tensor().zeros_like()?),
    }
}
