//! The MLP's gated activation `silu(gate) ⊙ up` as one parallel CPU kernel with its own backward
//! (candle composes it from four single-threaded element-wise passes, each kept for backward).

use candle_core::{CpuStorage, DType, Layout, Tensor};
use rayon::prelude::*;

use crate::Result;
use crate::ops::fused_op;
use crate::vec_softmax::vector_exp;

/// Elements handed to one rayon task (fixed, so results do not depend on the thread count).
const CHUNK: usize = 16_384;

/// Whether [`swiglu`] handles `x` (CPU f32).
pub(crate) fn supported(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == DType::F32
}

/// `silu(gate) ⊙ up` for two tensors of the same shape; differentiable in both.
pub(crate) fn swiglu(gate: &Tensor, up: &Tensor) -> Result<Tensor> {
    Ok(gate.contiguous()?.apply_op2(&up.contiguous()?, SwiGlu)?)
}

struct SwiGlu;

/// `1 / (1 + e^−x)`, with the vectorisable exponential (within 2 ulp of `expf`; saturating
/// below −88, where the result is below 1e-38 either way), so the loops below vectorise.
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + vector_exp(-x))
}

/// `silu(gate) · up`, elementwise, on plain slices of equal length.
pub(crate) fn swiglu_forward(gate: &[f32], up: &[f32]) -> Vec<f32> {
    let mut out = vec![0f32; gate.len()];
    out.par_chunks_mut(CHUNK)
        .zip(gate.par_chunks(CHUNK).zip(up.par_chunks(CHUNK)))
        .for_each(|(o, (g, u))| {
            for ((o, &g), &u) in o.iter_mut().zip(g).zip(u) {
                *o = g * sigmoid(g) * u;
            }
        });
    out
}

/// The backward pass of [`swiglu_forward`] for the upstream gradient `dy`: `(d_gate, d_up)`.
pub(crate) fn swiglu_backward(gate: &[f32], up: &[f32], dy: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let mut d_gate = vec![0f32; gate.len()];
    let mut d_up = vec![0f32; gate.len()];
    d_gate
        .par_chunks_mut(CHUNK)
        .zip(d_up.par_chunks_mut(CHUNK))
        .zip(
            gate.par_chunks(CHUNK)
                .zip(up.par_chunks(CHUNK))
                .zip(dy.par_chunks(CHUNK)),
        )
        .for_each(|((dg, du), ((g, u), dy))| {
            for i in 0..g.len() {
                let s = sigmoid(g[i]);
                du[i] = dy[i] * g[i] * s;
                dg[i] = dy[i] * u[i] * s * (1.0 + g[i] * (1.0 - s));
            }
        });
    (d_gate, d_up)
}

fn operands<'a>(
    s1: &'a CpuStorage,
    l1: &Layout,
    s2: &'a CpuStorage,
    l2: &Layout,
) -> candle_core::Result<(&'a [f32], &'a [f32])> {
    if l1.shape() != l2.shape() {
        candle_core::bail!("swiglu: shapes {:?} and {:?} differ", l1.dims(), l2.dims());
    }
    let slice = |s: &'a CpuStorage, l: &Layout| -> candle_core::Result<&'a [f32]> {
        let (a, b) = l
            .contiguous_offsets()
            .ok_or_else(|| candle_core::Error::Msg("swiglu: operands must be contiguous".into()))?;
        Ok(&s.as_slice::<f32>()?[a..b])
    };
    Ok((slice(s1, l1)?, slice(s2, l2)?))
}

fused_op! {
    CustomOp2 for SwiGlu, "swiglu",
    fwd(self, s1 l1, s2 l2) {
        let (gate, up) = operands(s1, l1, s2, l2)?;
        let out = swiglu_forward(gate, up);
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
    bwd(self, gate, up, _res, grad) -> (Option<Tensor>, Option<Tensor>) {
        let grad = grad.contiguous()?;
        let (gs, gl) = gate.storage_and_layout();
        let (us, ul) = up.storage_and_layout();
        let (ds, dl) = grad.storage_and_layout();
        let (
            candle_core::Storage::Cpu(gs),
            candle_core::Storage::Cpu(us),
            candle_core::Storage::Cpu(ds),
        ) = (&*gs, &*us, &*ds)
        else {
            candle_core::bail!("swiglu: CPU tensors only");
        };
        let (g, u) = operands(gs, gl, us, ul)?;
        let (dy, _) = operands(ds, dl, ds, dl)?;
        let (d_gate, d_up) = swiglu_backward(g, u, dy);
        Ok((
            Some(Tensor::from_vec(d_gate, gate.shape(), gate.device())?),
            Some(Tensor::from_vec(d_up, up.shape(), up.device())?),
        ))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;
    use crate::test_util::assert_matches_with_gradients;

    #[test]
    fn matches_candle_ops_and_their_gradients() {
        let n = 3 * CHUNK + 17;
        let vals =
            |seed: f32| -> Vec<f32> { (0..n).map(|i| (i as f32 * seed).sin() * 6.0).collect() };
        let gate = Var::from_vec(vals(0.37), n, &Device::Cpu).unwrap();
        let up = Var::from_vec(vals(1.13), n, &Device::Cpu).unwrap();
        let dy = Tensor::from_vec(vals(0.71), gate.shape(), &Device::Cpu).unwrap();
        let ours = swiglu(gate.as_tensor(), up.as_tensor()).unwrap();
        let theirs = (gate.as_tensor().silu().unwrap() * up.as_tensor()).unwrap();
        assert_matches_with_gradients(ours, theirs, &dy, &[&gate, &up], 1e-5, 1e-4);
    }

    #[test]
    fn different_shapes_are_an_error() {
        let a = Tensor::zeros((2, 3), DType::F32, &Device::Cpu).unwrap();
        let b = Tensor::zeros((3, 2), DType::F32, &Device::Cpu).unwrap();
        assert!(swiglu(&a, &b).is_err());
    }
}
