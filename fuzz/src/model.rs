//! The model files: GGUF (`policy::load_gguf`), a model directory's `config.json` and
//! safetensors (`CausalLm::load_dir`), `tokenizer.json` (`Tokenizer::from_json`) and trainer
//! checkpoints (`grpo::checkpoint::load`). Seeds are tiny models the crates themselves write
//! (a 1-layer Llama with a 16-token vocabulary), so the fuzzer starts from files that load.

use std::collections::HashMap;
use std::sync::OnceLock;

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{DType, Device, Tensor};
use crossgym_grpo::checkpoint::{self, Checkpoint, CheckpointState};
use crossgym_grpo::rng::RngState;
use crossgym_policy::{CausalLm, ModelConfig, Tokenizer, load_gguf};
use rand::SeedableRng;

use crate::harness::{join_files, scratch_dir, scratch_file, split_files, text};

/// The scratch folder of this process's model targets.
fn dir() -> &'static std::path::Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| scratch_dir("model"))
}

/// Text every loaded tokenizer encodes and decodes.
const PROBE: &str = "<|im_start|>user\nhi abcd 12 é\u{1F600}<|im_end|>";

/// Fuzzes `load_gguf` (a GGUF file: metadata, tokenizer, tensors), then tokenizes a probe text
/// with what loaded.
pub fn policy_gguf(data: &[u8]) {
    let path = scratch_file(dir(), "model.gguf", data);
    if let Ok(pretrained) = load_gguf(&path, DType::F32, &Device::Cpu) {
        probe(&pretrained.tokenizer);
    }
}

/// Seeds of [`policy_gguf`]: a 1-layer Llama GGUF with its tokenizer.
pub fn policy_gguf_seeds() -> Vec<Vec<u8>> {
    vec![tiny_gguf()]
}

/// Fuzzes `CausalLm::load_dir` on a folder of `config.json · model.safetensors` (the two input
/// parts).
pub fn policy_safetensors(data: &[u8]) {
    let files = split_files(data);
    let (Some(config), Some(weights)) = (files.first(), files.get(1)) else {
        return;
    };
    let folder = dir().join("safetensors");
    std::fs::create_dir_all(&folder).expect("the scratch dir is writable");
    scratch_file(&folder, "config.json", config);
    scratch_file(&folder, "model.safetensors", weights);
    let _ = CausalLm::load_dir(&folder, DType::F32, &Device::Cpu);
}

/// Seeds of [`policy_safetensors`]: a tiny random model saved by `CausalLm::save`.
pub fn policy_safetensors_seeds() -> Vec<Vec<u8>> {
    let folder = dir().join("seed-model");
    tiny_model().save(&folder).expect("saves");
    let read = |name: &str| std::fs::read(folder.join(name)).expect("written");
    vec![join_files(&[
        read("config.json"),
        read("model.safetensors"),
    ])]
}

/// Fuzzes `Tokenizer::from_json` (a `tokenizer.json`), then encodes and decodes a probe text.
pub fn policy_tokenizer(data: &[u8]) {
    if let Some(json) = text(data)
        && let Ok(tokenizer) = Tokenizer::from_json(json)
    {
        probe(&tokenizer);
    }
}

/// Seeds of [`policy_tokenizer`]: the tiny byte-level BPE of the GGUF seed, saved as JSON.
pub fn policy_tokenizer_seeds() -> Vec<Vec<u8>> {
    let path = dir().join("seed-tokenizer.json");
    tiny_tokenizer().save(&path).expect("saves");
    vec![std::fs::read(&path).expect("written")]
}

/// Fuzzes `checkpoint::load` on a checkpoint folder of `model.safetensors ·
/// optimizer.safetensors · state.json` (the three input parts), then restores its generators.
pub fn grpo_checkpoint(data: &[u8]) {
    let files = split_files(data);
    let folder = dir().join("checkpoint");
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("the scratch dir is writable");
    let names = [
        checkpoint::WEIGHTS_FILE,
        checkpoint::OPTIMIZER_FILE,
        checkpoint::STATE_FILE,
    ];
    for (name, bytes) in names.iter().zip(&files) {
        scratch_file(&folder, name, bytes);
    }
    if let Ok(loaded) = checkpoint::load(&folder, &Device::Cpu) {
        let _ = loaded.state.rng.restore();
        if let Some(sampler) = &loaded.state.sampler {
            let _ = sampler.rng.restore();
        }
    }
}

/// Seeds of [`grpo_checkpoint`]: a checkpoint of the tiny model written by `checkpoint::save`.
pub fn grpo_checkpoint_seeds() -> Vec<Vec<u8>> {
    let weights = tiny_model().named_tensors().expect("tensors");
    let optimizer: HashMap<String, Tensor> = weights
        .iter()
        .take(2)
        .map(|(name, t)| (format!("exp_avg.{name}"), t.clone()))
        .collect();
    let rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let saved = Checkpoint {
        weights,
        optimizer,
        state: CheckpointState {
            format: checkpoint::CHECKPOINT_FORMAT,
            phase: "grpo".into(),
            step: 3,
            optimizer_step: 3,
            rng: RngState::capture(&rng),
            sampler: None,
        },
    };
    let root = dir().join("seed-checkpoints");
    let _ = std::fs::remove_dir_all(&root);
    let at = checkpoint::save(&root, &saved).expect("saves");
    let read = |name: &str| std::fs::read(at.join(name)).expect("written");
    vec![join_files(&[
        read(checkpoint::WEIGHTS_FILE),
        read(checkpoint::OPTIMIZER_FILE),
        read(checkpoint::STATE_FILE),
    ])]
}

fn probe(tokenizer: &Tokenizer) {
    if let Ok(ids) = tokenizer.encode(PROBE) {
        let _ = tokenizer.decode(&ids, false);
        let _ = tokenizer.decode(&ids, true);
    }
}

/// The tiny model's shape: 16 tokens, width 8, 1 layer, 2 query heads, 1 key/value head.
fn tiny_config() -> ModelConfig {
    ModelConfig::tiny_llama(TOKENS.len(), 8, 1, 2, 1)
}

fn tiny_model() -> CausalLm {
    CausalLm::random(&tiny_config(), 11, DType::F32, &Device::Cpu).expect("a tiny model")
}

const TOKENS: [&str; 16] = [
    "<|im_start|>",
    "<|im_end|>",
    "a",
    "b",
    "c",
    "d",
    "h",
    "i",
    "ab",
    "cd",
    "hi",
    "Ġ",
    "Ġa",
    "1",
    "2",
    "Ċ",
];
const MERGES: [&str; 4] = ["a b", "c d", "h i", "Ġ a"];
/// GGUF token types: control (3) for the two ChatML markers, normal (1) for the rest.
fn token_types() -> Vec<i32> {
    (0..TOKENS.len())
        .map(|i| if i < 2 { 3 } else { 1 })
        .collect()
}

fn tiny_tokenizer() -> Tokenizer {
    let tokens: Vec<String> = TOKENS.map(str::to_owned).to_vec();
    let merges: Vec<String> = MERGES.map(str::to_owned).to_vec();
    Tokenizer::from_gguf_vocab(&tokens, &merges, &token_types(), "gpt2").expect("a tiny BPE")
}

/// A GGUF file of the tiny model (f32 tensors under llama.cpp's names).
fn tiny_gguf() -> Vec<u8> {
    let config = tiny_config();
    let weights = tiny_model().named_tensors().expect("tensors");
    let tensors: Vec<(String, QTensor)> = weights
        .iter()
        .filter_map(|(hf, t)| {
            let name = gguf_name(hf)?;
            Some((name, QTensor::quantize(t, GgmlDType::F32).expect("f32")))
        })
        .collect();
    let u32v = |n: usize| Value::U32(u32::try_from(n).expect("small"));
    let strings =
        |list: &[&str]| Value::Array(list.iter().map(|s| Value::String((*s).into())).collect());
    let metadata: Vec<(&str, Value)> = vec![
        ("general.architecture", Value::String("llama".into())),
        ("llama.embedding_length", u32v(config.hidden_size)),
        (
            "llama.attention.head_count",
            u32v(config.num_attention_heads),
        ),
        ("llama.attention.head_count_kv", u32v(config.kv_heads())),
        ("llama.feed_forward_length", u32v(config.intermediate_size)),
        ("llama.block_count", u32v(config.num_hidden_layers)),
        ("llama.context_length", u32v(64)),
        ("llama.attention.layer_norm_rms_epsilon", Value::F32(1e-5)),
        ("llama.rope.freq_base", Value::F32(10_000.0)),
        ("tokenizer.ggml.model", Value::String("gpt2".into())),
        ("tokenizer.ggml.pre", Value::String("smollm".into())),
        ("tokenizer.ggml.tokens", strings(&TOKENS)),
        ("tokenizer.ggml.merges", strings(&MERGES)),
        (
            "tokenizer.ggml.token_type",
            Value::Array(token_types().into_iter().map(Value::I32).collect()),
        ),
        ("tokenizer.ggml.eos_token_id", Value::U32(1)),
    ];
    let metadata: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (*k, v)).collect();
    let tensors: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut out = std::io::Cursor::new(Vec::new());
    gguf_file::write(&mut out, &metadata, &tensors).expect("writes");
    out.into_inner()
}

/// llama.cpp's name of a Hugging Face Llama tensor (the tiny model has no others).
fn gguf_name(hf: &str) -> Option<String> {
    if let Some(rest) = hf.strip_prefix("model.layers.") {
        let (layer, part) = rest.split_once('.')?;
        let short = match part {
            "input_layernorm.weight" => "attn_norm.weight",
            "self_attn.q_proj.weight" => "attn_q.weight",
            "self_attn.k_proj.weight" => "attn_k.weight",
            "self_attn.v_proj.weight" => "attn_v.weight",
            "self_attn.o_proj.weight" => "attn_output.weight",
            "post_attention_layernorm.weight" => "ffn_norm.weight",
            "mlp.gate_proj.weight" => "ffn_gate.weight",
            "mlp.up_proj.weight" => "ffn_up.weight",
            "mlp.down_proj.weight" => "ffn_down.weight",
            _ => return None,
        };
        return Some(format!("blk.{layer}.{short}"));
    }
    match hf {
        "model.embed_tokens.weight" => Some("token_embd.weight".into()),
        "model.norm.weight" => Some("output_norm.weight".into()),
        "lm_head.weight" => Some("output.weight".into()),
        _ => None,
    }
}
