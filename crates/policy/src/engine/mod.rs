//! The rollout engine: a decoder packed once for inference, with one KV cache per sequence and
//! ragged batches, so episodes of many tasks decode together and join or leave at any step.
//!
//! [`PackedModel::new`] copies a CPU f32 [`Decoder`] into plain buffers and packs every linear
//! weight once for the [`crate::matmul`] module ([`PackedB`]: bf16 tiles on AMX in bf16 mode,
//! row-major f32 otherwise). It is a snapshot: pack again after an optimizer step.
//!
//! [`PackedModel::forward`] runs one step for any set of sequences, each with its own chunk of new
//! tokens (a whole observation to prefill, or the one token sampled last) and its own
//! [`SeqCache`]. The chunks are concatenated, never padded: every linear layer is one product over
//! all new tokens of all sequences, and attention runs per (sequence, key/value head) over that
//! sequence's own cache, in blocks of query rows, so no score matrix larger than
//! `heads_per_group × block × context` is ever held.
//!
//! Attention over the caches is bound by memory bandwidth: every decoding step reads every
//! sequence's whole cache. On the bf16 AMX backend a [`SeqCache`] therefore holds its keys and
//! values in bf16, already in the AMX tile layout of the two attention products
//! ([`crate::matmul`]'s growing operands), so a step reads half the bytes and repacks nothing,
//! and a decoding step's few query rows meet them in AVX-512 BF16 dot products that stream the
//! cache once (no tiles of mostly zero rows), with a vectorised softmax. In f32 mode it holds
//! them in f32 and the results are those of the f32 products and of the training path's
//! softmax, bit for bit.
//!
//! A sequence's results do not depend on which other sequences share its step: the products are
//! row-independent (AMX and gemm accumulate each output along `k` in a fixed order) and attention
//! and the norms work row by row.

mod attend;
mod forward;
mod kv;
mod rows;

pub use kv::SeqCache;
pub(crate) use rows::RowCaches;

use candle_core::{DType, Tensor};

use crate::matmul::{MatRef, MatmulBackend, PackedB};
use crate::model::{Block, Linear};
use crate::{Decoder, ModelConfig, PolicyError, Result};

/// One decoder block, packed.
#[derive(Debug)]
struct PackedBlock {
    input_norm: Vec<f32>,
    post_norm: Vec<f32>,
    /// `[hidden, (q_heads + 2·kv_heads)·head_dim]`: q, k and v side by side.
    qkv: PackedB,
    qkv_bias: Option<Vec<f32>>,
    o: PackedB,
    o_bias: Option<Vec<f32>>,
    /// `[hidden, 2·intermediate]`: gate, then up.
    gate_up: PackedB,
    down: PackedB,
}

/// A decoder packed for the rollout engine; see the module docs.
#[derive(Debug)]
pub struct PackedModel {
    config: ModelConfig,
    backend: MatmulBackend,
    embed: Vec<f32>,
    blocks: Vec<PackedBlock>,
    norm: Vec<f32>,
    head: PackedB,
    /// `[max_positions, head_dim / 2]`.
    cos: Vec<f32>,
    sin: Vec<f32>,
}

/// The values of a tensor as a flat f32 vector.
fn values(t: &Tensor) -> Result<Vec<f32>> {
    Ok(t.flatten_all()?.to_vec1::<f32>()?)
}

/// `Wᵀ` packed, for one or several `[out, in]` weights stacked along `out`.
fn pack_stacked(
    weights: &[&Linear],
    backend: MatmulBackend,
) -> Result<(PackedB, Option<Vec<f32>>)> {
    let mut rows = Vec::new();
    let mut bias = Vec::new();
    let mut has_bias = false;
    let mut inputs = None;
    let mut outputs = 0;
    for linear in weights {
        let (out, inp) = linear.weight.dims2()?;
        if inputs.is_some_and(|i| i != inp) {
            return Err(PolicyError::Config(
                "stacked linear weights differ in input size".into(),
            ));
        }
        inputs = Some(inp);
        outputs += out;
        rows.extend(values(&linear.weight)?);
        match &linear.bias {
            Some(b) => {
                has_bias = true;
                bias.extend(values(b)?);
            }
            None => bias.extend(std::iter::repeat_n(0.0, out)),
        }
    }
    let inputs = inputs.unwrap_or(0);
    let packed = PackedB::new_for(backend, MatRef::new(&rows, outputs, inputs).t());
    Ok((packed, has_bias.then_some(bias)))
}

impl PackedBlock {
    fn new(block: &Block, backend: MatmulBackend) -> Result<Self> {
        let (qkv, qkv_bias) = pack_stacked(&[&block.q, &block.k, &block.v], backend)?;
        let (o, o_bias) = pack_stacked(&[&block.o], backend)?;
        let (gate_up, _) = pack_stacked(&[&block.gate, &block.up], backend)?;
        let (down, _) = pack_stacked(&[&block.down], backend)?;
        Ok(Self {
            input_norm: values(&block.input_norm)?,
            post_norm: values(&block.post_norm)?,
            qkv,
            qkv_bias,
            o,
            o_bias,
            gate_up,
            down,
        })
    }
}

impl PackedModel {
    /// Whether `decoder` can be packed: CPU weights in f32.
    pub fn supports(decoder: &Decoder) -> bool {
        decoder.device().is_cpu() && decoder.dtype() == DType::F32
    }

    /// Packs `decoder`'s current weights for its matmul backend ([`Decoder::matmul_backend`]).
    pub fn new(decoder: &Decoder) -> Result<Self> {
        if !Self::supports(decoder) {
            return Err(PolicyError::Config(format!(
                "the rollout engine needs a CPU f32 decoder (got {:?} on {:?})",
                decoder.dtype(),
                decoder.device()
            )));
        }
        let backend = decoder.matmul_backend();
        let blocks = decoder
            .blocks
            .iter()
            .map(|b| PackedBlock::new(b, backend))
            .collect::<Result<Vec<_>>>()?;
        let (vocab, hidden) = decoder.lm_head.dims2()?;
        let head_rows = values(&decoder.lm_head)?;
        Ok(Self {
            config: decoder.config.clone(),
            backend,
            embed: values(&decoder.embed)?,
            blocks,
            norm: values(&decoder.norm)?,
            head: PackedB::new_for(backend, MatRef::new(&head_rows, vocab, hidden).t()),
            cos: values(&decoder.cos)?,
            sin: values(&decoder.sin)?,
        })
    }

    /// The model's configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The arithmetic the products use.
    pub fn backend(&self) -> MatmulBackend {
        self.backend
    }

    /// An empty cache for one sequence of this model: bf16 keys and values on the bf16 AMX
    /// backend, f32 otherwise (see [`SeqCache`]).
    pub fn new_cache(&self) -> SeqCache {
        let layers = self.config.num_hidden_layers;
        #[cfg(target_arch = "x86_64")]
        if self.backend == MatmulBackend::Bf16Amx && crate::matmul::amx_available() {
            return SeqCache::new_bf16(layers, self.config.kv_heads(), self.config.head_dim());
        }
        SeqCache::new_f32(layers, self.kv_width())
    }

    /// Width of one token's keys (or values) over all key/value heads.
    fn kv_width(&self) -> usize {
        self.config.kv_heads() * self.config.head_dim()
    }
}
