//! Memory-linear causal attention ("flash attention") on CPU, forward and backward.
//!
//! [`flash_attention`] computes `softmax(scale · q kᵀ + causal) v` for grouped-query heads without
//! ever holding the `[B, H, T, S]` score matrix: each rayon task owns `BR` query rows of one head,
//! walks the key blocks of `BC` keys up to the causal diagonal, and keeps a running row maximum,
//! row sum and output accumulator (online softmax). It saves only the row log-sum-exp
//! `[B, Hq, T]` for the backward pass, which recomputes each probability tile from `q`, `k` and
//! that log-sum-exp (FlashAttention-2): one parallel pass over query blocks for `dq`, one over key
//! blocks for `dk`/`dv` (the query heads that share a key/value head summed in head order), so
//! no two tasks write the same output and every sum runs in a fixed order: results do not depend
//! on the thread count. Memory: the inputs, outputs and gradients (`O(B·H·T·D)`), the saved
//! log-sum-exp (`O(B·H·T)`), the prepared blocks (bf16 copies of the inputs on AMX, half their
//! size per copy: `O(B·H·T·D)`), and two `BR × BC` tiles per running task.
//!
//! Tile products run on the caller's matmul backend (the model's: bf16 AMX tiles with f32 sums,
//! or f32), so attention rounds its operands exactly where the linear layers do; f64 (the
//! reference tests) uses a plain loop with the same blocking. Each block of 64 query or key rows
//! is converted to the backend's operand layout once per call ([`Blocks`]: bf16 tiles on AMX)
//! and shared by every product it takes part in; only the probability tiles are converted per
//! product. The products equal [`crate::matmul::matmul_serial`] of the same operands bit for bit.

#![allow(unsafe_code)] // only to call the AVX-512 copies of the tile loops

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, Layout, Shape, Tensor};
use rayon::prelude::*;

use crate::Result;
use crate::matmul::{
    MatRef, MatmulBackend as Backend, PreparedLeft, PreparedRight, TilesHeld, hold_tiles,
    matmul_prepared,
};
use crate::ops::{Real, fused_op, per_float, slice, unsupported};
use crate::vec_softmax::{avx512_available, vector_exp};

/// Query rows per task and tile. 64 rows × 64 keys × 4 bytes = 16 KiB per score tile, so a query
/// block, a key block, a value block (each 64 × `D` = 16 KiB at `D` = 64) and the score tile
/// stay within a core's L2 (2 MiB here) and mostly within L1 (48 KiB) during each product, while
/// the products stay large enough (64 × 64 × 64) for the matmul kernels to run at full rate.
pub(crate) const BR: usize = 64;

/// Keys per tile (see [`BR`]).
pub(crate) const BC: usize = 64;

/// Rows of a prepared block ([`Blocks`]): query and key blocks alike.
const BLOCK: usize = BR;
const _: () = assert!(BR == BC, "prepared blocks serve query and key blocks alike");

/// Sizes the op records, for tests of its memory use.
#[derive(Debug, Default)]
pub(crate) struct FlashStats {
    /// Elements of state saved between the forward and the backward pass (the log-sum-exp).
    saved: AtomicUsize,
    /// The largest scratch buffer one task allocated, in elements.
    scratch: AtomicUsize,
}

impl FlashStats {
    /// Elements of state saved for the backward pass.
    #[cfg(test)]
    pub(crate) fn saved(&self) -> usize {
        self.saved.load(Ordering::Relaxed)
    }

    /// The largest scratch buffer one task allocated, in elements.
    #[cfg(test)]
    pub(crate) fn scratch(&self) -> usize {
        self.scratch.load(Ordering::Relaxed)
    }

    /// A zeroed scratch buffer of `n` elements, recorded.
    fn alloc<T: Real>(&self, n: usize) -> Vec<T> {
        self.scratch.fetch_max(n, Ordering::Relaxed);
        vec![T::of(0.0); n]
    }
}

/// Causal grouped-query attention `softmax(scale · q kᵀ + causal) v`, differentiable in `q`, `k`
/// and `v`, for CPU tensors of f32 or f64.
///
/// `q` is `[B, Hq, T, D]`, `k`/`v` `[B, Hkv, S, D]` with `Hq` a multiple of `Hkv` (query head `h`
/// uses key/value head `h / (Hq / Hkv)`) and `S ≥ T`: query row `i` sees keys `j ≤ i + S − T`
/// (`S = T` is plain causal self-attention; `S > T` a chunk after `S − T` cached keys). f32
/// tiles multiply on `backend`.
pub(crate) fn flash_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    scale: f64,
    backend: Backend,
) -> Result<Tensor> {
    flash_attention_with_stats(q, k, v, scale, backend, Arc::default())
}

/// [`flash_attention`], recording its sizes into `stats`.
pub(crate) fn flash_attention_with_stats(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    scale: f64,
    backend: Backend,
    stats: Arc<FlashStats>,
) -> Result<Tensor> {
    let op = FlashAttention {
        scale,
        backend,
        lse: Mutex::new(None),
        stats,
    };
    Ok(q.contiguous()?
        .apply_op3(&k.contiguous()?, &v.contiguous()?, op)?)
}

/// [`flash_attention`]'s forward pass on plain f32 buffers: `q` `[B, Hq, T, D]`, `k`/`v`
/// `[B, Hkv, T, D]` (self-attention, `S = T`). Returns the output `[B, Hq, T, D]` and the row
/// log-sum-exp `[B, Hq, T]` that [`attention_backward`] needs. The caller checks the shapes.
pub(crate) fn attention_forward(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    dims: Dims,
    scale: f64,
    backend: Backend,
) -> (Vec<f32>, Vec<f32>) {
    forward(q, k, v, dims, scale, backend, &FlashStats::default())
}

/// The backward pass of [`attention_forward`] for the output gradient `g`: `(dq, dk, dv)`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn attention_backward(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    o: &[f32],
    g: &[f32],
    lse: &[f32],
    dims: Dims,
    scale: f64,
    backend: Backend,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut all = backward(
        q,
        k,
        v,
        o,
        g,
        lse,
        dims,
        scale,
        backend,
        &FlashStats::default(),
    );
    let dv = all.split_off(q.len() + k.len());
    let dk = all.split_off(q.len());
    (all, dk, dv)
}

/// The shapes of one call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dims {
    b: usize,
    hq: usize,
    hkv: usize,
    t: usize,
    s: usize,
    d: usize,
}

impl Dims {
    /// Causal self-attention (`S = T`) of `b` sequences of `t` positions: `hq` query heads,
    /// `hkv` key/value heads, head dimension `d`.
    pub(crate) fn self_attention(b: usize, hq: usize, hkv: usize, t: usize, d: usize) -> Self {
        Self {
            b,
            hq,
            hkv,
            t,
            s: t,
            d,
        }
    }

    /// Checks `q` `[B, Hq, T, D]` against `k`/`v` `[kv_batches, Hkv, S, D]`.
    fn of(q: &Layout, k: &Layout, v: &Layout, kv_batches: usize) -> candle_core::Result<Self> {
        let [b, hq, t, d] = *q.dims() else {
            candle_core::bail!(
                "flash-attention: q must be [B, H, T, D], got {:?}",
                q.dims()
            );
        };
        let [kb, hkv, s, kd] = *k.dims() else {
            candle_core::bail!(
                "flash-attention: k must be [B, H, S, D], got {:?}",
                k.dims()
            );
        };
        if v.dims() != k.dims()
            || kb != kv_batches * b
            || kd != d
            || hkv == 0
            || hq % hkv != 0
            || s < t
        {
            candle_core::bail!(
                "flash-attention: q {:?}, k {:?}, v {:?} do not fit (same B and D, Hq a \
                 multiple of Hkv, S ≥ T)",
                q.dims(),
                k.dims(),
                v.dims()
            );
        }
        Ok(Self {
            b,
            hq,
            hkv,
            t,
            s,
            d,
        })
    }

    /// How many keys query row `i` sees: `i + S − T + 1`.
    fn visible(&self, i: usize) -> usize {
        i + self.s - self.t + 1
    }

    /// Rows `r0..r0 + n` of query head `bh` (`b · Hq + h`) in a `[B, Hq, T, D]` tensor.
    fn q_rows<'a, T>(&self, x: &'a [T], bh: usize, r0: usize, n: usize) -> Mat<'a, T> {
        let start = (bh * self.t + r0) * self.d;
        Mat::new(&x[start..start + n * self.d], n, self.d)
    }

    /// Rows `c0..c0 + n` of key/value head `bg` (`b · Hkv + g`) in a `[B, Hkv, S, D]` tensor.
    fn kv_rows<'a, T>(&self, x: &'a [T], bg: usize, c0: usize, n: usize) -> Mat<'a, T> {
        let start = (bg * self.s + c0) * self.d;
        Mat::new(&x[start..start + n * self.d], n, self.d)
    }

    /// The key/value head (`b · Hkv + g`) that query head `bh` (`b · Hq + h`) reads.
    fn kv_head(&self, bh: usize) -> usize {
        let (bi, h) = (bh / self.hq, bh % self.hq);
        bi * self.hkv + h / (self.hq / self.hkv)
    }
}

/// A strided read-only matrix: element `(i, j)` is `data[i * rs + j * cs]`.
#[derive(Clone, Copy, Debug)]
struct Mat<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a, T> Mat<'a, T> {
    /// A dense row-major `rows × cols` matrix.
    fn new(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose (a view).
    fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }
}

/// The kernels' floats: [`Real`] plus tile products on operands prepared once per block, and
/// the exponential of the score tiles.
trait Float: Real {
    /// A block as the left operand of tile products on one backend.
    type Left<'a>: Send + Sync;
    /// A block as the right operand of tile products on one backend.
    type Right<'a>: Send + Sync;

    /// `a` as a left operand of [`Float::mm`] on backend `on` (f32 only: f64 computes in f64).
    fn left(on: Backend, a: Mat<'_, Self>) -> Self::Left<'_>;

    /// `b` as a right operand of [`Float::mm`] on backend `on`.
    fn right(on: Backend, b: Mat<'_, Self>) -> Self::Right<'_>;

    /// `c = a · b` (or `c += a · b` when `acc`), `c` row-major with leading dimension `ldc`, on
    /// the calling thread.
    fn mm(a: &Self::Left<'_>, b: &Self::Right<'_>, c: &mut [Self], ldc: usize, acc: bool);

    /// `e^self` as the score tiles need it: [`vector_exp`] for f32 (loops over a tile vectorize),
    /// the exact `exp` for f64 (the reference tests).
    fn tile_exp(self) -> Self;

    /// Keeps the calling thread's tiles configured for a task's run of [`Float::mm`] products
    /// on `on` (see [`hold_tiles`]).
    fn hold_tiles(on: Backend) -> TilesHeld;
}

/// `m` as the matmul module's view.
fn view(m: Mat<'_, f32>) -> MatRef<'_> {
    MatRef {
        data: m.data,
        rows: m.rows,
        cols: m.cols,
        row_stride: m.rs,
        col_stride: m.cs,
    }
}

impl Float for f32 {
    type Left<'a> = PreparedLeft<'a>;
    type Right<'a> = PreparedRight<'a>;

    fn left(on: Backend, a: Mat<'_, f32>) -> PreparedLeft<'_> {
        PreparedLeft::new(on, view(a))
    }

    fn right(on: Backend, b: Mat<'_, f32>) -> PreparedRight<'_> {
        PreparedRight::new(on, view(b))
    }

    fn mm(a: &PreparedLeft<'_>, b: &PreparedRight<'_>, c: &mut [f32], ldc: usize, acc: bool) {
        matmul_prepared(a, b, (c, ldc), acc);
    }

    fn tile_exp(self) -> Self {
        vector_exp(self)
    }

    fn hold_tiles(on: Backend) -> TilesHeld {
        hold_tiles(on)
    }
}

impl Float for f64 {
    type Left<'a> = Mat<'a, f64>;
    type Right<'a> = Mat<'a, f64>;

    fn left(_: Backend, a: Mat<'_, f64>) -> Mat<'_, f64> {
        a
    }

    fn right(_: Backend, b: Mat<'_, f64>) -> Mat<'_, f64> {
        b
    }

    fn mm(a: &Mat<'_, f64>, b: &Mat<'_, f64>, c: &mut [f64], ldc: usize, acc: bool) {
        debug_assert_eq!(a.cols, b.rows);
        for i in 0..a.rows {
            let row = &mut c[i * ldc..i * ldc + b.cols];
            if !acc {
                row.fill(0.0);
            }
            for p in 0..a.cols {
                let x = a.data[i * a.rs + p * a.cs];
                for (j, y) in row.iter_mut().enumerate() {
                    *y += x * b.data[p * b.rs + j * b.cs];
                }
            }
        }
    }

    fn tile_exp(self) -> Self {
        self.exp()
    }

    fn hold_tiles(_: Backend) -> TilesHeld {
        hold_tiles(Backend::F32)
    }
}

/// One operand per block of 64 rows (the last one shorter) of every head of a tensor, prepared
/// in parallel before the tasks that share it: a key block multiplies every query block below
/// it (of every query head of its group), a query block every key block, so each is packed
/// once per call instead of once per product.
struct Blocks<X> {
    /// Blocks per head.
    per_head: usize,
    /// Rows per head.
    len: usize,
    /// Block `(head, i)` at `head * per_head + i`.
    blocks: Vec<X>,
}

impl<X: Send + Sync> Blocks<X> {
    /// `make(head, first_row, rows)` for each block of `heads` heads of `len` rows.
    fn new(heads: usize, len: usize, make: impl Fn(usize, usize, usize) -> X + Sync) -> Self {
        let per_head = len.div_ceil(BLOCK);
        let blocks = (0..heads * per_head)
            .into_par_iter()
            .map(|i| {
                let (head, r0) = (i / per_head, i % per_head * BLOCK);
                make(head, r0, BLOCK.min(len - r0))
            })
            .collect();
        Self {
            per_head,
            len,
            blocks,
        }
    }

    /// The block of `head` that starts at row `r0` and holds exactly `rows` rows, or `make()`
    /// where the block holds more (a query block that sees only part of the diagonal key
    /// block, when cached keys come before the queries).
    fn get_or<'s>(
        &'s self,
        head: usize,
        r0: usize,
        rows: usize,
        make: impl FnOnce() -> X,
    ) -> Operand<'s, X> {
        debug_assert_eq!(r0 % BLOCK, 0);
        if BLOCK.min(self.len - r0) == rows {
            Operand::Shared(&self.blocks[head * self.per_head + r0 / BLOCK])
        } else {
            Operand::Own(make())
        }
    }

    /// The block of `head` that starts at row `r0` (whole).
    fn get(&self, head: usize, r0: usize) -> &X {
        debug_assert_eq!(r0 % BLOCK, 0);
        &self.blocks[head * self.per_head + r0 / BLOCK]
    }
}

/// A prepared block: shared from [`Blocks`], or made for one task.
enum Operand<'s, X> {
    Shared(&'s X),
    Own(X),
}

impl<X> std::ops::Deref for Operand<'_, X> {
    type Target = X;

    fn deref(&self) -> &X {
        match self {
            Operand::Shared(x) => x,
            Operand::Own(x) => x,
        }
    }
}

/// Runs `f(bh, r0, out)` for every query block: `out` is the block's `n · width` slice of a
/// `[B, Hq, T, width]` buffer, `r0` its first row.
fn for_each_query_block<T: Send>(
    out: &mut [T],
    t: usize,
    width: usize,
    f: impl Fn(usize, usize, &mut [T]) + Sync,
) {
    if out.is_empty() {
        return;
    }
    out.par_chunks_mut(t * width)
        .enumerate()
        .for_each(|(bh, head)| {
            head.par_chunks_mut(BR * width)
                .enumerate()
                .for_each(|(qb, block)| f(bh, qb * BR, block));
        });
}

// ---------------------------------------------------------------------------------------------
// Forward

/// `(out [B, Hq, T, D], lse [B, Hq, T])`.
#[allow(clippy::too_many_arguments)]
fn forward<T: Float>(
    q: &[T],
    k: &[T],
    v: &[T],
    dims: Dims,
    scale: f64,
    backend: Backend,
    stats: &FlashStats,
) -> (Vec<T>, Vec<T>) {
    let d = dims.d;
    let mut out = vec![T::of(0.0); q.len()];
    let mut lse = vec![T::of(0.0); dims.b * dims.hq * dims.t];
    if out.is_empty() {
        return (out, lse);
    }
    let kv_heads = dims.b * dims.hkv;
    let keys = Blocks::new(kv_heads, dims.s, |bg, c0, nc| {
        T::right(backend, dims.kv_rows(k, bg, c0, nc).t())
    });
    let values = Blocks::new(kv_heads, dims.s, |bg, c0, nc| {
        T::right(backend, dims.kv_rows(v, bg, c0, nc))
    });
    let blocks = KeyValueBlocks {
        k,
        v,
        keys_t: &keys,
        values: &values,
    };
    let wide = avx512_available();
    out.par_chunks_mut(dims.t * d)
        .zip(lse.par_chunks_mut(dims.t))
        .enumerate()
        .for_each(|(bh, (out, lse))| {
            out.par_chunks_mut(BR * d)
                .zip(lse.par_chunks_mut(BR))
                .enumerate()
                .for_each(|(qb, (out, lse))| {
                    let at = (bh, qb * BR);
                    let args = (q, &blocks, dims, (scale, backend), stats, at);
                    if wide {
                        // SAFETY: the CPU has AVX-512 F (`avx512_available`).
                        unsafe { forward_block_avx512(args, out, lse) }
                    } else {
                        forward_block(args, out, lse)
                    }
                });
        });
    (out, lse)
}

/// The forward pass's key and value blocks: `Kᵀ` and `V` blocks prepared as right operands,
/// and the tensors for the partial blocks made on the spot.
struct KeyValueBlocks<'a, 'p, T: Float> {
    k: &'a [T],
    v: &'a [T],
    keys_t: &'p Blocks<T::Right<'a>>,
    values: &'p Blocks<T::Right<'a>>,
}

/// What one forward task reads: the queries, the prepared key and value blocks, the shapes,
/// `(scale, backend)`, the stats, and `(bh, r0)`: query head `bh`'s rows from `r0`.
type ForwardArgs<'x, 'a, 'p, T> = (
    &'a [T],
    &'x KeyValueBlocks<'a, 'p, T>,
    Dims,
    (f64, Backend),
    &'x FlashStats,
    (usize, usize),
);

/// [`forward_block`] compiled for AVX-512 F: the tile loops it inlines (scaling, masking, the
/// exponentials of [`vector_exp`]) run 16 lanes wide instead of SSE2's 4. The same elementwise
/// IEEE operations (Rust fuses no multiply-adds), so the same bits.
#[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx512f"))]
fn forward_block_avx512<T: Float>(args: ForwardArgs<'_, '_, '_, T>, out: &mut [T], lse: &mut [T]) {
    forward_block(args, out, lse)
}

/// Rows `r0..r0 + n` of query head `bh`: `out` (`n × D`) and `lse` (`n`).
#[inline(always)]
fn forward_block<T: Float>(
    (q, kv, dims, (scale, backend), stats, (bh, r0)): ForwardArgs<'_, '_, '_, T>,
    out: &mut [T],
    lse: &mut [T],
) {
    let (d, n) = (dims.d, lse.len());
    let bg = dims.kv_head(bh);
    let _tiles = T::hold_tiles(backend);
    let qm = T::left(backend, dims.q_rows(q, bh, r0, n));
    let keys = dims.visible(r0 + n - 1);
    let sc = T::of(scale);
    let mut tile: Vec<T> = stats.alloc(BR * BC);
    let mut max = vec![T::of(f64::NEG_INFINITY); n];
    let mut sum = vec![0.0f64; n];
    for c0 in (0..keys).step_by(BC) {
        let nc = BC.min(keys - c0);
        let tile = &mut tile[..n * nc];
        let kt = kv.keys_t.get_or(bg, c0, nc, || {
            T::right(backend, dims.kv_rows(kv.k, bg, c0, nc).t())
        });
        T::mm(&qm, &kt, tile, nc, false);
        let seen = |i: usize| dims.visible(r0 + i).saturating_sub(c0).min(nc);
        let mut g0 = 0;
        while g0 < n {
            let running = Running {
                max: &mut max[g0..],
                sum: &mut sum[g0..],
                out: &mut out[g0 * d..],
                d,
            };
            let tile = &mut tile[g0 * nc..];
            g0 += if n - g0 >= ROW_GROUP {
                softmax_rows::<T, ROW_GROUP>(tile, nc, |r| seen(g0 + r), sc, running)
            } else {
                softmax_rows::<T, 1>(tile, nc, |r| seen(g0 + r), sc, running)
            };
        }
        let vb = kv.values.get_or(bg, c0, nc, || {
            T::right(backend, dims.kv_rows(kv.v, bg, c0, nc))
        });
        T::mm(&T::left(backend, Mat::new(tile, n, nc)), &vb, out, d, true);
    }
    for (i, row) in out.chunks_exact_mut(d).enumerate() {
        let inv = T::of(1.0 / sum[i]);
        for o in row {
            *o *= inv;
        }
        lse[i] = T::of(max[i].f64() + sum[i].ln());
    }
}

/// Rows whose maxima and sums [`softmax_rows`] computes side by side.
const ROW_GROUP: usize = 8;

/// The running state of a query block's rows, from the first row a call updates: the row maxima
/// (of the scaled scores), the sums of their exponentials (f64) and the output rows (`d` wide).
struct Running<'a, T> {
    max: &'a mut [T],
    sum: &'a mut [f64],
    out: &'a mut [T],
    d: usize,
}

/// One online-softmax step over the first `G` rows of a score tile (`nc` wide; row `r` sees its
/// first `seen(r)` keys, the rest are zeroed): scales them by `sc`, raises each row's maximum,
/// replaces the scores by their exponentials, and rescales and adds to the running sums and
/// outputs. Returns `G`.
///
/// Each row's maximum and sum run over its own entries in order, as a loop over one row would;
/// taking `G` rows side by side only gives the core `G` independent chains of comparisons and
/// f64 additions to overlap, where one row's chain waits on each step. The bits are the same.
#[inline(always)]
fn softmax_rows<T: Float, const G: usize>(
    tile: &mut [T],
    nc: usize,
    seen: impl Fn(usize) -> usize,
    sc: T,
    running: Running<'_, T>,
) -> usize {
    let seen: [usize; G] = std::array::from_fn(seen);
    let rows = &mut tile[..G * nc];
    for (row, &live) in rows.chunks_exact_mut(nc).zip(&seen) {
        let (row, hidden) = row.split_at_mut(live);
        hidden.fill(T::of(0.0));
        for x in row {
            *x *= sc;
        }
    }
    let mut m: [T; G] = std::array::from_fn(|r| running.max[r]);
    for j in 0..nc {
        for r in 0..G {
            let x = rows[r * nc + j];
            if j < seen[r] && x > m[r] {
                m[r] = x;
            }
        }
    }
    for (r, row) in rows.chunks_exact_mut(nc).enumerate() {
        for x in &mut row[..seen[r]] {
            *x = (*x - m[r]).tile_exp();
        }
    }
    // -0.0 + x is x for every x, as in `Iterator::sum`.
    let mut s = [-0.0f64; G];
    for j in 0..nc {
        for r in 0..G {
            if j < seen[r] {
                s[r] += rows[r * nc + j].f64();
            }
        }
    }
    let d = running.d;
    for r in 0..G {
        if seen[r] == 0 {
            continue;
        }
        let alpha = (running.max[r] - m[r]).tile_exp();
        running.sum[r] = running.sum[r] * alpha.f64() + s[r];
        running.max[r] = m[r];
        if alpha.f64() != 1.0 {
            for o in &mut running.out[r * d..(r + 1) * d] {
                *o *= alpha;
            }
        }
    }
    G
}

// ---------------------------------------------------------------------------------------------
// Backward

/// `[dq | dk | dv]`, flat, from `q`, `k`, `v`, the output `o`, its gradient `g` and the saved
/// log-sum-exp.
#[allow(clippy::too_many_arguments)]
fn backward<T: Float>(
    q: &[T],
    k: &[T],
    v: &[T],
    o: &[T],
    g: &[T],
    lse: &[T],
    dims: Dims,
    scale: f64,
    backend: Backend,
    stats: &FlashStats,
) -> Vec<T> {
    let d = dims.d;
    // D_i = Σ_d dO_id O_id (= Σ_j dP_ij P_ij), accumulated in f64.
    let mut delta = vec![T::of(0.0); lse.len()];
    if d > 0 {
        let rows = 4096;
        delta
            .par_chunks_mut(rows)
            .enumerate()
            .for_each(|(c, delta)| {
                for (r, x) in delta.iter_mut().enumerate() {
                    let at = (c * rows + r) * d;
                    let dot: f64 = o[at..at + d]
                        .iter()
                        .zip(&g[at..at + d])
                        .map(|(a, b)| a.f64() * b.f64())
                        .sum();
                    *x = T::of(dot);
                }
            });
    }
    let mut grads = vec![T::of(0.0); q.len() + 2 * k.len()];
    let (dq, dkv) = grads.split_at_mut(q.len());
    let (dk, dv) = dkv.split_at_mut(k.len());
    let on = backend;
    let (kv_heads, q_heads) = (dims.b * dims.hkv, dims.b * dims.hq);
    let keys = KeyBlocks {
        k,
        v,
        k_t: Blocks::new(kv_heads, dims.s, |h, c0, nc| {
            T::right(on, dims.kv_rows(k, h, c0, nc).t())
        }),
        v_t: Blocks::new(kv_heads, dims.s, |h, c0, nc| {
            T::right(on, dims.kv_rows(v, h, c0, nc).t())
        }),
        k_blocks: Blocks::new(kv_heads, dims.s, |h, c0, nc| {
            T::right(on, dims.kv_rows(k, h, c0, nc))
        }),
    };
    let queries = QueryBlocks {
        q_left: Blocks::new(q_heads, dims.t, |h, r0, n| {
            T::left(on, dims.q_rows(q, h, r0, n))
        }),
        g_left: Blocks::new(q_heads, dims.t, |h, r0, n| {
            T::left(on, dims.q_rows(g, h, r0, n))
        }),
        q_right: Blocks::new(q_heads, dims.t, |h, r0, n| {
            T::right(on, dims.q_rows(q, h, r0, n))
        }),
        g_right: Blocks::new(q_heads, dims.t, |h, r0, n| {
            T::right(on, dims.q_rows(g, h, r0, n))
        }),
    };
    let ctx = Ctx {
        keys,
        queries,
        lse,
        delta: &delta,
        dims,
        scale,
        backend,
        stats,
    };
    let wide = avx512_available();
    rayon::join(
        || {
            for_each_query_block(dq, dims.t, d, |bh, r0, dq| {
                if wide {
                    // SAFETY: the CPU has AVX-512 F (`avx512_available`).
                    unsafe { ctx.dq_block_avx512(bh, r0, dq) }
                } else {
                    ctx.dq_block(bh, r0, dq)
                }
            });
        },
        || {
            if dk.is_empty() {
                return;
            }
            dk.par_chunks_mut(dims.s * d)
                .zip(dv.par_chunks_mut(dims.s * d))
                .enumerate()
                .for_each(|(bg, (dk, dv))| {
                    dk.par_chunks_mut(BC * d)
                        .zip(dv.par_chunks_mut(BC * d))
                        .enumerate()
                        .for_each(|(kb, (dk, dv))| {
                            if wide {
                                // SAFETY: the CPU has AVX-512 F (`avx512_available`).
                                unsafe { ctx.dkv_block_avx512(bg, kb * BC, dk, dv) }
                            } else {
                                ctx.dkv_block(bg, kb * BC, dk, dv)
                            }
                        });
                });
        },
    );
    grads
}

/// The backward pass's key blocks, prepared once: `Kᵀ` and `Vᵀ` (right operands of the score
/// products) and `K` (of `dq`); and the tensors for partial blocks made on the spot.
struct KeyBlocks<'a, T: Float> {
    k: &'a [T],
    v: &'a [T],
    k_t: Blocks<T::Right<'a>>,
    v_t: Blocks<T::Right<'a>>,
    k_blocks: Blocks<T::Right<'a>>,
}

/// The backward pass's query blocks, prepared once: `Q` and `dO` as left operands (of the score
/// products) and as right operands (of `dk` and `dv`).
struct QueryBlocks<'a, T: Float> {
    q_left: Blocks<T::Left<'a>>,
    g_left: Blocks<T::Left<'a>>,
    q_right: Blocks<T::Right<'a>>,
    g_right: Blocks<T::Right<'a>>,
}

/// What every backward task reads.
struct Ctx<'a, T: Float> {
    keys: KeyBlocks<'a, T>,
    queries: QueryBlocks<'a, T>,
    lse: &'a [T],
    delta: &'a [T],
    dims: Dims,
    scale: f64,
    backend: Backend,
    stats: &'a FlashStats,
}

impl<'a, T: Float> Ctx<'a, T> {
    /// For the `n × nc` tile of query rows `r0..` of head `bh` and keys `c0..`: `p ← P`
    /// (from the scores in `p`) and `dp ← scale · P ∘ (dP − D)` (from `dP` in `dp`); masked
    /// entries become 0.
    #[inline(always)]
    fn probs_and_dscores(
        &self,
        bh: usize,
        r0: usize,
        c0: usize,
        nc: usize,
        p: &mut [T],
        dp: &mut [T],
    ) {
        let sc = T::of(self.scale);
        let at = bh * self.dims.t + r0;
        for (i, (p, dp)) in p
            .chunks_exact_mut(nc)
            .zip(dp.chunks_exact_mut(nc))
            .enumerate()
        {
            let seen = self.dims.visible(r0 + i).saturating_sub(c0).min(nc);
            let (l, dl) = (self.lse[at + i], self.delta[at + i]);
            for (x, y) in p[..seen].iter_mut().zip(&mut dp[..seen]) {
                *x = (*x * sc - l).tile_exp();
                *y = *x * (*y - dl) * sc;
            }
            p[seen..].fill(T::of(0.0));
            dp[seen..].fill(T::of(0.0));
        }
    }

    /// [`Ctx::dq_block`] compiled for AVX-512 F (see [`forward_block_avx512`]).
    #[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx512f"))]
    fn dq_block_avx512(&self, bh: usize, r0: usize, dq: &mut [T]) {
        self.dq_block(bh, r0, dq)
    }

    /// [`Ctx::dkv_block`] compiled for AVX-512 F (see [`forward_block_avx512`]).
    #[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx512f"))]
    fn dkv_block_avx512(&self, bg: usize, c0: usize, dk: &mut [T], dv: &mut [T]) {
        self.dkv_block(bg, c0, dk, dv)
    }

    /// `dq` (`n × D`) of rows `r0..` of query head `bh`: `Σ_keys scale · dS K`.
    #[inline(always)]
    fn dq_block(&self, bh: usize, r0: usize, dq: &mut [T]) {
        let (dims, on, keys) = (self.dims, self.backend, &self.keys);
        let n = dq.len() / dims.d;
        let bg = dims.kv_head(bh);
        let _tiles = T::hold_tiles(on);
        let qm = self.queries.q_left.get(bh, r0);
        let gm = self.queries.g_left.get(bh, r0);
        let visible = dims.visible(r0 + n - 1);
        let mut p: Vec<T> = self.stats.alloc(BR * BC);
        let mut dp: Vec<T> = self.stats.alloc(BR * BC);
        for c0 in (0..visible).step_by(BC) {
            let nc = BC.min(visible - c0);
            let (p, dp) = (&mut p[..n * nc], &mut dp[..n * nc]);
            let block = |x: &'a [T]| dims.kv_rows(x, bg, c0, nc);
            let kt = keys
                .k_t
                .get_or(bg, c0, nc, || T::right(on, block(keys.k).t()));
            let vt = keys
                .v_t
                .get_or(bg, c0, nc, || T::right(on, block(keys.v).t()));
            let kb = keys
                .k_blocks
                .get_or(bg, c0, nc, || T::right(on, block(keys.k)));
            T::mm(qm, &kt, p, nc, false);
            T::mm(gm, &vt, dp, nc, false);
            self.probs_and_dscores(bh, r0, c0, nc, p, dp);
            T::mm(&T::left(on, Mat::new(dp, n, nc)), &kb, dq, dims.d, true);
        }
    }

    /// `dk`, `dv` (`nc × D`) of keys `c0..` of key/value head `bg`: sums over its query heads
    /// (in order) and the query blocks at or below the diagonal (in order).
    #[inline(always)]
    fn dkv_block(&self, bg: usize, c0: usize, dk: &mut [T], dv: &mut [T]) {
        let (dims, on, queries) = (self.dims, self.backend, &self.queries);
        let nc = dk.len() / dims.d;
        let _tiles = T::hold_tiles(on);
        let kt = self.keys.k_t.get(bg, c0);
        let vt = self.keys.v_t.get(bg, c0);
        let rep = dims.hq / dims.hkv;
        let (bi, g) = (bg / dims.hkv, bg % dims.hkv);
        // The first query row that sees key `c0`, rounded down to its block.
        let first = c0.saturating_sub(dims.s - dims.t) / BR * BR;
        let mut p: Vec<T> = self.stats.alloc(BR * BC);
        let mut dp: Vec<T> = self.stats.alloc(BR * BC);
        for h in g * rep..(g + 1) * rep {
            let bh = bi * dims.hq + h;
            for r0 in (first..dims.t).step_by(BR) {
                let n = BR.min(dims.t - r0);
                let (p, dp) = (&mut p[..n * nc], &mut dp[..n * nc]);
                T::mm(queries.q_left.get(bh, r0), kt, p, nc, false);
                T::mm(queries.g_left.get(bh, r0), vt, dp, nc, false);
                self.probs_and_dscores(bh, r0, c0, nc, p, dp);
                let p_t = T::left(on, Mat::new(p, n, nc).t());
                T::mm(&p_t, queries.g_right.get(bh, r0), dv, dims.d, true);
                let dp_t = T::left(on, Mat::new(dp, n, nc).t());
                T::mm(&dp_t, queries.q_right.get(bh, r0), dk, dims.d, true);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The candle ops

/// The forward op; keeps the log-sum-exp of its one forward call for its backward pass.
struct FlashAttention {
    scale: f64,
    backend: Backend,
    lse: Mutex<Option<CpuStorage>>,
    stats: Arc<FlashStats>,
}

fn poisoned<E>(_: E) -> candle_core::Error {
    candle_core::Error::Msg("flash-attention: saved state poisoned by a panic".into())
}

fused_op! {
    CustomOp3 for FlashAttention, "flash-attention",
    fwd(self, s1 l1, s2 l2, s3 l3) {
        let dims = Dims::of(l1, l2, l3, 1)?;
        let name = self.name();
        let (out, lse) = per_float!(s1.dtype(), name, |F| {
            let (o, l) = forward::<F>(
                slice(s1, l1, name)?,
                slice(s2, l2, name)?,
                slice(s3, l3, name)?,
                dims,
                self.scale,
                self.backend,
                &self.stats,
            );
            (F::storage(o), F::storage(l))
        });
        self.stats
            .saved
            .store(dims.b * dims.hq * dims.t, Ordering::Relaxed);
        *self.lse.lock().map_err(poisoned)? = Some(lse);
        Ok((out, l1.shape().clone()))
    }
    bwd(self, q, k, v, res, grad) -> (Option<Tensor>, Option<Tensor>, Option<Tensor>) {
        let saved = self.lse.lock().map_err(poisoned)?;
        let lse = saved.as_ref().ok_or_else(|| {
            candle_core::Error::Msg("flash-attention: backward before forward".into())
        })?;
        // Three inputs per op: k and v, and dO and O, travel stacked along the batch dimension.
        let kv = Tensor::cat(&[k, v], 0)?;
        let go = Tensor::cat(&[grad, res], 0)?;
        let op = FlashBackward {
            scale: self.scale,
            backend: self.backend,
            lse,
            stats: &self.stats,
        };
        let all = q.apply_op3_no_bwd(&kv, &go, &op)?;
        let (nq, nkv) = (q.elem_count(), k.elem_count());
        let dq = all.narrow(0, 0, nq)?.reshape(q.shape())?;
        let dk = all.narrow(0, nq, nkv)?.reshape(k.shape())?;
        let dv = all.narrow(0, nq + nkv, nkv)?.reshape(v.shape())?;
        Ok((Some(dq), Some(dk), Some(dv)))
    }
}

/// The backward op: inputs `q`, `[k; v]` and `[dO; O]` (stacked on the batch dimension), output
/// `[dq | dk | dv]` flat.
struct FlashBackward<'a> {
    scale: f64,
    backend: Backend,
    lse: &'a CpuStorage,
    stats: &'a FlashStats,
}

impl FlashBackward<'_> {
    fn run<T: Float>(
        &self,
        q: &[T],
        kv: &[T],
        go: &[T],
        lse: &[T],
        dims: Dims,
    ) -> candle_core::Result<Vec<T>> {
        let nkv = kv.len() / 2;
        let nq = go.len() / 2;
        if lse.len() != dims.b * dims.hq * dims.t || q.len() != nq {
            candle_core::bail!("flash-attention: saved state does not fit the backward inputs");
        }
        let (k, v) = kv.split_at(nkv);
        let (g, o) = go.split_at(nq);
        let (scale, backend) = (self.scale, self.backend);
        Ok(backward(
            q, k, v, o, g, lse, dims, scale, backend, self.stats,
        ))
    }
}

fused_op! {
    CustomOp3 for FlashBackward<'_>, "flash-attention-bwd",
    fwd(self, s1 l1, s2 l2, s3 l3) {
        let dims = Dims::of(l1, l2, l2, 2)?;
        if l3.dims() != [2 * dims.b, dims.hq, dims.t, dims.d] {
            candle_core::bail!(
                "flash-attention-bwd: [dO; O] {:?} for q {:?}",
                l3.dims(),
                l1.dims()
            );
        }
        let name = self.name();
        let out = per_float!(s1.dtype(), name, |F| {
            // The forward pass saved the log-sum-exp at the inputs' dtype.
            let lse = self
                .lse
                .as_slice::<F>()
                .map_err(|_| unsupported(name, s1.dtype()))?;
            F::storage(self.run(
                slice(s1, l1, name)?,
                slice(s2, l2, name)?,
                slice(s3, l3, name)?,
                lse,
                dims,
            )?)
        });
        let n = l1.shape().elem_count() + l2.shape().elem_count();
        Ok((out, Shape::from(n)))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device, Var};

    use super::*;
    use crate::ModelConfig;
    use crate::matmul::{MatmulBackend, backend};
    use crate::model::{MASK_VALUE, attention};
    use crate::test_util::values_f64;

    fn tensor(shape: &[usize], seed: u64, scale: f64, dtype: DType) -> Tensor {
        let n = shape.iter().product();
        let v: Vec<f64> = values_f64(n, seed).into_iter().map(|x| x * scale).collect();
        Tensor::from_vec(v, shape, &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap()
    }

    /// One attention problem: `q` `[B, Hq, T, D]`, `k`/`v` `[B, Hkv, S, D]`.
    type Case = Dims;

    /// `(out, dq, dk, dv)` of `(out · g).sum()`, by flash or by the materialised path.
    fn run(case: Case, dtype: DType, flash: bool, seed: u64) -> [Tensor; 4] {
        let Case {
            b,
            hq,
            hkv,
            t,
            s,
            d,
        } = case;
        // Queries scaled up so that some rows are peaked, not near-uniform.
        let q = Var::from_tensor(&tensor(&[b, hq, t, d], seed, 3.0, dtype)).unwrap();
        let k = Var::from_tensor(&tensor(&[b, hkv, s, d], seed + 1, 1.0, dtype)).unwrap();
        let v = Var::from_tensor(&tensor(&[b, hkv, s, d], seed + 2, 1.0, dtype)).unwrap();
        let g = tensor(&[b, hq, t, d], seed + 3, 1.0, dtype);
        let config = ModelConfig::tiny_llama(10, hq * d, 1, hq, hkv);
        let out = if flash {
            flash_attention(&q, &k, &v, 1.0 / (d as f64).sqrt(), backend()).unwrap()
        } else {
            let offset = s - t;
            let mask: Vec<f64> = (0..t)
                .flat_map(|i| (0..s).map(move |j| if j > i + offset { MASK_VALUE } else { 0.0 }))
                .collect();
            let mask = Tensor::from_vec(mask, (t, s), &Device::Cpu)
                .unwrap()
                .to_dtype(dtype)
                .unwrap();
            attention(&q, &k, &v, &mask, &config).unwrap()
        };
        let grads = (&out * &g).unwrap().sum_all().unwrap().backward().unwrap();
        let grad = |x: &Var| grads.get(x.as_tensor()).expect("gradient").clone();
        [out.clone(), grad(&q), grad(&k), grad(&v)]
    }

    fn flat(t: &Tensor) -> Vec<f64> {
        t.to_dtype(DType::F64)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap()
    }

    /// The largest `|a − b| / max(1, |b|)`.
    fn rel_err(a: &Tensor, b: &Tensor) -> f64 {
        assert_eq!(a.dims(), b.dims());
        flat(a)
            .iter()
            .zip(flat(b))
            .map(|(x, y)| (x - y).abs() / y.abs().max(1.0))
            .fold(0.0, f64::max)
    }

    /// The f32 tolerance: f32 rounding, or bf16 products where the matmul backend uses them.
    fn f32_tolerance() -> f64 {
        match backend() {
            MatmulBackend::F32 => 1e-5,
            MatmulBackend::Bf16Amx => 2e-2,
        }
    }

    fn compare(case: Case, dtype: DType, tol: f64) {
        let seed = (case.t * 31 + case.s * 7 + case.d + case.hq * 3 + case.b) as u64;
        let flash = run(case, dtype, true, seed);
        let plain = run(case, dtype, false, seed);
        for (name, (a, b)) in ["out", "dq", "dk", "dv"]
            .iter()
            .zip(flash.iter().zip(&plain))
        {
            let err = rel_err(a, b);
            assert!(err <= tol, "{case:?} {dtype:?}: {name} differs by {err:e}");
        }
        if case.s == case.t {
            // Row 0 sees key 0 alone: its output is v[0], and its query gets no gradient.
            let (out, dq) = (&flash[0], &flash[1]);
            let row0 = |x: &Tensor| x.narrow(2, 0, 1).unwrap();
            let v0 = row0(&run_v(case, dtype, seed));
            let rep = case.hq / case.hkv;
            for h in 0..case.hq {
                let want = v0.narrow(1, h / rep, 1).unwrap();
                let got = row0(out).narrow(1, h, 1).unwrap();
                assert!(rel_err(&got, &want) <= tol, "{case:?}: row 0 of head {h}");
            }
            let dq0 = flat(&row0(dq));
            assert!(
                dq0.iter().all(|x| x.abs() <= tol),
                "{case:?}: dq row 0 {dq0:?}"
            );
        }
    }

    /// The `v` that [`run`] builds for `seed`.
    fn run_v(case: Case, dtype: DType, seed: u64) -> Tensor {
        tensor(&[case.b, case.hkv, case.s, case.d], seed + 2, 1.0, dtype)
    }

    #[test]
    fn matches_the_materialised_attention_and_its_gradients_in_f32() {
        let tol = f32_tolerance();
        for t in [1, 2, 7, 63, 64, 65, 130, 257] {
            for (hq, hkv) in [(2, 2), (6, 2)] {
                for d in [8, 64] {
                    for b in [1, 2] {
                        let case = Case {
                            b,
                            hq,
                            hkv,
                            t,
                            s: t,
                            d,
                        };
                        compare(case, DType::F32, tol);
                    }
                }
            }
        }
    }

    #[test]
    fn matches_the_materialised_attention_after_cached_keys() {
        for (t, s) in [(1, 9), (5, 70), (64, 130), (65, 200), (130, 131)] {
            for (hq, hkv, d, b) in [(3, 1, 8, 2), (2, 2, 64, 1)] {
                let case = Case {
                    b,
                    hq,
                    hkv,
                    t,
                    s,
                    d,
                };
                compare(case, DType::F32, f32_tolerance());
                compare(case, DType::F64, 1e-12);
            }
        }
    }

    #[test]
    fn matches_the_materialised_attention_in_f64() {
        for t in [1, 7, 64, 65, 130] {
            let case = Case {
                b: 2,
                hq: 6,
                hkv: 2,
                t,
                s: t,
                d: 8,
            };
            compare(case, DType::F64, 1e-12);
        }
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let case = Case {
            b: 2,
            hq: 6,
            hkv: 2,
            t: 257,
            s: 300,
            d: 64,
        };
        let with = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| run(case, DType::F32, true, 5).map(|x| flat(&x)))
        };
        let (one, two) = (with(1), with(2));
        for (a, b) in one.iter().zip(&two) {
            assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
    }

    #[test]
    fn saves_linear_state_and_bounded_scratch_at_4096_tokens() {
        let (hq, t, d) = (3, 4096, 8);
        let q = Var::from_tensor(&tensor(&[1, hq, t, d], 1, 1.0, DType::F32)).unwrap();
        let k = Var::from_tensor(&tensor(&[1, 1, t, d], 2, 1.0, DType::F32)).unwrap();
        let v = Var::from_tensor(&tensor(&[1, 1, t, d], 3, 1.0, DType::F32)).unwrap();
        let stats = Arc::new(FlashStats::default());
        let out = flash_attention_with_stats(&q, &k, &v, 0.3, backend(), stats.clone()).unwrap();
        assert_eq!(
            stats.saved(),
            hq * t,
            "saved state is one log-sum-exp per row"
        );
        assert!(
            stats.scratch() <= BR * BC,
            "forward tile {}",
            stats.scratch()
        );
        let grads = out.sum_all().unwrap().backward().unwrap();
        assert!(
            stats.scratch() <= BR * BC,
            "backward tile {}",
            stats.scratch()
        );
        for x in [&q, &k, &v] {
            assert_eq!(grads.get(x.as_tensor()).unwrap().dims(), x.dims());
        }
    }

    #[test]
    fn rejects_shapes_that_do_not_fit() {
        let q = tensor(&[1, 3, 4, 8], 1, 1.0, DType::F32);
        let kv = |h: usize, s: usize| tensor(&[1, h, s, 8], 2, 1.0, DType::F32);
        // Hq not a multiple of Hkv; fewer keys than queries; mismatched D; f16.
        assert!(flash_attention(&q, &kv(2, 4), &kv(2, 4), 1.0, backend()).is_err());
        assert!(flash_attention(&q, &kv(1, 3), &kv(1, 3), 1.0, backend()).is_err());
        let wide = tensor(&[1, 1, 4, 16], 3, 1.0, DType::F32);
        assert!(flash_attention(&q, &wide, &wide, 1.0, backend()).is_err());
        let half = q.to_dtype(DType::F16).unwrap();
        let kv16 = kv(1, 4).to_dtype(DType::F16).unwrap();
        assert!(flash_attention(&half, &kv16, &kv16, 1.0, backend()).is_err());
    }

    /// Peak resident set since the last reset, in MiB (`VmHWM`; 0 where /proc is absent).
    fn peak_rss_mib() -> f64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }

    /// User + system CPU seconds of this process so far (0 where /proc is absent).
    fn cpu_seconds() -> f64 {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<f64>().ok()))
            .sum::<f64>()
            / 100.0
    }

    /// Forward + backward of one SmolLM2-shaped attention layer (B = 1, Hq = 9, Hkv = 3,
    /// D = 64, f32): wall and CPU time and the peak RSS above the inputs, flash vs the
    /// materialised path. Not a test (prints only); run it in release:
    ///
    /// ```sh
    /// cargo test --release -p crossgym-policy --lib flash::tests::probe -- --ignored --nocapture
    /// ```
    ///
    /// `FLASH_PROBE_T` (default `512,2048,4096,8192`) picks the lengths, `FLASH_PROBE_OLD_MAX`
    /// (default 4096) the longest one the materialised path runs at. The peak is reset through
    /// `/proc/self/clear_refs` before each run.
    #[test]
    #[ignore = "a measurement, not a test: run it by name in release with --ignored"]
    fn probe() {
        let lengths: Vec<usize> = std::env::var("FLASH_PROBE_T")
            .unwrap_or_else(|_| "512,2048,4096,8192".into())
            .split(',')
            .filter_map(|x| x.trim().parse().ok())
            .collect();
        let old_max: usize = std::env::var("FLASH_PROBE_OLD_MAX")
            .ok()
            .and_then(|x| x.parse().ok())
            .unwrap_or(4096);
        println!(
            "threads {}  matmul backend {:?}",
            rayon::current_num_threads(),
            backend()
        );
        println!(
            "path          T   fwd wall s  fwd+bwd wall s  fwd+bwd cpu s  peak RSS above inputs MiB"
        );
        for &t in &lengths {
            let (hq, hkv, d) = (9, 3, 64);
            let q = Var::from_tensor(&tensor(&[1, hq, t, d], 1, 3.0, DType::F32)).unwrap();
            let k = Var::from_tensor(&tensor(&[1, hkv, t, d], 2, 1.0, DType::F32)).unwrap();
            let v = Var::from_tensor(&tensor(&[1, hkv, t, d], 3, 1.0, DType::F32)).unwrap();
            let g = tensor(&[1, hq, t, d], 4, 1.0, DType::F32);
            let config = ModelConfig::tiny_llama(10, hq * d, 1, hq, hkv);
            for flash in [true, false] {
                if !flash && t > old_max {
                    println!("materialised {t:>5}  (skipped: above FLASH_PROBE_OLD_MAX)");
                    continue;
                }
                let mask = (!flash).then(|| {
                    let m: Vec<f32> = (0..t)
                        .flat_map(|i| {
                            (0..t).map(move |j| if j > i { MASK_VALUE as f32 } else { 0.0 })
                        })
                        .collect();
                    Tensor::from_vec(m, (t, t), &Device::Cpu).unwrap()
                });
                // Reset the peak to the current RSS (inputs and mask included).
                let _ = std::fs::write("/proc/self/clear_refs", "5");
                let base = peak_rss_mib();
                let (wall, cpu) = (std::time::Instant::now(), cpu_seconds());
                let out = match &mask {
                    None => {
                        flash_attention(&q, &k, &v, 1.0 / (d as f64).sqrt(), backend()).unwrap()
                    }
                    Some(mask) => attention(&q, &k, &v, mask, &config).unwrap(),
                };
                let fwd = wall.elapsed().as_secs_f64();
                let grads = (&out * &g).unwrap().sum_all().unwrap().backward().unwrap();
                assert!(grads.get(q.as_tensor()).is_some());
                let total = wall.elapsed().as_secs_f64();
                let cpu = cpu_seconds() - cpu;
                let peak = peak_rss_mib() - base;
                let name = if flash { "flash" } else { "materialised" };
                println!(
                    "{name:<12} {t:>5}  {fwd:>10.3}  {total:>14.3}  {cpu:>13.2}  {peak:>10.1}"
                );
                drop((out, grads));
            }
        }
    }
}
