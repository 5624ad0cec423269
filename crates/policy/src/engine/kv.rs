//! [`SeqCache`]: the keys and values of one sequence, every layer.

use std::sync::Arc;

#[cfg(target_arch = "x86_64")]
use crate::matmul::{AppendCols, AppendRows, Appended};

/// Keys and values of one layer, in the storage of the cache's mode.
#[derive(Clone, Debug)]
pub(super) enum LayerKv {
    /// f32, token-major: `[tokens, kv_heads · head_dim]`, row-major, keys and values apart.
    F32 { k: Vec<f32>, v: Vec<f32> },
    /// bf16 in AMX B tiles, per key/value head: its keys as `Kᵀ` (`head_dim × tokens`, grown
    /// by columns) and its values as `V` (`tokens × head_dim`, grown by rows), so the two
    /// attention products read them as they are.
    #[cfg(target_arch = "x86_64")]
    Bf16 {
        k: Vec<AppendCols>,
        v: Vec<AppendRows>,
    },
}

impl LayerKv {
    /// The key/value heads a bf16 layer was made for (`None` in f32: any split of its width).
    pub(super) fn heads(&self) -> Option<usize> {
        match self {
            LayerKv::F32 { .. } => None,
            #[cfg(target_arch = "x86_64")]
            LayerKv::Bf16 { k, .. } => Some(k.len()),
        }
    }

    /// Tokens held, for tokens `width` wide (`kv_heads · head_dim`).
    pub(super) fn tokens(&self, width: usize) -> usize {
        match self {
            LayerKv::F32 { k, .. } => k.len() / width,
            #[cfg(target_arch = "x86_64")]
            LayerKv::Bf16 { k, .. } => k.first().map_or(0, |head| head.shape().1),
        }
    }

    /// An empty layer of the same storage and geometry.
    fn emptied(&self) -> LayerKv {
        match self {
            LayerKv::F32 { .. } => LayerKv::F32 {
                k: Vec::new(),
                v: Vec::new(),
            },
            #[cfg(target_arch = "x86_64")]
            LayerKv::Bf16 { k, v } => LayerKv::Bf16 {
                k: k.iter().map(AppendCols::emptied).collect(),
                v: v.iter().map(AppendRows::emptied).collect(),
            },
        }
    }

    /// Appends one token's keys and values (`kv_heads · head_dim` each, heads side by side).
    pub(super) fn push(&mut self, keys: &[f32], values: &[f32]) {
        match self {
            LayerKv::F32 { k, v } => {
                k.extend_from_slice(keys);
                v.extend_from_slice(values);
            }
            #[cfg(target_arch = "x86_64")]
            LayerKv::Bf16 { k, v } => {
                let d = keys.len() / k.len();
                for (head, key) in k.iter_mut().zip(keys.chunks_exact(d)) {
                    head.push(key);
                }
                for (head, value) in v.iter_mut().zip(values.chunks_exact(d)) {
                    head.push(value);
                }
            }
        }
    }
}

/// The KV cache of one sequence: every layer's keys and values of every token so far.
///
/// In f32 mode the storage is token-major, so appending a token copies one row per layer and a
/// head's keys are a strided matrix view. In bf16 mode (a [`super::PackedModel`] on the bf16 AMX
/// backend) keys and values are rounded to bf16 as they are appended and kept in the tiles that
/// the attention products read directly: half the bytes that every decoding step streams. Either
/// way buffers grow like `Vec`s, so a sequence pays only for its own length. A cache keeps its
/// mode: any model of the same geometry can extend it.
///
/// A bf16 cache can also begin with a prefix shared with other caches ([`SeqCache::share`]):
/// sequences that open with the same conversation start then read one copy of its keys and
/// values, which stays in the CPU caches across the sequences of a step instead of being
/// streamed from memory once per sequence.
#[derive(Clone, Debug)]
pub struct SeqCache {
    /// The tokens after the shared prefix (all tokens when there is none).
    pub(super) layers: Vec<LayerKv>,
    pub(super) len: usize,
    width: usize,
    /// The shared first tokens, if any.
    prefix: Option<Arc<Prefix>>,
}

/// The first tokens of several caches, stored once.
#[derive(Debug)]
struct Prefix {
    layers: Vec<LayerKv>,
    len: usize,
}

/// One layer of one sequence as attention reads it: the shared prefix's keys and values (and
/// its length in tokens), then the sequence's own.
#[derive(Clone, Copy, Debug)]
pub(super) struct SeqLayer<'a> {
    pub(super) prefix: Option<(&'a LayerKv, usize)>,
    pub(super) own: &'a LayerKv,
}

impl SeqCache {
    /// An empty f32 cache of `layers` layers whose tokens are `width` wide.
    pub(super) fn new_f32(layers: usize, width: usize) -> Self {
        let empty = LayerKv::F32 {
            k: Vec::new(),
            v: Vec::new(),
        };
        Self {
            layers: vec![empty; layers],
            len: 0,
            width,
            prefix: None,
        }
    }

    /// An empty bf16 cache of `layers` layers of `kv_heads` heads of `head_dim`.
    #[cfg(target_arch = "x86_64")]
    pub(super) fn new_bf16(layers: usize, kv_heads: usize, head_dim: usize) -> Self {
        let empty = LayerKv::Bf16 {
            k: vec![AppendCols::new(head_dim); kv_heads],
            v: vec![AppendRows::new(head_dim); kv_heads],
        };
        Self {
            layers: vec![empty; layers],
            len: 0,
            width: kv_heads * head_dim,
            prefix: None,
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

    /// This cache as a prefix to share: clones of the returned cache read its tokens from one
    /// copy (reference-counted) and store only the tokens appended after it. Applies to bf16
    /// caches without a shared prefix of their own; any other cache is returned as it is (so an
    /// f32 cache keeps giving exactly the f32 results of a private copy).
    ///
    /// Results with a shared prefix are those of a private copy up to the f32 summation order
    /// of the attention products (the prefix and the rest are two products).
    pub fn share(self) -> SeqCache {
        let bf16 = self.layers.iter().all(|l| l.heads().is_some());
        if !bf16 || self.prefix.is_some() || self.len == 0 {
            return self;
        }
        let own = self.layers.iter().map(LayerKv::emptied).collect::<Vec<_>>();
        SeqCache {
            prefix: Some(Arc::new(Prefix {
                layers: self.layers,
                len: self.len,
            })),
            layers: own,
            len: self.len,
            width: self.width,
        }
    }

    /// Tokens in the shared prefix (0 without one).
    pub fn shared_len(&self) -> usize {
        self.prefix.as_ref().map_or(0, |p| p.len)
    }

    /// Layer `layer` as attention reads it.
    pub(super) fn layer(&self, layer: usize) -> SeqLayer<'_> {
        SeqLayer {
            prefix: self.prefix.as_ref().map(|p| (&p.layers[layer], p.len)),
            own: &self.layers[layer],
        }
    }
}
