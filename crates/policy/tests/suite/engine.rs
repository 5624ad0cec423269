//! The rollout engine (`PackedModel`) agrees with the full forward pass, whatever the batch.

use candle_core::{DType, Device};
use crossgym_policy::matmul::MatmulBackend;
use crossgym_policy::{CausalLm, ModelConfig, PackedModel, SeqCache};

use crate::common::{amx_or_skip, full_last_logits, max_diff, tiny};

/// Runs `steps` (one chunk per sequence each) and returns every logits row produced.
fn run(engine: &PackedModel, steps: &[Vec<Vec<u32>>]) -> Vec<Vec<Option<Vec<f32>>>> {
    run_from(engine, &engine.new_cache(), steps)
}

/// [`run`] with every sequence starting from a clone of `start`.
fn run_from(
    engine: &PackedModel,
    start: &SeqCache,
    steps: &[Vec<Vec<u32>>],
) -> Vec<Vec<Option<Vec<f32>>>> {
    let n = steps[0].len();
    let mut caches: Vec<SeqCache> = (0..n).map(|_| start.clone()).collect();
    steps
        .iter()
        .map(|step| {
            let mut refs: Vec<&mut SeqCache> = caches.iter_mut().collect();
            let chunks: Vec<&[u32]> = step.iter().map(Vec::as_slice).collect();
            engine.forward(&mut refs, &chunks).unwrap()
        })
        .collect()
}

/// Ragged steps: prefill chunks of different lengths, empty chunks, one-token decode steps,
/// and a chunk longer than the attention's query block.
fn ragged_steps() -> Vec<Vec<Vec<u32>>> {
    let long: Vec<u32> = (0..150).map(|i| (i * 7 % 290) as u32 + 1).collect();
    vec![
        vec![vec![1, 2, 3, 4, 5], vec![7, 8], vec![9, 10, 11]],
        vec![vec![6], vec![12, 13, 14, 15], vec![]],
        vec![vec![], vec![16], vec![17, 18]],
        vec![long, vec![19], vec![20]],
        vec![vec![21], vec![22], vec![23]],
    ]
}

#[test]
fn ragged_steps_match_the_full_forward_pass() {
    for qwen2 in [false, true] {
        let model = tiny(qwen2, DType::F32, 3);
        let engine = PackedModel::new(&model.inference()).unwrap();
        assert_eq!(engine.backend(), MatmulBackend::F32);
        let steps = ragged_steps();
        let out = run(&engine, &steps);
        let mut streams: Vec<Vec<u32>> = vec![Vec::new(); 3];
        for (step, logits) in steps.iter().zip(out) {
            for (r, (chunk, logits)) in step.iter().zip(logits).enumerate() {
                streams[r].extend(chunk);
                assert_eq!(logits.is_some(), !chunk.is_empty());
                if let Some(logits) = logits {
                    let d = max_diff(&logits, &full_last_logits(&model, &streams[r]));
                    assert!(
                        d < 1e-4,
                        "row {r} (qwen2={qwen2}): engine vs full differ by {d}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_sequence_gets_the_same_bits_alone_or_in_any_batch() {
    let model = tiny(true, DType::F32, 5);
    same_bits_alone_or_batched(&PackedModel::new(&model.inference()).unwrap());
}

/// The engine of a tiny model in bf16 mode, where the CPU has AMX (`None`, with a note, else).
fn bf16_engine(qwen2: bool, seed: u64) -> Option<PackedModel> {
    if !amx_or_skip("bf16 rollout engine") {
        return None;
    }
    let model = tiny(qwen2, DType::F32, seed).inference();
    Some(PackedModel::new(&model.with_matmul_backend(MatmulBackend::Bf16Amx)).unwrap())
}

#[test]
fn bf16_caches_give_a_sequence_the_same_bits_alone_or_in_any_batch() {
    if let Some(engine) = bf16_engine(true, 5) {
        same_bits_alone_or_batched(&engine);
    }
}

/// Every sequence of [`ragged_steps`] gets the same logits alone as in the batch.
fn same_bits_alone_or_batched(engine: &PackedModel) {
    let steps = ragged_steps();
    let together = run(engine, &steps);
    for r in 0..3 {
        let alone: Vec<Vec<Vec<u32>>> = steps.iter().map(|s| vec![s[r].clone()]).collect();
        let alone = run(engine, &alone);
        for (t, a) in together.iter().zip(alone) {
            assert_eq!(t[r], a[0], "row {r}");
        }
    }
}

#[test]
fn bad_ids_positions_and_caches_are_errors() {
    let model = tiny(false, DType::F32, 1);
    let engine = PackedModel::new(&model.inference()).unwrap();
    let mut cache = engine.new_cache();
    let err = engine.forward(&mut [&mut cache], &[&[5000]]).unwrap_err();
    assert!(err.to_string().contains("vocabulary"), "{err}");
    let too_long = vec![1u32; model.config().max_position_embeddings + 1];
    let err = engine.forward(&mut [&mut cache], &[&too_long]).unwrap_err();
    assert!(err.to_string().contains("max_position_embeddings"), "{err}");
    let err = engine.forward(&mut [&mut cache], &[]).unwrap_err();
    assert!(err.to_string().contains("chunks"), "{err}");
    let other = tiny(true, DType::F32, 1);
    let other = PackedModel::new(&other.inference()).unwrap();
    let mut foreign = other.new_cache();
    // Same geometry is fine; a model with another layer count is not.
    assert!(engine.forward(&mut [&mut foreign], &[&[1]]).is_ok());
    assert!(cache.is_empty(), "failed steps leave the cache untouched");
    let f64_model = tiny(false, DType::F64, 1);
    assert!(PackedModel::new(&f64_model.inference()).is_err());
}

#[test]
fn bf16_engine_stays_close_to_the_f32_engine() {
    if !amx_or_skip("bf16 rollout engine") {
        return;
    }
    let model = tiny(false, DType::F32, 9).inference();
    let exact = PackedModel::new(&model).unwrap();
    let bf16 =
        PackedModel::new(&model.clone().with_matmul_backend(MatmulBackend::Bf16Amx)).unwrap();
    assert_eq!(bf16.backend(), MatmulBackend::Bf16Amx);
    let steps = ragged_steps();
    for (a, b) in run(&exact, &steps).iter().zip(run(&bf16, &steps)) {
        for (a, b) in a.iter().zip(b) {
            if let (Some(a), Some(b)) = (a, b) {
                let d = max_diff(a, &b);
                assert!(d < 5e-2, "bf16 vs f32 logits differ by {d}");
            }
        }
    }
}

#[test]
fn a_bf16_cache_of_another_head_split_is_an_error() {
    if !amx_or_skip("bf16 rollout engine") {
        return;
    }
    let bf16 = |config: &ModelConfig| {
        let model = CausalLm::random(config, 1, DType::F32, &Device::Cpu).unwrap();
        PackedModel::new(
            &model
                .inference()
                .with_matmul_backend(MatmulBackend::Bf16Amx),
        )
        .unwrap()
    };
    // Both have 2 layers and 8-wide key rows: 2 heads of 4 against 1 head of 8.
    let engine = bf16(&ModelConfig::tiny_llama(300, 16, 2, 4, 2));
    let other = bf16(&ModelConfig::tiny_llama(300, 32, 2, 4, 1));
    let mut foreign = other.new_cache();
    let err = engine.forward(&mut [&mut foreign], &[&[1]]).unwrap_err();
    assert!(err.to_string().contains("another model"), "{err}");
    assert!(
        engine
            .forward(&mut [&mut engine.new_cache()], &[&[1]])
            .is_ok()
    );
}

/// A cache holding `len` tokens of a conversation start.
fn started(engine: &PackedModel, len: usize) -> SeqCache {
    let start: Vec<u32> = (0..len).map(|i| (i * 13 % 290) as u32 + 3).collect();
    let mut cache = engine.new_cache();
    engine.forward(&mut [&mut cache], &[&start]).unwrap();
    cache
}

#[test]
fn sharing_an_f32_prefix_keeps_a_private_copy_and_its_bits() {
    let model = tiny(true, DType::F32, 4);
    let engine = PackedModel::new(&model.inference()).unwrap();
    let start = started(&engine, 40);
    let shared = start.clone().share();
    assert_eq!((shared.len(), shared.shared_len()), (40, 0));
    let steps = ragged_steps();
    assert_eq!(
        run_from(&engine, &start, &steps),
        run_from(&engine, &shared, &steps)
    );
}

#[test]
fn a_shared_bf16_prefix_matches_private_copies() {
    let Some(engine) = bf16_engine(false, 6) else {
        return;
    };
    let steps = ragged_steps();
    // A prefix inside the first tile pair, and one past it at an odd offset.
    for len in [5, 45] {
        let start = started(&engine, len);
        let shared = start.clone().share();
        assert_eq!((shared.len(), shared.shared_len()), (len, len));
        let private = run_from(&engine, &start, &steps);
        let together = run_from(&engine, &shared, &steps);
        for (a, b) in private.iter().zip(&together) {
            for (a, b) in a.iter().zip(b) {
                assert_eq!(a.is_some(), b.is_some());
                if let (Some(a), Some(b)) = (a, b) {
                    // Same bf16 operands; only the f32 summation order differs.
                    let d = max_diff(a, b);
                    assert!(d < 1e-3, "prefix {len}: shared vs private differ by {d}");
                }
            }
        }
        // A sequence gets the same bits alone as with the others sharing its prefix.
        for r in 0..3 {
            let alone: Vec<Vec<Vec<u32>>> = steps.iter().map(|s| vec![s[r].clone()]).collect();
            let alone = run_from(&engine, &shared, &alone);
            for (t, a) in together.iter().zip(alone) {
                assert_eq!(t[r], a[0], "prefix {len}, row {r}");
            }
        }
    }
}
