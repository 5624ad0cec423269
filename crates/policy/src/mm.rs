//! Matrix products as candle custom ops on CPU f32 tensors, computed by [`crate::matmul`] (bf16
//! on AMX or f32, as the caller's [`MatmulBackend`] says), with backward passes that are
//! themselves such products.
//!
//! [`linear`] is the decoder's `x Wᵀ`: its backward writes `dX = dY W` and `dW = dYᵀ X` in the
//! operands' own layouts, so no transposed copy enters the graph. f64 (the crate's reference
//! dtype in tests) goes through candle's own matmul, exactly as before.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp2, DType, Layout, Shape, Tensor};

use crate::Result;
use crate::matmul::{MatRef, MatmulBackend, matmul_with};

/// Whether [`linear`] runs `x` through [`crate::matmul`] (CPU f32) rather than candle.
pub(crate) fn supported(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == DType::F32
}

/// `x Wᵀ` for `x` `[N, in]` and `W` `[out, in]` on CPU f32 or f64, differentiable in both.
pub(crate) fn linear(x: &Tensor, w: &Tensor, backend: MatmulBackend) -> Result<Tensor> {
    Ok(x.contiguous()?.apply_op2(
        &w.contiguous()?,
        Product {
            kind: Kind::ABt,
            backend,
        },
    )?)
}

/// Which product of the two operands.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// `A Bᵀ`: `[m, k] · [n, k]ᵀ` (the linear layer's forward).
    ABt,
    /// `A B`: `[m, k] · [k, n]` (the input gradient `dY W`).
    AB,
    /// `Aᵀ B`: `[k, m]ᵀ · [k, n]` (the weight gradient `dYᵀ X`).
    AtB,
}

struct Product {
    kind: Kind,
    backend: MatmulBackend,
}

impl Product {
    /// `(m, n, k)` of the product, checking that the operands fit.
    fn dims(&self, a: &[usize], b: &[usize]) -> candle_core::Result<(usize, usize, usize)> {
        let (&[ar, ac], &[br, bc]) = (a, b) else {
            candle_core::bail!("{}: operands {a:?} and {b:?} must be matrices", self.name());
        };
        let (m, n, k, k2) = match self.kind {
            Kind::ABt => (ar, br, ac, bc),
            Kind::AB => (ar, bc, ac, br),
            Kind::AtB => (ac, bc, ar, br),
        };
        if k != k2 {
            candle_core::bail!("{}: operands {a:?} and {b:?} do not fit", self.name());
        }
        Ok((m, n, k))
    }

    fn views<'a>(
        &self,
        a: &'a [f32],
        b: &'a [f32],
        m: usize,
        n: usize,
        k: usize,
    ) -> [MatRef<'a>; 2] {
        match self.kind {
            Kind::ABt => [MatRef::new(a, m, k), MatRef::new(b, n, k).t()],
            Kind::AB => [MatRef::new(a, m, k), MatRef::new(b, k, n)],
            Kind::AtB => [MatRef::new(a, k, m).t(), MatRef::new(b, k, n)],
        }
    }
}

fn contiguous<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> candle_core::Result<&'a [f32]> {
    let (start, end) = l
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg(format!("{op}: operands must be contiguous")))?;
    Ok(&s.as_slice::<f32>()?[start..end])
}

impl CustomOp2 for Product {
    fn name(&self) -> &'static str {
        match self.kind {
            Kind::ABt => "matmul-a-bt",
            Kind::AB => "matmul-a-b",
            Kind::AtB => "matmul-at-b",
        }
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (m, n, k) = self.dims(l1.dims(), l2.dims())?;
        match s1.dtype() {
            DType::F32 => {
                let (a, b) = (
                    contiguous(s1, l1, self.name())?,
                    contiguous(s2, l2, self.name())?,
                );
                let [a, b] = self.views(a, b, m, n, k);
                let mut out = vec![0f32; m * n];
                matmul_with(self.backend, a, b, &mut out, n, false);
                Ok((CpuStorage::F32(out), Shape::from((m, n))))
            }
            DType::F64 => {
                let (l1, l2) = match self.kind {
                    Kind::ABt => (l1.clone(), l2.transpose(0, 1)?),
                    Kind::AB => (l1.clone(), l2.clone()),
                    Kind::AtB => (l1.transpose(0, 1)?, l2.clone()),
                };
                let out = s1.matmul(s2, (1, m, n, k), &l1, &l2)?;
                Ok((out, Shape::from((m, n))))
            }
            d => candle_core::bail!("{}: unsupported dtype {d:?}", self.name()),
        }
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        if !matches!(self.kind, Kind::ABt) {
            candle_core::bail!("{}: only the linear product is differentiable", self.name());
        }
        let grad = grad.contiguous()?;
        let product = |kind| Product {
            kind,
            backend: self.backend,
        };
        // dA = dY · B and dB = dYᵀ · A, for Y = A Bᵀ.
        let da = grad.apply_op2_no_bwd(b, &product(Kind::AB))?;
        let db = grad.apply_op2_no_bwd(a, &product(Kind::AtB))?;
        Ok((Some(da), Some(db)))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;
    use crate::test_util::{assert_matches_with_gradients, values};

    #[test]
    fn f32_linear_and_its_gradients_match_candle() {
        for (rows, inp, out) in [(1, 3, 2), (5, 37, 3), (33, 64, 17)] {
            let x = Var::from_vec(values(rows * inp, 1), (rows, inp), &Device::Cpu).unwrap();
            let w = Var::from_vec(values(out * inp, 2), (out, inp), &Device::Cpu).unwrap();
            let g = Tensor::from_vec(values(rows * out, 3), (rows, out), &Device::Cpu).unwrap();
            let ours = linear(x.as_tensor(), w.as_tensor(), MatmulBackend::F32).unwrap();
            let theirs = x.as_tensor().matmul(&w.as_tensor().t().unwrap()).unwrap();
            assert_matches_with_gradients(ours, theirs, &g, &[&x, &w], 1e-5, 1e-5);
        }
    }

    #[test]
    fn mismatched_operands_are_an_error() {
        let x = Tensor::zeros((2, 3), DType::F32, &Device::Cpu).unwrap();
        let w = Tensor::zeros((4, 5), DType::F32, &Device::Cpu).unwrap();
        assert!(linear(&x, &w, MatmulBackend::F32).is_err());
    }
}
