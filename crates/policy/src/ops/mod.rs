//! Fused CPU kernels with hand-written backward passes: RMSNorm, the linear map `x Wᵀ`,
//! rotate-half RoPE, scaled masked softmax, and log-softmax + gather + entropy.
//!
//! Each is a candle custom op whose `bwd` is itself a fused kernel, so the autograd graph stays
//! whole (unlike candle's own fused kernels, which have no backward pass) while a training step
//! makes one pass and one allocation where the elementary-op composition made five to fifteen.
//! They run on CPU tensors of f32 or f64; every other device or dtype goes through the
//! elementary-op versions in [`crate::model`] and [`crate::logprobs`], which also serve as the
//! reference in the tests. Rows are split over rayon threads in fixed-size chunks, and every
//! reduction runs in a fixed order, so results do not depend on the thread count.
//!
//! One module per kernel; what they share (the float trait, the f32/f64 dispatch, the row
//! chunking) lives here.

mod linear;
mod logprob;
mod rms_norm;
mod rope;
mod softmax;

use candle_core::{CpuStorage, DType, Layout, Tensor};

pub(crate) use linear::linear;
pub(crate) use logprob::{check_target, logprob_entropy, logprob_entropy_grad, row_stats};
pub(crate) use rms_norm::{rms_norm, rms_norm_rows, rms_norm_rows_backward};
pub(crate) use rope::rope;
pub(crate) use softmax::masked_softmax;

/// The floats the kernels support.
pub(crate) trait Real:
    candle_core::WithDType
    + Copy
    + Send
    + Sync
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
    + std::ops::AddAssign
    + std::ops::MulAssign
    + PartialOrd
{
    /// `e^self`.
    fn exp(self) -> Self;
    /// `v` rounded to this type.
    fn of(v: f64) -> Self;
    /// `self` widened to f64.
    fn f64(self) -> f64;
    /// `√self`.
    fn sqrt(self) -> Self;
    /// A kernel's output as candle storage of this type.
    fn storage(values: Vec<Self>) -> CpuStorage;
}

impl Real for f32 {
    fn exp(self) -> Self {
        f32::exp(self)
    }

    fn of(v: f64) -> Self {
        v as f32
    }
    fn f64(self) -> f64 {
        f64::from(self)
    }
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    fn storage(values: Vec<Self>) -> CpuStorage {
        CpuStorage::F32(values)
    }
}

impl Real for f64 {
    fn exp(self) -> Self {
        f64::exp(self)
    }

    fn of(v: f64) -> Self {
        v
    }
    fn f64(self) -> f64 {
        self
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    fn storage(values: Vec<Self>) -> CpuStorage {
        CpuStorage::F64(values)
    }
}

/// Whether the fused kernels handle `t` (CPU, f32 or f64).
pub(crate) fn fused(t: &Tensor) -> bool {
    t.device().is_cpu() && matches!(t.dtype(), DType::F32 | DType::F64)
}

/// Rows handed to one rayon task: large enough to amortise scheduling, fixed so that no result
/// depends on the number of threads.
pub(crate) fn rows_per_task(row_len: usize) -> usize {
    (16_384 / row_len.max(1)).clamp(1, 256)
}

/// The contiguous slice of a storage, or an error naming the op.
pub(crate) fn slice<'a, T: Real>(
    s: &'a CpuStorage,
    l: &Layout,
    op: &str,
) -> candle_core::Result<&'a [T]> {
    let (start, end) = l
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg(format!("{op}: input must be contiguous")))?;
    Ok(&s.as_slice::<T>()?[start..end])
}

/// The error of a kernel called on a dtype it does not handle.
pub(crate) fn unsupported(op: &str, dtype: DType) -> candle_core::Error {
    candle_core::Error::Msg(format!("{op}: unsupported dtype {dtype:?}"))
}

/// The f32/f64 dispatch of every kernel, written once: `per_float!(dtype, op, |F| body)`
/// evaluates `body` with the type alias `F` set to f32 or f64 after `dtype` (kernels are generic
/// over [`Real`]; `F::storage` wraps their output), and returns [`unsupported`] naming `op` from
/// the enclosing function for any other dtype.
macro_rules! per_float {
    ($dtype:expr, $op:expr, |$float:ident| $body:expr) => {
        match $dtype {
            candle_core::DType::F32 => {
                type $float = f32;
                $body
            }
            candle_core::DType::F64 => {
                type $float = f64;
                $body
            }
            d => return Err($crate::ops::unsupported($op, d)),
        }
    };
}
pub(crate) use per_float;

/// A fused kernel's candle `CustomOp2` / `CustomOp3` impl, written once:
///
/// ```text
/// fused_op! {
///     CustomOp2 for Kernel, "fused-kernel",
///     fwd(self, s1 l1, s2 l2) { /* storages s1, s2 and layouts l1, l2 -> (CpuStorage, Shape) */ }
///     bwd(self, x, w, res, grad) -> (Option<Tensor>, Option<Tensor>) { /* the gradients */ }
/// }
/// ```
///
/// gives `name()`, `cpu_fwd` over the operands named in `fwd` (in order), and, when present,
/// `bwd` over the inputs, the result and its gradient named in `bwd`.
macro_rules! fused_op {
    (
        $op:ident for $kernel:ty, $name:literal,
        fwd($fself:ident $(, $s:ident $l:ident)+) $fwd:block
        $(bwd($bself:ident $(, $arg:ident)+) -> $grads:ty $bwd:block)?
    ) => {
        impl candle_core::$op for $kernel {
            fn name(&self) -> &'static str {
                $name
            }

            fn cpu_fwd(
                &$fself,
                $($s: &candle_core::CpuStorage, $l: &candle_core::Layout),+
            ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> $fwd

            $(
                fn bwd(&$bself, $($arg: &candle_core::Tensor),+) -> candle_core::Result<$grads>
                    $bwd
            )?
        }
    };
}
pub(crate) use fused_op;

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor};

    use super::*;
    use crate::test_util::{TensorValues, var, weighted};

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        // Enough rows for several rayon tasks in every kernel.
        let x = var(&[3, 2, 150, 64], 22);
        let w = var(&[64], 23);
        let mask = Tensor::zeros((150, 64), DType::F64, &Device::Cpu).unwrap();
        let targets = Tensor::from_vec(
            (0..300u32).map(|i| (i * 7) % 64).collect::<Vec<_>>(),
            (2, 150),
            &Device::Cpu,
        )
        .unwrap();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let y = rms_norm(x.as_tensor(), w.as_tensor(), 1e-6).unwrap();
                let p = masked_softmax(&y, &mask, 0.5).unwrap();
                let lp = logprob_entropy(&p.get(0).unwrap(), &targets).unwrap();
                let grads = weighted(&lp, 24).backward().unwrap();
                [x.as_tensor(), w.as_tensor()].map(|v| grads.get(v).unwrap().values::<f64>())
            })
        };
        assert_eq!(run(1), run(3));
    }
}
