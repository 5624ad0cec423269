//! Right operands that grow one vector at a time, kept in the bf16 B tiles that AMX multiplies
//! ([`super::pack`]), so a product against them packs only its left operand: the keys and values
//! of a KV cache in bf16 mode, to which every decoding step appends a token and which every step
//! then reads whole.
//!
//! * [`AppendCols`]: `B` is `k × n` with `k` fixed, and grows by whole columns (a head's keys as
//!   `Kᵀ`: `k` = head dimension, one column per token). Its tiles are stored outer-major as
//!   [`super::pack::pack_b`] stores them, so a new column only writes into the last column tile,
//!   and a new pair of column tiles (32 columns) is appended when that one is full.
//! * [`AppendRows`]: `B` is `k × n` with `n` fixed, and grows by whole rows (a head's values `V`:
//!   one row per token, `n` = head dimension). One tile vector per column tile, each growing
//!   along `k`, so a new row writes one bf16 half of 16 words in each column tile and a new tile
//!   per column tile is appended every 32 rows.
//!
//! Values are rounded to bf16 (to nearest, ties to even) when appended; unwritten positions stay
//! zero. [`matmul_appended`] multiplies a f32 left operand (rounded to bf16 while packed) by either,
//! on the calling thread, with f32 accumulation: the arithmetic of the bf16 AMX backend.
//!
//! Unsafe code here is only the [`TileGrid`] promise (which tiles a pointer may walk) that the
//! AMX kernels rely on.
#![allow(unsafe_code)]

use super::MatRef;
use super::bf16::f32_to_bf16_bits;
use super::few_rows::{FEW_ROWS, few_rows_available, matmul_few_rows};
use super::pack::{TILE_K, TILE_N, Tile, TileGrid};

/// Sets the bf16 half (`high`: the odd `k` of the pair) of a tile word to `x` rounded.
#[inline(always)]
fn set_half(word: &mut u32, x: f32, high: bool) {
    let bits = u32::from(f32_to_bf16_bits(x));
    *word = if high {
        (*word & 0x0000_FFFF) | (bits << 16)
    } else {
        (*word & 0xFFFF_0000) | bits
    };
}

/// A bf16 `k × n` right operand, `k` fixed, grown by appending columns; see the module docs.
#[derive(Clone)]
pub(crate) struct AppendCols {
    tiles: Vec<Tile>,
    k: usize,
    k_tiles: usize,
    cols: usize,
}

impl AppendCols {
    /// An empty operand with `k` rows.
    pub(crate) fn new(k: usize) -> Self {
        Self {
            tiles: Vec::new(),
            k,
            k_tiles: k.div_ceil(TILE_K),
            cols: 0,
        }
    }

    /// An empty operand with the same `k`.
    pub(crate) fn emptied(&self) -> Self {
        Self::new(self.k)
    }

    /// Appends column `n`: `col` holds its `k` values (rounded to bf16).
    pub(crate) fn push(&mut self, col: &[f32]) {
        assert_eq!(
            col.len(),
            self.k,
            "AppendCols::push: column of the wrong length"
        );
        let (o, r) = (self.cols / TILE_N, self.cols % TILE_N);
        if o * self.k_tiles >= self.tiles.len() {
            // Column tiles come in pairs, as the micro-kernels read them.
            let len = self.tiles.len() + 2 * self.k_tiles;
            self.tiles.resize(len, Tile::ZERO);
        }
        for (kt, chunk) in col.chunks(TILE_K).enumerate() {
            let tile = &mut self.tiles[o * self.k_tiles + kt].0;
            for (p, pair) in chunk.chunks(2).enumerate() {
                let word = &mut tile[p * TILE_N + r];
                set_half(word, pair[0], false);
                set_half(word, pair.get(1).copied().unwrap_or(0.0), true);
            }
        }
        self.cols += 1;
    }
}

// SAFETY: column tiles are allocated in pairs, each `k_tiles` long and outer-major, so every
// column tile below `2 · ceil(cols / 32)` has all its k-tiles from any `kt` on, contiguous; the
// slice index panics rather than point outside the vector.
unsafe impl TileGrid for AppendCols {
    fn tile_ptr(&self, o: usize, kt: usize) -> *const Tile {
        self.tiles[o * self.k_tiles + kt..(o + 1) * self.k_tiles].as_ptr()
    }
}

/// A bf16 `k × n` right operand, `n` fixed, grown by appending rows; see the module docs.
#[derive(Clone)]
pub(crate) struct AppendRows {
    /// Per column tile (an even number of them), its tiles along `k`.
    columns: Vec<Vec<Tile>>,
    n: usize,
    rows: usize,
}

impl AppendRows {
    /// An empty operand with `n` columns.
    pub(crate) fn new(n: usize) -> Self {
        let outer = n.div_ceil(TILE_N).next_multiple_of(2);
        Self {
            columns: vec![Vec::new(); outer],
            n,
            rows: 0,
        }
    }

    /// An empty operand with the same `n`.
    pub(crate) fn emptied(&self) -> Self {
        Self::new(self.n)
    }

    /// Appends row `k`: `row` holds its `n` values (rounded to bf16).
    pub(crate) fn push(&mut self, row: &[f32]) {
        assert_eq!(
            row.len(),
            self.n,
            "AppendRows::push: row of the wrong length"
        );
        let (kt, within) = (self.rows / TILE_K, self.rows % TILE_K);
        let (p, high) = (within / 2, within % 2 == 1);
        if within == 0 {
            for column in &mut self.columns {
                column.push(Tile::ZERO);
            }
        }
        for (column, values) in self.columns.iter_mut().zip(row.chunks(TILE_N)) {
            let tile = &mut column[kt].0;
            for (r, &x) in values.iter().enumerate() {
                set_half(&mut tile[p * TILE_N + r], x, high);
            }
        }
        self.rows += 1;
    }
}

// SAFETY: every column tile (an even number of them) holds its k-tiles contiguously in its own
// vector; the slice index panics rather than point outside it.
unsafe impl TileGrid for AppendRows {
    fn tile_ptr(&self, o: usize, kt: usize) -> *const Tile {
        self.columns[o][kt..].as_ptr()
    }
}

impl std::fmt::Debug for AppendCols {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (k, n) = self.shape();
        write!(f, "AppendCols({k}×{n} bf16)")
    }
}

impl std::fmt::Debug for AppendRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (k, n) = self.shape();
        write!(f, "AppendRows({k}×{n} bf16)")
    }
}

/// The two growing operands, for [`matmul_appended`].
pub(crate) trait Appended: TileGrid {
    /// `B`'s rows (`k`) and columns (`n`) so far.
    fn shape(&self) -> (usize, usize);
}

impl Appended for AppendCols {
    fn shape(&self) -> (usize, usize) {
        (self.k, self.cols)
    }
}

impl Appended for AppendRows {
    fn shape(&self) -> (usize, usize) {
        (self.rows, self.n)
    }
}

/// `C = A · B[..a.cols, ..n]` (or `C +=` when `accumulate`; `C` row-major with leading dimension
/// `ldc`), on the calling thread, with `A` rounded to bf16 and f32 accumulation: on AMX tiles, or
/// with AVX-512 BF16 dot products for a few rows of `A` (decoding; [`super::few_rows`]).
/// Panics (a programming error) when `a.cols` or `n` exceed `B`'s shape, or when
/// [`super::amx_available`] is false (callers hold such operands only in bf16 mode).
pub(crate) fn matmul_appended(
    a: MatRef<'_>,
    b: &impl Appended,
    n: usize,
    (c, ldc): (&mut [f32], usize),
    accumulate: bool,
) {
    let (rows, cols) = b.shape();
    assert!(
        a.cols <= rows && n <= cols,
        "matmul_appended: {}×{} · {rows}×{cols} [..{n}]",
        a.rows,
        a.cols
    );
    assert!(super::amx_available(), "matmul_appended needs AMX-BF16");
    if !super::check_and_trivial(a, n, c, ldc, accumulate) {
        return;
    }
    // The caller's own tasks already spread the work (one per head and query block).
    if a.rows <= FEW_ROWS && few_rows_available() {
        matmul_few_rows(a, b, (0, n), (c, ldc), accumulate);
    } else {
        super::amx::matmul(a, b, n, c, ldc, accumulate, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matmul::pack::{PackedTiles, pack_b};
    use crate::matmul::{amx_available, round_to_bf16};

    fn matrix(len: usize, seed: f32) -> Vec<f32> {
        (0..len).map(|i| ((i as f32 + seed) * 0.37).sin()).collect()
    }

    /// The row-major `k × n` matrix `b` grown column by column, and row by row.
    fn grown(b: &[f32], k: usize, n: usize) -> (AppendCols, AppendRows) {
        let mut cols = AppendCols::new(k);
        for j in 0..n {
            let col: Vec<f32> = (0..k).map(|i| b[i * n + j]).collect();
            cols.push(&col);
        }
        let mut rows = AppendRows::new(n);
        for i in 0..k {
            rows.push(&b[i * n..(i + 1) * n]);
        }
        (cols, rows)
    }

    fn words(t: &Tile) -> &[u32; 256] {
        &t.0
    }

    /// `pack_b`'s tile `(o, kt)`.
    fn packed_tile(p: &PackedTiles, o: usize, kt: usize) -> &Tile {
        &p.tiles[o * p.k_tiles + kt]
    }

    #[test]
    fn appended_tiles_equal_packing_the_whole_operand() {
        for (k, n) in [(1, 1), (64, 1), (64, 17), (64, 33), (50, 70), (96, 16)] {
            // B is k × n row-major.
            let b = matrix(k * n, 0.5);
            let packed = pack_b(MatRef::new(&b, k, n), false);
            let (cols, rows) = grown(&b, k, n);
            assert_eq!((cols.shape(), rows.shape()), ((k, n), (k, n)));
            for o in 0..packed.outer_tiles {
                for kt in 0..packed.k_tiles {
                    let want = words(packed_tile(&packed, o, kt));
                    // SAFETY (test): tile_ptr points at a live tile of each operand.
                    let (c, r) = unsafe { (&*cols.tile_ptr(o, kt), &*rows.tile_ptr(o, kt)) };
                    assert_eq!(words(c), want, "cols {k}×{n} tile ({o}, {kt})");
                    assert_eq!(words(r), want, "rows {k}×{n} tile ({o}, {kt})");
                }
            }
        }
    }

    #[test]
    fn products_match_an_exact_reference_on_bf16_inputs() {
        if !amx_available() {
            eprintln!("SKIPPED: no AMX-BF16 on this CPU (matmul_appended)");
            return;
        }
        // (m, k used, k stored, n used, n stored): prefixes of the grown operands too.
        for (m, k, k_all, n, n_all) in [
            (3, 64, 64, 1, 1),
            (3, 64, 64, 45, 77),
            (40, 64, 64, 130, 130),
            (3, 45, 77, 64, 64),
            (17, 100, 100, 48, 48),
        ] {
            let a = matrix(m * k, 1.0);
            let b = matrix(k_all * n_all, 2.0);
            let (cols, rows) = grown(&b, k_all, n_all);
            let mut got_cols = vec![f32::NAN; m * n];
            let mut got_rows = vec![f32::NAN; m * n];
            let av = MatRef::new(&a, m, k);
            if k == k_all {
                matmul_appended(av, &cols, n, (&mut got_cols, n), false);
            }
            if n == n_all {
                matmul_appended(av, &rows, n, (&mut got_rows, n), false);
            }
            for i in 0..m {
                for j in 0..n {
                    let (mut exact, mut size) = (0f64, 0f64);
                    for p in 0..k {
                        let (x, y) = (round_to_bf16(a[i * k + p]), round_to_bf16(b[p * n_all + j]));
                        exact += f64::from(x) * f64::from(y);
                        size += f64::from(x.abs() * y.abs());
                    }
                    let bound = (k as f64 + 2.0) * size / f64::from(1u32 << 24);
                    for (got, used) in [(&got_cols, k == k_all), (&got_rows, n == n_all)] {
                        if used {
                            let g = f64::from(got[i * n + j]);
                            assert!(
                                (g - exact).abs() <= bound,
                                "{m}×{k}·{k_all}×{n_all}[..{n}] ({i}, {j}): {g} vs {exact}"
                            );
                        }
                    }
                }
            }
        }
    }
}
