//! Attention of new query rows over each sequence's own cache, per (sequence, key/value head,
//! block of queries), on the calling threads of a rayon loop.

use rayon::prelude::*;

use super::kv::{LayerKv, SeqLayer};
#[cfg(target_arch = "x86_64")]
use crate::matmul::{AppendCols, AppendRows, matmul_appended};
use crate::matmul::{MatRef, MatmulBackend, matmul_serial};
#[cfg(target_arch = "x86_64")]
use crate::vec_softmax::fast_causal_softmax;

/// Query tokens per work item: bounds a score block to `heads_per_group · 64 × context`.
const QUERY_BLOCK: usize = 64;
/// Most probability rows in one f32 `P · V` product (see [`attend_f32`]).
const SUM_ROWS: usize = 64;

/// Where one sequence's new tokens sit in the step.
#[derive(Clone, Copy, Debug)]
pub(super) struct Span {
    /// First row of the sequence's tokens in the step's concatenated rows.
    pub(super) row: usize,
    /// Tokens of the sequence before this step.
    pub(super) base: usize,
    /// New tokens.
    pub(super) len: usize,
}

/// The attention geometry.
#[derive(Clone, Copy, Debug)]
pub(super) struct Heads {
    pub(super) q_heads: usize,
    pub(super) kv_heads: usize,
    pub(super) head_dim: usize,
    /// Columns of a row of the fused q|k|v projection.
    pub(super) qkv_width: usize,
}

struct Item {
    seq: usize,
    group: usize,
    start: usize,
    len: usize,
}

/// Softmax of `scores · scale` over the first `valid` entries (the rest set to 0), as the
/// training path's masked softmax computes it: f32 exponentials, an f64 sum.
fn causal_softmax(row: &mut [f32], valid: usize, scale: f32) {
    let (live, masked) = row.split_at_mut(valid);
    masked.fill(0.0);
    let mut max = f32::NEG_INFINITY;
    for x in live.iter_mut() {
        *x *= scale;
        max = max.max(*x);
    }
    let mut sum = 0.0f64;
    for x in live.iter_mut() {
        *x = (*x - max).exp();
        sum += f64::from(*x);
    }
    let inv = (1.0 / sum) as f32;
    for x in live.iter_mut() {
        *x *= inv;
    }
}

/// One head's `[keys, d]` rows of a token-major cache buffer whose rows are `width` wide.
fn head_view(data: &[f32], col: usize, keys: usize, d: usize, width: usize) -> MatRef<'_> {
    MatRef {
        data: &data[col..],
        rows: keys,
        cols: d,
        row_stride: width,
        col_stride: 1,
    }
}

/// One block's attention on f32 keys and values: `softmax(q · kᵀ) · v`, `kᵀ` and `v` views of
/// the cache.
fn attend_f32(
    q: MatRef<'_>,
    keys_t: MatRef<'_>,
    values: MatRef<'_>,
    softmax: impl Fn(&mut [f32]),
) -> Vec<f32> {
    let (rows, keys, d) = (q.rows, keys_t.cols, values.cols);
    let mut scores = vec![0f32; rows * keys];
    matmul_serial(MatmulBackend::F32, q, keys_t, (&mut scores, keys), false);
    softmax(&mut scores);
    let mut o = vec![0f32; rows * d];
    // At most SUM_ROWS rows a product: gemm sums a row along the keys in one order for up
    // to 64 rows and in another for more, so a token's output would depend on where a block
    // of queries starts (how its turn was chunked).
    for (first, out) in o.chunks_mut(SUM_ROWS * d).enumerate() {
        let part = out.len() / d;
        let probabilities = MatRef::new(&scores[first * SUM_ROWS * keys..], part, keys);
        matmul_serial(MatmulBackend::F32, probabilities, values, (out, d), false);
    }
    o
}

/// A head's bf16 keys (`Kᵀ`) and values (`V`).
#[cfg(target_arch = "x86_64")]
type HeadKv<'a> = (&'a AppendCols, &'a AppendRows);

/// One block's attention on a head's bf16 keys and values (the first `keys` tokens of the shared
/// `prefix`, with its length, then of `own`): each product on AMX tiles, with `q` and the
/// probabilities rounded to bf16 and f32 sums. The prefix's scores and the rest's are two
/// products into one score row (so the softmax is the usual one, vectorised:
/// [`fast_causal_softmax`]); the values are two products summed in f32. A decoding step's
/// products (a few query rows) run on AVX-512 BF16 dot products instead of tiles
/// (`matmul::few_rows`).
#[cfg(target_arch = "x86_64")]
fn attend_bf16(
    q: MatRef<'_>,
    prefix: Option<(&AppendCols, &AppendRows, usize)>,
    own: HeadKv<'_>,
    keys: usize,
    softmax: impl Fn(&mut [f32]),
) -> Vec<f32> {
    let (rows, d) = (q.rows, q.cols);
    let shared = prefix.map_or(0, |(_, _, len)| len);
    debug_assert!(shared < keys, "every query row follows the shared prefix");
    let mut scores = vec![0f32; rows * keys];
    if let Some((k, _, len)) = prefix {
        matmul_appended(q, k, len, (&mut scores, keys), false);
    }
    matmul_appended(
        q,
        own.0,
        keys - shared,
        (&mut scores[shared..], keys),
        false,
    );
    softmax(&mut scores);
    let probabilities = |from: usize, cols: usize| MatRef {
        data: &scores[from..],
        rows,
        cols,
        row_stride: keys,
        col_stride: 1,
    };
    let mut o = vec![0f32; rows * d];
    if let Some((_, v, len)) = prefix {
        matmul_appended(probabilities(0, len), v, d, (&mut o, d), false);
    }
    let rest = probabilities(shared, keys - shared);
    matmul_appended(rest, own.1, d, (&mut o, d), prefix.is_some());
    o
}

/// Writes `out` (`[rows, q_heads · head_dim]`): for every new token of every span, each query
/// head's attention over its sequence's keys up to and including that token. `qkv` holds the
/// step's projected (and rotated) queries; `caches[i]` the keys and values of span `i`, the new
/// tokens already appended.
pub(super) fn attend(
    heads: Heads,
    qkv: &[f32],
    spans: &[Span],
    caches: &[SeqLayer<'_>],
    out: &mut [f32],
) {
    let Heads {
        q_heads,
        kv_heads,
        head_dim: d,
        qkv_width,
    } = heads;
    let rep = q_heads / kv_heads;
    let kv_width = kv_heads * d;
    let out_width = q_heads * d;
    let scale = (1.0 / (d as f64).sqrt()) as f32;
    let items: Vec<Item> = spans
        .iter()
        .enumerate()
        .flat_map(|(seq, span)| {
            (0..kv_heads).flat_map(move |group| {
                (0..span.len).step_by(QUERY_BLOCK).map(move |start| Item {
                    seq,
                    group,
                    start,
                    len: QUERY_BLOCK.min(span.len - start),
                })
            })
        })
        .collect();
    let blocks: Vec<Vec<f32>> = items
        .par_iter()
        .map(|item| {
            let span = spans[item.seq];
            let keys = span.base + item.start + item.len;
            let rows = rep * item.len;
            // Row j·len + p: query head group·rep + j at new token start + p.
            let mut q = vec![0f32; rows * d];
            for j in 0..rep {
                let col = (item.group * rep + j) * d;
                for p in 0..item.len {
                    let src = (span.row + item.start + p) * qkv_width + col;
                    q[(j * item.len + p) * d..][..d].copy_from_slice(&qkv[src..src + d]);
                }
            }
            // Row `r` is query token `r % len` of the block: it sees the keys up to its own.
            let softmax_with = |kernel: fn(&mut [f32], usize, f32)| {
                move |scores: &mut [f32]| {
                    for (r, row) in scores.chunks_exact_mut(keys).enumerate() {
                        let p = r % item.len;
                        kernel(row, span.base + item.start + p + 1, scale);
                    }
                }
            };
            let q = MatRef::new(&q, rows, d);
            let cache = caches[item.seq];
            match cache.own {
                LayerKv::F32 { k, v } => {
                    debug_assert!(cache.prefix.is_none(), "f32 caches share no prefix");
                    let keys_t = head_view(k, item.group * d, keys, d, kv_width).t();
                    let values = head_view(v, item.group * d, keys, d, kv_width);
                    attend_f32(q, keys_t, values, softmax_with(causal_softmax))
                }
                #[cfg(target_arch = "x86_64")]
                LayerKv::Bf16 { k, v } => {
                    let prefix = match cache.prefix {
                        Some((LayerKv::Bf16 { k, v }, len)) => {
                            Some((&k[item.group], &v[item.group], len))
                        }
                        _ => None,
                    };
                    let own = (&k[item.group], &v[item.group]);
                    attend_bf16(q, prefix, own, keys, softmax_with(fast_causal_softmax))
                }
            }
        })
        .collect();
    for (item, o) in items.iter().zip(blocks) {
        let span = spans[item.seq];
        for j in 0..rep {
            let col = (item.group * rep + j) * d;
            for p in 0..item.len {
                let dst = (span.row + item.start + p) * out_width + col;
                out[dst..dst + d].copy_from_slice(&o[(j * item.len + p) * d..][..d]);
            }
        }
    }
}
