//! The decoder of the Llama and Qwen2 families, written only from differentiable ops.
//!
//! candle's fused kernels (`rms_norm`, `softmax_last_dim`, `rope*`, `sdpa`) have no backward pass
//! and silently cut the autograd graph, so this module uses the fused kernels of [`crate::ops`]
//! (custom ops with their own backward) on CPU f32/f64, and composes RMSNorm, RoPE, softmax and
//! the causal mask from elementary ops elsewhere. The same [`Decoder`] serves inference: built from detached
//! tensors ([`Decoder::detached`]) it shares the weights' storage but records no graph.

use std::collections::HashMap;

use candle_core::{D, DType, Device, Tensor};

use crate::flash::flash_attention;
use crate::matmul::{self, MatmulBackend};
use crate::{ModelConfig, PolicyError, Result, mm, ops};

/// The largest total size of linear weights for which [`Decoder::with_transposed_weights`]
/// keeps transposed copies (1 GiB: SmolLM2-135M in f32 needs 0.54 GiB).
pub(crate) const TRANSPOSED_COPY_LIMIT: usize = 1 << 30;

/// The additive mask value for disallowed attention: finite, so a padded row never produces NaN
/// gradients, and large enough that `exp` underflows to exactly zero in f32 and f64.
pub(crate) const MASK_VALUE: f64 = -1e9;

/// The HF parameter names and shapes of a model with `config`, in a fixed order.
pub fn parameter_shapes(config: &ModelConfig) -> Vec<(String, Vec<usize>)> {
    let h = config.hidden_size;
    let q = config.num_attention_heads * config.head_dim();
    let kv = config.kv_heads() * config.head_dim();
    let f = config.intermediate_size;
    let mut out = vec![(
        "model.embed_tokens.weight".to_owned(),
        vec![config.vocab_size, h],
    )];
    for i in 0..config.num_hidden_layers {
        let p = format!("model.layers.{i}");
        out.push((format!("{p}.input_layernorm.weight"), vec![h]));
        for (name, rows) in [("q_proj", q), ("k_proj", kv), ("v_proj", kv)] {
            out.push((format!("{p}.self_attn.{name}.weight"), vec![rows, h]));
            if config.qkv_bias() {
                out.push((format!("{p}.self_attn.{name}.bias"), vec![rows]));
            }
        }
        out.push((format!("{p}.self_attn.o_proj.weight"), vec![h, q]));
        if config.o_bias() {
            out.push((format!("{p}.self_attn.o_proj.bias"), vec![h]));
        }
        out.push((format!("{p}.post_attention_layernorm.weight"), vec![h]));
        out.push((format!("{p}.mlp.gate_proj.weight"), vec![f, h]));
        out.push((format!("{p}.mlp.up_proj.weight"), vec![f, h]));
        out.push((format!("{p}.mlp.down_proj.weight"), vec![h, f]));
    }
    out.push(("model.norm.weight".to_owned(), vec![h]));
    if !config.tie_word_embeddings {
        out.push(("lm_head.weight".to_owned(), vec![config.vocab_size, h]));
    }
    out
}

/// A linear map `x Wᵀ + b` over the last dimension.
#[derive(Clone, Debug)]
pub(crate) struct Linear {
    pub(crate) weight: Tensor,
    pub(crate) bias: Option<Tensor>,
    /// A contiguous copy of `weightᵀ` (`[in, out]`), for inference only (see
    /// [`Decoder::with_transposed_weights`]).
    pub(crate) weight_t: Option<Tensor>,
}

impl Linear {
    /// `x Wᵀ + b`; on CPU f32 the product runs on `backend` (see [`crate::matmul`]).
    pub(crate) fn forward(&self, x: &Tensor, backend: MatmulBackend) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let (last, lead) = dims
            .split_last()
            .ok_or_else(|| PolicyError::Config("linear layer applied to a scalar".into()))?;
        let rows: usize = lead.iter().product();
        let x = x.reshape((rows, *last))?;
        // One row goes through gemm's matrix-vector path, which wants the `[out, in]` layout.
        // A KV-cached session (transposed copies present) decodes in f32 whatever the row
        // count, so batched and one-row decoding agree; AMX decoding is future work.
        let backend = if self.weight_t.is_some() {
            MatmulBackend::F32
        } else {
            backend
        };
        let y = if let Some(wt) = self.weight_t.as_ref().filter(|_| rows > 1) {
            x.matmul(wt)?
        } else if mm::supported(&x) {
            mm::linear(&x, &self.weight, backend)?
        } else if ops::fused(&x) {
            ops::linear(&x, &self.weight)?
        } else {
            x.matmul(&self.weight.t()?)?
        };
        let y = match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        let mut out = lead.to_vec();
        out.push(self.weight.dim(0)?);
        Ok(y.reshape(out)?)
    }

    fn detached(&self) -> Self {
        Self {
            weight: self.weight.detach(),
            bias: self.bias.as_ref().map(Tensor::detach),
            weight_t: None,
        }
    }

    fn with_transposed(&self) -> Result<Self> {
        Ok(Self {
            weight: self.weight.clone(),
            bias: self.bias.clone(),
            weight_t: Some(self.weight.detach().t()?.contiguous()?),
        })
    }
}

/// RMSNorm `x / sqrt(mean(x²) + eps) * w`, differentiable: the fused kernel on CPU (f32/f64),
/// else [`rms_norm_elementary`].
pub(crate) fn rms_norm(x: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
    if ops::fused(x) {
        ops::rms_norm(x, weight, eps)
    } else {
        rms_norm_elementary(x, weight, eps)
    }
}

/// RMSNorm from elementary ops (differentiable): `x / sqrt(mean(x²) + eps) * w`.
pub(crate) fn rms_norm_elementary(x: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
    let mean_sq = x.sqr()?.mean_keepdim(D::Minus1)?;
    let inv = (mean_sq + eps)?.sqrt()?.recip()?;
    Ok(x.broadcast_mul(&inv)?.broadcast_mul(weight)?)
}

/// Rotate-half RoPE (HF order) of `x` `[B, H, T, D]`, with `cos`/`sin` `[T, D/2]` or
/// `[B, 1, T, D/2]`: the fused kernel on CPU (f32/f64), else [`rope_elementary`].
pub(crate) fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    if ops::fused(x) {
        ops::rope(x, cos, sin)
    } else {
        rope_elementary(x, cos, sin)
    }
}

/// Rotate-half RoPE (HF order) from elementary ops: `x cos + rotate_half(x) sin`, with
/// `cos`/`sin` broadcastable to `[B, 1, T, D/2]`.
pub(crate) fn rope_elementary(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let d = x.dim(D::Minus1)?;
    let x1 = x.narrow(D::Minus1, 0, d / 2)?;
    let x2 = x.narrow(D::Minus1, d / 2, d / 2)?;
    let cos = Tensor::cat(&[cos, cos], D::Minus1)?;
    let sin = Tensor::cat(&[sin, sin], D::Minus1)?;
    let rotated = Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)?;
    Ok((x.broadcast_mul(&cos)? + rotated.broadcast_mul(&sin)?)?)
}

/// One decoder block.
#[derive(Clone, Debug)]
pub(crate) struct Block {
    pub(crate) input_norm: Tensor,
    pub(crate) q: Linear,
    pub(crate) k: Linear,
    pub(crate) v: Linear,
    pub(crate) o: Linear,
    pub(crate) post_norm: Tensor,
    pub(crate) gate: Linear,
    pub(crate) up: Linear,
    pub(crate) down: Linear,
}

/// The decoder: embedding, blocks, final norm and output head, as plain tensors.
///
/// Built by [`crate::CausalLm`] from its variables (training: operations record a graph), or
/// detached from them ([`Decoder::detached`], inference: no graph, same storage, so an optimizer
/// step is seen at once).
#[derive(Clone, Debug)]
pub struct Decoder {
    pub(crate) config: ModelConfig,
    pub(crate) embed: Tensor,
    pub(crate) blocks: Vec<Block>,
    pub(crate) norm: Tensor,
    pub(crate) lm_head: Tensor,
    /// `lm_headᵀ`, contiguous, for inference only (see [`Decoder::with_transposed_weights`]).
    pub(crate) lm_head_t: Option<Tensor>,
    /// `[max_positions, head_dim/2]` cos and sin tables.
    pub(crate) cos: Tensor,
    pub(crate) sin: Tensor,
    /// The arithmetic of the CPU f32 matrix products (see [`crate::matmul`]).
    pub(crate) matmul: MatmulBackend,
}

/// The tensor `name` of `tensors`, or an error when it is missing or its shape is not `shape`.
pub(crate) fn shaped_tensor<'a>(
    tensors: &'a HashMap<String, Tensor>,
    name: &str,
    shape: &[usize],
) -> Result<&'a Tensor> {
    let t = tensors
        .get(name)
        .ok_or_else(|| PolicyError::Config(format!("missing tensor {name}")))?;
    if t.dims() != shape {
        return Err(PolicyError::Config(format!(
            "tensor {name} has shape {:?}, expected {shape:?}",
            t.dims()
        )));
    }
    Ok(t)
}

impl Decoder {
    /// Builds a decoder from HF-named tensors; every name of [`parameter_shapes`] must be present
    /// with its shape.
    pub fn from_tensors(config: &ModelConfig, tensors: &HashMap<String, Tensor>) -> Result<Self> {
        config.validate()?;
        for (name, shape) in parameter_shapes(config) {
            shaped_tensor(tensors, &name, &shape)?;
        }
        let get = |name: &str| tensors[name].clone();
        let opt = |name: &str| tensors.get(name).cloned();
        let linear = |p: &str, bias: bool| Linear {
            weight_t: None,
            weight: get(&format!("{p}.weight")),
            bias: if bias {
                opt(&format!("{p}.bias"))
            } else {
                None
            },
        };
        let blocks = (0..config.num_hidden_layers)
            .map(|i| {
                let p = format!("model.layers.{i}");
                Block {
                    input_norm: get(&format!("{p}.input_layernorm.weight")),
                    q: linear(&format!("{p}.self_attn.q_proj"), config.qkv_bias()),
                    k: linear(&format!("{p}.self_attn.k_proj"), config.qkv_bias()),
                    v: linear(&format!("{p}.self_attn.v_proj"), config.qkv_bias()),
                    o: linear(&format!("{p}.self_attn.o_proj"), config.o_bias()),
                    post_norm: get(&format!("{p}.post_attention_layernorm.weight")),
                    gate: linear(&format!("{p}.mlp.gate_proj"), false),
                    up: linear(&format!("{p}.mlp.up_proj"), false),
                    down: linear(&format!("{p}.mlp.down_proj"), false),
                }
            })
            .collect();
        let embed = get("model.embed_tokens.weight");
        let lm_head = if config.tie_word_embeddings {
            embed.clone()
        } else {
            get("lm_head.weight")
        };
        let (cos, sin) = rope_tables(config, embed.dtype(), embed.device())?;
        Ok(Self {
            config: config.clone(),
            embed,
            blocks,
            norm: get("model.norm.weight"),
            lm_head,
            lm_head_t: None,
            cos,
            sin,
            matmul: matmul::backend(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        self.embed.device()
    }

    /// The weights' dtype.
    pub fn dtype(&self) -> DType {
        self.embed.dtype()
    }

    /// The arithmetic of its CPU f32 matrix products.
    pub fn matmul_backend(&self) -> MatmulBackend {
        self.matmul
    }

    /// The same decoder with its CPU f32 matrix products on `backend` (f32 where the CPU lacks
    /// AMX-BF16).
    pub fn with_matmul_backend(mut self, backend: MatmulBackend) -> Self {
        self.matmul = effective(backend);
        self
    }

    /// The same weights (shared storage) with no autograd tracking, for inference.
    pub fn detached(&self) -> Self {
        Self {
            config: self.config.clone(),
            embed: self.embed.detach(),
            blocks: self
                .blocks
                .iter()
                .map(|b| Block {
                    input_norm: b.input_norm.detach(),
                    q: b.q.detached(),
                    k: b.k.detached(),
                    v: b.v.detached(),
                    o: b.o.detached(),
                    post_norm: b.post_norm.detach(),
                    gate: b.gate.detached(),
                    up: b.up.detached(),
                    down: b.down.detached(),
                })
                .collect(),
            norm: self.norm.detach(),
            lm_head: self.lm_head.detach(),
            lm_head_t: None,
            cos: self.cos.clone(),
            sin: self.sin.clone(),
            matmul: self.matmul,
        }
    }

    /// A detached decoder that also holds a contiguous transposed copy (`[in, out]`) of every
    /// linear weight, when that copy is cheap (CPU, at most [`TRANSPOSED_COPY_LIMIT`] bytes of
    /// linear weights); otherwise just [`Decoder::detached`].
    ///
    /// With the weight stored `[in, out]`, gemm multiplies a few rows (KV-cached decoding)
    /// without repacking the whole weight matrix on every call, which otherwise dominates a
    /// decoding step. The copies are a snapshot: an optimizer step after this call is not seen.
    pub(crate) fn with_transposed_weights(&self) -> Result<Self> {
        let detached = self.detached();
        let bytes = self.linear_weight_bytes();
        if !self.device().is_cpu() || bytes > TRANSPOSED_COPY_LIMIT {
            return Ok(detached);
        }
        let blocks = detached
            .blocks
            .iter()
            .map(|b| {
                Ok(Block {
                    input_norm: b.input_norm.clone(),
                    q: b.q.with_transposed()?,
                    k: b.k.with_transposed()?,
                    v: b.v.with_transposed()?,
                    o: b.o.with_transposed()?,
                    post_norm: b.post_norm.clone(),
                    gate: b.gate.with_transposed()?,
                    up: b.up.with_transposed()?,
                    down: b.down.with_transposed()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            blocks,
            lm_head_t: Some(detached.lm_head.t()?.contiguous()?),
            ..detached
        })
    }

    /// Bytes of all linear weights, output head included.
    fn linear_weight_bytes(&self) -> usize {
        let per_block: usize = self
            .blocks
            .iter()
            .flat_map(|b| [&b.q, &b.k, &b.v, &b.o, &b.gate, &b.up, &b.down])
            .map(|l| l.weight.elem_count())
            .sum();
        (per_block + self.lm_head.elem_count()) * self.dtype().size_in_bytes()
    }

    /// Logits for every position of a right-padded batch: `ids` is `[B, T]` (u32), the result
    /// `[B, T, vocab]` in the model's dtype.
    ///
    /// Only the causal mask is applied: with right padding, the positions before a row's length
    /// never see its padding, so no padding mask (and no `-inf`) is needed; outputs at padded
    /// positions are finite and meaningless, and callers mask them out of losses.
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let hidden = self.forward_hidden(ids)?;
        self.logits(&hidden)
    }

    /// The final-norm output `[B, T, hidden]` (what the output head sees).
    pub fn forward_hidden(&self, ids: &Tensor) -> Result<Tensor> {
        let (b, t) = ids.dims2()?;
        if t > self.config.max_position_embeddings {
            return Err(PolicyError::Config(format!(
                "sequence of {t} tokens exceeds max_position_embeddings {}",
                self.config.max_position_embeddings
            )));
        }
        let mut x = self.embed(ids)?;
        let cos = self.cos.narrow(0, 0, t)?;
        let sin = self.sin.narrow(0, 0, t)?;
        let mask = self.causal_mask_for(t)?;
        for block in &self.blocks {
            x = self.causal_block(block, &x, &cos, &sin, mask.as_ref())?;
        }
        debug_assert_eq!(x.dim(0)?, b);
        rms_norm(&x, &self.norm, self.config.rms_norm_eps)
    }

    /// Log-probs `[B, T]` of `targets` after `ids` (both `[B, T]`) with logits divided by
    /// `temperature`. On CPU f32 the output head runs in row chunks, so the `[B, T, vocab]`
    /// logits are never held at once.
    pub fn target_logprobs(
        &self,
        ids: &Tensor,
        targets: &Tensor,
        temperature: f64,
    ) -> Result<Tensor> {
        let hidden = self.forward_hidden(ids)?;
        if !crate::head::supported(&hidden) {
            let mut logits = self.logits(&hidden)?;
            if temperature != 1.0 {
                logits = (logits / temperature)?;
            }
            return crate::token_logprobs(&logits, targets);
        }
        let (b, t, h) = hidden.dims3()?;
        let both = crate::head::token_terms(
            &hidden.reshape((b * t, h))?,
            &self.lm_head,
            &targets.flatten_all()?,
            1.0 / temperature,
            self.matmul,
        )?;
        Ok(both.narrow(1, 0, 1)?.reshape((b, t))?)
    }

    /// The output head applied to hidden states `[.., hidden]`.
    pub fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        Linear {
            weight: self.lm_head.clone(),
            bias: None,
            weight_t: self.lm_head_t.clone(),
        }
        .forward(hidden, self.matmul)
    }

    pub(crate) fn embed(&self, ids: &Tensor) -> Result<Tensor> {
        let (b, t) = ids.dims2()?;
        let flat = ids.flatten_all()?;
        Ok(self
            .embed
            .index_select(&flat, 0)?
            .reshape((b, t, self.config.hidden_size))?)
    }

    /// One block over whole sequences (positions from 0, causal attention): the training and
    /// scoring path. `cos`/`sin` are the first `T` rows of the tables; `mask` the `[T, T]`
    /// causal mask, or `None` for the memory-linear flash kernel (CPU f32/f64 only).
    pub(crate) fn causal_block(
        &self,
        block: &Block,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        self.block_forward(block, x, cos, sin, |q, k, v| match mask {
            None => flash_attention(q, k, v, attention_scale(&self.config), self.matmul),
            Some(mask) => attention(q, k, v, mask, &self.config),
        })
    }

    /// The causal mask [`Decoder::causal_block`] needs for `t` positions: `None` where the flash
    /// kernel runs.
    pub(crate) fn causal_mask_for(&self, t: usize) -> Result<Option<Tensor>> {
        Ok(if ops::fused(&self.embed) {
            None
        } else {
            Some(causal_mask(t, self.dtype(), self.device())?)
        })
    }

    /// One block: pre-norm attention (through `attend`, which receives q/k/v after RoPE as
    /// `[B, heads, T, head_dim]` and returns the same layout for the query heads) and pre-norm MLP.
    pub(crate) fn block_forward(
        &self,
        block: &Block,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        attend: impl FnOnce(&Tensor, &Tensor, &Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let c = &self.config;
        let (b, t, _) = x.dims3()?;
        let hd = c.head_dim();
        let h = rms_norm(x, &block.input_norm, c.rms_norm_eps)?;
        // `[B, heads, T, D]` views; RoPE writes q and k contiguous, v is copied.
        let split = |y: Tensor, heads: usize| -> Result<Tensor> {
            Ok(y.reshape((b, t, heads, hd))?.transpose(1, 2)?)
        };
        let q = rope(
            &split(block.q.forward(&h, self.matmul)?, c.num_attention_heads)?,
            cos,
            sin,
        )?;
        let k = rope(
            &split(block.k.forward(&h, self.matmul)?, c.kv_heads())?,
            cos,
            sin,
        )?;
        let v = split(block.v.forward(&h, self.matmul)?, c.kv_heads())?.contiguous()?;
        let att = attend(&q, &k, &v)?;
        let att = att
            .transpose(1, 2)?
            .reshape((b, t, c.num_attention_heads * hd))?;
        let x = (x + block.o.forward(&att, self.matmul)?)?;
        let h = rms_norm(&x, &block.post_norm, c.rms_norm_eps)?;
        let (gate, up) = (
            block.gate.forward(&h, self.matmul)?,
            block.up.forward(&h, self.matmul)?,
        );
        let mlp = if crate::swiglu::supported(&gate) {
            crate::swiglu::swiglu(&gate, &up)?
        } else {
            (gate.silu()? * up)?
        };
        Ok((x + block.down.forward(&mlp, self.matmul)?)?)
    }
}

/// `backend`, or f32 where the CPU cannot run it.
fn effective(backend: MatmulBackend) -> MatmulBackend {
    if backend == MatmulBackend::Bf16Amx && !matmul::amx_available() {
        MatmulBackend::F32
    } else {
        backend
    }
}

/// `[max_positions, head_dim/2]` RoPE cos/sin tables, computed in f64 and cast.
fn rope_tables(config: &ModelConfig, dtype: DType, device: &Device) -> Result<(Tensor, Tensor)> {
    let half = config.head_dim() / 2;
    let n = config.max_position_embeddings;
    let mut cos = Vec::with_capacity(n * half);
    let mut sin = Vec::with_capacity(n * half);
    // inv_freq as transformers computes it (f32 powers), then angles in f32 like its rotary
    // embedding, so positions far into a sequence round the same way.
    let inv: Vec<f32> = (0..half)
        .map(|i| 1.0 / (config.rope_theta as f32).powf((2 * i) as f32 / config.head_dim() as f32))
        .collect();
    for p in 0..n {
        for f in &inv {
            let angle = p as f32 * f;
            cos.push(angle.cos());
            sin.push(angle.sin());
        }
    }
    let cos = Tensor::from_vec(cos, (n, half), device)?.to_dtype(dtype)?;
    let sin = Tensor::from_vec(sin, (n, half), device)?.to_dtype(dtype)?;
    Ok((cos, sin))
}

/// `[T, T]` additive causal mask with [`MASK_VALUE`] above the diagonal.
fn causal_mask(t: usize, dtype: DType, device: &Device) -> Result<Tensor> {
    let mask: Vec<f32> = (0..t)
        .flat_map(|i| (0..t).map(move |j| if j > i { MASK_VALUE as f32 } else { 0.0 }))
        .collect();
    Ok(Tensor::from_vec(mask, (t, t), device)?.to_dtype(dtype)?)
}

/// The softmax temperature of attention scores, `1 / sqrt(head_dim)`.
fn attention_scale(config: &ModelConfig) -> f64 {
    1.0 / (config.head_dim() as f64).sqrt()
}

/// Grouped-query attention without copying K/V per query head: the query heads that share a
/// key/value head are folded into the row dimension of one matmul.
///
/// `q` is `[B, Hq, T, D]`, `k`/`v` `[B, Hkv, S, D]`, `mask` `[T, S]` or `[B, 1, T, S]`
/// (additive, finite).
pub(crate) fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: &Tensor,
    config: &ModelConfig,
) -> Result<Tensor> {
    let (b, hq, t, d) = q.dims4()?;
    let hkv = k.dim(1)?;
    let s = k.dim(2)?;
    let rep = hq / hkv;
    let scale = attention_scale(config);
    let qg = q.reshape((b, hkv, rep * t, d))?;
    let scores = qg.matmul(&k.t()?)?.reshape((b, hq, t, s))?;
    let probs = if ops::fused(&scores) {
        ops::masked_softmax(&scores, mask, scale)?
    } else {
        let scores = (scores * scale)?.broadcast_add(mask)?;
        candle_nn::ops::softmax(&scores, D::Minus1)?
    };
    let probs = probs.reshape((b, hkv, rep * t, s))?;
    Ok(probs.matmul(v)?.reshape((b, hq, t, d))?)
}
