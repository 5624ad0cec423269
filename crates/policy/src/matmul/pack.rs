//! Packing f32 operands into the bf16 tiles that AMX multiplies.
//!
//! A tile is 16 rows of 64 bytes (1 KiB, 64-byte aligned). `tdpbf16ps C, A, B` takes
//!
//! * `A`: 16 rows (`m`) × 32 bf16 along `k`: row `i` holds `A[i][k0..k0 + 32]`;
//! * `B`: 16 rows of 16 *pairs* (the "VNNI" layout): row `p` holds, for each output column `j`,
//!   the pair `(B[k0 + 2p][j], B[k0 + 2p + 1][j])`;
//! * `C`: 16 × 16 f32, `C[i][j] += Σ_p A[i][2p]·B[2p][j] + A[i][2p+1]·B[2p+1][j]`.
//!
//! Both operands are therefore tiles of 256 `u32` words, each a bf16 pair along `k` (low half =
//! the even `k`): an A tile is the pair matrix `P[i][p]` of 16 rows of `A`, a B tile is the
//! *transposed* pair matrix of 16 rows of `Bᵀ`. [`pack_a`] and [`pack_b`] share one routine,
//! [`pack_tile`], that reads a 16 × 32 block of a view (rows = the outer index, `m` for A and `n`
//! for B; columns = `k`) and writes it in either orientation.
//!
//! A packed operand is a grid of tiles, `outer_tiles × k_tiles`, stored outer-major: the tiles
//! that one micro-kernel walks along `k` are consecutive 1 KiB blocks, so its loads stream.
//! Edges are padded with zeros, which makes any `m`, `n`, `k` work: a padded `k` multiplies zero
//! by zero (never a zero by an infinity of the other operand), and padded rows and columns of the
//! result are never copied out. B gets an even number of column tiles so that the micro-kernel
//! always has a pair.
//!
//! f32 → bf16 rounding ([`super::bf16`]) happens here and only here: the products of two bf16 are
//! exact in f32 and the tiles accumulate in f32, so rounding the operands once is the whole
//! precision cost of the bf16 backend (the same contract as PyTorch's bf16 "fp32 precision").
//!
//! The loops are plain Rust, written so that LLVM vectorizes them; on x86_64 they are compiled a
//! second time with AVX-512 enabled, which every AMX CPU has.
#![allow(unsafe_code)]

use rayon::prelude::*;

use super::MatRef;
use super::bf16::f32_to_bf16_bits;

/// Rows (of `m`, or `k` pairs for B) in a tile.
pub(crate) const TILE_ROWS: usize = 16;
/// bf16 values along `k` in one A-tile row (64 bytes).
pub(crate) const TILE_K: usize = 32;
/// f32 output columns of a C tile (64 bytes).
pub(crate) const TILE_N: usize = 16;

/// One AMX tile: 16 rows × 16 bf16 pairs.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(crate) struct Tile(pub(crate) [u32; 256]);

impl Tile {
    pub(crate) const ZERO: Tile = Tile([0; 256]);
}

/// An operand packed as `outer_tiles × k_tiles` tiles, outer-major.
#[derive(Clone)]
pub(crate) struct PackedTiles {
    /// The tiles; tile `(o, kt)` is `tiles[o * k_tiles + kt]`.
    pub(crate) tiles: Vec<Tile>,
    /// Tiles along `k` (`ceil(k / 32)`).
    pub(crate) k_tiles: usize,
    /// Tiles along the outer dimension (`ceil(m / 16)` for A; `ceil(n / 16)` rounded up to even
    /// for B).
    pub(crate) outer_tiles: usize,
}

/// A right operand's B tiles as the micro-kernels read them: for each outer (column) tile, its
/// tiles along `k` one after another, 1 KiB apart.
///
/// # Safety
/// The AMX kernels read through [`TileGrid::tile_ptr`] without bounds checks. An implementation
/// must return, for every outer tile `o` below an even count and every `kt` below its `k` tiles,
/// a pointer to a tile followed by all of that outer tile's later k-tiles, contiguous, and must
/// keep them alive and unchanged while `&self` is borrowed.
pub(crate) unsafe trait TileGrid: Sync {
    /// The first of the consecutive tiles of outer tile `o`, from k-tile `kt` on.
    fn tile_ptr(&self, o: usize, kt: usize) -> *const Tile;
}

// SAFETY: tiles are stored outer-major, `k_tiles` per outer tile, `outer_tiles` (even for B) of
// them; the slice index panics rather than return a pointer outside the vector.
unsafe impl TileGrid for PackedTiles {
    fn tile_ptr(&self, o: usize, kt: usize) -> *const Tile {
        self.tiles[o * self.k_tiles + kt..].as_ptr()
    }
}

/// Packs the left operand `a` (`m × k`) into A tiles.
pub(crate) fn pack_a(a: MatRef<'_>, parallel: bool) -> PackedTiles {
    pack(a, a.rows.div_ceil(TILE_ROWS), false, parallel)
}

/// Packs the right operand `b` (`k × n`) into B (VNNI) tiles.
pub(crate) fn pack_b(b: MatRef<'_>, parallel: bool) -> PackedTiles {
    let outer = b.cols.div_ceil(TILE_N).next_multiple_of(2);
    pack(b.t(), outer, true, parallel)
}

/// Packs `x` (rows = the outer dimension, columns = `k`) into `outer` × `ceil(k/32)` tiles.
fn pack(x: MatRef<'_>, outer: usize, transposed: bool, parallel: bool) -> PackedTiles {
    let k_tiles = x.cols.div_ceil(TILE_K);
    let mut tiles = vec![Tile::ZERO; outer * k_tiles];
    if k_tiles > 0 {
        let fill = |(o, row): (usize, &mut [Tile])| {
            for (kt, tile) in row.iter_mut().enumerate() {
                pack_tile(x, o * TILE_ROWS, kt * TILE_K, transposed, tile);
            }
        };
        if parallel {
            tiles.par_chunks_mut(k_tiles).enumerate().for_each(fill);
        } else {
            tiles.chunks_mut(k_tiles).enumerate().for_each(fill);
        }
    }
    PackedTiles {
        tiles,
        k_tiles,
        outer_tiles: outer,
    }
}

/// Packs the 16 × 32 block of `x` at `(r0, k0)` into `tile`: the pair `(x[r0+r][k0+2p],
/// x[r0+r][k0+2p+1])` goes to word `r * 16 + p`, or `p * 16 + r` when `transposed`. Elements
/// outside `x` are zero.
fn pack_tile(x: MatRef<'_>, r0: usize, k0: usize, transposed: bool, tile: &mut Tile) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512bw") {
        // SAFETY: the CPU has AVX-512 F and BW (checked just above).
        unsafe { pack_tile_avx512(x, r0, k0, transposed, tile) };
        return;
    }
    pack_tile_portable(x, r0, k0, transposed, tile);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
fn pack_tile_avx512(x: MatRef<'_>, r0: usize, k0: usize, transposed: bool, tile: &mut Tile) {
    pack_tile_portable(x, r0, k0, transposed, tile);
}

/// One bf16 pair: `lo` in the low half (the even `k`), `hi` in the high half.
#[inline(always)]
pub(crate) fn pair(lo: f32, hi: f32) -> u32 {
    u32::from(f32_to_bf16_bits(lo)) | (u32::from(f32_to_bf16_bits(hi)) << 16)
}

#[inline(always)]
fn pack_tile_portable(x: MatRef<'_>, r0: usize, k0: usize, transposed: bool, tile: &mut Tile) {
    let full = r0 + TILE_ROWS <= x.rows && k0 + TILE_K <= x.cols;
    let out = &mut tile.0;
    let at = |r: usize, p: usize| if transposed { p * 16 + r } else { r * 16 + p };
    if full && x.col_stride == 1 {
        // Each of the 16 rows is 32 contiguous floats: convert, then place 16 pairs.
        for r in 0..TILE_ROWS {
            let start = (r0 + r) * x.row_stride + k0;
            let src: &[f32; TILE_K] = x.data[start..start + TILE_K].try_into().unwrap();
            let mut pairs = [0u32; 16];
            for (p, w) in pairs.iter_mut().enumerate() {
                *w = pair(src[2 * p], src[2 * p + 1]);
            }
            if transposed {
                for (p, w) in pairs.into_iter().enumerate() {
                    out[p * 16 + r] = w;
                }
            } else {
                out[r * 16..r * 16 + 16].copy_from_slice(&pairs);
            }
        }
    } else if full && x.row_stride == 1 {
        // Each column (fixed k) is 16 contiguous floats: pair columns 2p and 2p+1 lane-wise.
        for p in 0..TILE_K / 2 {
            let even = r0 + (k0 + 2 * p) * x.col_stride;
            let odd = even + x.col_stride;
            let lo: &[f32; TILE_ROWS] = x.data[even..even + TILE_ROWS].try_into().unwrap();
            let hi: &[f32; TILE_ROWS] = x.data[odd..odd + TILE_ROWS].try_into().unwrap();
            let mut pairs = [0u32; 16];
            for (r, w) in pairs.iter_mut().enumerate() {
                *w = pair(lo[r], hi[r]);
            }
            if transposed {
                out[p * 16..p * 16 + 16].copy_from_slice(&pairs);
            } else {
                for (r, w) in pairs.into_iter().enumerate() {
                    out[r * 16 + p] = w;
                }
            }
        }
    } else {
        // Any strides, and the zero-padded edges.
        let get = |r: usize, k: usize| {
            if r < x.rows && k < x.cols {
                x.data[r * x.row_stride + k * x.col_stride]
            } else {
                0.0
            }
        };
        for r in 0..TILE_ROWS {
            for p in 0..TILE_K / 2 {
                let (row, k) = (r0 + r, k0 + 2 * p);
                out[at(r, p)] = pair(get(row, k), get(row, k + 1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matmul::round_to_bf16;

    fn bf16_at(word: u32, high: bool) -> f32 {
        f32::from_bits(if high { word & 0xFFFF_0000 } else { word << 16 })
    }

    /// Every element of a packed operand, read back from its documented position.
    fn check(x: MatRef<'_>, packed: &PackedTiles, transposed: bool) {
        for o in 0..packed.outer_tiles * TILE_ROWS {
            for k in 0..packed.k_tiles * TILE_K {
                let tile = &packed.tiles[(o / 16) * packed.k_tiles + k / 32].0;
                let (r, p) = (o % 16, (k % 32) / 2);
                let word = tile[if transposed { p * 16 + r } else { r * 16 + p }];
                let want = if o < x.rows && k < x.cols {
                    round_to_bf16(x.data[o * x.row_stride + k * x.col_stride])
                } else {
                    0.0
                };
                assert_eq!(bf16_at(word, k % 2 == 1), want, "outer {o}, k {k}");
            }
        }
    }

    #[test]
    fn every_layout_packs_to_the_documented_positions() {
        let data: Vec<f32> = (0..100 * 90).map(|i| (i as f32 * 0.37).sin()).collect();
        for (rows, cols) in [(1, 1), (16, 32), (17, 33), (40, 70), (48, 64)] {
            let views = [
                MatRef::new(&data, rows, cols),
                MatRef::new(&data, cols, rows).t(),
                MatRef {
                    data: &data,
                    rows,
                    cols,
                    row_stride: 90,
                    col_stride: 1,
                },
                MatRef {
                    data: &data,
                    rows,
                    cols,
                    row_stride: 1,
                    col_stride: 97,
                },
                MatRef {
                    data: &data,
                    rows,
                    cols,
                    row_stride: 2,
                    col_stride: 95,
                },
            ];
            for x in views {
                check(x, &pack_a(x, false), false);
                check(x, &pack_a(x, true), false);
                // B = xᵀ, so its outer dimension is x's rows again.
                let b = pack_b(x.t(), false);
                assert_eq!(b.outer_tiles % 2, 0);
                check(x, &b, true);
            }
        }
    }
}
