//! The model-driven commands of the `crossgym` binary, through their library functions: `play`
//! with scripted input, and `eval`, `train` and `sft` with a tiny model built here.

use std::io::Cursor;
use std::path::PathBuf;

use crossgym_grpo::{GrpoConfig, SftConfig};
use crossgym_study::commands::{self, EvalCommand, EvalModel, EvalSettings};
use crossgym_study::device::DeviceChoice;
use crossgym_study::envs::registry_for;
use crossgym_study::policy_source::TokenLimits;
use crossgym_study::pretrained_base::{KnownModel, WarmStartSpec, warm_start_model};
use crossgym_study::records::Checkpoint;
use crossgym_study::small_base::build_small_base;

fn dir(name: &str) -> PathBuf {
    crate::common::scratch(&format!("cmd-{name}"))
}

#[test]
fn play_reads_replies_line_by_line_and_stops_on_an_empty_line() {
    let mut input = Cursor::new("Thought:\\nlook\\n\\nAction:\\ninventory\n\n");
    let mut out = Vec::new();
    commands::play("textcraft", 0, false, &mut input, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("Crafting commands"), "{text}");
    assert!(text.contains("Inventory"), "{text}");
    assert!(text.contains("[turn 1, reward 0, done false]"), "{text}");
    assert!(text.trim_end().ends_with("quit"));

    let mut out = Vec::new();
    commands::play("babyai", 3, true, &mut Cursor::new(""), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("Your goal:") && text.contains(">>> "),
        "{text}"
    );

    let err = commands::play("nope", 0, false, &mut Cursor::new(""), &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("nope"));
}

/// `crossgym eval` of the first 2 test tasks of `envs`, k = 2, 2 turns, 3 episodes in flight.
pub fn small_eval(model: EvalModel, envs: Vec<String>, out: PathBuf) -> EvalCommand {
    EvalCommand {
        model,
        device: DeviceChoice::Cpu,
        settings: EvalSettings {
            envs,
            k: 2,
            max_turns: 2,
            temperature: 1.0,
            max_tasks: Some(2),
            splits: vec![crossgym_env_core::Split::Test],
            tokens: TokenLimits {
                max_tokens_per_turn: 16,
                max_total_tokens: 600,
            },
            seed: 0,
            concurrency: 3,
            out,
            run: "eval".into(),
            checkpoint: Checkpoint::START,
        },
        progress: false,
    }
}

#[test]
fn eval_train_and_sft_run_on_a_tiny_model_and_resume() {
    let root = dir("models");
    let envs = vec!["textcraft".to_owned()];
    let registry = registry_for(&envs).unwrap();
    let spec = crate::toy::tiny_base_spec(&envs, 2, 1);
    build_small_base(&spec, &registry, &root.join("base"), false).unwrap();
    let model = root.join("base/final");

    let mut cmd = small_eval(
        EvalModel::Local(model.clone()),
        envs.clone(),
        root.join("eval.jsonl"),
    );
    cmd.settings.tokens = TokenLimits {
        max_tokens_per_turn: 6,
        max_total_tokens: 64,
    };
    let mut out = Vec::new();
    commands::eval(&cmd, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("played 4 episodes; 4 on file"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("textcraft | test | ")),
        "{text}"
    );
    // Resumed: nothing left to play.
    let mut out = Vec::new();
    commands::eval(&cmd, &mut out).unwrap();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("played 0 episodes; 4 on file")
    );

    let mut config = GrpoConfig {
        steps: 1,
        group_size: 2,
        tasks_per_batch: 1,
        mini_batch_tasks: 1,
        micro_batch_size: 2,
        ..GrpoConfig::default()
    };
    config.rollout.max_turns = Some(2);
    config.rollout.max_tokens_per_turn = 6;
    config.rollout.max_total_tokens = 64;
    let mut out = Vec::new();
    commands::train(
        &model,
        DeviceChoice::Cpu,
        &envs,
        config,
        &root.join("train"),
        false,
        &mut out,
    )
    .unwrap();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("trained 1 steps (now at 1)")
    );
    assert!(root.join("train/final/config.json").exists());
    assert!(root.join("train/metrics.jsonl").exists());

    let sft = SftConfig {
        steps: 1,
        batch_size: 2,
        micro_batch_size: 1,
        ..SftConfig::default()
    };
    let mut out = Vec::new();
    commands::sft(
        &model,
        DeviceChoice::Cpu,
        &envs,
        2,
        sft,
        &root.join("sft"),
        false,
        &mut out,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("2 demonstrations; 1 steps"), "{text}");
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn a_pretrained_warm_start_learns_from_train_demos_and_is_cached_by_spec() {
    let root = dir("warm-start");
    let envs = vec!["textcraft".to_owned(), "babyai".to_owned()];
    let registry = registry_for(&envs).unwrap();
    // A tiny model built here stands in for the pretrained one (SmolLM2 in the `cpu` preset).
    let spec = crate::toy::tiny_base_spec(&envs, 1, 1);
    build_small_base(&spec, &registry, &root.join("pretrained"), false).unwrap();
    let load = || {
        Ok(crossgym_policy::Pretrained::load_dir(
            root.join("pretrained/final"),
            candle_core::DType::F32,
            &candle_core::Device::Cpu,
        )?)
    };
    let warm = WarmStartSpec {
        model: KnownModel::SmolLm2_135mInstruct,
        envs: envs.clone(),
        demos_per_env: 2,
        sft: SftConfig {
            steps: 2,
            batch_size: 2,
            micro_batch_size: 1,
            ..SftConfig::default()
        },
        system: None,
    };
    let out = root.join("base");
    let (_, record) = warm_start_model(&warm, load, &registry, &out, false).unwrap();
    assert_eq!(
        record.demos,
        vec![("textcraft".to_owned(), 2), ("babyai".to_owned(), 2)]
    );
    assert!(record.sft_loss.0.is_finite() && record.sft_loss.1.is_finite());
    // Every demonstration is of a train task.
    let demos = std::fs::read_to_string(out.join("demos.jsonl")).unwrap();
    for line in demos.lines() {
        let episode: crossgym_env_core::Episode = serde_json::from_str(line).unwrap();
        let env = registry.make(&episode.env).unwrap();
        assert!(
            env.tasks(crossgym_env_core::Split::Train)
                .contains(&episode.task)
        );
    }
    // The same spec again: the cached model, without loading the pretrained one.
    let (_, again) = warm_start_model(
        &warm,
        || panic!("the cache holds this spec"),
        &registry,
        &out,
        false,
    )
    .unwrap();
    assert_eq!(again, record);
}
