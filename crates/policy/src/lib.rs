//! The LLM policy of crossgym: tokenizers, the ChatML template, one trainable decoder for the
//! Llama and Qwen2 families on candle, KV-cached batched sampling, and the rollout loop that
//! turns an [`Env`](crossgym_env_core::Env) and a policy into token-exact [`Trajectory`] records.
//!
//! # The main types
//!
//! - [`Tokenizer`]: a `tokenizer.json`, one rebuilt from a GGUF vocabulary
//!   ([`Tokenizer::from_gguf_vocab`], with SmolLM2's digit-splitting pre-tokenizer), or a small
//!   byte-level BPE trained here ([`Tokenizer::train_bpe`]).
//! - [`ChatTemplate`] and [`Message`]: ChatML rendering identical to the models' own templates.
//! - [`ModelConfig`]: the hub's `config.json`. [`CausalLm`]: the trainable model — its parameters
//!   are [`candle_core::Var`]s in a [`candle_nn::VarMap`] under HF names
//!   ([`CausalLm::varmap`]), [`CausalLm::forward`] gives logits `[B, T, vocab]` for every
//!   position of a right-padded batch, [`CausalLm::save`]/[`CausalLm::load_dir`] write and read
//!   safetensors + `config.json` that transformers and vLLM load, [`CausalLm::random`] makes a
//!   seeded fresh model. [`load_gguf`] reads a GGUF file (dequantized, Q/K un-permuted);
//!   [`Pretrained`] bundles model, tokenizer and template; [`hub`] resolves hub-cache snapshots.
//! - [`token_logprobs`], [`token_logprobs_and_entropy`], [`next_token_logprobs`]: per-token
//!   log-probs and entropies of given targets, differentiable, for losses.
//! - [`Session`]: batched KV-cached inference; [`Sampler`]/[`SamplingParams`]: greedy,
//!   temperature, top-p, seeded.
//! - [`ChatAgent`]: what the rollout loop needs from a policy; [`LocalAgent`] (candle,
//!   token-exact) and [`OpenAiAgent`] (a remote OpenAI-compatible server, evaluation only).
//! - [`rollout_group`]: n samples of one task, batched, into [`Trajectory`] records (token ids,
//!   loss mask, sampling log-probs, per-step observation/reward/done, turns, token counts).
//!
//! # The key design choice
//!
//! candle's fused kernels (`rms_norm`, `softmax_last_dim`, `rope`, `sdpa`) have no backward pass
//! and silently cut the autograd graph, so the decoder ([`Decoder`]) uses its own fused CPU
//! kernels with hand-written backward passes (RMSNorm, linear, RoPE, masked softmax, and
//! log-softmax with gather and entropy), and the elementary differentiable ops they replace on
//! other devices and dtypes; the same code serves inference over *detached* views of the same storage
//! ([`CausalLm::inference`]), which record no graph and see optimizer updates at once.
//! [`FusedAdamW`] steps parameters in place.
//!
//! # Example
//!
//! A tiny random model, trained tokenizer, and a batched greedy continuation:
//!
//! ```
//! use candle_core::{DType, Device, Tensor};
//! use crossgym_policy::{CausalLm, ModelConfig, Session, Sampler, SamplingParams, Tokenizer};
//!
//! let texts = ["go to the red ball", "pick up the key", "open the door"];
//! let tokenizer = Tokenizer::train_bpe(texts.iter(), 300, &["<|im_start|>", "<|im_end|>"])?;
//! let config = ModelConfig::tiny_llama(tokenizer.vocab_size(), 32, 2, 4, 2);
//! let model = CausalLm::random(&config, 7, DType::F32, &Device::Cpu)?;
//!
//! // Training view: logits for every position, differentiable.
//! let ids = Tensor::new(&[[1u32, 5, 9, 2]], &Device::Cpu)?;
//! assert_eq!(model.forward(&ids)?.dims(), &[1, 4, tokenizer.vocab_size()]);
//!
//! // Inference view: a KV-cached session of two rows.
//! let mut session = Session::new(&model.inference(), 2)?;
//! session.append(&[tokenizer.encode("open the")?, tokenizer.encode("pick")?])?;
//! let mut samplers = [Sampler::new(SamplingParams::greedy()), Sampler::new(SamplingParams::greedy())];
//! let out = session.generate(&[0, 1], &[3, 3], None, &mut samplers)?;
//! assert_eq!(out[0].tokens.len(), 3);
//! # Ok::<(), crossgym_policy::PolicyError>(())
//! ```

mod agent;
mod block_pass;
mod chat;
mod config;
mod engine;
mod error;
pub mod fetch;
mod flash;
mod gguf;
mod head;
pub mod hub;
mod inference;
mod lm;
mod logprobs;
pub mod matmul;
pub mod memory;
mod mm;
mod model;
mod openai;
mod ops;
mod optim;
mod pretrained;
mod rollout;
mod sampling;
mod stream;
mod swiglu;
#[cfg(test)]
mod test_util;
#[cfg(test)]
mod test_values;
mod tokenizer;
mod train_pass;
mod vec_softmax;

pub use agent::{AgentReply, ChatAgent, LocalAgent, TokenRecord};
pub use chat::{ChatTemplate, Message, Role};
pub use config::{MAX_LAYERS, MAX_POSITIONS, ModelConfig, TokenIds};
pub use engine::{PackedModel, SeqCache};
pub use error::{PolicyError, Result};
pub use gguf::{load_gguf, unpermute};
pub use inference::{Generation, Session, greedy};
pub use lm::CausalLm;
pub use logprobs::{next_token_logprobs, right_pad, token_logprobs, token_logprobs_and_entropy};
pub use model::{Decoder, parameter_shapes};
pub use openai::{OpenAiAgent, RequestPolicy};
pub use optim::{FusedAdamW, adamw_step};
pub use pretrained::Pretrained;
pub use rollout::{
    FinishReason, RolloutLimits, StepRecord, Trajectory, conversation_start, rollout_group,
};
pub use sampling::{Choice, Sampler, SamplingParams, argmax};
pub use stream::{
    EpisodeFeed, EpisodeJob, EpisodeStream, FinishedEpisode, StreamSettings, StreamStats,
};
pub use tokenizer::{IM_END, IM_START, Tokenizer};
pub use train_pass::{LossAndGradients, RECOMPUTE_ABOVE_TOKENS, Recompute, TokenTerms};
