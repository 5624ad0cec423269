//! [`matmul_serial`]: a product of [`super::matmul_with`]'s arithmetic on the calling thread
//! only, for callers that already split their work over rayon tasks (the attention tiles of
//! [`crate::flash`] and of the rollout engine's f32 caches); and its prepared form
//! ([`PreparedLeft`], [`PreparedRight`], [`matmul_prepared`]) for a block that takes part in
//! many products, converted to the backend's operand layout once.

use super::{MatRef, MatmulBackend};
#[cfg(target_arch = "x86_64")]
use super::{amx, amx_available, pack};

/// `C = A · B` (or `C += A · B` when `accumulate`), `C` with leading dimension `ldc`, on `backend`, as [`super::matmul_with`] (same
/// contract, same panics on shape errors), but computed on the calling thread with no rayon work
/// of its own.
///
/// Meant for small products (tiles of a few dozen rows) inside a parallel loop, where nested
/// parallelism would only add scheduling cost. Results are identical whatever the thread count.
/// On [`MatmulBackend::Bf16Amx`] (where [`super::amx_available`]) both operands are packed into bf16
/// tiles and multiplied on AMX, always (no few-row dot-product kernel: the callers' tiles are
/// blocks of up to 64 rows), so the bits equal [`super::matmul_with`]'s wherever that takes the
/// AMX kernel too (more than four rows); elsewhere it computes in f32.
pub fn matmul_serial(
    backend: MatmulBackend,
    a: MatRef<'_>,
    b: MatRef<'_>,
    (c, ldc): (&mut [f32], usize),
    accumulate: bool,
) {
    if !super::check_operands(a, b, (c, ldc), accumulate) {
        return;
    }
    let (a, b) = (
        PreparedLeft::new(backend, a),
        PreparedRight::new(backend, b),
    );
    matmul_prepared(&a, &b, (c, ldc), accumulate);
}

/// The calling thread's AMX tiles kept configured while it lives (on [`MatmulBackend::Bf16Amx`]
/// where [`super::amx_available`]; nothing otherwise): a run of small [`matmul_prepared`] or
/// [`matmul_serial`] products on this thread then loads the tile configuration once instead of
/// once per product. Tied to its thread (not `Send`).
pub struct TilesHeld {
    #[cfg(target_arch = "x86_64")]
    _session: Option<amx::TileSession>,
    #[cfg(not(target_arch = "x86_64"))]
    _thread: std::marker::PhantomData<*const ()>,
}

/// Keeps the calling thread's tiles configured for `backend` until the guard drops (see
/// [`TilesHeld`]).
pub fn hold_tiles(backend: MatmulBackend) -> TilesHeld {
    TilesHeld {
        #[cfg(target_arch = "x86_64")]
        _session: (backend == MatmulBackend::Bf16Amx && amx_available())
            .then(amx::TileSession::start),
        #[cfg(not(target_arch = "x86_64"))]
        _thread: {
            let _ = backend;
            std::marker::PhantomData
        },
    }
}

/// An operand in the form one backend multiplies: the f32 view itself (gemm reads any strides),
/// or the bf16 tiles of the AMX backend (rounded and laid out once).
enum Prepared<'a> {
    View(MatRef<'a>),
    #[cfg(target_arch = "x86_64")]
    Tiles {
        tiles: pack::PackedTiles,
        rows: usize,
        cols: usize,
    },
}

/// Which operand of a product a [`Prepared`] is.
#[derive(Clone, Copy)]
enum Side {
    Left,
    Right,
}

impl<'a> Prepared<'a> {
    /// `x` as the `side` operand of products on `backend`.
    fn new(backend: MatmulBackend, x: MatRef<'a>, side: Side) -> Self {
        match backend {
            #[cfg(target_arch = "x86_64")]
            MatmulBackend::Bf16Amx if amx_available() => Prepared::Tiles {
                tiles: match side {
                    Side::Left => pack::pack_a(x, false),
                    Side::Right => pack::pack_b(x, false),
                },
                rows: x.rows,
                cols: x.cols,
            },
            _ => {
                let _ = side;
                Prepared::View(x)
            }
        }
    }

    fn shape(&self) -> (usize, usize) {
        match self {
            Prepared::View(m) => (m.rows, m.cols),
            #[cfg(target_arch = "x86_64")]
            Prepared::Tiles { rows, cols, .. } => (*rows, *cols),
        }
    }
}

/// A left operand (`m × k`) of [`matmul_prepared`], converted once for `backend`: a block that
/// multiplies many right operands (a query block against every key block) pays for its bf16
/// tiles once instead of once per product. Products give the bits of [`matmul_serial`].
pub struct PreparedLeft<'a>(Prepared<'a>);

/// A right operand (`k × n`) of [`matmul_prepared`], converted once for `backend` (see
/// [`PreparedLeft`]).
pub struct PreparedRight<'a>(Prepared<'a>);

impl<'a> PreparedLeft<'a> {
    /// `a` for products on `backend` (bf16 tiles on [`MatmulBackend::Bf16Amx`] where
    /// [`super::amx_available`], else the view). Panics if `a` is out of bounds.
    pub fn new(backend: MatmulBackend, a: MatRef<'a>) -> Self {
        assert!(a.in_bounds(), "matmul: left operand out of bounds");
        Self(Prepared::new(backend, a, Side::Left))
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        self.0.shape()
    }
}

impl<'a> PreparedRight<'a> {
    /// `b` for products on `backend` (see [`PreparedLeft::new`]). Panics if `b` is out of
    /// bounds.
    pub fn new(backend: MatmulBackend, b: MatRef<'a>) -> Self {
        assert!(b.in_bounds(), "matmul: right operand out of bounds");
        Self(Prepared::new(backend, b, Side::Right))
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        self.0.shape()
    }
}

/// `C = A · B` (or `C += A · B` when `accumulate`) of two prepared operands, `C` with leading
/// dimension `ldc`, on the calling thread: the bits of [`matmul_serial`] on the backend they
/// were prepared for. Panics when the shapes do not fit, `C` is too small, or the operands were
/// prepared for different backends.
pub fn matmul_prepared(
    a: &PreparedLeft<'_>,
    b: &PreparedRight<'_>,
    (c, ldc): (&mut [f32], usize),
    accumulate: bool,
) {
    let ((m, k), (kb, n)) = (a.shape(), b.shape());
    assert_eq!(k, kb, "matmul: inner dimensions differ");
    if !super::check_output_and_trivial((m, k, n), c, ldc, accumulate) {
        return;
    }
    match (&a.0, &b.0) {
        (Prepared::View(a), Prepared::View(b)) => {
            super::f32::matmul_on(gemm::Parallelism::None, *a, *b, c, ldc, accumulate)
        }
        #[cfg(target_arch = "x86_64")]
        (Prepared::Tiles { tiles: a, .. }, Prepared::Tiles { tiles: b, .. }) => {
            amx::matmul_packed_a(a, m, b, n, (c, ldc), accumulate, None)
        }
        #[cfg(target_arch = "x86_64")]
        _ => panic!("matmul: operands prepared for different backends"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_parallel_matmul_with_transposed_views() {
        let a: Vec<f32> = (0..35).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..28).map(|i| (i as f32 * 0.11).cos()).collect();
        // a is 5×7; b is stored 4×7 and used transposed (7×4).
        let (av, bv) = (MatRef::new(&a, 5, 7), MatRef::new(&b, 4, 7).t());
        let mut want = vec![0.5f32; 5 * 6];
        let mut got = want.clone();
        super::super::matmul_with(MatmulBackend::F32, av, bv, &mut want, 6, true);
        matmul_serial(MatmulBackend::F32, av, bv, (&mut got, 6), true);
        assert_eq!(want, got);
        // Columns 4 and 5 of each row lie outside the product and stay untouched.
        assert!(got.chunks(6).all(|r| r[4] == 0.5 && r[5] == 0.5));
    }

    #[test]
    fn prepared_operands_give_the_bits_of_matmul_serial() {
        // 40 × 70 times (70 × 33)ᵀ-view, on both backends (f32 where AMX is absent), and a
        // left operand reused against two right ones.
        let a: Vec<f32> = (0..40 * 70).map(|i| (i as f32 * 0.017).sin()).collect();
        let b: Vec<f32> = (0..33 * 70).map(|i| (i as f32 * 0.009).cos()).collect();
        let (av, bv) = (MatRef::new(&a, 40, 70), MatRef::new(&b, 33, 70).t());
        for backend in [MatmulBackend::F32, MatmulBackend::Bf16Amx] {
            let left = PreparedLeft::new(backend, av);
            let right = PreparedRight::new(backend, bv);
            assert_eq!((left.shape(), right.shape()), ((40, 70), (70, 33)));
            for accumulate in [false, true] {
                let mut want = vec![0.75f32; 40 * 35];
                let mut got = want.clone();
                matmul_serial(backend, av, bv, (&mut want, 35), accumulate);
                matmul_prepared(&left, &right, (&mut got, 35), accumulate);
                assert_eq!(want, got, "{backend:?} accumulate {accumulate}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "inner dimensions differ")]
    fn prepared_operands_of_different_inner_sizes_are_refused() {
        let x = vec![1f32; 12];
        let left = PreparedLeft::new(MatmulBackend::F32, MatRef::new(&x, 3, 4));
        let right = PreparedRight::new(MatmulBackend::F32, MatRef::new(&x, 3, 4));
        matmul_prepared(&left, &right, (&mut [0f32; 12], 4), false);
    }

    #[test]
    fn bf16_tiles_match_the_parallel_bf16_matmul() {
        // 70 × 90 times (90 × 50)ᵀ-view: edges in every dimension, more rows than the few-row
        // kernel takes. Without AMX both sides compute in f32 and still agree.
        let a: Vec<f32> = (0..70 * 90).map(|i| (i as f32 * 0.013).sin()).collect();
        let b: Vec<f32> = (0..50 * 90).map(|i| (i as f32 * 0.007).cos()).collect();
        let (av, bv) = (MatRef::new(&a, 70, 90), MatRef::new(&b, 50, 90).t());
        for accumulate in [false, true] {
            let mut want = vec![0.25f32; 70 * 52];
            let mut got = want.clone();
            super::super::matmul_with(MatmulBackend::Bf16Amx, av, bv, &mut want, 52, accumulate);
            matmul_serial(MatmulBackend::Bf16Amx, av, bv, (&mut got, 52), accumulate);
            assert_eq!(want, got, "accumulate {accumulate}");
        }
        // The bf16 products differ from the f32 ones (operands rounded), by little.
        if crate::matmul::amx_available() {
            let mut f32_out = vec![0f32; 70 * 52];
            let mut bf16_out = vec![0f32; 70 * 52];
            matmul_serial(MatmulBackend::F32, av, bv, (&mut f32_out, 52), false);
            matmul_serial(MatmulBackend::Bf16Amx, av, bv, (&mut bf16_out, 52), false);
            assert_ne!(f32_out, bf16_out);
            let worst = f32_out
                .iter()
                .zip(&bf16_out)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            assert!(worst < 0.5, "worst {worst}");
        }
    }
}
