//! Loading a GGUF file: dequantized weights under HF names (Q/K rows un-permuted), the
//! configuration, the tokenizer and the chat template from its metadata.

use std::collections::HashMap;
use std::path::Path;

use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::{DType, Device, Tensor};

use crate::{CausalLm, ChatTemplate, ModelConfig, PolicyError, Pretrained, Result, Tokenizer};

/// Reads a Llama- or Qwen2-architecture GGUF file into an f32/f64 trainable model with its
/// tokenizer and chat template.
///
/// Every tensor is dequantized (Q4_1: `d·q + m`, Q8_0: `d·q`, …). llama.cpp's converter permutes
/// the rows of Llama's Q and K projections for its interleaved RoPE; they are permuted back here
/// (`w.reshape(heads, head_dim/2, 2, in).swap(1, 2)`), so the HF rotate-half RoPE applies and a
/// saved checkpoint matches HF's layout.
pub fn load_gguf(path: impl AsRef<Path>, dtype: DType, device: &Device) -> Result<Pretrained> {
    let path = path.as_ref();
    let bad = |m: String| PolicyError::model(path, m);
    let mut file = std::fs::File::open(path).map_err(|e| PolicyError::io(path, e))?;
    let content = Content::read(&mut file).map_err(|e| bad(format!("not a GGUF file: {e}")))?;
    let meta = Meta {
        content: &content,
        path,
    };
    let arch = meta.string("general.architecture")?;
    if arch != "llama" && arch != "qwen2" {
        return Err(bad(format!(
            "architecture {arch:?} is not supported (llama, qwen2)"
        )));
    }
    let tokens = meta.strings("tokenizer.ggml.tokens")?;
    let merges = meta.strings("tokenizer.ggml.merges")?;
    let token_types: Vec<i32> = match content.metadata.get("tokenizer.ggml.token_type") {
        Some(v) => v
            .to_vec()
            .and_then(|vs| vs.iter().map(Value::to_i32).collect())
            .map_err(|e| bad(format!("tokenizer.ggml.token_type: {e}")))?,
        None => Vec::new(),
    };
    let pre = meta
        .string("tokenizer.ggml.pre")
        .unwrap_or_else(|_| "default".into());
    let model_kind = meta.string("tokenizer.ggml.model")?;
    if model_kind != "gpt2" {
        return Err(bad(format!(
            "tokenizer.ggml.model {model_kind:?} is not supported (gpt2 byte-level BPE)"
        )));
    }
    let tokenizer = Tokenizer::from_gguf_vocab(&tokens, &merges, &token_types, &pre)
        .map_err(|e| bad(e.to_string()))?;
    let template = match content.metadata.get("tokenizer.chat_template") {
        Some(v) => {
            let jinja = v
                .to_string()
                .map_err(|e| bad(format!("tokenizer.chat_template: {e}")))?;
            ChatTemplate::from_jinja(jinja)
                .ok_or_else(|| bad("tokenizer.chat_template is not a ChatML template".into()))?
        }
        None => ChatTemplate::chatml(None),
    };

    let key = |k: &str| format!("{arch}.{k}");
    let hidden = meta.usize(&key("embedding_length"))?;
    let heads = meta.usize(&key("attention.head_count"))?;
    let kv_heads = meta.usize(&key("attention.head_count_kv")).unwrap_or(heads);
    let head_dim = meta
        .usize(&key("rope.dimension_count"))
        .unwrap_or(hidden / heads.max(1));
    let tied = !content.tensor_infos.contains_key("output.weight");
    let has_q_bias = content.tensor_infos.contains_key("blk.0.attn_q.bias");
    let eos = meta.u32("tokenizer.ggml.eos_token_id").ok();
    let config = ModelConfig {
        architectures: vec![if arch == "qwen2" {
            "Qwen2ForCausalLM".into()
        } else {
            "LlamaForCausalLM".into()
        }],
        model_type: arch.clone(),
        vocab_size: tokens.len(),
        hidden_size: hidden,
        intermediate_size: meta.usize(&key("feed_forward_length"))?,
        num_hidden_layers: meta.usize(&key("block_count"))?,
        num_attention_heads: heads,
        num_key_value_heads: Some(kv_heads),
        head_dim: (head_dim != hidden / heads.max(1)).then_some(head_dim),
        rms_norm_eps: meta.f64(&key("attention.layer_norm_rms_epsilon"))?,
        rope_theta: meta.f64(&key("rope.freq_base")).unwrap_or(10_000.0),
        max_position_embeddings: meta.usize(&key("context_length"))?,
        tie_word_embeddings: tied,
        attention_bias: (arch == "llama").then_some(has_q_bias),
        bos_token_id: meta.u32("tokenizer.ggml.bos_token_id").ok(),
        eos_token_id: eos.map(crate::config::TokenIds::One),
        rope_scaling: None,
        extra: serde_json::Map::new(),
    };
    config.validate().map_err(|e| bad(e.to_string()))?;

    let file_len = file.metadata().map_err(|e| PolicyError::io(path, e))?.len();
    let mut tensors = HashMap::new();
    for (gguf_name, hf_name) in tensor_names(&config) {
        let Some(info) = content.tensor_infos.get(&gguf_name) else {
            return Err(bad(format!("missing tensor {gguf_name} ({hf_name})")));
        };
        // candle multiplies the dims unchecked (found by the policy_gguf fuzz target): reject
        // shapes whose element count overflows or could not fit in the file (no GGUF type packs
        // more than 16 elements into a byte).
        let fits = info
            .shape
            .dims()
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d as u64))
            .is_some_and(|n| n <= file_len.saturating_mul(16));
        if !fits {
            let dims = info.shape.dims();
            return Err(bad(format!(
                "tensor {gguf_name}: shape {dims:?} does not fit the file"
            )));
        }
        let q = content
            .tensor(&mut file, &gguf_name, &Device::Cpu)
            .map_err(|e| bad(format!("tensor {gguf_name}: {e}")))?;
        let mut t = q
            .dequantize(&Device::Cpu)
            .map_err(|e| bad(format!("tensor {gguf_name}: {e}")))?;
        if arch == "llama" {
            if gguf_name.contains(".attn_q.") {
                t = unpermute(&t, heads)?;
            } else if gguf_name.contains(".attn_k.") {
                t = unpermute(&t, kv_heads)?;
            }
        }
        tensors.insert(hf_name, t);
    }
    let model =
        CausalLm::from_tensors(&config, tensors, dtype, device).map_err(|e| bad(e.to_string()))?;
    Ok(Pretrained {
        model,
        tokenizer,
        template,
    })
}

/// Undoes llama.cpp's rope permutation of a Q or K weight `[heads·head_dim, in]` (or bias).
pub fn unpermute(w: &Tensor, heads: usize) -> Result<Tensor> {
    let dims = w.dims().to_vec();
    let rows = dims[0];
    let hd = rows / heads;
    let rest: usize = dims[1..].iter().product();
    let t = w
        .reshape((heads, hd / 2, 2, rest))?
        .transpose(1, 2)?
        .contiguous()?
        .reshape(dims)?;
    Ok(t)
}

/// `(gguf name, HF name)` of every tensor a model with `config` needs.
fn tensor_names(config: &ModelConfig) -> Vec<(String, String)> {
    let mut out = vec![(
        "token_embd.weight".to_owned(),
        "model.embed_tokens.weight".to_owned(),
    )];
    for i in 0..config.num_hidden_layers {
        let g = format!("blk.{i}");
        let h = format!("model.layers.{i}");
        let mut pair = |a: &str, b: &str| out.push((format!("{g}.{a}"), format!("{h}.{b}")));
        pair("attn_norm.weight", "input_layernorm.weight");
        for (a, b) in [
            ("attn_q", "q_proj"),
            ("attn_k", "k_proj"),
            ("attn_v", "v_proj"),
        ] {
            pair(&format!("{a}.weight"), &format!("self_attn.{b}.weight"));
            if config.qkv_bias() {
                pair(&format!("{a}.bias"), &format!("self_attn.{b}.bias"));
            }
        }
        pair("attn_output.weight", "self_attn.o_proj.weight");
        if config.o_bias() {
            pair("attn_output.bias", "self_attn.o_proj.bias");
        }
        pair("ffn_norm.weight", "post_attention_layernorm.weight");
        pair("ffn_gate.weight", "mlp.gate_proj.weight");
        pair("ffn_up.weight", "mlp.up_proj.weight");
        pair("ffn_down.weight", "mlp.down_proj.weight");
    }
    out.push(("output_norm.weight".into(), "model.norm.weight".into()));
    if !config.tie_word_embeddings {
        out.push(("output.weight".into(), "lm_head.weight".into()));
    }
    out
}

/// Typed access to GGUF metadata with errors naming the file and key.
struct Meta<'a> {
    content: &'a Content,
    path: &'a Path,
}

impl Meta<'_> {
    fn get(&self, key: &str) -> Result<&Value> {
        self.content
            .metadata
            .get(key)
            .ok_or_else(|| PolicyError::model(self.path, format!("missing metadata {key}")))
    }

    fn wrap<T>(&self, key: &str, r: candle_core::Result<T>) -> Result<T> {
        r.map_err(|e| PolicyError::model(self.path, format!("metadata {key}: {e}")))
    }

    fn string(&self, key: &str) -> Result<String> {
        let v = self.get(key)?;
        self.wrap(key, v.to_string().cloned())
    }

    fn strings(&self, key: &str) -> Result<Vec<String>> {
        let v = self.get(key)?;
        let list = self.wrap(key, v.to_vec())?;
        list.iter()
            .map(|x| self.wrap(key, x.to_string().cloned()))
            .collect()
    }

    fn u32(&self, key: &str) -> Result<u32> {
        let v = self.get(key)?;
        match v {
            Value::U64(_) | Value::I64(_) => Ok(self.wrap(key, v.to_u64())? as u32),
            _ => self.wrap(key, v.to_u32()),
        }
    }

    fn usize(&self, key: &str) -> Result<usize> {
        Ok(self.u32(key)? as usize)
    }

    fn f64(&self, key: &str) -> Result<f64> {
        let v = self.get(key)?;
        match v {
            Value::F64(_) => self.wrap(key, v.to_f64()),
            _ => Ok(self.wrap(key, v.to_f32())? as f64),
        }
    }
}
