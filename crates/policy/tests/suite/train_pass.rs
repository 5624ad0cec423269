//! The memory-linear training pass ([`CausalLm::loss_and_gradients`]) gives the loss and the
//! gradients of one backward over the whole graph, with and without recomputation, for both
//! model families (tied and untied output heads), with a temperature and padded rows.

use candle_core::{DType, Device, Tensor};
use crossgym_policy::matmul::MatmulBackend;
use crossgym_policy::{
    CausalLm, PolicyError, Recompute, TokenTerms, right_pad, token_logprobs_and_entropy,
};

use crate::common::{TensorValues, tiny};

fn batch() -> (Tensor, Tensor, Tensor) {
    let rows = [vec![3, 17, 42, 8, 260, 1, 9], vec![5, 299, 33, 2]];
    let (ids, _) = right_pad(&rows, 0, &Device::Cpu).unwrap();
    let t = ids.dim(1).unwrap();
    let targets = Tensor::cat(
        &[
            ids.narrow(1, 1, t - 1).unwrap(),
            ids.narrow(1, 0, 1).unwrap(),
        ],
        1,
    )
    .unwrap();
    // Weights on positions (0 on padding and the wrapped last target).
    let mask = Tensor::new(
        &[
            [1f32, 1., 0.5, 1., 1., 2., 0.],
            [1., 1., 1., 0., 0., 0., 0.],
        ],
        &Device::Cpu,
    )
    .unwrap();
    (ids, targets, mask)
}

/// A loss that uses both terms: weighted log-probs and a small entropy bonus.
fn loss(terms: &TokenTerms, mask: &Tensor) -> Result<Tensor, PolicyError> {
    let lp = (&terms.logp * mask)?.sum_all()?;
    let ent = ((&terms.entropy * mask)?.sum_all()? * 0.1)?;
    Ok((lp + ent)?.neg()?)
}

fn reference(
    model: &CausalLm,
    ids: &Tensor,
    targets: &Tensor,
    mask: &Tensor,
    temp: f64,
) -> (f32, Vec<(String, Tensor)>) {
    let logits = (model.forward(ids).unwrap() / temp).unwrap();
    let (logp, entropy) = token_logprobs_and_entropy(&logits, targets).unwrap();
    let value = loss(&TokenTerms { logp, entropy }, mask).unwrap();
    let grads = value.backward().unwrap();
    let named = model
        .named_vars()
        .unwrap()
        .into_iter()
        .map(|(n, v)| {
            let g = grads.get(v.as_tensor()).unwrap().clone();
            (n, g)
        })
        .collect();
    (value.scalar::<f32>(), named)
}

fn max_rel_diff(a: &Tensor, b: &Tensor) -> f32 {
    let scale = b
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .scalar::<f32>()
        .max(1e-6);
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .scalar::<f32>()
        / scale
}

#[test]
fn gradients_equal_one_backward_over_the_whole_graph() {
    let (ids, targets, mask) = batch();
    for qwen2 in [false, true] {
        let mut model = tiny(qwen2, DType::F32, 3);
        model.set_matmul_backend(MatmulBackend::F32);
        for temp in [1.0, 0.7] {
            let (want, want_grads) = reference(&model, &ids, &targets, &mask, temp);
            for recompute in [Recompute::Always, Recompute::Never, Recompute::Auto] {
                let out = model
                    .loss_and_gradients(&ids, &targets, temp, recompute, |t| loss(t, &mask))
                    .unwrap();
                let got = out.loss.scalar::<f32>();
                assert!(
                    (got - want).abs() <= 1e-5 * want.abs().max(1.0),
                    "{got} vs {want}"
                );
                let vars = model.named_vars().unwrap();
                for ((name, want), (var_name, var)) in want_grads.iter().zip(&vars) {
                    assert_eq!(name, var_name);
                    let got = out
                        .gradients
                        .get(var.as_tensor())
                        .unwrap_or_else(|| panic!("{name}: no gradient ({recompute:?})"));
                    let d = max_rel_diff(got, want);
                    assert!(
                        d < 1e-4,
                        "{name} (qwen2 {qwen2}, T {temp}, {recompute:?}): {d}"
                    );
                }
            }
        }
    }
}

#[test]
fn errors_of_the_loss_and_bad_inputs_come_back() {
    let (ids, targets, _) = batch();
    let model = tiny(false, DType::F32, 4);
    let failed = model.loss_and_gradients(&ids, &targets, 1.0, Recompute::Auto, |_| {
        Err::<Tensor, _>(PolicyError::Config("my loss".into()))
    });
    assert!(failed.unwrap_err().to_string().contains("my loss"));
    let short = targets.narrow(1, 0, 3).unwrap();
    assert!(
        model
            .loss_and_gradients(
                &ids,
                &short,
                1.0,
                Recompute::Auto,
                |t| Ok::<_, PolicyError>(t.logp.sum_all()?)
            )
            .is_err()
    );
    for temp in [0.0, -1.0, f64::NAN] {
        assert!(
            model
                .loss_and_gradients(&ids, &targets, temp, Recompute::Auto, |t| Ok::<
                    _,
                    PolicyError,
                >(
                    t.logp.sum_all()?
                ))
                .is_err()
        );
    }
}

#[test]
fn f64_models_take_the_whole_graph_path_with_the_same_result() {
    let (ids, targets, mask) = batch();
    let model = tiny(true, DType::F64, 5);
    let mask = mask.to_dtype(DType::F64).unwrap();
    let out = model
        .loss_and_gradients(&ids, &targets, 1.0, Recompute::Always, |t| loss(t, &mask))
        .unwrap();
    let logits = model.forward(&ids).unwrap();
    let (logp, entropy) = token_logprobs_and_entropy(&logits, &targets).unwrap();
    let want = loss(&TokenTerms { logp, entropy }, &mask).unwrap();
    let d = (out.loss - want).unwrap().abs().unwrap().scalar::<f64>();
    assert!(d < 1e-12);
}

#[test]
fn target_logprobs_match_full_logits() {
    let (ids, targets, _) = batch();
    for qwen2 in [false, true] {
        let model = tiny(qwen2, DType::F32, 6);
        let decoder = model.inference();
        let got = decoder.target_logprobs(&ids, &targets, 0.8).unwrap();
        let logits = (decoder.forward(&ids).unwrap() / 0.8).unwrap();
        let (want, _) = token_logprobs_and_entropy(&logits, &targets).unwrap();
        assert!(max_rel_diff(&got, &want) < 1e-5);
    }
}
