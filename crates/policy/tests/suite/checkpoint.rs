//! Checkpoints (safetensors + config.json under HF names), the hub cache layout, random init,
//! the BPE trainer and the chat template.

use candle_core::{DType, Device};
use crossgym_policy::{
    CausalLm, ChatTemplate, Message, ModelConfig, Pretrained, Tokenizer, hub, parameter_shapes,
};

use crate::common::{all_logits, tiny};

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("crossgym-policy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn logits(model: &CausalLm) -> Vec<f32> {
    all_logits(model, &[1, 4, 9, 16, 25])
}

fn trained_tokenizer() -> Tokenizer {
    let texts = [
        "Thought: I should go north.\nAction: go north",
        "Action: pick up the red key 42",
        "You see a closed door and 3 boxes.",
    ];
    Tokenizer::train_bpe(texts.iter(), 300, &["<|im_start|>", "<|im_end|>"]).unwrap()
}

#[test]
fn save_then_load_from_a_hub_cache_layout_gives_the_same_model() {
    for qwen2 in [false, true] {
        let model = tiny(qwen2, DType::F32, 5);
        let tokenizer = trained_tokenizer();
        let pretrained = Pretrained {
            model: model.clone(),
            tokenizer: tokenizer.clone(),
            template: ChatTemplate::chatml(Some("You are a helpful agent.".into())),
        };
        // The hub's cache layout: refs/main names the snapshot.
        let cache = scratch(&format!("hub-{qwen2}"));
        let repo = cache.join(hub::repo_folder("crossgym/tiny-test"));
        let commit = "0123456789abcdef0123456789abcdef01234567";
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs").join("main"), commit).unwrap();
        let snapshot = repo.join("snapshots").join(commit);
        pretrained.save(&snapshot).unwrap();

        let dir = hub::cached_snapshot(&cache, "crossgym/tiny-test", "main").unwrap();
        assert_eq!(dir, snapshot);
        let mut loaded = Pretrained::load_dir(&dir, DType::F32, &Device::Cpu).unwrap();
        // Same arithmetic as `tiny` (f32 products), so the logits compare exactly.
        loaded
            .model
            .set_matmul_backend(crossgym_policy::matmul::MatmulBackend::F32);
        assert_eq!(loaded.model.config().model_type, model.config().model_type);
        assert_eq!(logits(&loaded.model), logits(&model));
        assert_eq!(loaded.template, pretrained.template);
        assert_eq!(
            loaded.tokenizer.encode("go north 42").unwrap(),
            tokenizer.encode("go north 42").unwrap()
        );

        // HF names, and a tied model stores no lm_head.
        let st = candle_core::safetensors::load(snapshot.join("model.safetensors"), &Device::Cpu)
            .unwrap();
        let mut names: Vec<_> = st.keys().cloned().collect();
        names.sort();
        let mut expected: Vec<_> = parameter_shapes(model.config())
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        expected.sort();
        assert_eq!(names, expected);
        assert_eq!(names.contains(&"lm_head.weight".to_owned()), qwen2);
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(snapshot.join("config.json")).unwrap())
                .unwrap();
        assert_eq!(config["torch_dtype"], "float32");
        assert_eq!(config["num_hidden_layers"], 2);
        let _ = std::fs::remove_dir_all(&cache);
    }
}

#[test]
fn missing_snapshot_and_bad_config_are_clear_errors() {
    let cache = scratch("missing");
    let err = hub::cached_snapshot(&cache, "org/none", "main")
        .unwrap_err()
        .to_string();
    assert!(err.contains("org/none"), "{err}");
    std::fs::write(cache.join("config.json"), r#"{"model_type": "gpt2"}"#).unwrap();
    let err = CausalLm::load_dir(&cache, DType::F32, &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("config.json"), "{err}");
    let mut config = ModelConfig::tiny_llama(10, 16, 1, 3, 2);
    assert!(config.validate().is_err());
    config.num_key_value_heads = Some(3);
    config.hidden_size = 18;
    config.validate().unwrap();
    // Sizes that decide allocations before any weight is read are bounded (a fuzzed GGUF
    // declared 10^17 blocks).
    for (layers, positions, field) in [
        (crossgym_policy::MAX_LAYERS + 1, 64, "num_hidden_layers"),
        (
            1,
            crossgym_policy::MAX_POSITIONS + 1,
            "max_position_embeddings",
        ),
        (1, 0, "max_position_embeddings"),
    ] {
        let mut bad = config.clone();
        bad.num_hidden_layers = layers;
        bad.max_position_embeddings = positions;
        let err = bad.validate().unwrap_err().to_string();
        assert!(err.contains(field), "{err}");
    }
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn random_init_is_seeded() {
    assert_eq!(
        logits(&tiny(false, DType::F32, 9)),
        logits(&tiny(false, DType::F32, 9))
    );
    assert_ne!(
        logits(&tiny(false, DType::F32, 9)),
        logits(&tiny(false, DType::F32, 10))
    );
    let model = tiny(true, DType::F32, 9);
    let norm = &model.named_tensors().unwrap()["model.norm.weight"];
    assert_eq!(norm.to_vec1::<f32>().unwrap(), vec![1.0; 16]);
}

#[test]
fn bpe_trainer_round_trips_and_is_deterministic() {
    let a = trained_tokenizer();
    let b = trained_tokenizer();
    let text = "Thought: go north.\nAction: pick up 3 keys ünïcødé 🙂";
    let ids = a.encode(text).unwrap();
    assert_eq!(ids, b.encode(text).unwrap());
    assert_eq!(a.decode(&ids, false).unwrap(), text);
    assert!(a.vocab_size() <= 300 && a.vocab_size() > 258);
    // Special tokens are single ids.
    let chat = ChatTemplate::chatml(None).render(&[Message::user("hi")], true);
    let ids = a.encode(&chat).unwrap();
    assert_eq!(ids[0], a.im_start_id().unwrap());
    assert!(ids.contains(&a.im_end_id().unwrap()));
}

#[test]
fn default_system_prompt_is_read_from_jinja_templates() {
    // Qwen2.5's template writes the default with escaped newlines after a tools branch.
    let qwen = r#"{%- if tools %}{{- '<|im_start|>system\n' }}{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}{%- endif %}{%- else %}{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}{%- else %}{{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}{%- endif %}{%- endif %}"#;
    let t = ChatTemplate::from_jinja(qwen).unwrap();
    assert_eq!(
        t.default_system.as_deref(),
        Some("You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
    );
    let text = t.render(&[Message::user("hi")], true);
    assert_eq!(
        text,
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    );
    assert!(ChatTemplate::from_jinja("{{ bos_token }}[INST]").is_none());
}
