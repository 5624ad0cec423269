//! The trainable model: every parameter gets a gradient, and the gradients are right (finite
//! differences in f64).

use candle_core::{DType, Device, Tensor};
use crossgym_policy::{next_token_logprobs, right_pad, token_logprobs_and_entropy};

use crate::common::{TensorValues, tiny};

fn batch() -> Tensor {
    // Two right-padded rows (the second padded with 0s after 4 tokens).
    let (ids, lengths) = right_pad(
        &[vec![3, 17, 42, 8, 260, 1], vec![5, 299, 33, 2]],
        0,
        &Device::Cpu,
    )
    .unwrap();
    assert_eq!(lengths, [6, 4]);
    ids
}

#[test]
fn padding_does_not_change_the_real_positions() {
    let model = tiny(true, DType::F32, 6);
    let padded = model.forward(&batch()).unwrap();
    let alone = model
        .forward(&Tensor::new(&[[5u32, 299, 33, 2]], &Device::Cpu).unwrap())
        .unwrap();
    let a = padded.get(1).unwrap().narrow(0, 0, 4).unwrap();
    let d = (a - alone.get(0).unwrap())
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap();
    assert!(d.scalar::<f32>() < 1e-5);
}

#[test]
fn every_parameter_receives_a_nonzero_gradient() {
    for qwen2 in [false, true] {
        let model = tiny(qwen2, DType::F32, 1);
        let ids = batch();
        let logits = model.forward(&ids).unwrap();
        let (lp, ent) = token_logprobs_and_entropy(
            &logits.narrow(1, 0, 5).unwrap(),
            &ids.narrow(1, 1, 5).unwrap(),
        )
        .unwrap();
        let loss = (lp.sum_all().unwrap() + (ent.sum_all().unwrap() * 0.1).unwrap()).unwrap();
        let grads = loss.backward().unwrap();
        let vars = model.named_vars().unwrap();
        assert!(!vars.is_empty());
        for (name, var) in vars {
            let g = grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("{name} (qwen2={qwen2}) has no gradient"));
            let norm = g.sqr().unwrap().sum_all().unwrap().scalar::<f32>();
            assert!(
                norm > 0.0 && norm.is_finite(),
                "{name} (qwen2={qwen2}): |grad|² = {norm}"
            );
        }
    }
}

/// A scalar loss of the model: weighted next-token log-probs of the batch.
fn loss(model: &crossgym_policy::CausalLm) -> Tensor {
    let ids = batch();
    let logits = model.forward(&ids).unwrap();
    let lp = next_token_logprobs(&logits, &ids).unwrap();
    let weights = Tensor::new(
        &[[0.3f64, -0.7, 1.1, 0.5, 0.9], [1.3, -0.2, 0.8, 0.0, 0.0]],
        &Device::Cpu,
    )
    .unwrap();
    (lp * weights).unwrap().sum_all().unwrap()
}

#[test]
fn gradients_match_finite_differences_in_f64() {
    for qwen2 in [false, true] {
        let model = tiny(qwen2, DType::F64, 2);
        let grads = loss(&model).backward().unwrap();
        let eps = 1e-6;
        let mut checked = 0;
        for (name, var) in model.named_vars().unwrap() {
            let g = grads
                .get(var.as_tensor())
                .expect("gradient")
                .flatten_all()
                .unwrap();
            let g = g.to_vec1::<f64>().unwrap();
            let n = g.len();
            // Three spread-out elements of every parameter.
            for k in [0, n / 2, n - 1] {
                let original = var.as_tensor().values::<f64>();
                let mut values = original.clone();
                values[k] = original[k] + eps;
                var.set(&Tensor::from_vec(values.clone(), var.shape(), &Device::Cpu).unwrap())
                    .unwrap();
                let plus = loss(&model).scalar::<f64>();
                values[k] = original[k] - eps;
                var.set(&Tensor::from_vec(values, var.shape(), &Device::Cpu).unwrap())
                    .unwrap();
                let minus = loss(&model).scalar::<f64>();
                var.set(&Tensor::from_vec(original, var.shape(), &Device::Cpu).unwrap())
                    .unwrap();
                let numeric = (plus - minus) / (2.0 * eps);
                let err = (numeric - g[k]).abs();
                assert!(
                    err <= 1e-6 + 1e-5 * g[k].abs(),
                    "{name}[{k}] (qwen2={qwen2}): analytic {} vs numeric {numeric}",
                    g[k]
                );
                checked += 1;
            }
        }
        assert!(checked > 30);
    }
}
