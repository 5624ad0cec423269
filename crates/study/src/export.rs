//! `crossgym export agentgym-rl`: a study plan as AgentGym-RL launch files, so the paper-scale
//! runs train on a GPU cluster (verl + Ray + vLLM) against `crossgym serve`, and their
//! checkpoints come back into `crossgym report` through `crossgym eval --url`.
//!
//! What is written under the output folder:
//! - `AgentItemId/<env>_train.json` (every train task), `<env>_easy_train.json` /
//!   `<env>_hard_train.json` (the difficulty file's halves, when a run trains on one) and
//!   `<env>_test.json`: AgentGym's item-id lists (`[{"item_id": "babyai_12"}, …]`, the number
//!   being crossgym's task id, which is also the `data_idx` the env server takes);
//! - `runs/<run>.sh`: one launch script per training run, its stages in order, each stage's
//!   model the merged final checkpoint of the stage before (or of the run it starts from);
//! - `serve_envs.sh`: one `crossgym serve` per env the plan trains or evaluates on;
//! - `eval.sh`: serves each finished checkpoint with vLLM and evaluates it with
//!   `crossgym eval --url … --run ID --checkpoint STAGE:STEP`, into `results/`;
//! - `report.sh`, and a copy of the plan (and of the difficulty file).
//!
//! AgentGym-RL's trainer takes one `task_name` per launch, so a stage that mixes envs (the joint
//! run) has no launch script; such runs are listed in [`ExportSummary::skipped`] and in the
//! folder's `README.md`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crossgym_env_core::{Registry, Split, TaskId};
use crossgym_grpo::GrpoConfig;
use serde_json::json;

use crate::difficulty::DifficultyFile;
use crate::io::write_atomic;
use crate::plan::{Plan, Run, Stage, TaskPool};
use crate::{Result, StudyError};

/// Port of `crossgym serve` for each env in the launch files (BabyAI's is the one AgentGym-RL's
/// example scripts use); the envs not listed take the ports after these.
const DEFAULT_PORTS: [(&str, u16); 5] = [
    ("webshop", 36001),
    ("searchqa", 36002),
    ("textcraft", 36003),
    ("alfworld", 36004),
    ("babyai", 36005),
];

/// Settings of the export that are not in the plan.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportOptions {
    /// Host of the env servers as the rollout workers reach them.
    pub env_host: String,
    /// The base model as AgentGym-RL loads it (a local path or a hub name); the plan's model
    /// when `None`.
    pub base_model: Option<String>,
    /// Epochs over a stage's items (`trainer.total_epochs`).
    pub epochs: usize,
    /// Where `eval.sh` serves a checkpoint with vLLM.
    pub vllm_port: u16,
}

impl Default for ExportOptions {
    /// Env servers on 127.0.0.1, the plan's model, 10 epochs (AgentGym-RL's example), vLLM on 8000.
    fn default() -> Self {
        Self {
            env_host: "127.0.0.1".into(),
            base_model: None,
            epochs: 10,
            vllm_port: 8000,
        }
    }
}

/// What [`export_agentgym_rl`] wrote and left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExportSummary {
    /// Launch scripts, one per exported training run.
    pub run_scripts: Vec<PathBuf>,
    /// Item-id files.
    pub item_files: Vec<PathBuf>,
    /// Runs without a launch script, and why.
    pub skipped: Vec<(String, String)>,
}

/// The file-name form of a run id (`difficulty/babyai/u` → `difficulty_babyai_u`).
pub fn run_slug(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The item-id file name of `env`'s `pool` of its `split`.
fn item_file_name(env: &str, split: Split, pool: TaskPool) -> String {
    let split = match split {
        Split::Train => "train",
        Split::Test => "test",
    };
    match pool {
        TaskPool::All => format!("{env}_{split}.json"),
        TaskPool::Easy => format!("{env}_easy_{split}.json"),
        TaskPool::Hard => format!("{env}_hard_{split}.json"),
    }
}

/// Writes the launch files of `plan` under `out`; see the module docs.
pub fn export_agentgym_rl(
    plan: &Plan,
    registry: &Registry,
    difficulty: Option<&DifficultyFile>,
    options: &ExportOptions,
    out: &Path,
) -> Result<ExportSummary> {
    plan.validate()?;
    let mut summary = ExportSummary::default();
    let grpo = GrpoConfig::default();
    let base_model = options.base_model.clone().unwrap_or(plan.model.clone());

    // Which item files the runs need.
    let mut needed: BTreeSet<(String, TaskPool)> = BTreeSet::new();
    let mut envs: BTreeSet<String> = BTreeSet::new();
    for run in &plan.runs {
        envs.extend(run.eval.envs.iter().cloned());
        for stage in &run.stages {
            for source in &stage.sources {
                envs.insert(source.env.clone());
                needed.insert((source.env.clone(), source.pool));
            }
        }
    }
    for env in &envs {
        if !registry.contains(env) {
            return Err(StudyError::invalid(
                "export",
                format!("the plan names env {env:?}, which crossgym does not have"),
            ));
        }
    }
    let items = out.join("AgentItemId");
    for (env, pool) in &needed {
        let tasks = pool_tasks(registry, difficulty, env, Split::Train, *pool)?;
        let path = items.join(item_file_name(env, Split::Train, *pool));
        write_items(&path, env, &tasks)?;
        summary.item_files.push(path);
    }
    for env in &envs {
        let tasks = pool_tasks(registry, difficulty, env, Split::Test, TaskPool::All)?;
        let path = items.join(item_file_name(env, Split::Test, TaskPool::All));
        write_items(&path, env, &tasks)?;
        summary.item_files.push(path);
    }

    let ports = env_ports(&envs);
    let launch = Launch {
        grpo: &grpo,
        options,
        ports: &ports,
        base_model: &base_model,
    };
    for run in plan.runs.iter().filter(|r| !r.stages.is_empty()) {
        if let Some(stage) = run.stages.iter().find(|s| s.sources.len() != 1) {
            let names: Vec<&str> = stage.sources.iter().map(|s| s.env.as_str()).collect();
            summary.skipped.push((
                run.id.clone(),
                format!(
                    "a stage mixes {}; AgentGym-RL's trainer takes one task_name per launch",
                    names.join(" + ")
                ),
            ));
            continue;
        }
        let path = out.join("runs").join(format!("{}.sh", run_slug(&run.id)));
        write_script(&path, &launch.run_script(plan, run))?;
        summary.run_scripts.push(path);
    }
    let skipped: BTreeSet<&str> = summary.skipped.iter().map(|(id, _)| id.as_str()).collect();
    write_script(&out.join("serve_envs.sh"), &serve_script(&ports))?;
    write_script(
        &out.join("eval.sh"),
        &launch.eval_script(plan, &skipped, difficulty.is_some()),
    )?;
    write_script(&out.join("report.sh"), &report_script(difficulty.is_some()))?;
    plan.save(&out.join("plan.toml"))?;
    if let Some(difficulty) = difficulty {
        difficulty.save(&out.join("difficulty.json"))?;
    }
    write_atomic(
        &out.join("README.md"),
        readme(plan, &summary, out).as_bytes(),
    )?;
    Ok(summary)
}

/// The tasks of a pool, from the env's split (all) or the difficulty file (easy, hard).
fn pool_tasks(
    registry: &Registry,
    difficulty: Option<&DifficultyFile>,
    env: &str,
    split: Split,
    pool: TaskPool,
) -> Result<Vec<TaskId>> {
    match (pool, difficulty) {
        (TaskPool::All, _) => Ok(registry.make(env)?.tasks(split).to_vec()),
        (_, Some(file)) => file.pool(env, split, pool),
        (_, None) => Err(StudyError::invalid(
            "export",
            format!(
                "a run trains on {env}'s {} half: pass --difficulty FILE (from `crossgym split` \
                 or a study folder's difficulty.json)",
                if pool == TaskPool::Easy {
                    "easy"
                } else {
                    "hard"
                }
            ),
        )),
    }
}

fn write_items(path: &Path, env: &str, tasks: &[TaskId]) -> Result<()> {
    let items: Vec<_> = tasks
        .iter()
        .map(|t| json!({"item_id": format!("{env}_{}", t.0)}))
        .collect();
    let text = serde_json::to_string_pretty(&items)
        .map_err(|e| StudyError::invalid("export", e.to_string()))?;
    create_parent(path)?;
    write_atomic(path, text.as_bytes())
}

fn create_parent(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| StudyError::io(parent, e))?;
    }
    Ok(())
}

/// Writes an executable script.
fn write_script(path: &Path, text: &str) -> Result<()> {
    create_parent(path)?;
    write_atomic(path, text.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| StudyError::io(path, e))?;
    }
    Ok(())
}

/// Each env's `crossgym serve` port.
fn env_ports(envs: &BTreeSet<String>) -> Vec<(String, u16)> {
    let mut next = DEFAULT_PORTS.iter().map(|(_, p)| *p).max().unwrap_or(36000) + 1;
    envs.iter()
        .map(|env| {
            let port = DEFAULT_PORTS
                .iter()
                .find(|(name, _)| name == env)
                .map_or_else(
                    || {
                        next += 1;
                        next - 1
                    },
                    |(_, p)| *p,
                );
            (env.clone(), port)
        })
        .collect()
}

/// The shared values of the generated scripts.
struct Launch<'a> {
    grpo: &'a GrpoConfig,
    options: &'a ExportOptions,
    ports: &'a [(String, u16)],
    base_model: &'a str,
}

/// The file a run script leaves in a stage's save folder once the stage's training has finished.
const DONE: &str = "crossgym-stage-done";

/// Shell helpers every run script and eval.sh use.
const SHELL_HELPERS: &str = r#"# The last saved checkpoint of a stage's save folder (verl's global_step_N/actor).
last_checkpoint() {
  ls -d "$1"/global_step_* 2>/dev/null | sort -V | tail -n 1
}

# Merges a stage's last checkpoint into Hugging Face format (AgentGym-RL's scripts/model_merger.py)
# and prints its path.
merged_model() {
  local last
  last="$(last_checkpoint "$1")"
  if [ -z "$last" ]; then
    echo "no checkpoint under $1: train that stage first" >&2
    return 1
  fi
  if [ ! -d "$last/actor/huggingface" ]; then
    python3 scripts/model_merger.py --local_dir "$last/actor" >&2
  fi
  echo "$last/actor/huggingface"
}
"#;

impl Launch<'_> {
    fn env_url(&self, env: &str) -> String {
        let port = self
            .ports
            .iter()
            .find(|(name, _)| name == env)
            .map_or(0, |(_, p)| *p);
        format!("http://{}:{port}", self.options.env_host)
    }

    /// The save folder of stage `stage` (1-based) of `run`, relative to `$SAVE_DIR`.
    fn stage_dir(run: &Run, stage: usize) -> String {
        format!("{}/stage{stage}", run_slug(&run.id))
    }

    /// The run `run` starts from, when that run trains (else `run` starts from the base model).
    fn trained_init<'p>(plan: &'p Plan, run: &Run) -> Option<&'p Run> {
        let id = run.init_from.as_ref()?;
        plan.runs
            .iter()
            .find(|r| &r.id == id)
            .filter(|init| !init.stages.is_empty())
    }

    /// The shell word for the starting model of `run`: the merged final model of its trained
    /// `init_from` run, or `$BASE_MODEL`.
    fn starting_model(plan: &Plan, run: &Run) -> String {
        match Self::trained_init(plan, run) {
            Some(init) => format!(
                "\"$(merged_model \"$SAVE_DIR/{}\")\"",
                Self::stage_dir(init, init.stages.len())
            ),
            None => "\"$BASE_MODEL\"".to_owned(),
        }
    }

    fn run_script(&self, plan: &Plan, run: &Run) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            "#!/usr/bin/env bash\n\
             # AgentGym-RL launch script for run `{id}` of plan `{plan}` ({stages} stage(s)), written by\n\
             # `crossgym export agentgym-rl`. Run it from the AgentGym-RL checkout (the folder with verl/ and\n\
             # scripts/), in its conda environment, with `serve_envs.sh` running where env_addr points.\n\
             # Hyper-parameters: the paper's (GRPO, KL {kl} low_var_kl, lr {lr}, {n} samples per task).\n\
             set -euo pipefail\n\
             export VLLM_USE_MODELSCOPE=0\n\
             export VLLM_WORKER_MULTIPROC_METHOD=spawn\n\
             export VLLM_ATTENTION_BACKEND=XFORMERS\n\
             EXPORT_DIR=\"${{EXPORT_DIR:-$(cd \"$(dirname \"$0\")/..\" && pwd)}}\"\n\
             BASE_MODEL=\"${{BASE_MODEL:-{base}}}\"\n\
             SAVE_DIR=\"${{SAVE_DIR:-saves}}\"\n\
             PROJECT=\"${{PROJECT:-crossgym-{plan}}}\"\n\n{helpers}\n",
            id = run.id,
            plan = plan.name,
            stages = run.stages.len(),
            kl = self.grpo.loss.kl_coef,
            lr = self.grpo.optimizer.lr,
            n = self.grpo.group_size,
            base = self.base_model,
            helpers = SHELL_HELPERS,
        );
        let _ = write!(s, "model={}", Self::starting_model(plan, run));
        match Self::trained_init(plan, run) {
            Some(init) => {
                let _ = writeln!(s, "  # the final model of run {}", init.id);
            }
            None => s.push('\n'),
        }
        for (i, stage) in run.stages.iter().enumerate() {
            let number = i + 1;
            let dir = Self::stage_dir(run, number);
            let _ = write!(
                s,
                "\n# Stage {number}: {what}\n\
                 # (an interrupted stage resumes from its last checkpoint; a finished one is skipped)\n\
                 if [ ! -e \"$SAVE_DIR/{dir}/{DONE}\" ]; then\n\
                 mkdir -p \"$SAVE_DIR/{dir}\"\n{train}touch \"$SAVE_DIR/{dir}/{DONE}\"\nfi\n",
                what = describe_stage(stage),
                train = self.train_command(run, stage, &dir),
            );
            if number < run.stages.len() {
                let _ = writeln!(s, "model=\"$(merged_model \"$SAVE_DIR/{dir}\")\"");
            }
        }
        s
    }

    /// The `main_ppo` call of one single-env stage, every key of AgentGym-RL's example set.
    fn train_command(&self, run: &Run, stage: &Stage, dir: &str) -> String {
        let source = &stage.sources[0];
        let rounds = crossgym_env_core::paper::by_name(&source.env)
            .map_or(crossgym_env_core::paper::EVAL_MAX_TURNS, |p| p.max_turns);
        let experiment = dir.replace('/', "-");
        let rollout = &self.grpo.rollout;
        let train_file = item_file_name(&source.env, Split::Train, source.pool);
        #[rustfmt::skip]
        let keys: Vec<(&str, String)> = vec![
            ("algorithm.adv_estimator", "grpo".into()),
            ("algorithm.rounds_ctrl.type", "fixed".into()),
            ("algorithm.rounds_ctrl.rounds", rounds.to_string()),
            ("data.train_file", format!("\"$EXPORT_DIR/AgentItemId/{train_file}\"")),
            ("data.train_batch_size", self.grpo.tasks_per_batch.to_string()),
            ("data.max_prompt_length", "1024".into()),
            ("data.max_response_length", rollout.max_total_tokens.to_string()),
            ("actor_rollout_ref.agentgym.task_name", source.env.clone()),
            ("actor_rollout_ref.agentgym.env_addr", self.env_url(&source.env)),
            ("actor_rollout_ref.agentgym.timeout", "600".into()),
            ("actor_rollout_ref.model.path", "\"$model\"".into()),
            ("actor_rollout_ref.actor.use_kl_loss", "True".into()),
            ("actor_rollout_ref.actor.kl_loss_coef", self.grpo.loss.kl_coef.to_string()),
            ("actor_rollout_ref.actor.kl_loss_type", "low_var_kl".into()),
            ("actor_rollout_ref.rollout.gpu_memory_utilization", "0.7".into()),
            ("actor_rollout_ref.rollout.n", self.grpo.group_size.to_string()),
            ("actor_rollout_ref.rollout.max_model_len", "32768".into()),
            ("actor_rollout_ref.rollout.max_tokens", rollout.max_tokens_per_turn.to_string()),
            ("actor_rollout_ref.rollout.tensor_model_parallel_size", "1".into()),
            ("actor_rollout_ref.actor.ppo_epochs", "1".into()),
            ("actor_rollout_ref.actor.optim.lr", self.grpo.optimizer.lr.to_string()),
            ("actor_rollout_ref.actor.ppo_mini_batch_size", "8".into()),
            ("actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu", "1".into()),
            ("actor_rollout_ref.rollout.rollout_log_dir", format!("\"$SAVE_DIR/{dir}/executer_logs\"")),
            ("algorithm.kl_ctrl.kl_coef", self.grpo.loss.kl_coef.to_string()),
            ("trainer.default_local_dir", format!("\"$SAVE_DIR/{dir}\"")),
            ("trainer.project_name", "\"$PROJECT\"".into()),
            ("trainer.experiment_name", experiment),
            ("trainer.save_freq", "25".into()),
            ("trainer.total_epochs", self.options.epochs.to_string()),
            ("++trainer.resume_mode", "auto".into()),
        ];
        let mut s = format!(
            "# crossgym run seed {seed}; rounds = the paper's training turn limit for {env}.\n\
             HYDRA_FULL_ERROR=1 PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True python3 -m verl.agent_trainer.main_ppo \\\n",
            seed = run.seed,
            env = source.env
        );
        for (i, (key, value)) in keys.iter().enumerate() {
            let end = if i + 1 == keys.len() { "\n" } else { " \\\n" };
            let _ = write!(s, "    {key}={value}{end}");
        }
        s
    }

    fn eval_script(&self, plan: &Plan, skipped: &BTreeSet<&str>, labelled: bool) -> String {
        let mut s = format!(
            "#!/usr/bin/env bash\n\
             # Evaluates the plan's models with crossgym against the env servers' data, each checkpoint\n\
             # served by vLLM (OpenAI-compatible) and played by `crossgym eval --url`; the records land in\n\
             # $EXPORT_DIR/results, labelled with the plan's run ids and checkpoints, for report.sh.\n\
             # Run it from the AgentGym-RL checkout after the run scripts (trained stages are merged here).\n\
             set -euo pipefail\n\
             EXPORT_DIR=\"${{EXPORT_DIR:-$(cd \"$(dirname \"$0\")\" && pwd)}}\"\n\
             BASE_MODEL=\"${{BASE_MODEL:-{base}}}\"\n\
             SAVE_DIR=\"${{SAVE_DIR:-saves}}\"\n\
             CROSSGYM=\"${{CROSSGYM:-crossgym}}\"\n\
             VLLM_PORT=\"${{VLLM_PORT:-{port}}}\"\n\
             CONCURRENCY=\"${{CONCURRENCY:-64}}\"\n\
             mkdir -p \"$EXPORT_DIR/results\"\n\n{helpers}\n\
             # serve_and_eval MODEL_PATH RUN_ID STAGE:STEP ENVS K MAX_TURNS TEMPERATURE\n\
             serve_and_eval() {{\n\
             \x20 local out=\"$EXPORT_DIR/results/$(echo \"$2\" | tr -c 'A-Za-z0-9-\\n' _)_${{3/:/-}}.jsonl\"\n\
             \x20 python3 -m vllm.entrypoints.openai.api_server --model \"$1\" --served-model-name policy \\\n\
             \x20   --port \"$VLLM_PORT\" >\"$out.vllm.log\" 2>&1 &\n\
             \x20 local server=$!\n\
             \x20 until curl -sf \"http://127.0.0.1:$VLLM_PORT/v1/models\" >/dev/null; do\n\
             \x20   kill -0 \"$server\" || {{ echo \"vLLM failed: see $out.vllm.log\" >&2; return 1; }}\n\
             \x20   sleep 5\n\
             \x20 done\n\
             \x20 \"$CROSSGYM\" eval --url \"http://127.0.0.1:$VLLM_PORT/v1\" --model policy --envs \"$4\" \\\n\
             \x20   --k \"$5\" --max-turns \"$6\" --temperature \"$7\" --run \"$2\" --checkpoint \"$3\" \\\n\
             \x20   --concurrency \"$CONCURRENCY\" --quiet --out \"$out\"\n\
             \x20 kill \"$server\"; wait \"$server\" || true\n\
             }}\n",
            base = self.base_model,
            port = self.options.vllm_port,
            helpers = SHELL_HELPERS,
        );
        if labelled {
            s.push_str("# (report.sh labels easy/hard with difficulty.json)\n");
        }
        for run in &plan.runs {
            let eval = &run.eval;
            let args = format!(
                "\"{}\" {} {} {}",
                eval.envs.join(","),
                eval.k,
                eval.max_turns,
                eval.temperature
            );
            let _ = writeln!(s, "\n# {}", run.id);
            if skipped.contains(run.id.as_str()) {
                let _ = writeln!(s, "# not exported (see README.md): nothing to evaluate");
                continue;
            }
            if run.stages.is_empty() {
                let start = Self::starting_model(plan, run);
                let _ = writeln!(s, "serve_and_eval {start} \"{}\" 0:0 {args}", run.id);
                continue;
            }
            // Every saved checkpoint of each stage when the plan asks for curves, else the last.
            let _ = writeln!(s, "for stage in $(seq 1 {}); do", run.stages.len());
            let _ = writeln!(s, "  dir=\"$SAVE_DIR/{}/stage$stage\"", run_slug(&run.id));
            if eval.every.is_some() {
                s.push_str("  checkpoints=\"$(ls -d \"$dir\"/global_step_* | sort -V)\"\n");
            } else {
                let _ = writeln!(
                    s,
                    "  [ \"$stage\" = {} ] || continue\n  checkpoints=\"$(last_checkpoint \"$dir\")\"",
                    run.stages.len()
                );
            }
            let _ = writeln!(
                s,
                "  [ -n \"$checkpoints\" ] || {{ echo \"{id}: no checkpoint under $dir, skipped\" >&2; continue; }}",
                id = run.id
            );
            let _ = writeln!(
                s,
                "  for checkpoint in $checkpoints; do\n\
                 \x20   [ -d \"$checkpoint/actor/huggingface\" ] || python3 scripts/model_merger.py --local_dir \"$checkpoint/actor\" >&2\n\
                 \x20   serve_and_eval \"$checkpoint/actor/huggingface\" \"{}\" \"$stage:${{checkpoint##*global_step_}}\" {args}\n\
                 \x20 done\ndone",
                run.id
            );
        }
        s
    }
}

fn describe_stage(stage: &Stage) -> String {
    stage
        .sources
        .iter()
        .map(|s| {
            let pool = match s.pool {
                TaskPool::All => "all train tasks",
                TaskPool::Easy => "the easy half",
                TaskPool::Hard => "the hard half",
            };
            format!("{} ({pool})", s.env)
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

fn serve_script(ports: &[(String, u16)]) -> String {
    let mut s = String::from(
        "#!/usr/bin/env bash\n\
         # One `crossgym serve` per env of the plan, on the ports the run scripts' env_addr use.\n\
         # HOST=0.0.0.0 serves other machines; stop with Ctrl-C (every server stops).\n\
         set -euo pipefail\n\
         CROSSGYM=\"${CROSSGYM:-crossgym}\"\n\
         HOST=\"${HOST:-127.0.0.1}\"\n\
         trap 'kill $(jobs -p) 2>/dev/null' EXIT\n",
    );
    for (env, port) in ports {
        let _ = writeln!(
            s,
            "\"$CROSSGYM\" serve --env {env} --host \"$HOST\" --port {port} &"
        );
    }
    s.push_str("wait\n");
    s
}

fn report_script(labelled: bool) -> String {
    let difficulty = if labelled {
        " --difficulty \"$EXPORT_DIR/difficulty.json\""
    } else {
        ""
    };
    format!(
        "#!/usr/bin/env bash\n\
         # The study's tables, plots and HTML report from eval.sh's records.\n\
         set -euo pipefail\n\
         EXPORT_DIR=\"${{EXPORT_DIR:-$(cd \"$(dirname \"$0\")\" && pwd)}}\"\n\
         CROSSGYM=\"${{CROSSGYM:-crossgym}}\"\n\
         \"$CROSSGYM\" report --plan \"$EXPORT_DIR/plan.toml\" --results \"$EXPORT_DIR/results\"{difficulty} \\\n\
         \x20 --out \"$EXPORT_DIR/report\"\n"
    )
}

fn readme(plan: &Plan, summary: &ExportSummary, out: &Path) -> String {
    let mut s = format!(
        "# Plan `{}` for AgentGym-RL\n\n\
         Written by `crossgym export agentgym-rl`. Steps:\n\n\
         1. On the env machine: `./serve_envs.sh` (one `crossgym serve` per env).\n\
         2. In the AgentGym-RL checkout and conda env: `runs/<run>.sh` for each run, in the order below\n\
         \x20  (a run that starts from another run's model needs that run finished). Set `SAVE_DIR`\n\
         \x20  (default `saves`) and `BASE_MODEL` as needed.\n\
         3. `./eval.sh` (vLLM + `crossgym eval --url`), then `./report.sh`.\n\n\
         Runs, in order:\n",
        plan.name
    );
    for script in &summary.run_scripts {
        let name = script.strip_prefix(out).unwrap_or(script);
        let _ = writeln!(s, "- `{}`", name.display());
    }
    if !summary.skipped.is_empty() {
        s.push_str("\nNot exported:\n");
        for (run, why) in &summary.skipped {
            let _ = writeln!(s, "- `{run}`: {why}");
        }
    }
    s
}
