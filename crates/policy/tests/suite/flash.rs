//! The full forward pass (memory-linear flash attention on CPU) agrees with KV-cached inference
//! (the materialised attention path) across attention tile boundaries, and stays causal.

use candle_core::{DType, Device, Tensor};
use crossgym_policy::{CausalLm, Session};

use crate::common::tiny;

/// Deterministic token ids in `1..300`.
fn ids(n: usize) -> Vec<u32> {
    (0..n as u32)
        .map(|i| 1 + (i * 37 + i * i * 11) % 299)
        .collect()
}

/// Logits `[T, vocab]` of one sequence by the full forward pass.
fn full_logits(model: &CausalLm, ids: &[u32]) -> Tensor {
    let input = Tensor::new(ids, &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    model.forward(&input).unwrap().get(0).unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn full_forward_matches_cached_chunks_across_tile_boundaries() {
    for qwen2 in [false, true] {
        let model = tiny(qwen2, DType::F32, 11);
        let seq = ids(200);
        let full = full_logits(&model, &seq);
        let mut session = Session::new(&model.inference(), 1).unwrap();
        let mut end = 0;
        // Chunks that end inside, at and just past 64-row tiles.
        for len in [63, 1, 1, 64, 71] {
            session.append(&[seq[end..end + len].to_vec()]).unwrap();
            end += len;
            let cached = session.last_logits(0).unwrap().to_vec();
            let want = full.get(end - 1).unwrap().to_vec1::<f32>().unwrap();
            let d = max_diff(&cached, &want);
            assert!(d < 1e-4, "qwen2={qwen2}, position {}: |Δ| {d}", end - 1);
        }
    }
}

#[test]
fn later_tokens_do_not_change_earlier_logits() {
    let model = tiny(false, DType::F32, 12);
    let seq = ids(150);
    let full = full_logits(&model, &seq);
    for n in [1, 2, 64, 65, 129] {
        let prefix = full_logits(&model, &seq[..n]);
        let a = full.narrow(0, 0, n).unwrap().flatten_all().unwrap();
        let b = prefix.flatten_all().unwrap();
        let d = max_diff(&a.to_vec1::<f32>().unwrap(), &b.to_vec1::<f32>().unwrap());
        assert!(d < 1e-5, "prefix of {n}: |Δ| {d}");
    }
}
