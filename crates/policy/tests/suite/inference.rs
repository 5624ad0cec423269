//! KV-cached batched inference agrees with the full forward pass; sampling is seeded.

use candle_core::DType;
use crossgym_policy::matmul::MatmulBackend;
use crossgym_policy::{PackedModel, Sampler, SamplingParams, Session};

use crate::common::{full_last_logits, max_diff, tiny};

#[test]
fn ragged_cached_appends_match_full_forward() {
    for qwen2 in [false, true] {
        let model = tiny(qwen2, DType::F32, 3);
        let mut session = Session::new(&model.inference(), 3).unwrap();
        let chunks = [
            vec![vec![1u32, 2, 3, 4, 5], vec![7, 8], vec![9, 10, 11]],
            vec![vec![6], vec![12, 13, 14, 15], vec![]],
            vec![vec![], vec![16], vec![17, 18]],
        ];
        let mut streams: Vec<Vec<u32>> = vec![Vec::new(); 3];
        for step in &chunks {
            session.append(step).unwrap();
            for (r, c) in step.iter().enumerate() {
                streams[r].extend(c);
            }
            for (r, stream) in streams.iter().enumerate() {
                let cached = session.last_logits(r).unwrap().to_vec();
                let full = full_last_logits(&model, stream);
                let d = max_diff(&cached, &full);
                assert!(
                    d < 1e-4,
                    "row {r} (qwen2={qwen2}): cached vs full differ by {d}"
                );
                assert_eq!(session.tokens(r), stream.as_slice());
            }
        }
    }
}

#[test]
fn batched_generation_equals_one_row_at_a_time() {
    let model = tiny(false, DType::F32, 4);
    let prompts = [vec![1u32, 2, 3], vec![4, 5, 6, 7, 8, 9], vec![10]];
    let params = SamplingParams {
        temperature: 1.0,
        top_p: 0.9,
        seed: 11,
    };
    let generate_batch = || {
        let mut batched = Session::new(&model.inference(), 3).unwrap();
        batched.append(&prompts).unwrap();
        let mut samplers: Vec<Sampler> = (0..3).map(|r| Sampler::for_row(params, r)).collect();
        batched
            .generate(&[0, 1, 2], &[6, 4, 5], Some(60), &mut samplers)
            .unwrap()
    };
    let together = generate_batch();
    for (r, prompt) in prompts.iter().enumerate() {
        let mut single = Session::new(&model.inference(), 1).unwrap();
        single.append(std::slice::from_ref(prompt)).unwrap();
        let mut s = [Sampler::for_row(params, r)];
        let alone = single
            .generate(&[0], &[[6, 4, 5][r]], Some(60), &mut s)
            .unwrap();
        assert_eq!(together[r].tokens, alone[0].tokens, "row {r}");
        for (a, b) in together[r].logprobs.iter().zip(&alone[0].logprobs) {
            assert!((a - b).abs() < 1e-4);
        }
    }
    // The same seed gives the same samples; another seed different ones.
    assert_eq!(generate_batch(), together);
}

#[test]
fn sampler_is_greedy_at_zero_temperature_and_respects_top_p() {
    let logits = [0.1f32, 2.0, 1.9, -3.0];
    let mut greedy = Sampler::new(SamplingParams::greedy());
    let c = greedy.choose(&logits);
    assert_eq!(c.id, 1);
    let z: f64 = logits.iter().map(|&l| (l as f64).exp()).sum();
    // The sampler's exponentials are f32 (vectorised): its log-probs are within ~1e-7.
    assert!((c.logprob - (2.0f64 - z.ln())).abs() < 1e-6);
    // top-p small enough keeps only the best token.
    let mut nucleus = Sampler::new(SamplingParams {
        temperature: 1.0,
        top_p: 0.3,
        seed: 5,
    });
    for _ in 0..50 {
        assert_eq!(nucleus.choose(&logits).id, 1);
    }
    // Plain sampling reaches both near-tied tokens.
    let mut plain = Sampler::new(SamplingParams::with_temperature(1.0, 5));
    let picks: std::collections::BTreeSet<u32> =
        (0..200).map(|_| plain.choose(&logits).id).collect();
    assert!(picks.contains(&1) && picks.contains(&2));
}

/// Logits bits after each chunk of a row that the session runs among ragged siblings, and after
/// the same tokens chunked otherwise on the rollout engine alone: the f32 group path and the
/// engine must agree bit for bit (what lets the two rollout paths record the same episodes).
#[test]
fn an_f32_session_row_gets_the_engines_bits_beside_any_siblings() {
    let Some(p) = crate::common::smollm2() else {
        return;
    };
    let decoder = p.model.inference().with_matmul_backend(MatmulBackend::F32);
    let ids = |n: u32, step: u32| -> Vec<u32> { (0..n).map(|i| i * step % 40_000 + 100).collect() };
    let row = ids(640, 7_919);
    // Row 0's chunks; its siblings get other tokens in chunks of other lengths (or none), so
    // row 0 is padded differently step by step, and the longest query block (64 rows) and
    // its partial ones both occur.
    let plan = [
        (0, 290),
        (290, 300),
        (590, 1),
        (591, 1),
        (592, 5),
        (597, 1),
        (598, 2),
    ];
    let mut session = Session::new(&decoder, 3).unwrap();
    let mut grouped = Vec::new();
    for (i, &(at, len)) in plan.iter().enumerate() {
        let sibling = ids(1 + (i as u32 * 37) % 90, 31 + i as u32);
        let chunks = vec![
            row[at..at + len].to_vec(),
            sibling,
            if i % 2 == 0 { ids(3, 5) } else { vec![] },
        ];
        session.append(&chunks).unwrap();
        grouped.push((at + len, session.last_logits(0).unwrap().to_vec()));
    }
    // The engine: the first 279 tokens (a shared conversation start), then the rest one by one.
    let engine = PackedModel::new(&decoder).unwrap();
    let mut cache = engine.new_cache();
    let mut alone = Vec::new();
    let mut at = 0;
    for len in [279, 11, 250, 50]
        .into_iter()
        .chain(std::iter::repeat(1))
        .take(14)
    {
        let logits = engine
            .forward(&mut [&mut cache], &[&row[at..at + len]])
            .unwrap();
        at += len;
        alone.push((at, logits[0].clone().unwrap()));
    }
    for (position, logits) in &grouped {
        let (_, theirs) = alone.iter().find(|(p, _)| p == position).unwrap();
        let same = logits
            .iter()
            .zip(theirs)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(
            same,
            "after {position} tokens: max difference {}",
            max_diff(logits, theirs)
        );
    }
}
