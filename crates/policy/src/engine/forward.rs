//! [`PackedModel::forward`]: one step of a ragged batch of sequences.

use rayon::prelude::*;

use super::attend::{Heads, Span, attend};
use super::{PackedModel, SeqCache};
use crate::block_pass::add_into;
use crate::matmul::{MatRef, PackedB, matmul_packed};
use crate::ops::rms_norm_rows as rms_norm;
use crate::{PolicyError, Result};

/// Rows per rayon task of the row-wise kernels.
const ROWS_PER_TASK: usize = 16;

/// `x · B` (+ `bias` per column) for `rows` rows of `x`.
fn project(x: &[f32], rows: usize, b: &PackedB, bias: Option<&[f32]>) -> Vec<f32> {
    let n = b.cols();
    let mut y = vec![0f32; rows * n];
    matmul_packed(MatRef::new(x, rows, b.rows()), b, &mut y, n, false);
    if let Some(bias) = bias {
        for row in y.chunks_exact_mut(n) {
            for (y, b) in row.iter_mut().zip(bias) {
                *y += b;
            }
        }
    }
    y
}

impl PackedModel {
    /// Appends `chunks[i]` to sequence `caches[i]` (an empty chunk adds nothing) in one step over
    /// all of them, and returns, for each non-empty chunk, the logits after its last token.
    ///
    /// The step runs on a thread of rayon's pool (the caller waits for it): its many small
    /// parallel loops then split work among the pool's threads by stealing, instead of each
    /// loop handing its work from the caller's thread to the pool and sleeping until it is done.
    pub fn forward(
        &self,
        caches: &mut [&mut SeqCache],
        chunks: &[&[u32]],
    ) -> Result<Vec<Option<Vec<f32>>>> {
        rayon::scope(|_| self.step(caches, chunks))
    }

    /// [`Self::forward`] on the current thread.
    fn step(
        &self,
        caches: &mut [&mut SeqCache],
        chunks: &[&[u32]],
    ) -> Result<Vec<Option<Vec<f32>>>> {
        let spans = self.check(caches, chunks)?;
        let rows: usize = chunks.iter().map(|c| c.len()).sum();
        if rows == 0 {
            return Ok(vec![None; chunks.len()]);
        }
        let c = &self.config;
        let hidden = c.hidden_size;
        let mut x = Vec::with_capacity(rows * hidden);
        for &id in chunks.iter().flat_map(|c| c.iter()) {
            let id = id as usize;
            x.extend_from_slice(&self.embed[id * hidden..(id + 1) * hidden]);
        }
        let positions: Vec<usize> = spans.iter().flat_map(|s| s.base..s.base + s.len).collect();
        for (layer, block) in self.blocks.iter().enumerate() {
            let h = rms_norm(&x, &block.input_norm, c.rms_norm_eps);
            let mut qkv = project(&h, rows, &block.qkv, block.qkv_bias.as_deref());
            self.rotate(&mut qkv, &positions);
            let heads = self.heads();
            let kv_width = self.kv_width();
            let k_col = c.num_attention_heads * c.head_dim();
            for (cache, span) in caches.iter_mut().zip(&spans) {
                let kv = &mut cache.layers[layer];
                for r in span.row..span.row + span.len {
                    let line = &qkv[r * heads.qkv_width..(r + 1) * heads.qkv_width];
                    kv.push(&line[k_col..k_col + kv_width], &line[k_col + kv_width..]);
                }
            }
            let layers: Vec<_> = caches.iter().map(|s| s.layer(layer)).collect();
            let mut att = vec![0f32; rows * k_col];
            attend(heads, &qkv, &spans, &layers, &mut att);
            add_into(
                &mut x,
                &project(&att, rows, &block.o, block.o_bias.as_deref()),
            );
            let h = rms_norm(&x, &block.post_norm, c.rms_norm_eps);
            let gate_up = project(&h, rows, &block.gate_up, None);
            let inter = c.intermediate_size;
            let mut mlp = vec![0f32; rows * inter];
            mlp.par_chunks_mut(ROWS_PER_TASK * inter)
                .zip(gate_up.par_chunks(ROWS_PER_TASK * 2 * inter))
                .for_each(|(m, gu)| {
                    for (m, gu) in m.chunks_exact_mut(inter).zip(gu.chunks_exact(2 * inter)) {
                        let (g, u) = gu.split_at(inter);
                        for ((m, &g), &u) in m.iter_mut().zip(g).zip(u) {
                            *m = g * crate::swiglu::sigmoid(g) * u;
                        }
                    }
                });
            add_into(&mut x, &project(&mlp, rows, &block.down, None));
        }
        for (cache, span) in caches.iter_mut().zip(&spans) {
            cache.len += span.len;
        }
        // The head only at each sequence's last new token.
        let last: Vec<usize> = spans
            .iter()
            .filter(|s| s.len > 0)
            .map(|s| s.row + s.len - 1)
            .collect();
        let mut picked = Vec::with_capacity(last.len() * hidden);
        for &r in &last {
            picked.extend_from_slice(&x[r * hidden..(r + 1) * hidden]);
        }
        let normed = rms_norm(&picked, &self.norm, c.rms_norm_eps);
        let logits = project(&normed, last.len(), &self.head, None);
        let vocab = self.head.cols();
        let mut rows_out = logits.chunks_exact(vocab).map(<[f32]>::to_vec);
        Ok(spans
            .iter()
            .map(|s| if s.len > 0 { rows_out.next() } else { None })
            .collect())
    }

    /// The step's spans, after checking ids, positions and caches.
    fn check(&self, caches: &[&mut SeqCache], chunks: &[&[u32]]) -> Result<Vec<Span>> {
        if caches.len() != chunks.len() {
            return Err(PolicyError::Config(format!(
                "forward got {} chunks for {} caches",
                chunks.len(),
                caches.len()
            )));
        }
        let vocab = self.embed.len() / self.config.hidden_size.max(1);
        let max_pos = self.config.max_position_embeddings;
        let mut spans = Vec::with_capacity(chunks.len());
        let mut row = 0;
        for (i, (cache, chunk)) in caches.iter().zip(chunks).enumerate() {
            let kv_heads = self.config.kv_heads();
            if cache.width() != self.kv_width()
                || cache.layers.len() != self.blocks.len()
                || cache
                    .layers
                    .iter()
                    .any(|l| l.heads().is_some_and(|h| h != kv_heads))
            {
                return Err(PolicyError::Config(format!(
                    "cache {i} belongs to another model"
                )));
            }
            if let Some(&bad) = chunk.iter().find(|&&id| id as usize >= vocab) {
                return Err(PolicyError::Config(format!(
                    "token id {bad} is outside the vocabulary of {vocab}"
                )));
            }
            if cache.len() + chunk.len() > max_pos {
                return Err(PolicyError::Config(format!(
                    "sequence {i} would exceed max_position_embeddings {max_pos}"
                )));
            }
            spans.push(Span {
                row,
                base: cache.len(),
                len: chunk.len(),
            });
            row += chunk.len();
        }
        Ok(spans)
    }

    fn heads(&self) -> Heads {
        let c = &self.config;
        Heads {
            q_heads: c.num_attention_heads,
            kv_heads: c.kv_heads(),
            head_dim: c.head_dim(),
            qkv_width: (c.num_attention_heads + 2 * c.kv_heads()) * c.head_dim(),
        }
    }

    /// Rotate-half RoPE of the q and k heads of every row at its position.
    fn rotate(&self, qkv: &mut [f32], positions: &[usize]) {
        let heads = self.heads();
        let d = heads.head_dim;
        let half = d / 2;
        let rotated = heads.q_heads + heads.kv_heads;
        qkv.par_chunks_mut(heads.qkv_width)
            .zip(positions)
            .for_each(|(row, &pos)| {
                let cos = &self.cos[pos * half..(pos + 1) * half];
                let sin = &self.sin[pos * half..(pos + 1) * half];
                for head in row[..rotated * d].chunks_exact_mut(d) {
                    let (x1, x2) = head.split_at_mut(half);
                    for j in 0..half {
                        let (a, b) = (x1[j], x2[j]);
                        x1[j] = a * cos[j] - b * sin[j];
                        x2[j] = b * cos[j] + a * sin[j];
                    }
                }
            });
    }
}
