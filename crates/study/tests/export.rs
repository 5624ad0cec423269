//! `crossgym export agentgym-rl`: the launch scripts set every key AgentGym-RL's example script
//! sets, the item-id files list the right tasks, and the scripts chain stages and runs when run
//! with stand-ins for AgentGym-RL's trainer, its checkpoint merger, vLLM and crossgym.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crossgym_env_core::{Split, TaskId};
use crossgym_study::difficulty::{DifficultyFile, EnvDifficulty, Halves, balanced_halves};
use crossgym_study::envs::registry;
use crossgym_study::export::{ExportOptions, export_agentgym_rl, run_slug};
use crossgym_study::plan::Plan;

const REFERENCE: &str = include_str!("fixtures/agentgym-rl/babyai_train.sh");

fn temp_dir(name: &str) -> PathBuf {
    crate::common::created_scratch(&format!("export-{name}"))
}

/// The `key=value` keys the reference passes to `verl.agent_trainer.main_ppo`.
fn reference_keys() -> BTreeSet<String> {
    let call = REFERENCE
        .split("verl.agent_trainer.main_ppo")
        .nth(1)
        .expect("the reference calls main_ppo");
    call.lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with("status="))
        .filter_map(|line| line.split_once('=').map(|(key, _)| key.to_owned()))
        .collect()
}

/// A difficulty file splitting each env's tasks into halves by task id.
fn difficulty(envs: &[&str]) -> DifficultyFile {
    let registry = registry().unwrap();
    let halves = |tasks: &[TaskId]| {
        let scores: Vec<(TaskId, f64)> = tasks
            .iter()
            .map(|t| (*t, f64::from(t.0 as u32 % 3)))
            .collect();
        balanced_halves(&scores, 0)
    };
    let envs = envs
        .iter()
        .map(|name| {
            let env = registry.make(name).unwrap();
            let entry = EnvDifficulty {
                train: halves(env.tasks(Split::Train)),
                test: halves(env.tasks(Split::Test)),
                scores: BTreeMap::new(),
            };
            ((*name).to_owned(), entry)
        })
        .collect();
    DifficultyFile {
        base_model: "base".into(),
        k: 4,
        seed: 0,
        envs,
    }
}

fn item_ids(path: &Path) -> Vec<String> {
    let items: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["item_id"].as_str().unwrap().to_owned())
        .collect()
}

fn export_paper_plan(dir: &Path) -> (Plan, DifficultyFile) {
    let envs = vec!["babyai".to_owned(), "textcraft".to_owned()];
    let plan = Plan::paper("Qwen/Qwen2.5-3B-Instruct", &envs, Some(25), 3);
    let difficulty = difficulty(&["babyai", "textcraft"]);
    let summary = export_agentgym_rl(
        &plan,
        &registry().unwrap(),
        Some(&difficulty),
        &ExportOptions::default(),
        dir,
    )
    .unwrap();
    // Every training run but the joint mixture gets a script.
    let training = plan.runs.iter().filter(|r| !r.stages.is_empty()).count();
    assert_eq!(summary.run_scripts.len(), training - 1);
    assert_eq!(summary.skipped.len(), 1);
    assert!(
        summary.skipped[0].0.starts_with("joint/"),
        "{:?}",
        summary.skipped
    );
    (plan, difficulty)
}

#[test]
fn every_script_sets_every_key_of_agentgym_rls_launcher_and_parses() {
    let dir = temp_dir("keys");
    let (plan, _) = export_paper_plan(&dir);
    let keys = reference_keys();
    assert!(
        keys.len() > 25 && keys.contains("actor_rollout_ref.agentgym.env_addr"),
        "{keys:?}"
    );
    for run in plan
        .runs
        .iter()
        .filter(|r| !r.stages.is_empty() && !r.id.starts_with("joint/"))
    {
        let path = dir.join("runs").join(format!("{}.sh", run_slug(&run.id)));
        let script = std::fs::read_to_string(&path).unwrap();
        // Once per stage, every key.
        for key in &keys {
            assert_eq!(
                script.matches(&format!(" {key}=")).count(),
                run.stages.len(),
                "{key} in {}",
                path.display()
            );
        }
        // The paper's hyper-parameters.
        for setting in [
            "algorithm.adv_estimator=grpo",
            "actor_rollout_ref.actor.kl_loss_coef=0.001",
            "actor_rollout_ref.actor.kl_loss_type=low_var_kl",
            "actor_rollout_ref.actor.optim.lr=0.000001",
            "actor_rollout_ref.rollout.n=8",
        ] {
            assert!(script.contains(setting), "{setting} in {}", path.display());
        }
    }
    // BabyAI's rounds are the paper's training turn limit; its server is on AgentGym-RL's port.
    let u = std::fs::read_to_string(dir.join("runs/difficulty_babyai_u.sh")).unwrap();
    assert!(u.contains("algorithm.rounds_ctrl.rounds=10 "), "{u}");
    assert!(u.contains("env_addr=http://127.0.0.1:36005 "), "{u}");
    assert!(u.contains("AgentItemId/babyai_train.json"), "{u}");
    for entry in std::fs::read_dir(dir.join("runs")).unwrap() {
        let status = Command::new("bash")
            .arg("-n")
            .arg(entry.unwrap().path())
            .status()
            .unwrap();
        assert!(status.success());
    }
    for script in ["eval.sh", "serve_envs.sh", "report.sh"] {
        assert!(
            Command::new("bash")
                .arg("-n")
                .arg(dir.join(script))
                .status()
                .unwrap()
                .success()
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn item_files_list_the_splits_and_the_difficulty_halves() {
    let dir = temp_dir("items");
    let (_, difficulty) = export_paper_plan(&dir);
    let registry = registry().unwrap();
    let babyai = registry.make("babyai").unwrap();
    let ids = |tasks: &[TaskId]| -> Vec<String> {
        tasks.iter().map(|t| format!("babyai_{}", t.0)).collect()
    };
    let items = dir.join("AgentItemId");
    assert_eq!(
        item_ids(&items.join("babyai_train.json")),
        ids(babyai.tasks(Split::Train))
    );
    assert_eq!(
        item_ids(&items.join("babyai_test.json")),
        ids(babyai.tasks(Split::Test))
    );
    let Halves { easy, hard } = &difficulty.envs["babyai"].train;
    assert_eq!(item_ids(&items.join("babyai_easy_train.json")), ids(easy));
    assert_eq!(item_ids(&items.join("babyai_hard_train.json")), ids(hard));
    assert!(items.join("textcraft_hard_train.json").exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn easy_and_hard_runs_need_a_difficulty_file() {
    let dir = temp_dir("nodiff");
    let plan = Plan::paper("m", &["babyai".to_owned()], None, 0);
    let err = export_agentgym_rl(
        &plan,
        &registry().unwrap(),
        None,
        &ExportOptions::default(),
        &dir,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("--difficulty") && err.contains("babyai"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Stand-ins on PATH: `python3` plays AgentGym-RL's trainer (saves global_step_3 and _6 under
/// trainer.default_local_dir), its merger (makes actor/huggingface) and vLLM (waits); `curl`
/// says the server is up. Every call is appended to calls.log.
fn stand_ins(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let python = r#"#!/usr/bin/env bash
echo "python3 $*" >> "$CALLS"
case "$*" in
  *verl.agent_trainer.main_ppo*)
    for arg in "$@"; do
      case "$arg" in trainer.default_local_dir=*) out="${arg#trainer.default_local_dir=}" ;; esac
    done
    mkdir -p "$out/global_step_3/actor" "$out/global_step_6/actor" ;;
  *model_merger.py*) mkdir -p "$3/huggingface" ;;
  *vllm*) exec sleep 30 ;;
esac
"#;
    let crossgym = "#!/usr/bin/env bash\necho \"crossgym $*\" >> \"$CALLS\"\n";
    for (name, text) in [
        ("python3", python),
        ("curl", "#!/usr/bin/env bash\nexit 0\n"),
        ("crossgym", crossgym),
    ] {
        let path = bin.join(name);
        std::fs::write(&path, text).unwrap();
        Command::new("chmod").arg("+x").arg(&path).status().unwrap();
    }
    bin
}

#[test]
fn scripts_chain_stages_runs_and_evaluations() {
    let dir = temp_dir("chain");
    let export = dir.join("export");
    let envs = vec!["babyai".to_owned(), "textcraft".to_owned()];
    let plan = Plan::new("chain", "base-model")
        .with_difficulty(&envs, 0)
        .with_two_stage(&envs, None, 0)
        .with_sequences(std::slice::from_ref(&envs), Some(3), 0);
    export_agentgym_rl(
        &plan,
        &registry().unwrap(),
        Some(&difficulty(&["babyai", "textcraft"])),
        &ExportOptions::default(),
        &export,
    )
    .unwrap();
    let bin = stand_ins(&dir);
    let calls = dir.join("calls.log");
    let run = |script: &Path| {
        let status = Command::new("bash")
            .arg(script)
            .current_dir(&dir)
            .env(
                "PATH",
                format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
            )
            .env("CALLS", &calls)
            .env("SAVE_DIR", dir.join("saves"))
            .status()
            .unwrap();
        assert!(status.success(), "{}", script.display());
    };
    for training in plan.runs.iter().filter(|r| !r.stages.is_empty()) {
        run(&export
            .join("runs")
            .join(format!("{}.sh", run_slug(&training.id))));
    }
    run(&export.join("eval.sh"));
    let log = std::fs::read_to_string(&calls).unwrap();
    let saves = dir.join("saves").display().to_string();
    // The two-stage run starts from the U run's merged final model.
    let upstream = format!("{saves}/difficulty_babyai_u/stage1/global_step_6/actor/huggingface");
    let two_stage = log
        .lines()
        .find(|l| l.contains("two-stage_babyai_textcraft/stage1") && l.contains("main_ppo"))
        .unwrap();
    assert!(
        two_stage.contains(&format!("actor_rollout_ref.model.path={upstream}")),
        "{two_stage}"
    );
    // The sequence's second stage starts from its first.
    let second = log
        .lines()
        .find(|l| l.contains("sequence_babyai_textcraft/stage2") && l.contains("main_ppo"))
        .unwrap();
    assert!(second.contains(&format!(
        "actor_rollout_ref.model.path={saves}/sequence_babyai_textcraft/stage1/global_step_6/actor/huggingface"
    )), "{second}");
    assert!(
        second.contains("AgentItemId/textcraft_train.json"),
        "{second}"
    );
    // eval.sh: the base at 0:0, the U run's last checkpoint, every checkpoint of the sequence.
    let evals: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("crossgym eval"))
        .collect();
    assert!(
        evals
            .iter()
            .any(|l| l.contains("--run base --checkpoint 0:0")),
        "{evals:?}"
    );
    assert!(
        evals
            .iter()
            .any(|l| l.contains("--run difficulty/babyai/u --checkpoint 1:6"))
    );
    assert!(
        !evals
            .iter()
            .any(|l| l.contains("--run difficulty/babyai/u --checkpoint 1:3"))
    );
    for checkpoint in ["1:3", "1:6", "2:3", "2:6"] {
        assert!(
            evals.iter().any(|l| l.contains(&format!(
                "--run sequence/babyai+textcraft --checkpoint {checkpoint}"
            ))),
            "{checkpoint}: {evals:?}"
        );
    }
    // Rerunning a finished run trains nothing again.
    let trained = log.matches("main_ppo").count();
    run(&export.join("runs/difficulty_babyai_u.sh"));
    let log = std::fs::read_to_string(&calls).unwrap();
    assert_eq!(log.matches("main_ppo").count(), trained);
    std::fs::remove_dir_all(&dir).ok();
}
