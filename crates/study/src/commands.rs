//! The model-driven commands of the `crossgym` binary: `play`, `eval`, `train`, `sft`, `study`
//! and `base`. Each resumes from what its output folder already holds.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossgym_env_core::{Env, Split, TaskId};
use crossgym_grpo::{GrpoConfig, MetricsLog, SftConfig, TrainerBuilder, Verbosity, checkpoint};
use crossgym_policy::{Pretrained, RequestPolicy};

use crate::demos::Demonstrator;
use crate::device::DeviceChoice;
use crate::envs::registry_for;
use crate::eval::{EvalOptions, evaluate};
use crate::metrics::{Bootstrap, summarize};
use crate::plan::{EvalSpec, Plan, Run, RunKind};
use crate::policy_source::{PolicySource, TokenLimits};
use crate::records::{Checkpoint, read_jsonl};
use crate::runner::{StudyRunner, StudySettings, load_model, save_final};
use crate::small_base::{SmallBaseSpec, build_small_base};
use crate::warm_start::{conversations, demonstrations, supervised};
use crate::{Result, StudyError};

use crate::file_commands::emit;

/// `crossgym play`: a person (or, with `oracle`, the env's oracle) plays one task in the
/// terminal. Replies are read line by line from `input`; `\n` in a line stands for a newline
/// (the ReAct formats span lines); an empty line or end of input quits.
pub fn play(
    env_name: &str,
    task: usize,
    oracle: bool,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<()> {
    let names = vec![env_name.to_owned()];
    if oracle {
        let mut demonstrator = Demonstrator::new(&names)?;
        let Some(episode) = demonstrator.episode(env_name, TaskId(task))? else {
            return emit(out, "the oracle does not solve this task\n");
        };
        emit(out, &format!("{}\n", episode.first_observation))?;
        for turn in &episode.turns {
            emit(
                out,
                &format!(
                    "\n>>> {}\n\n{}\n[reward {} done {}]\n",
                    turn.reply, turn.step.observation, turn.step.reward, turn.step.done
                ),
            )?;
        }
        return Ok(());
    }
    let registry = registry_for(&names)?;
    let mut env = registry.make(env_name)?;
    let info = env.info().clone();
    emit(out, &format!("{}\n\n", info.instruction))?;
    let observation = env.reset(TaskId(task))?;
    emit(out, &format!("{observation}\n"))?;
    let mut turns = 0;
    loop {
        emit(out, "\n> ")?;
        out.flush().map_err(|e| StudyError::io("<stdout>", e))?;
        let mut line = String::new();
        let read = input
            .read_line(&mut line)
            .map_err(|e| StudyError::io("<stdin>", e))?;
        let line = line.trim_end_matches(['\n', '\r']);
        if read == 0 || line.is_empty() {
            return emit(out, "\nquit\n");
        }
        let reply = line.replace("\\n", "\n");
        let step = env.step(&reply)?;
        turns += 1;
        emit(
            out,
            &format!(
                "\n{}\n[turn {turns}, reward {}, done {}{}]\n",
                step.observation,
                step.reward,
                step.done,
                if step.info.invalid { ", invalid" } else { "" }
            ),
        )?;
        if step.done {
            return Ok(());
        }
    }
}

/// Where `eval` gets replies from.
#[derive(Clone, Debug)]
pub enum EvalModel {
    /// A model directory or GGUF file, run here.
    Local(PathBuf),
    /// An OpenAI-compatible server.
    Remote {
        /// Base URL (`http://host:8000/v1`).
        url: String,
        /// Model name on the server.
        model: String,
        /// Bearer token, if the server wants one.
        api_key: Option<String>,
        /// Timeout and retries of each request.
        requests: RequestPolicy,
    },
}

/// `crossgym eval`: the model, where it runs, and what it plays.
#[derive(Clone, Debug)]
pub struct EvalCommand {
    /// The model.
    pub model: EvalModel,
    /// Where a local model runs.
    pub device: DeviceChoice,
    /// What is played, and where the records go.
    pub settings: EvalSettings,
    /// Progress bar.
    pub progress: bool,
}

/// What `crossgym eval` plays and where its records go (the command's flags).
#[derive(Clone, Debug, clap::Args)]
pub struct EvalSettings {
    /// Envs, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub envs: Vec<String>,
    /// Samples per task (avg@k).
    #[arg(long, default_value_t = 8)]
    pub k: usize,
    /// Turn cap K.
    #[arg(long, default_value_t = crossgym_env_core::paper::EVAL_MAX_TURNS)]
    pub max_turns: usize,
    /// Sampling temperature.
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f64,
    /// Only the first this many tasks of each split of each env.
    #[arg(long)]
    pub max_tasks: Option<usize>,
    /// Which splits' tasks, comma-separated (train as well for `crossgym split`'s input).
    #[arg(long, value_delimiter = ',', default_value = "test")]
    pub splits: Vec<Split>,
    /// Token caps of an episode.
    #[command(flatten)]
    pub tokens: TokenLimits,
    /// Sampling seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Episodes in flight at once, from any tasks: on a local CPU model, or requests to the
    /// server with --url (records do not depend on it).
    #[arg(long, default_value_t = crate::policy_source::DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
    /// Record file (JSONL); an existing one is resumed.
    #[arg(long)]
    pub out: PathBuf,
    /// The plan run the records belong to (for `crossgym report`).
    #[arg(long, default_value = "eval")]
    pub run: String,
    /// The model state evaluated, STAGE:STEP (0:0 is the starting model).
    #[arg(long, default_value = "0:0")]
    pub checkpoint: Checkpoint,
}

/// `crossgym eval`: avg@k, pass@k, turns and tokens per env, with episodes appended to the
/// record file (an interrupted evaluation resumes).
pub fn eval(command: &EvalCommand, out: &mut dyn Write) -> Result<()> {
    let cmd = &command.settings;
    let registry = registry_for(&cmd.envs)?;
    let mut source = match &command.model {
        EvalModel::Local(path) => {
            let bundle = load_model(path, command.device)?;
            PolicySource::new(
                &bundle.model.inference(),
                bundle.tokenizer.clone(),
                bundle.template.clone(),
                None,
                cmd.tokens,
                cmd.seed,
            )?
            .with_concurrency(cmd.concurrency)
        }
        EvalModel::Remote {
            url,
            model,
            api_key,
            requests,
        } => PolicySource::remote(url, model, api_key.clone(), None, cmd.tokens, cmd.seed)
            .with_request_policy(*requests)
            .with_concurrency(cmd.concurrency),
    };
    let run = Run {
        id: cmd.run.clone(),
        kind: RunKind::Base,
        init_from: None,
        stages: Vec::new(),
        eval: EvalSpec {
            envs: cmd.envs.clone(),
            k: cmd.k,
            max_turns: cmd.max_turns,
            temperature: cmd.temperature,
            every: None,
            max_tasks: cmd.max_tasks,
            final_only: false,
        },
        seed: cmd.seed,
    };
    if let Some(parent) = cmd.out.parent() {
        std::fs::create_dir_all(parent).map_err(|e| StudyError::io(parent, e))?;
    }
    let played = evaluate(
        &run,
        cmd.checkpoint,
        &registry,
        &mut source,
        None,
        &cmd.out,
        &EvalOptions {
            splits: cmd.splits.clone(),
            keep_episodes: true,
            progress: command.progress,
        },
    )?;
    let records = read_jsonl(&cmd.out)?;
    emit(
        out,
        &format!("played {played} episodes; {} on file\n", records.len()),
    )?;
    emit(
        out,
        "env | split | avg@k (95% CI) | pass@k | turns | tokens | episodes\n--- | --- | --- | --- | --- | --- | ---\n",
    )?;
    let bootstrap = Bootstrap::default();
    for env in &cmd.envs {
        for split in &cmd.splits {
            let mine: Vec<_> = records
                .iter()
                .filter(|r| {
                    &r.env == env
                        && r.split == *split
                        && r.run == cmd.run
                        && r.checkpoint == cmd.checkpoint
                })
                .collect();
            let s = summarize(env, mine, &bootstrap)?;
            emit(
                out,
                &format!(
                    "{env} | {split} | {:.2} ({:.2}–{:.2}) | {:.2} | {:.2} | {:.1} | {}\n",
                    s.avg_at_k.value * 100.0,
                    s.avg_at_k.lo * 100.0,
                    s.avg_at_k.hi * 100.0,
                    s.pass_at_k.value * 100.0,
                    s.mean_turns.value,
                    s.mean_tokens.value,
                    s.episodes
                ),
            )?;
        }
    }
    Ok(())
}

fn verbosity(progress: bool) -> Verbosity {
    if progress {
        Verbosity::Progress
    } else {
        Verbosity::Quiet
    }
}

/// `crossgym train`: GRPO on one env or an equal mixture of several, with checkpoints and
/// metrics in `out` (resumed when `out/checkpoints` exists) and the final model in `out/final`.
pub fn train(
    model: &Path,
    device: DeviceChoice,
    envs: &[String],
    config: GrpoConfig,
    out_dir: &Path,
    progress: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let registry = Arc::new(registry_for(envs)?);
    let bundle = load_model(model, device)?;
    let weights: Vec<(&str, f64)> = envs.iter().map(|e| (e.as_str(), 1.0)).collect();
    let mut builder = TrainerBuilder::new(bundle.model, bundle.tokenizer.clone(), config)
        .template(bundle.template.clone())
        .schedule(crossgym_grpo::TaskSchedule::mixture(&weights))
        .metrics_file(out_dir.join("metrics.jsonl"))
        .checkpoint_dir(checkpoint::root_in(out_dir))
        .verbosity(verbosity(progress));
    for env in envs {
        let registry = Arc::clone(&registry);
        let name = env.clone();
        builder = builder.env(move || registry.make(&name));
    }
    let mut trainer = builder.build()?;
    if let Some(checkpoints) = checkpoint::resumable_in(out_dir) {
        trainer.resume(&checkpoints)?;
        emit(out, &format!("resumed at step {}\n", trainer.step()))?;
    }
    // Steps a killed run logged after its last checkpoint are done again: drop their lines.
    MetricsLog::truncate_to_step(out_dir.join("metrics.jsonl"), trainer.step())?;
    let metrics = trainer.train()?;
    let final_dir = out_dir.join("final");
    save_final(
        &Pretrained {
            model: trainer.model().clone(),
            tokenizer: bundle.tokenizer,
            template: bundle.template,
        },
        &final_dir,
    )?;
    let last = metrics.last().map_or(f64::NAN, |m| m.reward_mean);
    emit(
        out,
        &format!(
            "trained {} steps (now at {}); last mean reward {last:.3}; model in {}\n",
            metrics.len(),
            trainer.step(),
            final_dir.display()
        ),
    )
}

/// `crossgym sft`: a supervised warm start of `model` on oracle demonstrations of the first
/// `demos` train tasks of each env the oracle solves; checkpoints and metrics in `out_dir`, the
/// model in `out_dir/final`.
#[allow(clippy::too_many_arguments)]
pub fn sft(
    model: &Path,
    device: DeviceChoice,
    envs: &[String],
    demos: usize,
    config: SftConfig,
    out_dir: &Path,
    progress: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let registry = registry_for(envs)?;
    let bundle = load_model(model, device)?;
    let episodes = demonstrations(envs, demos, &registry, None, progress)?;
    let conversations = conversations(&episodes, &registry, None)?;
    let (_, last_loss) = supervised(&bundle, &conversations, &config, out_dir, progress)?;
    let final_dir = out_dir.join("final");
    save_final(&bundle, &final_dir)?;
    emit(
        out,
        &format!(
            "{} demonstrations; {} steps, last loss {:.4}; model in {}\n",
            conversations.len(),
            config.steps,
            last_loss,
            final_dir.display()
        ),
    )
}

/// `crossgym base`: build (or load the cached) small base model of a spec file.
pub fn base(
    spec: &SmallBaseSpec,
    out_dir: &Path,
    progress: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let registry = registry_for(&spec.envs)?;
    let (_, record) = build_small_base(spec, &registry, out_dir, progress)?;
    emit(
        out,
        &format!(
            "base model in {}: {} parameters, vocab {}, demos {:?}, warm-start loss {:.3} -> {:.3}\n",
            out_dir.join("final").display(),
            record.parameters,
            record.vocab_size,
            record.demos,
            record.sft_loss.0,
            record.sft_loss.1
        ),
    )
}

/// `crossgym study`: every pending run of a plan, then the report.
pub fn study(
    plan: &Path,
    model: &Path,
    device: DeviceChoice,
    settings: Option<&Path>,
    out_dir: &Path,
    progress: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let plan = Plan::load(plan)?;
    let settings = match settings {
        Some(path) => StudySettings::load(path)?,
        None => StudySettings::default(),
    };
    let mut names: Vec<String> = plan
        .runs
        .iter()
        .flat_map(|r| {
            r.eval.envs.iter().cloned().chain(
                r.stages
                    .iter()
                    .flat_map(|s| s.sources.iter().map(|x| x.env.clone())),
            )
        })
        .collect();
    names.sort();
    names.dedup();
    let registry = Arc::new(registry_for(&names)?);
    let base = load_model(model, device)?;
    let runner = StudyRunner::new(plan, out_dir, base, registry, settings)?.with_progress(progress);
    let written = runner.run_all()?;
    emit(
        out,
        &format!(
            "study done; report: {} files under {}\n",
            written.len(),
            out_dir.join("report").display()
        ),
    )
}

/// The task list of an env for `play`'s help: how many tasks and which are test tasks.
pub fn describe_env(env: &dyn Env) -> String {
    format!(
        "{}: {} tasks ({} train, {} test)",
        env.info().name,
        env.num_tasks(),
        env.tasks(Split::Train).len(),
        env.tasks(Split::Test).len()
    )
}

/// `crossgym export agentgym-rl`: the plan's launch files under `dir`
/// ([`crate::export::export_agentgym_rl`]).
pub fn export_agentgym_rl(
    plan: &Path,
    difficulty: Option<&Path>,
    options: &crate::export::ExportOptions,
    dir: &Path,
    out: &mut dyn Write,
) -> Result<()> {
    let plan = Plan::load(plan)?;
    let difficulty = difficulty
        .map(crate::difficulty::DifficultyFile::load)
        .transpose()?;
    let registry = crate::envs::registry()?;
    let summary =
        crate::export::export_agentgym_rl(&plan, &registry, difficulty.as_ref(), options, dir)?;
    emit(
        out,
        &format!(
            "wrote {} launch scripts and {} item-id files to {}\n",
            summary.run_scripts.len(),
            summary.item_files.len(),
            dir.display()
        ),
    )?;
    for (run, why) in &summary.skipped {
        emit(out, &format!("not exported: {run}: {why}\n"))?;
    }
    Ok(())
}
