//! Hub models offline: a tiny Qwen2 model in the hub cache layout under a temporary `HF_HOME`,
//! found with `HF_HUB_OFFLINE=1` through [`HubCache::from_env`] and [`HubCache::resolve`] (the
//! study's paper presets call exactly these), loaded, run, saved and reloaded. With the `hub`
//! feature the lookup goes through hf-hub (`local_files_only`); without it, through the cache
//! reader. `cargo test --workspace` (CI's suite: crossgym-study's dev-dependencies turn the
//! feature on) and `cargo test -p crossgym-policy --features hub --test tests hub` run the
//! hf-hub path; `cargo test -p crossgym-policy` the reader.
//!
//! The environment of a test process cannot be changed safely (`set_var` is `unsafe`), so the
//! outer test runs the inner one in a child process with `HF_HOME` and `HF_HUB_OFFLINE` set.

use std::path::{Path, PathBuf};
use std::process::Command;

use candle_core::{DType, Device};
use crossgym_policy::hub::{self, HubCache};
use crossgym_policy::{CausalLm, ChatTemplate, ModelConfig, Pretrained, Tokenizer};

use crate::common::all_logits;

/// The repo id of the tiny model the outer test writes into the cache.
const TINY_REPO: &str = "crossgym-test/Qwen2-tiny-Instruct";
/// A repo that is never in the temporary cache (the 3B preset's model).
const MISSING_REPO: &str = "Qwen/Qwen2.5-3B-Instruct";
/// Tells the inner test that the outer one started it.
const CHILD_MARKER: &str = "CROSSGYM_HUB_TEST_CHILD";

fn tiny_qwen2() -> Pretrained {
    let texts = [
        "Thought: I should go north.\nAction: go north",
        "Action: search[red shoes size 9]",
        "You are in the middle of a room. Looking around you, you see a desk 1.",
    ];
    let tokenizer = Tokenizer::train_bpe(texts.iter(), 300, &["<|im_start|>", "<|im_end|>"])
        .expect("train a BPE tokenizer");
    let config = ModelConfig::tiny_llama(300, 16, 2, 4, 2).qwen2();
    Pretrained {
        model: CausalLm::random(&config, 3, DType::F32, &Device::Cpu).expect("random model"),
        tokenizer,
        template: ChatTemplate::chatml(None),
    }
}

/// Writes `bundle` as the `main` snapshot of `repo_id` in the hub cache `cache`.
fn write_snapshot(cache: &Path, repo_id: &str, bundle: &Pretrained) -> PathBuf {
    let repo = cache.join(hub::repo_folder(repo_id));
    let commit = "5d2c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a0";
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs").join("main"), commit).unwrap();
    let snapshot = repo.join("snapshots").join(commit);
    bundle.save(&snapshot).unwrap();
    snapshot
}

#[test]
fn an_offline_hub_cache_resolves_loads_runs_and_round_trips() {
    let home = std::env::temp_dir().join(format!("crossgym-hf-home-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let snapshot = write_snapshot(&home.join("hub"), TINY_REPO, &tiny_qwen2());
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "hub::resolve_in_child",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env("HF_HOME", &home)
        .env("HF_HUB_OFFLINE", "1")
        .env_remove("HF_HUB_CACHE")
        .env_remove("HUGGINGFACE_HUB_CACHE")
        .env(CHILD_MARKER, &snapshot)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(&home);
    assert!(output.status.success(), "{text}");
    // The child ran the inner test (and did not filter it away).
    assert!(text.contains("1 passed"), "{text}");
}

#[test]
#[ignore = "run by an_offline_hub_cache_resolves_loads_runs_and_round_trips with HF_HOME set"]
fn resolve_in_child() {
    let Some(expected) = std::env::var_os(CHILD_MARKER).map(PathBuf::from) else {
        panic!("run by the outer test, which sets {CHILD_MARKER}");
    };
    let cache = HubCache::from_env();
    assert!(cache.offline);
    assert!(cache.dir.ends_with("hub"));
    let dir = cache.resolve(TINY_REPO, None).unwrap();
    assert_eq!(
        dir.canonicalize().unwrap(),
        expected.canonicalize().unwrap()
    );

    let bundle = Pretrained::load_dir(&dir, DType::F32, &Device::Cpu).unwrap();
    assert_eq!(bundle.model.config().model_type, "qwen2");
    let ids = bundle.tokenizer.encode("Action: go north").unwrap();
    let first = all_logits(&bundle.model, &ids);
    assert_eq!(first.len(), ids.len() * 300);
    assert!(first.iter().all(|x| x.is_finite()));

    let checkpoint = expected
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("checkpoint");
    bundle.save(&checkpoint).unwrap();
    let reloaded = Pretrained::load_dir(&checkpoint, DType::F32, &Device::Cpu).unwrap();
    assert_eq!(all_logits(&reloaded.model, &ids), first);

    let err = cache.resolve(MISSING_REPO, None).unwrap_err().to_string();
    assert!(err.contains(MISSING_REPO), "{err}");
    let searched = cache.dir.join(hub::repo_folder(MISSING_REPO));
    assert!(err.contains(&searched.display().to_string()), "{err}");
}
