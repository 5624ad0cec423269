//! The bf16 AMX backend: `C (+)= A · B` with operands rounded to bf16 while packing
//! ([`super::pack`]) and f32 accumulation in tiles.
//!
//! # Blocking
//! The output is cut into 32 × 32 blocks of four 16 × 16 f32 tiles. The micro-kernel keeps one
//! block in tile registers `tmm0..tmm3`, loads two A tiles (`tmm4`, `tmm5`) and two B tiles
//! (`tmm6`, `tmm7`) per 32-wide step of `k`, and issues four `tdpbf16ps`: 8 KiB of operands per
//! 32 768 multiply-adds. Blocks with a single row tile (`m ≤ 16`, the last odd tile) use a 1 × 2
//! variant. `k` is walked in chunks of at most [`K_TILES_PER_CHUNK`] tiles (the chunk's two A
//! tiles, 32 KiB, stay in L1 while the B panel of [`N_PAIRS_PER_BLOCK`] column pairs streams from
//! L2); between chunks the block goes back to memory as f32, which loses nothing. Each step
//! prefetches the B tiles two steps ahead into L1: tile registers are not renamed, so a tile load
//! that misses stalls the products behind it (on a 576 × 49152 weight at m = 32, about 28% of
//! the product's time).
//!
//! # Edges
//! A block that lies wholly inside `C` is loaded and stored in place (`tileloadd` with stride
//! `ldc`). A block that crosses `C`'s last row or column goes through a 32 × 32 scratch buffer,
//! and only its valid part is copied in and out; the padded rows and columns of the packed
//! operands are zeros, so the valid part is never touched by them.
//!
//! # Threads and determinism
//! Blocks are grouped into tasks (row ranges when `m` is large, column ranges when `m` is small,
//! as in decoding) that rayon's current pool runs in parallel. Every output element is produced
//! by exactly one task, from the same tiles in the same `k` order whatever the task split, so the
//! result does not depend on the number of threads.
//!
//! # Tile state
//! The tile configuration (palette 1, eight 16 × 64-byte tiles) is per thread, and rayon may run
//! a task on any of its workers, so each task opens a [`TileSession`]: the first open session of
//! a thread runs `ldtilecfg`, the last one to close `tilerelease` (which lets the kernel skip
//! saving 8 KiB of tile data at context switches). A caller that runs many small products on one
//! thread (flash attention's tiles) keeps a session open around them, so the tiles are
//! configured once. Every session loads the same configuration, and a task never calls out
//! while tiles hold data, so nothing else can reconfigure them under it.
#![allow(unsafe_code)]

use std::arch::asm;
use std::cell::Cell;
use std::marker::PhantomData;

use rayon::prelude::*;

use super::MatRef;
use super::pack::{PackedTiles, TILE_N, TILE_ROWS, Tile, TileGrid, pack_a};

/// Most `k` tiles (of 32) per chunk: 16 keeps a row pair's A tiles (32 KiB) in L1.
pub(crate) const K_TILES_PER_CHUNK: usize = 16;
/// Column-tile pairs per panel of B walked by all row pairs of a task (256 columns: 256 KiB of B
/// per chunk, well inside L2).
pub(crate) const N_PAIRS_PER_BLOCK: usize = 8;
/// Below this many multiply-adds a product runs on the calling thread only.
const PARALLEL_MIN_MACS: usize = 1 << 21;
/// Tasks per pool thread, for balance on a shared machine.
const TASKS_PER_THREAD: usize = 4;

/// `C (+)= A · B[.., ..n]` on AMX, for a right operand held in any [`TileGrid`]: the tiles of
/// [`super::pack::pack_b`] of a `k × n` matrix, or the growing key and value tiles of
/// [`super::append`] (which may hold more rows than `a.cols`: `A`'s zero padding multiplies
/// them). Large products run on rayon's pool when `may_spread`, others on the calling thread.
/// The caller checked shapes and bounds, that `m, n, k > 0`, and that AMX is available.
pub(crate) fn matmul<B: TileGrid + ?Sized>(
    a: MatRef<'_>,
    b: &B,
    n: usize,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
    may_spread: bool,
) {
    let (m, k) = (a.rows, a.cols);
    debug_assert!(m > 0 && n > 0 && k > 0 && c.len() >= (m - 1) * ldc + n);
    let threads = rayon::current_num_threads();
    let parallel = may_spread && threads > 1 && m * n * k >= PARALLEL_MIN_MACS;
    let a = pack_a(a, parallel);
    let threads = parallel.then_some(threads);
    matmul_packed_a(&a, m, b, n, (c, ldc), accumulate, threads);
}

/// [`matmul`] for a left operand already packed ([`pack_a`] of an `m`-row matrix; for callers
/// that multiply one left block by many right ones), on `threads` pool threads (`None`: the
/// calling thread). The caller checked what [`matmul`]'s does.
pub(crate) fn matmul_packed_a<B: TileGrid + ?Sized>(
    a: &PackedTiles,
    m: usize,
    b: &B,
    n: usize,
    (c, ldc): (&mut [f32], usize),
    accumulate: bool,
    threads: Option<usize>,
) {
    debug_assert!(m > 0 && n > 0 && a.k_tiles > 0 && c.len() >= (m - 1) * ldc + n);
    let parallel = threads.is_some();
    let job = Job {
        a,
        b,
        m,
        n,
        c: SharedOut(c.as_mut_ptr()),
        ldc,
        accumulate,
        chunk: chunk_len(a.k_tiles),
    };
    let row_pairs = a.outer_tiles.div_ceil(2);
    let col_pairs = n.div_ceil(2 * TILE_N);
    let tasks = split(row_pairs, col_pairs, threads.unwrap_or(1));
    if parallel {
        tasks.into_par_iter().for_each(|t| job.run(t));
    } else {
        tasks.into_iter().for_each(|t| job.run(t));
    }
}

/// The chunk length along `k` (in tiles): chunks of equal length, at most
/// [`K_TILES_PER_CHUNK`], fixed by `k` alone (never by the thread count).
fn chunk_len(k_tiles: usize) -> usize {
    let chunks = k_tiles.div_ceil(K_TILES_PER_CHUNK);
    k_tiles.div_ceil(chunks)
}

/// A rectangle of 32 × 32 blocks: row pairs `rows`, column pairs `cols`.
#[derive(Clone, Copy, Debug)]
struct Task {
    rows: (usize, usize),
    cols: (usize, usize),
}

/// About `TASKS_PER_THREAD × threads` tasks: row ranges first (each task then reads all of B
/// once), column ranges when there are too few row pairs (small `m`: decoding).
fn split(row_pairs: usize, col_pairs: usize, threads: usize) -> Vec<Task> {
    let target = if threads > 1 {
        threads * TASKS_PER_THREAD
    } else {
        1
    };
    let row_parts = row_pairs.min(target).max(1);
    let col_parts = target.div_ceil(row_parts).min(col_pairs).max(1);
    let ranges = |len: usize, parts: usize| {
        (0..parts).map(move |i| (i * len / parts, (i + 1) * len / parts))
    };
    let mut tasks = Vec::with_capacity(row_parts * col_parts);
    for rows in ranges(row_pairs, row_parts) {
        for cols in ranges(col_pairs, col_parts) {
            tasks.push(Task { rows, cols });
        }
    }
    tasks
}

/// The output pointer, shared by tasks that write disjoint blocks.
#[derive(Clone, Copy)]
struct SharedOut(*mut f32);
// SAFETY: tasks write disjoint rectangles of the output (see `split`), and the borrow of `c` in
// `matmul` outlives all of them.
unsafe impl Send for SharedOut {}
// SAFETY: as above.
unsafe impl Sync for SharedOut {}

/// One product's operands and output, shared by its tasks.
struct Job<'a, B: TileGrid + ?Sized> {
    a: &'a PackedTiles,
    b: &'a B,
    m: usize,
    n: usize,
    c: SharedOut,
    ldc: usize,
    accumulate: bool,
    chunk: usize,
}

/// A 32 × 32 f32 staging block for output blocks that cross `C`'s edges.
#[repr(C, align(64))]
struct Scratch([f32; 32 * 32]);

impl<B: TileGrid + ?Sized> Job<'_, B> {
    fn run(&self, task: Task) {
        let _tiles = TileSession::start();
        let mut scratch = Scratch([0.0; 32 * 32]);
        let k_tiles = self.a.k_tiles;
        for (chunk_index, kt0) in (0..k_tiles).step_by(self.chunk).enumerate() {
            let kts = self.chunk.min(k_tiles - kt0);
            let load = self.accumulate || chunk_index > 0;
            for block0 in (task.cols.0..task.cols.1).step_by(N_PAIRS_PER_BLOCK) {
                let block1 = (block0 + N_PAIRS_PER_BLOCK).min(task.cols.1);
                for row_pair in task.rows.0..task.rows.1 {
                    for col_pair in block0..block1 {
                        self.block(row_pair, col_pair, kt0, kts, load, &mut scratch);
                    }
                }
            }
        }
    }

    /// Accumulates k-tiles `kt0..kt0 + kts` into the 32 × 32 output block `(row_pair, col_pair)`.
    fn block(
        &self,
        row_pair: usize,
        col_pair: usize,
        kt0: usize,
        kts: usize,
        load: bool,
        scratch: &mut Scratch,
    ) {
        let (mt, nt) = (2 * row_pair, 2 * col_pair);
        let two_rows = mt + 1 < self.a.outer_tiles;
        let (row0, col0) = (mt * TILE_ROWS, nt * TILE_N);
        let rows = (self.m - row0).min(if two_rows { 32 } else { 16 });
        let cols = (self.n - col0).min(32);
        let a0 = self.a.tile_ptr(mt, kt0);
        let a1 = if two_rows {
            self.a.tile_ptr(mt + 1, kt0)
        } else {
            a0
        };
        let b0 = self.b.tile_ptr(nt, kt0);
        let b1 = self.b.tile_ptr(nt + 1, kt0);
        let full = rows == 16 * (1 + usize::from(two_rows)) && cols == 32;
        // SAFETY (for the pointer arithmetic below): (row0, col0) is inside C because the block
        // has at least one valid row and column.
        let corner = unsafe { self.c.0.add(row0 * self.ldc + col0) };
        let kernel = |c: *mut f32, ldc: usize| {
            // SAFETY: AMX is available and this thread's tiles were configured by the
            // TileSession of the running task; a0/a1/b0/b1 each start `kts` consecutive tiles
            // inside their packed operand; `c` addresses a 16- or 32-row × 32-column f32 block
            // with row stride `ldc` that lies inside C (full blocks) or the scratch buffer.
            unsafe {
                let block = BlockOperands {
                    b: [b0, b1],
                    kts,
                    c,
                    ldc_bytes: ldc * 4,
                    load,
                };
                if two_rows {
                    kernel_2x2([a0, a1], block);
                } else {
                    kernel_1x2(a0, block);
                }
            }
        };
        if full {
            kernel(corner, self.ldc);
            return;
        }
        if load {
            for r in 0..rows {
                // SAFETY: row r < rows and the first `cols` columns of the block are inside C.
                let src = unsafe { std::slice::from_raw_parts(corner.add(r * self.ldc), cols) };
                scratch.0[r * 32..r * 32 + cols].copy_from_slice(src);
            }
        }
        kernel(scratch.0.as_mut_ptr(), 32);
        for r in 0..rows {
            // SAFETY: as above; this task is the only writer of this block.
            let dst = unsafe { std::slice::from_raw_parts_mut(corner.add(r * self.ldc), cols) };
            dst.copy_from_slice(&scratch.0[r * 32..r * 32 + cols]);
        }
    }
}

thread_local! {
    /// How many [`TileSession`]s are open on this thread.
    static OPEN_SESSIONS: Cell<usize> = const { Cell::new(0) };
}

/// The tiles of this thread configured while it lives: the first open session loads the
/// configuration, the last one to close releases the tiles. Tied to its thread (not `Send`).
pub(crate) struct TileSession(PhantomData<*const ()>);

/// `ldtilecfg`'s 64-byte operand: palette 1, tiles 0–7 of 16 rows × 64 bytes.
#[repr(C, align(64))]
struct TileConfig([u8; 64]);

const CONFIG: TileConfig = {
    let mut bytes = [0u8; 64];
    bytes[0] = 1; // palette 1
    let mut t = 0;
    while t < 8 {
        bytes[16 + 2 * t] = 64; // colsb (u16, little-endian): 64 bytes per row
        bytes[48 + t] = 16; // rows
        t += 1;
    }
    TileConfig(bytes)
};

impl TileSession {
    /// Opens a session; the caller checked [`super::amx_available`].
    pub(crate) fn start() -> Self {
        OPEN_SESSIONS.with(|open| {
            if open.get() == 0 {
                // SAFETY: AMX is available and permitted in this process (checked by the
                // caller through `amx_available`); CONFIG is a valid palette-1 configuration.
                unsafe { asm!("ldtilecfg [{}]", in(reg) &CONFIG, options(nostack, readonly)) };
            }
            open.set(open.get() + 1);
        });
        TileSession(PhantomData)
    }
}

impl Drop for TileSession {
    fn drop(&mut self) {
        OPEN_SESSIONS.with(|open| {
            let still_open = open.get() - 1;
            open.set(still_open);
            if still_open == 0 {
                // SAFETY: returns the tile registers to their initial state; touches no memory.
                unsafe { asm!("tilerelease", options(nostack, nomem)) };
            }
        });
    }
}

/// What a micro-kernel reads besides its A tiles: the first of `kts` consecutive k-tiles of each
/// of two B column tiles, and the f32 block of C (`ldc_bytes` apart) that it starts from (when
/// `load`, else from zero) and writes.
#[derive(Clone, Copy)]
struct BlockOperands {
    b: [*const Tile; 2],
    kts: usize,
    c: *mut f32,
    ldc_bytes: usize,
    load: bool,
}

/// Assembly that prefetches the B tiles two k-steps ahead of `{b0}` and `{b1}`, line by line,
/// into L1: tile loads wait for them otherwise, and the tile registers are not renamed, so
/// nothing hides that wait.
macro_rules! prefetch_b_tiles_two_steps_ahead {
    () => {
        ".irp off, 0, 64, 128, 192, 256, 320, 384, 448, 512, 576, 640, 704, 768, 832, 896, 960
         prefetcht0 [{b0} + 2048 + \\off]
         prefetcht0 [{b1} + 2048 + \\off]
         .endr"
    };
}

/// Assembly that moves each named tile pointer to its next k-tile (1,024 bytes on), counts `{kts}`
/// down and loops back to label `4` while k-tiles remain.
macro_rules! next_k_tile_and_loop {
    ($($pointer:ident),+) => {
        concat!($("add {", stringify!($pointer), "}, 1024\n",)+ "dec {kts}\njnz 4b")
    };
}

/// `C[32×32] (+)= A[32×32k] · B[32k×32]` over `kts` k-tiles: C tiles in tmm0..tmm3 (tmm0 = top
/// left, tmm1 = top right, tmm2 = bottom left, tmm3 = bottom right), A row tiles in tmm4/tmm5,
/// B column tiles in tmm6/tmm7. `load`: start from C (else from zero).
///
/// # Safety
/// Tiles configured by [`TileSession`]; `a0`, `a1` and `block.b` each start `kts ≥ 1`
/// consecutive tiles; `c` addresses 32 rows × 32 f32 at `ldc_bytes` apart, readable and writable.
#[inline]
unsafe fn kernel_2x2([a0, a1]: [*const Tile; 2], block: BlockOperands) {
    // SAFETY: the caller's contract above; `c_low` is the block's 17th row.
    unsafe {
        let c_low = block.c.byte_add(16 * block.ldc_bytes);
        asm!(
            "test {load}, {load}",
            "jz 3f",
            "tileloadd tmm0, [{c} + {ldc}*1]",
            "tileloadd tmm1, [{c} + {ldc}*1 + 64]",
            "tileloadd tmm2, [{c_low} + {ldc}*1]",
            "tileloadd tmm3, [{c_low} + {ldc}*1 + 64]",
            "jmp 4f",
            "3:",
            "tilezero tmm0",
            "tilezero tmm1",
            "tilezero tmm2",
            "tilezero tmm3",
            "4:",
            prefetch_b_tiles_two_steps_ahead!(),
            "tileloadd tmm4, [{a0} + {s}*1]",
            "tileloadd tmm6, [{b0} + {s}*1]",
            "tdpbf16ps tmm0, tmm4, tmm6",
            "tileloadd tmm5, [{a1} + {s}*1]",
            "tdpbf16ps tmm2, tmm5, tmm6",
            "tileloadd tmm7, [{b1} + {s}*1]",
            "tdpbf16ps tmm1, tmm4, tmm7",
            "tdpbf16ps tmm3, tmm5, tmm7",
            next_k_tile_and_loop!(a0, a1, b0, b1),
            "tilestored [{c} + {ldc}*1], tmm0",
            "tilestored [{c} + {ldc}*1 + 64], tmm1",
            "tilestored [{c_low} + {ldc}*1], tmm2",
            "tilestored [{c_low} + {ldc}*1 + 64], tmm3",
            load = in(reg) usize::from(block.load),
            c = in(reg) block.c,
            c_low = in(reg) c_low,
            ldc = in(reg) block.ldc_bytes,
            a0 = inout(reg) a0 => _,
            a1 = inout(reg) a1 => _,
            b0 = inout(reg) block.b[0] => _,
            b1 = inout(reg) block.b[1] => _,
            kts = inout(reg) block.kts => _,
            s = in(reg) 64usize,
            options(nostack),
        );
    }
}

/// The one-row-tile variant of [`kernel_2x2`]: `C[16×32] (+)= A[16×32k] · B[32k×32]`, C tiles in
/// tmm0/tmm1, A in tmm4, B in tmm6/tmm7.
///
/// # Safety
/// As [`kernel_2x2`], with 16 rows of `c`.
#[inline]
unsafe fn kernel_1x2(a0: *const Tile, block: BlockOperands) {
    // SAFETY: the caller's contract above.
    unsafe {
        asm!(
            "test {load}, {load}",
            "jz 3f",
            "tileloadd tmm0, [{c} + {ldc}*1]",
            "tileloadd tmm1, [{c} + {ldc}*1 + 64]",
            "jmp 4f",
            "3:",
            "tilezero tmm0",
            "tilezero tmm1",
            "4:",
            prefetch_b_tiles_two_steps_ahead!(),
            "tileloadd tmm4, [{a0} + {s}*1]",
            "tileloadd tmm6, [{b0} + {s}*1]",
            "tdpbf16ps tmm0, tmm4, tmm6",
            "tileloadd tmm7, [{b1} + {s}*1]",
            "tdpbf16ps tmm1, tmm4, tmm7",
            next_k_tile_and_loop!(a0, b0, b1),
            "tilestored [{c} + {ldc}*1], tmm0",
            "tilestored [{c} + {ldc}*1 + 64], tmm1",
            load = in(reg) usize::from(block.load),
            c = in(reg) block.c,
            ldc = in(reg) block.ldc_bytes,
            a0 = inout(reg) a0 => _,
            b0 = inout(reg) block.b[0] => _,
            b1 = inout(reg) block.b[1] => _,
            kts = inout(reg) block.kts => _,
            s = in(reg) 64usize,
            options(nostack),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_cover_every_block_once() {
        for (rows, cols) in [(1, 1), (1, 48), (16, 48), (3, 5), (100, 2), (2, 1536)] {
            for threads in [1, 2, 3, 8] {
                let mut seen = vec![0u8; rows * cols];
                for t in split(rows, cols, threads) {
                    for r in t.rows.0..t.rows.1 {
                        for c in t.cols.0..t.cols.1 {
                            seen[r * cols + c] += 1;
                        }
                    }
                }
                assert!(
                    seen.iter().all(|&s| s == 1),
                    "{rows}×{cols}, {threads} threads"
                );
            }
        }
    }

    #[test]
    fn chunks_depend_on_k_only_and_stay_small() {
        for k_tiles in 1..200 {
            let len = chunk_len(k_tiles);
            assert!((1..=K_TILES_PER_CHUNK).contains(&len));
            assert!(k_tiles.div_ceil(len) == k_tiles.div_ceil(K_TILES_PER_CHUNK));
        }
    }
}
