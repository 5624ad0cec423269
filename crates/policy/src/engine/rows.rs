//! The engine's f32 attention for a caller that batches its own rows: the group rollout
//! [`crate::Session`] in f32 mode. Its rows keep their keys and values here, each row's own
//! tokens only (no padding), and attend with [`attend`]: the products, shapes and softmax of the
//! engine, so a session row computes the bits that [`crate::PackedModel`] computes for the same
//! tokens, whatever the other rows hold.

use super::attend::{Heads, Span, attend};
use super::kv::{LayerKv, SeqLayer};
use crate::ModelConfig;

/// Every layer's f32 keys and values of each row, token-major.
#[derive(Debug)]
pub(crate) struct RowCaches {
    heads: Heads,
    /// `[row][layer]`.
    rows: Vec<Vec<LayerKv>>,
}

impl RowCaches {
    /// Empty caches for `rows` rows of a model of `config`.
    pub(crate) fn new(config: &ModelConfig, rows: usize) -> Self {
        let d = config.head_dim();
        let empty = LayerKv::F32 {
            k: Vec::new(),
            v: Vec::new(),
        };
        Self {
            heads: Heads {
                q_heads: config.num_attention_heads,
                kv_heads: config.kv_heads(),
                head_dim: d,
                qkv_width: config.num_attention_heads * d,
            },
            rows: vec![vec![empty; config.num_hidden_layers]; rows],
        }
    }

    /// Appends to layer `layer` of each row `r` the keys and values of its `lens[r]` new tokens
    /// and returns those tokens' attention outputs. `q` (`[Σ lens, q_heads · head_dim]`), `k` and
    /// `v` (`[Σ lens, kv_heads · head_dim]`) hold the rows' new tokens one after another, rotated.
    pub(crate) fn attend(
        &mut self,
        layer: usize,
        (q, k, v): (&[f32], &[f32], &[f32]),
        lens: &[usize],
    ) -> Vec<f32> {
        let width = self.heads.kv_heads * self.heads.head_dim;
        let mut spans = Vec::with_capacity(lens.len());
        let mut row = 0;
        for (caches, &len) in self.rows.iter_mut().zip(lens) {
            let kv = &mut caches[layer];
            let base = kv.tokens(width);
            for token in row..row + len {
                let at = token * width..(token + 1) * width;
                kv.push(&k[at.clone()], &v[at]);
            }
            spans.push(Span { row, base, len });
            row += len;
        }
        let layers: Vec<SeqLayer<'_>> = self
            .rows
            .iter()
            .map(|caches| SeqLayer {
                prefix: None,
                own: &caches[layer],
            })
            .collect();
        let mut out = vec![0f32; row * self.heads.qkv_width];
        attend(self.heads, q, &spans, &layers, &mut out);
        out
    }
}
