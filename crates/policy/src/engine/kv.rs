//! [`SeqCache`]: the keys and values of one sequence, every layer, token-major.

/// Keys and values of one layer: `[tokens, kv_heads · head_dim]`, row-major.
#[derive(Clone, Debug, Default)]
pub(super) struct LayerKv {
    pub(super) k: Vec<f32>,
    pub(super) v: Vec<f32>,
}

/// The KV cache of one sequence: every layer's keys and values of every token so far.
///
/// Token-major storage makes appending a token a copy of one row per layer, and a head's keys a
/// strided matrix view; buffers grow like `Vec`s, so a sequence pays only for its own length.
#[derive(Clone, Debug)]
pub struct SeqCache {
    pub(super) layers: Vec<LayerKv>,
    pub(super) len: usize,
    width: usize,
}

impl SeqCache {
    pub(super) fn new(layers: usize, width: usize) -> Self {
        Self {
            layers: vec![LayerKv::default(); layers],
            len: 0,
            width,
        }
    }

    /// Tokens cached so far (the position of the next token).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no token is cached.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Width of one token's row (`kv_heads · head_dim`).
    pub(super) fn width(&self) -> usize {
        self.width
    }
}
