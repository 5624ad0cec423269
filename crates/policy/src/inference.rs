//! KV-cached batched inference over a detached [`Decoder`].
//!
//! A [`Session`] holds `rows` independent token streams in one batched KV cache. Each
//! [`Session::append`] adds a chunk of tokens per row (chunks of different lengths are padded;
//! padded slots are masked out of attention by a finite mask, and each row keeps its own RoPE
//! positions), so the rows of a rollout group can diverge turn by turn and still run batched. A
//! turn costs O(new tokens), not O(context).
//!
//! In f32 mode (CPU, f32 weights, the f32 matmul backend) a row's keys and values live apart from
//! the other rows' instead ([`RowCaches`]), without padding, and attention is the rollout
//! engine's: candle's batched attention over the padded cache sums in an order that depends on
//! the other rows (gemm picks per-element summation orders by the product's shape, and zero
//! probabilities of padded slots between a row's keys regroup its sums), so a row's numbers
//! would depend on its siblings' lengths. With the engine's attention, and [`crate::matmul`]'s
//! f32 products (a row's sums do not depend on the other rows), a session row computes the bits
//! that [`crate::PackedModel`] computes for the same tokens, alone or in any batch.

use candle_core::{DType, Device, Tensor};

use crate::engine::RowCaches;
use crate::matmul::MatmulBackend;
use crate::model::{MASK_VALUE, attention};
use crate::sampling::{Choice, Sampler};
use crate::{Decoder, PolicyError, Result};

/// Per-layer K/V buffers `[rows, kv_heads, capacity, head_dim]`, filled up to `len` slots.
#[derive(Debug)]
struct LayerCache {
    k: Tensor,
    v: Tensor,
}

/// What one row generated in [`Session::generate`].
#[derive(Clone, Debug, PartialEq)]
pub struct Generation {
    /// The sampled ids, in order (the stop token included when it was sampled).
    pub tokens: Vec<u32>,
    /// The sampling log-prob of each sampled id (see [`Choice::logprob`]).
    pub logprobs: Vec<f64>,
    /// Whether generation ended on the stop token (else on the token cap).
    pub stopped: bool,
}

/// A batch of token streams sharing one KV cache.
#[derive(Debug)]
pub struct Session {
    decoder: Decoder,
    rows: usize,
    layers: Vec<LayerCache>,
    /// In f32 mode, each row's own keys and values (then `layers` stays empty).
    row_caches: Option<RowCaches>,
    /// Slots in use (the same for every row; rows differ in which slots are valid).
    len: usize,
    capacity: usize,
    valid: Vec<Vec<bool>>,
    next_pos: Vec<usize>,
    tokens: Vec<Vec<u32>>,
    /// Tokens already chosen for a row but not yet run through the model.
    pending: Vec<Vec<u32>>,
    last_logits: Vec<Option<Vec<f32>>>,
}

impl Session {
    /// An empty session of `rows` streams over `decoder` (detached first, so no graph is built).
    ///
    /// On CPU, for models up to 1 GiB of linear weights, the session keeps a transposed copy of
    /// the weights (fast few-row matmuls; see the crate README's Speed section): it decodes
    /// with the weights as they were when it was created.
    pub fn new(decoder: &Decoder, rows: usize) -> Result<Self> {
        if rows == 0 {
            return Err(PolicyError::Config(
                "a session needs at least one row".into(),
            ));
        }
        let f32_mode = decoder.device().is_cpu()
            && decoder.dtype() == DType::F32
            && decoder.matmul_backend() == MatmulBackend::F32;
        Ok(Self {
            decoder: decoder.with_transposed_weights()?,
            rows,
            layers: Vec::new(),
            row_caches: f32_mode.then(|| RowCaches::new(&decoder.config, rows)),
            len: 0,
            capacity: 0,
            valid: vec![Vec::new(); rows],
            next_pos: vec![0; rows],
            tokens: vec![Vec::new(); rows],
            pending: vec![Vec::new(); rows],
            last_logits: vec![None; rows],
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Every token of `row` so far (appended and sampled).
    pub fn tokens(&self, row: usize) -> &[u32] {
        self.tokens.get(row).map_or(&[], Vec::as_slice)
    }

    /// The logits after `row`'s last token, once it has been run through the model.
    pub fn last_logits(&mut self, row: usize) -> Result<&[f32]> {
        if self.pending.get(row).is_some_and(|p| !p.is_empty()) {
            self.append(&vec![Vec::new(); self.rows])?;
        }
        self.last_logits
            .get(row)
            .and_then(|l| l.as_deref())
            .ok_or_else(|| PolicyError::Config(format!("row {row} has no tokens yet")))
    }

    /// Appends `chunks[row]` to each row (an empty chunk adds nothing) and runs the batch
    /// through the model, one forward pass for all rows.
    pub fn append(&mut self, chunks: &[Vec<u32>]) -> Result<()> {
        if chunks.len() != self.rows {
            return Err(PolicyError::Config(format!(
                "append got {} chunks for {} rows",
                chunks.len(),
                self.rows
            )));
        }
        let rows: Vec<Vec<u32>> = chunks
            .iter()
            .zip(self.pending.iter_mut())
            .map(|(c, p)| {
                let mut all = std::mem::take(p);
                all.extend_from_slice(c);
                all
            })
            .collect();
        let t = rows.iter().map(Vec::len).max().unwrap_or(0);
        if t == 0 {
            return Ok(());
        }
        let max_pos = self.decoder.config.max_position_embeddings;
        for (r, chunk) in rows.iter().enumerate() {
            if self.next_pos[r] + chunk.len() > max_pos {
                return Err(PolicyError::Config(format!(
                    "row {r} would exceed max_position_embeddings {max_pos}"
                )));
            }
        }
        let hidden = self.forward_chunk(&rows, t)?;
        // Logits only at each row's last new token.
        let mut picks = Vec::new();
        let mut which = Vec::new();
        for (r, chunk) in rows.iter().enumerate() {
            if !chunk.is_empty() {
                picks.push((r * t + chunk.len() - 1) as u32);
                which.push(r);
            }
        }
        let h = hidden.reshape((self.rows * t, self.decoder.config.hidden_size))?;
        let idx = Tensor::from_vec(picks, which.len(), h.device())?;
        let logits = self
            .decoder
            .logits(&h.index_select(&idx, 0)?)?
            .to_dtype(DType::F32)?
            .to_vec2::<f32>()?;
        for (r, l) in which.into_iter().zip(logits) {
            self.last_logits[r] = Some(l);
        }
        for (r, chunk) in rows.into_iter().enumerate() {
            self.next_pos[r] += chunk.len();
            let n = chunk.len();
            self.valid[r].extend((0..t).map(|i| i < n));
            self.tokens[r].extend(chunk);
        }
        self.len += t;
        Ok(())
    }

    /// Samples up to `max_new[i]` tokens for each row in `rows`, batched, stopping a row at
    /// `stop` (when given). Rows must have tokens. The sampled tokens become part of the rows'
    /// streams (run through the model lazily, at the next step or append).
    pub fn generate(
        &mut self,
        rows: &[usize],
        max_new: &[usize],
        stop: Option<u32>,
        samplers: &mut [Sampler],
    ) -> Result<Vec<Generation>> {
        if rows.len() != max_new.len() || rows.len() != samplers.len() {
            return Err(PolicyError::Config(
                "generate needs one cap and one sampler per row".into(),
            ));
        }
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.rows) {
            return Err(PolicyError::Config(format!("row {bad} out of range")));
        }
        let mut out = vec![
            Generation {
                tokens: Vec::new(),
                logprobs: Vec::new(),
                stopped: false,
            };
            rows.len()
        ];
        let mut active: Vec<bool> = max_new.iter().map(|&m| m > 0).collect();
        while active.iter().any(|&a| a) {
            for (i, &r) in rows.iter().enumerate() {
                if !active[i] {
                    continue;
                }
                let Choice { id, logprob } = samplers[i].choose(self.last_logits(r)?);
                self.last_logits[r] = None;
                self.pending[r].push(id);
                out[i].tokens.push(id);
                out[i].logprobs.push(logprob);
                if Some(id) == stop {
                    out[i].stopped = true;
                    active[i] = false;
                } else if out[i].tokens.len() >= max_new[i] {
                    active[i] = false;
                }
            }
            if active.iter().any(|&a| a) {
                // Only rows still generating need logits; flushing everything pending is one
                // batched step either way.
                self.append(&vec![Vec::new(); self.rows])?;
            }
        }
        Ok(out)
    }

    /// Runs `rows` (padded to `t`) through every layer, extending the cache; returns the final
    /// hidden states `[rows, t, hidden]`.
    fn forward_chunk(&mut self, rows: &[Vec<u32>], t: usize) -> Result<Tensor> {
        let device = self.decoder.device().clone();
        let dtype = self.decoder.dtype();
        let b = self.rows;
        let ids: Vec<u32> = rows
            .iter()
            .flat_map(|c| (0..t).map(move |i| c.get(i).copied().unwrap_or(0)))
            .collect();
        let positions: Vec<u32> = rows
            .iter()
            .enumerate()
            .flat_map(|(r, c)| {
                let start = self.next_pos[r];
                (0..t).map(move |i| (start + i.min(c.len().saturating_sub(1))) as u32)
            })
            .collect();
        let s_old = self.len;
        let s = s_old + t;
        let ids = Tensor::from_vec(ids, (b, t), &device)?;
        let pos = Tensor::from_vec(positions, b * t, &device)?;
        let half = self.decoder.config.head_dim() / 2;
        let cos = self
            .decoder
            .cos
            .index_select(&pos, 0)?
            .reshape((b, 1, t, half))?;
        let sin = self
            .decoder
            .sin
            .index_select(&pos, 0)?
            .reshape((b, 1, t, half))?;
        let mut x = self.decoder.embed(&ids)?;
        let decoder = self.decoder.clone();
        if let Some(caches) = self.row_caches.as_mut() {
            let lens: Vec<usize> = rows.iter().map(Vec::len).collect();
            for (layer, block) in decoder.blocks.iter().enumerate() {
                x = decoder.block_forward(block, &x, &cos, &sin, |q, k, v| {
                    let (q_rows, k_rows, v_rows) = (
                        token_rows(q, &lens)?,
                        token_rows(k, &lens)?,
                        token_rows(v, &lens)?,
                    );
                    let out = caches.attend(layer, (&q_rows, &k_rows, &v_rows), &lens);
                    padded_heads(&out, &lens, q.dims4()?)
                })?;
            }
        } else {
            let mask = self.padded_mask(rows, t)?;
            self.reserve(s, &device, dtype)?;
            for (layer, block) in decoder.blocks.iter().enumerate() {
                let cache = &self.layers[layer];
                x = decoder.block_forward(block, &x, &cos, &sin, |q, k, v| {
                    cache.k.slice_set(&k.contiguous()?, 2, s_old)?;
                    cache.v.slice_set(&v.contiguous()?, 2, s_old)?;
                    let k_all = cache.k.narrow(2, 0, s)?;
                    let v_all = cache.v.narrow(2, 0, s)?;
                    attention(q, &k_all, &v_all, &mask, &decoder.config)
                })?;
            }
        }
        let x = crate::model::rms_norm(&x, &decoder.norm, decoder.config.rms_norm_eps)?;
        Ok(x)
    }

    /// The additive attention mask `[rows, 1, t, len + t]` of a chunk padded to `t`: each row's
    /// valid slots, and its new keys causally, never the padding.
    fn padded_mask(&self, rows: &[Vec<u32>], t: usize) -> Result<Tensor> {
        let (b, s_old) = (self.rows, self.len);
        let s = s_old + t;
        let mut mask = vec![MASK_VALUE as f32; b * t * s];
        for (r, chunk) in rows.iter().enumerate() {
            for i in 0..t {
                let line = &mut mask[(r * t + i) * s..(r * t + i + 1) * s];
                for (j, m) in line.iter_mut().enumerate().take(s_old) {
                    if self.valid[r][j] {
                        *m = 0.0;
                    }
                }
                // New keys: causal within the chunk, never the padding.
                for j in 0..chunk.len().min(i + 1) {
                    line[s_old + j] = 0.0;
                }
            }
        }
        let mask = Tensor::from_vec(mask, (b, 1, t, s), self.decoder.device())?;
        Ok(mask.to_dtype(self.decoder.dtype())?)
    }

    /// Makes room for `needed` slots (doubling), keeping the filled part.
    fn reserve(&mut self, needed: usize, device: &Device, dtype: DType) -> Result<()> {
        if needed <= self.capacity && !self.layers.is_empty() {
            return Ok(());
        }
        let capacity = needed.max(self.capacity * 2).max(64);
        let c = &self.decoder.config;
        let shape = (self.rows, c.kv_heads(), capacity, c.head_dim());
        let mut layers = Vec::with_capacity(c.num_hidden_layers);
        for l in 0..c.num_hidden_layers {
            let k = Tensor::zeros(shape, dtype, device)?;
            let v = Tensor::zeros(shape, dtype, device)?;
            if let Some(old) = self.layers.get(l)
                && self.len > 0
            {
                k.slice_set(&old.k.narrow(2, 0, self.len)?.contiguous()?, 2, 0)?;
                v.slice_set(&old.v.narrow(2, 0, self.len)?.contiguous()?, 2, 0)?;
            }
            layers.push(LayerCache { k, v });
        }
        self.layers = layers;
        self.capacity = capacity;
        Ok(())
    }
}

/// The first `lens[r]` tokens of each row `r` of `x` (`[rows, heads, t, d]`), one after
/// another, each token's heads side by side: `[Σ lens, heads · d]`.
fn token_rows(x: &Tensor, lens: &[usize]) -> Result<Vec<f32>> {
    let (_, heads, t, d) = x.dims4()?;
    let all = x.transpose(1, 2)?.flatten_all()?.to_vec1::<f32>()?;
    let token = heads * d;
    Ok(lens
        .iter()
        .enumerate()
        .flat_map(|(r, &len)| &all[r * t * token..][..len * token])
        .copied()
        .collect())
}

/// The inverse of [`token_rows`] for the `[rows, heads, t, d]` shape `dims`: padded tokens are 0.
fn padded_heads(
    tokens: &[f32],
    lens: &[usize],
    dims: (usize, usize, usize, usize),
) -> Result<Tensor> {
    let (rows, heads, t, d) = dims;
    let token = heads * d;
    let mut all = vec![0f32; rows * t * token];
    let mut from = 0;
    for (r, &len) in lens.iter().enumerate() {
        all[r * t * token..][..len * token].copy_from_slice(&tokens[from..from + len * token]);
        from += len * token;
    }
    Ok(Tensor::from_vec(all, (rows, t, heads, d), &Device::Cpu)?.transpose(1, 2)?)
}

/// Greedy continuation of one prompt with the KV cache, ignoring EOS: `n` ids.
pub fn greedy(decoder: &Decoder, prompt: &[u32], n: usize) -> Result<Vec<u32>> {
    let mut session = Session::new(decoder, 1)?;
    session.append(&[prompt.to_vec()])?;
    let mut sampler = [Sampler::new(crate::SamplingParams::greedy())];
    let out = session.generate(&[0], &[n], None, &mut sampler)?;
    Ok(out.into_iter().next().map(|g| g.tokens).unwrap_or_default())
}
