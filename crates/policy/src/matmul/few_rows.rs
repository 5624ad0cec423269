//! Products of a few left rows against B tiles with AVX-512 BF16 dot products (`vdpbf16ps`)
//! instead of AMX tiles: decoding, where a step's left operand is one query token's heads
//! (three rows for SmolLM2) and its right operand a long bf16 KV cache, or one to four tokens
//! against a packed weight (`matmul_packed`, spread over the pool by column ranges).
//!
//! An AMX tile product costs the same for 1 row as for 16, and its left operand must first be
//! packed into 1 KiB tiles (mostly zero rows here) and its output go through a scratch block.
//! A B tile's row `p` holds, for 16 output columns, the bf16 pair `(k = 2p, 2p + 1)` of each
//! (the VNNI layout of [`super::pack`]); `vdpbf16ps` multiplies such a row by one broadcast pair
//! of `A` and adds both products to 16 f32 lanes. So each tile row is read from memory once and
//! used by every left row, the left rows are converted to bf16 pairs once, and the accumulators
//! stay in registers: the product streams `B` at memory speed.
//!
//! Arithmetic: the operands are the bf16 values the AMX backend multiplies (the left rows rounded
//! to nearest, ties to even), every product is exact and sums are in f32, each output element
//! along `k` in a fixed order (two products per instruction, then pair after pair), so a row's
//! result does not depend on the other rows or on the thread it runs on. The order is not the
//! AMX tiles' order, so results differ from [`super::amx`] in the last bits.
#![allow(unsafe_code)]

use std::arch::x86_64::{
    __m512bh, __m512i, _MM_HINT_T0, _mm_prefetch, _mm512_add_ps, _mm512_dpbf16_ps,
    _mm512_load_si512, _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps, _mm512_set1_epi32,
    _mm512_setzero_ps,
};
use std::sync::OnceLock;

use rayon::prelude::*;

use super::MatRef;
use super::pack::{TILE_K, TILE_N, TILE_ROWS, TileGrid, pair};

/// Most left rows this kernel takes (four accumulator registers per row).
pub(crate) const FEW_ROWS: usize = 4;
/// Column ranges per pool thread in [`matmul_few_rows_spread`], for balance on a shared machine.
const TASKS_PER_THREAD: usize = 4;
/// How many k-tiles ahead of the one it multiplies the kernel asks the cache for (16 lines of
/// each of its two column tiles per k-tile): the hardware prefetcher alone leaves the two
/// streams short of memory bandwidth.
const PREFETCH_TILES_AHEAD: usize = 4;

/// Whether this CPU has the AVX-512 F and BF16 instructions the kernel uses. Probed once.
pub(crate) fn few_rows_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bf16")
    })
}

/// `a`'s rows as bf16 pairs, `words` per row: word `j` holds columns `2j` (low half) and
/// `2j + 1` (high half), zero past `a.cols`. The caller checked [`few_rows_available`].
fn bf16_pairs(a: MatRef<'_>, words: usize) -> Vec<u32> {
    let mut pairs = vec![0u32; a.rows * words];
    for (i, row) in pairs.chunks_exact_mut(words).enumerate() {
        if a.col_stride == 1 {
            let values = &a.data[i * a.row_stride..][..a.cols];
            // SAFETY: the caller checked that the CPU has AVX-512 F.
            unsafe { pair_row_avx512(values, row) };
        } else {
            let at = |j: usize| {
                if j < a.cols {
                    a.data[i * a.row_stride + j * a.col_stride]
                } else {
                    0.0
                }
            };
            for (j, word) in row.iter_mut().enumerate().take(a.cols.div_ceil(2)) {
                *word = pair(at(2 * j), at(2 * j + 1));
            }
        }
    }
    pairs
}

/// [`pair_row`] compiled for AVX-512 (the loop vectorises).
///
/// # Safety
/// The CPU has AVX-512 F.
#[target_feature(enable = "avx512f")]
unsafe fn pair_row_avx512(values: &[f32], out: &mut [u32]) {
    pair_row(values, out);
}

/// Contiguous `values` as bf16 pairs into the first `ceil(len / 2)` words of `out`.
#[inline(always)]
fn pair_row(values: &[f32], out: &mut [u32]) {
    let whole = values.chunks_exact(2);
    let last = whole.remainder().first().copied();
    let pairs = whole.len();
    for (word, two) in out.iter_mut().zip(whole) {
        *word = pair(two[0], two[1]);
    }
    if let Some(x) = last {
        out[pairs] = pair(x, 0.0);
    }
}

/// [`matmul_few_rows`] spread over rayon's pool by ranges of 32 columns (for large `n`: a
/// weight), each range into its own buffer, then copied into `C`; `A`'s bf16 pairs are made once
/// for all ranges. Every output element is the same sum whatever the split.
pub(crate) fn matmul_few_rows_spread<B: TileGrid + ?Sized>(
    a: MatRef<'_>,
    b: &B,
    n: usize,
    (c, ldc): (&mut [f32], usize),
    accumulate: bool,
) {
    let pairs = n.div_ceil(2 * TILE_N);
    let parts = (rayon::current_num_threads() * TASKS_PER_THREAD).min(pairs);
    if parts <= 1 {
        return matmul_few_rows(a, b, (0, n), (c, ldc), accumulate);
    }
    check_few_rows(a.rows, n, c.len(), ldc);
    let k_tiles = a.cols.div_ceil(TILE_K);
    let a_pairs = bf16_pairs(a, k_tiles * TILE_ROWS);
    let ranges: Vec<(usize, usize)> = (0..parts)
        .map(|i| {
            let start = i * pairs / parts * 2 * TILE_N;
            let end = ((i + 1) * pairs / parts * 2 * TILE_N).min(n);
            (start, end - start)
        })
        .collect();
    let blocks: Vec<Vec<f32>> = ranges
        .par_iter()
        .map(|&(first, cols)| {
            let mut block = vec![0f32; a.rows * cols];
            let out = Out {
                c: &mut block,
                ldc: cols,
                first_tile: first / TILE_N,
                n: cols,
                accumulate: false,
            };
            // SAFETY: as in `matmul_few_rows` (checked above for all of `C`; `block` holds
            // `m` rows of `cols`).
            unsafe { product_of_pairs(&a_pairs, a.rows, k_tiles, b, out) };
            block
        })
        .collect();
    for (&(first, cols), block) in ranges.iter().zip(blocks) {
        for (row, part) in c.chunks_mut(ldc).zip(block.chunks_exact(cols)) {
            let dst = &mut row[first..first + cols];
            if accumulate {
                dst.iter_mut().zip(part).for_each(|(d, p)| *d += p);
            } else {
                dst.copy_from_slice(part);
            }
        }
    }
}

/// `C (+)= A · B[.., first..first + n]` (`first = first_tile · TILE_N`) for
/// `a.rows ≤ FEW_ROWS`, `B` in tiles whose rows past `a.cols` (if any) meet `A`'s zero padding,
/// on the calling thread. The caller checked shapes and bounds (`C` holds `(m − 1)·ldc + n`
/// values), that `m, n, k > 0`, and [`few_rows_available`].
pub(crate) fn matmul_few_rows<B: TileGrid + ?Sized>(
    a: MatRef<'_>,
    b: &B,
    (first_tile, n): (usize, usize),
    (c, ldc): (&mut [f32], usize),
    accumulate: bool,
) {
    check_few_rows(a.rows, n, c.len(), ldc);
    let k_tiles = a.cols.div_ceil(TILE_K);
    let pairs = bf16_pairs(a, k_tiles * TILE_ROWS);
    let out = Out {
        c,
        ldc,
        first_tile,
        n,
        accumulate,
    };
    // SAFETY: AVX-512 F and BF16 are present and `out` holds every row (checked above);
    // `pairs` holds `m` rows of `k_tiles · 16` words; `b`'s TileGrid promise covers its column
    // tiles below `ceil(n / 16)` (rounded up to even) with `k_tiles` tiles each.
    unsafe { product_of_pairs(&pairs, a.rows, k_tiles, b, out) }
}

/// Panics unless `m` rows of `n` columns `ldc` apart fit `c_len` outputs, `1 ≤ m ≤ FEW_ROWS`,
/// `n > 0`, and the CPU has AVX-512 BF16.
fn check_few_rows(m: usize, n: usize, c_len: usize, ldc: usize) {
    assert!(
        (1..=FEW_ROWS).contains(&m) && n > 0 && c_len >= (m - 1) * ldc + n,
        "matmul_few_rows: {m} rows, {n} columns, {c_len} outputs (ldc {ldc})"
    );
    assert!(few_rows_available(), "matmul_few_rows needs AVX-512 BF16");
}

/// The kernel for `m` rows of `A` already in bf16 pairs.
///
/// # Safety
/// As [`kernel`], with `M = m` (`1 ≤ m ≤ FEW_ROWS`).
unsafe fn product_of_pairs<B: TileGrid + ?Sized>(
    pairs: &[u32],
    m: usize,
    k_tiles: usize,
    b: &B,
    out: Out<'_>,
) {
    // SAFETY: the caller's contract above.
    unsafe {
        match m {
            1 => kernel::<1, B>(pairs, k_tiles, b, out),
            2 => kernel::<2, B>(pairs, k_tiles, b, out),
            3 => kernel::<3, B>(pairs, k_tiles, b, out),
            _ => kernel::<4, B>(pairs, k_tiles, b, out),
        }
    }
}

/// Where the kernel writes: `m` rows of `n` columns, `ldc` apart.
struct Out<'a> {
    c: &'a mut [f32],
    ldc: usize,
    /// The column tile of `B` that `C`'s first column is in.
    first_tile: usize,
    n: usize,
    accumulate: bool,
}

/// The product for exactly `M` rows; see [`matmul_few_rows`]. Column tiles go in pairs and
/// each tile's even and odd rows (pairs of `k`) into separate accumulators, four independent
/// chains per left row, added at the end: a single chain would wait on each `vdpbf16ps`'s
/// latency.
///
/// # Safety
/// The CPU has AVX-512 F and BF16; `pairs` holds `M · k_tiles · 16` words; `out.first_tile` is
/// even and for every column tile `o < ceil(out.n / 16)` rounded up to even,
/// `b.tile_ptr(out.first_tile + o, 0)` starts `k_tiles` consecutive live tiles; `out.c` holds
/// `(M − 1)·ldc + n` values.
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn kernel<const M: usize, B: TileGrid + ?Sized>(
    pairs: &[u32],
    k_tiles: usize,
    b: &B,
    out: Out<'_>,
) {
    let words = k_tiles * TILE_ROWS;
    debug_assert_eq!(pairs.len(), M * words);
    debug_assert!(out.first_tile.is_multiple_of(2));
    for o in (0..out.n.div_ceil(TILE_N)).step_by(2) {
        let tiles = [
            b.tile_ptr(out.first_tile + o, 0),
            b.tile_ptr(out.first_tile + o + 1, 0),
        ];
        // [column tile][parity of the tile row][left row].
        let mut acc = [[[_mm512_setzero_ps(); M]; 2]; 2];
        for kt in 0..k_tiles {
            // SAFETY: tile `kt` of both column tiles is live (the caller's promise).
            let tile = unsafe { [&*tiles[0].add(kt), &*tiles[1].add(kt)] };
            let at = kt * TILE_ROWS;
            // Past the last k-tile this asks for the next column tiles (or for nothing of
            // use): a prefetch never faults, and `wrapping_add` keeps the address arithmetic
            // defined.
            let ahead = tiles.map(|t| t.wrapping_add(kt + PREFETCH_TILES_AHEAD).cast::<i8>());
            for p in 0..TILE_ROWS {
                for line in ahead {
                    _mm_prefetch::<_MM_HINT_T0>(line.wrapping_add(p * 64));
                }
                // SAFETY: a tile row is 16 words, 64-byte aligned (`Tile` is `align(64)`).
                let rows = tile.map(|t| unsafe {
                    as_bf16(_mm512_load_si512(t.0.as_ptr().add(p * TILE_N).cast()))
                });
                for i in 0..M {
                    let pair = as_bf16(_mm512_set1_epi32(pairs[i * words + at + p] as i32));
                    for (t, row) in rows.iter().enumerate() {
                        let acc = &mut acc[t][p % 2][i];
                        *acc = _mm512_dpbf16_ps(*acc, pair, *row);
                    }
                }
            }
        }
        for (t, [even, odd]) in acc.iter().enumerate() {
            let first = (o + t) * TILE_N;
            if first >= out.n {
                break;
            }
            let cols = (out.n - first).min(TILE_N);
            let mask = ((1u32 << cols) - 1) as u16;
            for i in 0..M {
                let sum = _mm512_add_ps(even[i], odd[i]);
                let at = i * out.ldc + first;
                let dst = out.c[at..at + cols].as_mut_ptr();
                // SAFETY: the mask covers the `cols` values of `dst`, inside `out.c` (sliced
                // above).
                unsafe {
                    let value = if out.accumulate {
                        _mm512_add_ps(sum, _mm512_maskz_loadu_ps(mask, dst))
                    } else {
                        sum
                    };
                    _mm512_mask_storeu_ps(dst, mask, value);
                }
            }
        }
    }
}

/// The 32 bf16 lanes of a 512-bit integer vector.
#[inline(always)]
fn as_bf16(x: __m512i) -> __m512bh {
    // SAFETY: both are 512-bit vectors of plain bits; every bit pattern is a valid bf16 lane.
    unsafe { std::mem::transmute::<__m512i, __m512bh>(x) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matmul::pack::pack_b;
    use crate::matmul::{amx_available, round_to_bf16};

    fn matrix(len: usize, seed: f32) -> Vec<f32> {
        (0..len).map(|i| ((i as f32 + seed) * 0.61).cos()).collect()
    }

    /// `Σ_p bf16(a[i][p]) · bf16(b[p][j])` in f64, and a bound on an f32 sum's error.
    fn exact(a: &[f32], b: &[f32], (k, n): (usize, usize), i: usize, j: usize) -> (f64, f64) {
        let (mut sum, mut size) = (0f64, 0f64);
        for p in 0..k {
            let (x, y) = (round_to_bf16(a[i * k + p]), round_to_bf16(b[p * n + j]));
            sum += f64::from(x) * f64::from(y);
            size += f64::from(x.abs() * y.abs());
        }
        (sum, (k as f64 + 2.0) * size / f64::from(1u32 << 24))
    }

    #[test]
    fn few_rows_match_an_exact_reference_and_the_amx_tiles() {
        // (m, k, n): one and several rows, k and n off the tile sizes, k = 1.
        let shapes = [
            (1, 64, 1),
            (3, 64, 45),
            (3, 50, 130),
            (4, 100, 33),
            (2, 1, 16),
        ];
        if !(few_rows_available() && amx_available()) {
            eprintln!("SKIPPED: no AVX-512 BF16 or AMX on this CPU (matmul_few_rows)");
            return;
        }
        for (m, k, n) in shapes {
            let a = matrix(m * k, 1.0);
            let b = matrix(k * n, 2.0);
            let tiles = pack_b(MatRef::new(&b, k, n), false);
            let ldc = n + 3;
            for accumulate in [false, true] {
                let start = matrix(m * ldc, 3.0);
                let (mut few, mut amx) = (start.clone(), start.clone());
                let av = MatRef::new(&a, m, k);
                matmul_few_rows(av, &tiles, (0, n), (&mut few, ldc), accumulate);
                crate::matmul::amx::matmul(av, &tiles, n, &mut amx, ldc, accumulate, false);
                for i in 0..m {
                    for j in 0..ldc {
                        let at = i * ldc + j;
                        if j >= n {
                            assert_eq!(few[at], start[at], "({i}, {j}) past n was written");
                            continue;
                        }
                        let (sum, bound) = exact(&a, &b, (k, n), i, j);
                        let want = sum
                            + if accumulate {
                                f64::from(start[at])
                            } else {
                                0.0
                            };
                        for (name, got) in [("few rows", few[at]), ("amx", amx[at])] {
                            assert!(
                                (f64::from(got) - want).abs() <= bound + 1e-6,
                                "{name} {m}×{k}·{k}×{n} ({i}, {j}): {got} vs {want}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_row_gives_the_same_bits_alone_or_beside_others() {
        if !few_rows_available() {
            eprintln!("SKIPPED: no AVX-512 BF16 on this CPU (matmul_few_rows)");
            return;
        }
        let (k, n) = (64, 70);
        let a = matrix(4 * k, 4.0);
        let b = matrix(k * n, 5.0);
        let tiles = pack_b(MatRef::new(&b, k, n), false);
        let mut all = vec![0f32; 4 * n];
        matmul_few_rows(MatRef::new(&a, 4, k), &tiles, (0, n), (&mut all, n), false);
        for i in 0..4 {
            let mut one = vec![0f32; n];
            let row = MatRef::new(&a[i * k..(i + 1) * k], 1, k);
            matmul_few_rows(row, &tiles, (0, n), (&mut one, n), false);
            assert_eq!(one, all[i * n..(i + 1) * n], "row {i}");
        }
    }

    #[test]
    fn spreading_columns_over_the_pool_changes_no_bit() {
        if !few_rows_available() {
            eprintln!("SKIPPED: no AVX-512 BF16 on this CPU (matmul_few_rows_spread)");
            return;
        }
        let (m, k, n) = (3, 96, 1000);
        let a = matrix(m * k, 6.0);
        let b = matrix(k * n, 7.0);
        let tiles = pack_b(MatRef::new(&b, k, n), false);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        for accumulate in [false, true] {
            let start = matrix(m * n, 8.0);
            let (mut one, mut spread) = (start.clone(), start);
            let av = MatRef::new(&a, m, k);
            matmul_few_rows(av, &tiles, (0, n), (&mut one, n), accumulate);
            pool.install(|| matmul_few_rows_spread(av, &tiles, n, (&mut spread, n), accumulate));
            assert_eq!(one, spread, "accumulate {accumulate}");
        }
    }
}
