//! Helpers shared by the unit tests of the CPU kernels.

use candle_core::{Device, Tensor, Var};

pub(crate) use crate::test_values::TensorValues;

/// Deterministic pseudo-random f32 values in [-1, 1) (xorshift from `seed`).
pub(crate) fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// The largest absolute element-wise difference of two tensors of the same shape and float
/// dtype, computed in that dtype and widened to f64.
pub(crate) fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_dtype(candle_core::DType::F64)
        .unwrap()
        .to_scalar()
        .unwrap()
}

/// Asserts that an op's result `ours` matches the same computation `theirs` in candle's own ops
/// within `value_tol`, and that the gradients of `Σ y ⊙ upstream` with respect to each of `vars`
/// agree within `grad_tol`.
pub(crate) fn assert_matches_with_gradients(
    ours: Tensor,
    theirs: Tensor,
    upstream: &Tensor,
    vars: &[&Var],
    value_tol: f64,
    grad_tol: f64,
) {
    assert!(max_diff(&ours, &theirs) < value_tol);
    let backward = |y: Tensor| {
        (y * upstream)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap()
    };
    let (ga, gb) = (backward(ours), backward(theirs));
    for v in vars {
        let d = max_diff(
            ga.get(v.as_tensor()).unwrap(),
            gb.get(v.as_tensor()).unwrap(),
        );
        assert!(d < grad_tol, "gradient differs by {d}");
    }
}

/// Deterministic pseudo-random f64 values in [-1, 1) (a 64-bit LCG from `seed`).
pub(crate) fn values_f64(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

/// An f64 CPU variable of `shape` filled with [`values_f64`].
pub(crate) fn var(shape: &[usize], seed: u64) -> Var {
    let n = shape.iter().product();
    Var::from_tensor(&Tensor::from_vec(values_f64(n, seed), shape, &Device::Cpu).unwrap()).unwrap()
}

/// A fixed random weighting of `y`, summed: a scalar loss that exercises every output.
pub(crate) fn weighted(y: &Tensor, seed: u64) -> Tensor {
    let w = Tensor::from_vec(values_f64(y.elem_count(), seed), y.shape(), &Device::Cpu).unwrap();
    (y * w).unwrap().sum_all().unwrap()
}

/// Checks the backward pass of `loss` against central finite differences for every element
/// of every var (f64).
pub(crate) fn check_gradients(vars: &[&Var], loss: impl Fn() -> Tensor) {
    let grads = loss().backward().unwrap();
    let eps = 1e-6;
    for (i, var) in vars.iter().enumerate() {
        let g = grads
            .get(var.as_tensor())
            .unwrap_or_else(|| panic!("var {i} has no gradient"))
            .values::<f64>();
        let original = var.as_tensor().values::<f64>();
        for k in 0..original.len() {
            let at = |delta: f64| {
                let mut v = original.clone();
                v[k] += delta;
                var.set(&Tensor::from_vec(v, var.shape(), &Device::Cpu).unwrap())
                    .unwrap();
                loss().scalar::<f64>()
            };
            let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
            var.set(&Tensor::from_vec(original.clone(), var.shape(), &Device::Cpu).unwrap())
                .unwrap();
            assert!(
                (numeric - g[k]).abs() <= 1e-7 + 1e-6 * g[k].abs(),
                "var {i}[{k}]: analytic {} vs numeric {numeric}",
                g[k]
            );
        }
    }
}
