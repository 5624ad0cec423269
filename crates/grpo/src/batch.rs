//! Right-padded tensors of token sequences for teacher-forced training passes.

use candle_core::{DType, Device, Tensor};

use crate::{GrpoError, Result};

/// One token sequence to train on: the tokens, which of them count, and their sampling
/// log-probs (zeros when there is no sampling policy, as in supervised training).
#[derive(Clone, Copy, Debug)]
pub struct Sequence<'a> {
    /// Every token of the conversation.
    pub tokens: &'a [u32],
    /// 1 on tokens the loss covers.
    pub loss_mask: &'a [u8],
    /// Sampling log-prob of each token (read where the mask is 1).
    pub logprobs: &'a [f32],
}

impl Sequence<'_> {
    /// Tokens the loss covers (position 0 never counts: nothing predicts it).
    pub fn loss_tokens(&self) -> usize {
        self.loss_mask.iter().skip(1).filter(|&&m| m != 0).count()
    }
}

/// A right-padded batch in next-token form: `inputs[b, t]` predicts `targets[b, t]` =
/// `tokens[b, t + 1]`; `mask`, `old_logp` are aligned with the targets.
#[derive(Clone, Debug)]
pub struct PaddedBatch {
    /// Input ids `[rows, len − 1]` (u32; padding 0).
    pub inputs: Tensor,
    /// Target ids `[rows, len − 1]` (u32; padding 0).
    pub targets: Tensor,
    /// Loss mask of the targets `[rows, len − 1]` (f32 0/1).
    pub mask: Tensor,
    /// Sampling log-probs of the targets `[rows, len − 1]` (f32; 0 where masked out).
    pub old_logp: Tensor,
    /// Masked target tokens.
    pub loss_tokens: usize,
    /// Real (unpadded) tokens of all rows.
    pub total_tokens: usize,
}

impl PaddedBatch {
    /// Pads `sequences` to the longest one. Every sequence needs at least two tokens and
    /// equally long mask and log-probs.
    pub fn new(sequences: &[Sequence<'_>], device: &Device) -> Result<Self> {
        if sequences.is_empty() {
            return Err(GrpoError::Input("a training batch needs a sequence".into()));
        }
        for (i, s) in sequences.iter().enumerate() {
            if s.tokens.len() < 2 {
                return Err(GrpoError::Input(format!(
                    "sequence {i} has {} tokens; training needs at least 2",
                    s.tokens.len()
                )));
            }
            if s.loss_mask.len() != s.tokens.len() || s.logprobs.len() != s.tokens.len() {
                return Err(GrpoError::Input(format!(
                    "sequence {i}: {} tokens but {} mask entries and {} log-probs",
                    s.tokens.len(),
                    s.loss_mask.len(),
                    s.logprobs.len()
                )));
            }
        }
        let rows = sequences.len();
        let width = sequences.iter().map(|s| s.tokens.len()).max().unwrap_or(2) - 1;
        let mut inputs = vec![0u32; rows * width];
        let mut targets = vec![0u32; rows * width];
        let mut mask = vec![0f32; rows * width];
        let mut old = vec![0f32; rows * width];
        let mut loss_tokens = 0;
        for (r, s) in sequences.iter().enumerate() {
            let n = s.tokens.len() - 1;
            let at = r * width;
            inputs[at..at + n].copy_from_slice(&s.tokens[..n]);
            targets[at..at + n].copy_from_slice(&s.tokens[1..]);
            for t in 0..n {
                if s.loss_mask[t + 1] != 0 {
                    mask[at + t] = 1.0;
                    old[at + t] = s.logprobs[t + 1];
                    loss_tokens += 1;
                }
            }
        }
        let shape = (rows, width);
        Ok(Self {
            inputs: Tensor::from_vec(inputs, shape, device)?,
            targets: Tensor::from_vec(targets, shape, device)?,
            mask: Tensor::from_vec(mask, shape, device)?,
            old_logp: Tensor::from_vec(old, shape, device)?.to_dtype(DType::F32)?,
            loss_tokens,
            total_tokens: sequences.iter().map(|s| s.tokens.len()).sum(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_shifts() {
        let a = Sequence {
            tokens: &[5, 6, 7],
            loss_mask: &[0, 1, 1],
            logprobs: &[0.0, -0.5, -0.25],
        };
        let b = Sequence {
            tokens: &[8, 9],
            loss_mask: &[0, 0],
            logprobs: &[0.0, 0.0],
        };
        let batch = PaddedBatch::new(&[a, b], &Device::Cpu).unwrap();
        assert_eq!(
            batch.inputs.to_vec2::<u32>().unwrap(),
            vec![vec![5, 6], vec![8, 0]]
        );
        assert_eq!(
            batch.targets.to_vec2::<u32>().unwrap(),
            vec![vec![6, 7], vec![9, 0]]
        );
        assert_eq!(
            batch.mask.to_vec2::<f32>().unwrap(),
            vec![vec![1.0, 1.0], vec![0.0, 0.0]]
        );
        assert_eq!(
            batch.old_logp.to_vec2::<f32>().unwrap(),
            vec![vec![-0.5, -0.25], vec![0.0, 0.0]]
        );
        assert_eq!((batch.loss_tokens, batch.total_tokens), (2, 5));
        assert_eq!(a.loss_tokens(), 2);
    }

    #[test]
    fn bad_sequences_are_errors() {
        let short = Sequence {
            tokens: &[1],
            loss_mask: &[1],
            logprobs: &[0.0],
        };
        assert!(PaddedBatch::new(&[short], &Device::Cpu).is_err());
        let ragged = Sequence {
            tokens: &[1, 2],
            loss_mask: &[1],
            logprobs: &[0.0, 0.0],
        };
        let err = PaddedBatch::new(&[ragged], &Device::Cpu).unwrap_err();
        assert!(err.to_string().contains("sequence 0"), "{err}");
        assert!(PaddedBatch::new(&[], &Device::Cpu).is_err());
    }
}
