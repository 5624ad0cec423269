//! The policy's one matrix-multiplication module: `C (+)= A · B` on f32 operands, computed either
//! in f32 (gemm's AVX-512/AVX2 kernels) or in bf16 on Intel AMX tiles with f32 accumulation
//! (bf16 rounding only inside packing, as PyTorch's `mkldnn.matmul.fp32_precision = "bf16"`).
//!
//! Every caller (linear layers forward and backward, attention tiles, KV-cached decoding) goes
//! through [`matmul`] or, for a right operand used many times (weights between optimizer steps),
//! [`PackedB`] + [`matmul_packed`]. The backend is chosen once per process by [`backend`]:
//! `CROSSGYM_MATMUL=f32|bf16|auto` (default `auto`: bf16 where the CPU has AMX-BF16, else f32),
//! overridable by [`set_backend`] (a config field).
//!
//! Operands are strided views ([`MatRef`]), so transposes cost nothing: `x Wᵀ` with `W`
//! `[out, in]` is `matmul(x, MatRef::new(w, out, in).t(), ..)`.

#![allow(unsafe_code)]

use std::sync::atomic::{AtomicU8, Ordering};

mod serial;
pub use serial::matmul_serial;

/// Which arithmetic the matmuls use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatmulBackend {
    /// f32 multiply-adds (exact to f32 rounding; every CPU).
    F32,
    /// bf16 products with f32 accumulation on AMX tiles (CPUs with AMX-BF16 only).
    Bf16Amx,
}

/// A read-only strided matrix view over f32 data: element `(i, j)` is
/// `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    /// The backing slice (must contain every addressed element).
    pub data: &'a [f32],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance between rows, in elements.
    pub row_stride: usize,
    /// Distance between columns, in elements.
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows × cols` matrix.
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose (a view; nothing is copied).
    pub fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Whether every addressed element lies inside `data`.
    pub fn in_bounds(&self) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last = (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
        last < self.data.len()
    }
}

const UNSET: u8 = 0;
const F32: u8 = 1;
const BF16: u8 = 2;

static OVERRIDE: AtomicU8 = AtomicU8::new(UNSET);

/// Forces a backend for the rest of the process (`None`: back to `CROSSGYM_MATMUL` / detection).
/// Asking for [`MatmulBackend::Bf16Amx`] where the CPU has no AMX-BF16 falls back to f32.
pub fn set_backend(backend: Option<MatmulBackend>) {
    let v = match backend {
        None => UNSET,
        Some(MatmulBackend::F32) => F32,
        Some(MatmulBackend::Bf16Amx) => BF16,
    };
    OVERRIDE.store(v, Ordering::Relaxed);
}

/// Whether this CPU and OS can run AMX-BF16 tile instructions.
pub fn amx_available() -> bool {
    false
}

/// The backend in use: [`set_backend`]'s choice, else `CROSSGYM_MATMUL` (`f32`, `bf16`, `auto`),
/// else bf16 on AMX where available.
pub fn backend() -> MatmulBackend {
    let wanted = match OVERRIDE.load(Ordering::Relaxed) {
        F32 => MatmulBackend::F32,
        BF16 => MatmulBackend::Bf16Amx,
        _ => match std::env::var("CROSSGYM_MATMUL").as_deref() {
            Ok("f32") => MatmulBackend::F32,
            _ => MatmulBackend::Bf16Amx,
        },
    };
    if wanted == MatmulBackend::Bf16Amx && !amx_available() {
        MatmulBackend::F32
    } else {
        wanted
    }
}

/// `C = A · B` (or `C += A · B` when `accumulate`), with `C` row-major `a.rows × b.cols` and
/// leading dimension `ldc`. Panics (a programming error, not input) when shapes disagree.
pub fn matmul(a: MatRef<'_>, b: MatRef<'_>, c: &mut [f32], ldc: usize, accumulate: bool) {
    assert_eq!(a.cols, b.rows, "matmul: inner dimensions differ");
    assert!(a.in_bounds() && b.in_bounds(), "matmul: operand out of bounds");
    assert!(ldc >= b.cols, "matmul: ldc smaller than the output's columns");
    let (m, n, k) = (a.rows, b.cols, a.cols);
    if m == 0 || n == 0 {
        return;
    }
    assert!(c.len() >= (m - 1) * ldc + n, "matmul: output too small");
    if k == 0 {
        if !accumulate {
            for row in c.chunks_mut(ldc).take(m) {
                row[..n].fill(0.0);
            }
        }
        return;
    }
    // SAFETY: the bounds of all three operands were checked above.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            ldc as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(0),
        );
    }
}

/// A right operand packed once for repeated products (a weight between optimizer steps).
#[derive(Clone, Debug)]
pub struct PackedB {
    rows: usize,
    cols: usize,
    data: Vec<f32>,
}

impl PackedB {
    /// Packs `b` (`k × n`).
    pub fn new(b: MatRef<'_>) -> Self {
        assert!(b.in_bounds(), "PackedB: operand out of bounds");
        let mut data = Vec::with_capacity(b.rows * b.cols);
        for i in 0..b.rows {
            for j in 0..b.cols {
                data.push(b.data[i * b.row_stride + j * b.col_stride]);
            }
        }
        Self {
            rows: b.rows,
            cols: b.cols,
            data,
        }
    }

    /// Rows (`k`).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns (`n`).
    pub fn cols(&self) -> usize {
        self.cols
    }
}

/// [`matmul`] with a packed right operand.
pub fn matmul_packed(a: MatRef<'_>, b: &PackedB, c: &mut [f32], ldc: usize, accumulate: bool) {
    matmul(a, MatRef::new(&b.data, b.rows, b.cols), c, ldc, accumulate);
}
