//! The whole study in one call, at a preset scale: `smoke` (every code path on all five envs
//! with a tiny model built here, minutes), `cpu` (the three axes with SmolLM2-135M-Instruct,
//! warm-started on oracle demonstrations, on a 2-core CPU), `paper-3b` / `paper-7b` (the paper's settings with Qwen2.5 from the
//! hub, for CUDA machines).
//!
//! The output folder holds the study (see [`crate::runner`]), the cached base model (`base/`;
//! for `cpu` also `base/zero_shot.jsonl`, the pretrained model's scores before its warm start),
//! `report.html`, and `summary.md`, which states which of the paper's findings the run
//! reproduces, with the numbers and a per-phase time breakdown. Everything resumes: rerunning
//! the same command skips the base build and finished runs and continues an interrupted one.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use crossgym_env_core::Split;
use crossgym_grpo::GrpoConfig;
use crossgym_policy::Pretrained;
use serde::{Deserialize, Serialize};

use crate::base_scores::{BaseScores, base_scores, base_scores_markdown};
use crate::device::DeviceChoice;
use crate::envs::{STUDY_ENVS, registry_for};
use crate::findings::{Verdict, findings, findings_markdown};
use crate::io::write_atomic;
use crate::memory;
use crate::metrics::Bootstrap;
use crate::plan::{Plan, Run, RunKind};
use crate::plan_cost::{measured_rates, plan_cost};
use crate::policy_source::TokenLimits;
use crate::pretrained_base::{KnownModel, WarmStartRecord, WarmStartSpec, warm_start_pretrained};
use crate::results::StudyResults;
use crate::runner::{PhaseTiming, StudyRunner, StudySettings};
use crate::small_base::{BuildRecord, SmallBaseSpec, build_small_base};
use crate::{Result, StudyError};

/// A scale of the study.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// Every code path on all five envs with a tiny model (≤ 10 minutes on 2 cores).
    Smoke,
    /// SmolLM2-135M-Instruct, warm-started on oracle demonstrations of train tasks, on the
    /// runs that answer each of the paper's findings ([`crate::cpu_plan`]; 2-core CPU).
    Cpu,
    /// The `cpu` preset's model and settings on the paper's complete plan (every env, regime,
    /// pair and sequence; many hours on a 2-core CPU).
    #[value(name = "cpu-full")]
    CpuFull,
    /// The paper's settings with Qwen2.5-3B-Instruct (CUDA GPUs).
    #[value(name = "paper-3b")]
    Paper3b,
    /// The paper's settings with Qwen2.5-7B-Instruct (CUDA GPUs).
    #[value(name = "paper-7b")]
    Paper7b,
}

impl Preset {
    /// The preset's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Smoke => "smoke",
            Preset::Cpu => "cpu",
            Preset::CpuFull => "cpu-full",
            Preset::Paper3b => "paper-3b",
            Preset::Paper7b => "paper-7b",
        }
    }

    /// The hub model of the paper presets.
    pub fn hub_model(self) -> Option<&'static str> {
        match self {
            Preset::Paper3b => Some("Qwen/Qwen2.5-3B-Instruct"),
            Preset::Paper7b => Some("Qwen/Qwen2.5-7B-Instruct"),
            _ => None,
        }
    }

    /// Where the preset's base model comes from.
    pub fn base(self) -> BaseSource {
        let envs: Vec<String> = STUDY_ENVS.iter().map(|s| (*s).to_owned()).collect();
        match self {
            Preset::Smoke => {
                let mut spec = SmallBaseSpec::one_layer(&envs, 3, 4, (400, 32));
                spec.sft.batch_size = 5;
                spec.sft.micro_batch_size = 5;
                BaseSource::Built(spec)
            }
            Preset::Cpu | Preset::CpuFull => BaseSource::WarmStarted(cpu_warm_start(&envs)),
            Preset::Paper3b | Preset::Paper7b => {
                BaseSource::Hub(self.hub_model().unwrap_or_default())
            }
        }
    }

    /// Training and evaluation settings.
    pub fn settings(self) -> StudySettings {
        match self {
            Preset::Smoke => {
                let tokens = TokenLimits {
                    max_tokens_per_turn: 12,
                    max_total_tokens: 256,
                };
                StudySettings {
                    grpo: GrpoConfig {
                        group_size: 2,
                        tasks_per_batch: 1,
                        mini_batch_tasks: 1,
                        micro_batch_size: 2,
                        rollout: tokens.rollout(Some(2)),
                        ..GrpoConfig::default()
                    },
                    stage_steps: 1,
                    eval_tokens: tokens,
                    bootstrap: 50,
                    ..StudySettings::default()
                }
            }
            Preset::Cpu | Preset::CpuFull => {
                // Warm-started SmolLM2 replies (thought + action) run to 40-90 tokens.
                let tokens = TokenLimits {
                    max_tokens_per_turn: 96,
                    max_total_tokens: 1024,
                };
                StudySettings {
                    grpo: GrpoConfig {
                        group_size: 4,
                        tasks_per_batch: 2,
                        mini_batch_tasks: 2,
                        micro_batch_size: 1,
                        optimizer: crossgym_grpo::AdamWConfig {
                            // Chosen on train tasks (crates/study/README.md, "The cpu
                            // preset's learning rate"): of 1e-5, 3e-5 and 1e-4 over six steps
                            // of the three envs' mixture, the largest that did not lower the
                            // warm-started base's train-task scores beyond its interval (3e-5
                            // cost SearchQA 47 points, 1e-4 every env all of its score).
                            lr: 1e-5,
                            ..crossgym_grpo::AdamWConfig::default()
                        },
                        rollout: tokens.rollout(Some(6)),
                        ..GrpoConfig::default()
                    },
                    // Four updates a stage, evaluations only at START and stage ends.
                    stage_steps: 4,
                    eval_tokens: tokens,
                    bootstrap: 1000,
                    ..StudySettings::default()
                }
            }
            // The paper's GRPO settings are the crate defaults; stages of 100 steps.
            Preset::Paper3b | Preset::Paper7b => StudySettings::default(),
        }
    }

    /// Evaluation scale: (k, turn cap, tasks per split, evaluate every n steps).
    pub fn eval_scale(self) -> (usize, usize, Option<usize>, Option<usize>) {
        match self {
            Preset::Smoke => (2, 2, Some(2), Some(1)),
            // The floor for a finding's interval: 30 test tasks per env, k = 4.
            Preset::Cpu | Preset::CpuFull => (4, 8, Some(30), None),
            Preset::Paper3b | Preset::Paper7b => {
                (8, crossgym_env_core::paper::EVAL_MAX_TURNS, None, Some(20))
            }
        }
    }

    /// The envs the preset's findings are computed over: the trained envs of the `cpu` plan,
    /// all five otherwise.
    pub fn study_envs(self) -> Vec<String> {
        let envs: &[&str] = match self {
            Preset::Cpu => &crate::cpu_plan::TRAINED_ENVS,
            _ => &STUDY_ENVS,
        };
        envs.iter().map(|e| (*e).to_owned()).collect()
    }

    /// The plan of the preset (the paper's on all five envs; [`crate::cpu_plan`] for `cpu`),
    /// restricted to `axes` (1, 2, 3) and the runs they start from.
    pub fn plan(self, model: &str, axes: &[u8]) -> Plan {
        let envs: Vec<String> = STUDY_ENVS.iter().map(|s| (*s).to_owned()).collect();
        let (k, max_turns, max_tasks, every) = self.eval_scale();
        let mut plan = match self {
            Preset::Cpu => crate::cpu_plan::cpu_plan(model, &envs, 0),
            _ => Plan::paper(model, &envs, every, 0),
        };
        plan.name = format!("crossgym reproduce --preset {}", self.name());
        // The runs on the axes, and the runs they start from (two-stage runs start from U runs).
        let mut needed: BTreeSet<String> = plan
            .runs
            .iter()
            .filter(|run| axes.iter().any(|a| on_axis(run, *a)))
            .map(|r| r.id.clone())
            .collect();
        let inits: Vec<String> = plan
            .runs
            .iter()
            .filter(|r| needed.contains(&r.id))
            .filter_map(|r| r.init_from.clone())
            .collect();
        needed.extend(inits);
        let mut runs: Vec<Run> = std::mem::take(&mut plan.runs)
            .into_iter()
            .filter(|r| needed.contains(&r.id))
            .collect();
        for run in &mut runs {
            run.eval.k = k;
            run.eval.max_turns = max_turns;
            run.eval.max_tasks = max_tasks;
            if run.eval.every.is_some() || matches!(run.kind, RunKind::Difficulty { .. }) {
                run.eval.every = every;
            }
        }
        plan.runs = runs;
        plan
    }
}

/// Where a preset's base model comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum BaseSource {
    /// A small model built here from scratch ([`build_small_base`]).
    Built(SmallBaseSpec),
    /// A pretrained instruct model warm-started on demonstrations ([`warm_start_pretrained`]).
    WarmStarted(WarmStartSpec),
    /// A hub model, as published.
    Hub(&'static str),
}

/// The `cpu` preset's base: SmolLM2-135M-Instruct after a short supervised pass on oracle
/// demonstrations of train tasks, the same number per env (see `crates/study/README.md`,
/// "The cpu preset's base", for the zero-shot and warm-started numbers behind this size).
fn cpu_warm_start(envs: &[String]) -> WarmStartSpec {
    WarmStartSpec {
        model: KnownModel::SmolLm2_135mInstruct,
        envs: envs.to_vec(),
        demos_per_env: CPU_DEMOS_PER_ENV,
        sft: crossgym_grpo::SftConfig {
            steps: CPU_WARM_START_STEPS,
            batch_size: 8,
            // One sequence per pass: demonstrations differ a lot in length.
            micro_batch_size: 1,
            optimizer: crossgym_grpo::AdamWConfig {
                lr: CPU_WARM_START_LR,
                ..crossgym_grpo::AdamWConfig::default()
            },
            ..crossgym_grpo::SftConfig::default()
        },
        system: None,
    }
}

/// Demonstrations per env in the `cpu` preset's warm start (120 in all). With 8 per env and 10
/// steps the base scored 0 on four envs (see the study README, "The cpu preset's base").
const CPU_DEMOS_PER_ENV: usize = 24;
/// Warm-start steps of 8 demonstrations: two passes over the 120.
const CPU_WARM_START_STEPS: usize = 30;
/// Warm-start learning rate in the `cpu` preset.
const CPU_WARM_START_LR: f64 = 5e-5;

/// Whether `run` belongs to axis `axis` (the base model belongs to all).
pub fn on_axis(run: &Run, axis: u8) -> bool {
    matches!(
        (&run.kind, axis),
        (RunKind::Base, _)
            | (RunKind::Difficulty { .. }, 1)
            | (
                RunKind::Difficulty {
                    regime: crate::plan::Regime::U,
                    ..
                },
                2
            )
            | (
                RunKind::TwoStage { .. } | RunKind::Sequence { .. } | RunKind::Joint { .. },
                3
            )
    )
}

/// The model config of a paper preset (the published `config.json`), known before anything is
/// downloaded.
pub fn paper_model_config(preset: Preset) -> Option<crossgym_policy::ModelConfig> {
    match preset {
        Preset::Paper3b => Some(memory::qwen2_5_3b()),
        Preset::Paper7b => Some(memory::qwen2_5_7b()),
        _ => None,
    }
}

/// Checks, before any model is loaded, that a paper preset can train on `device`: a CUDA device
/// whose memory holds the estimate of [`memory::estimate`] at the paper's settings (one
/// trajectory of 8,192 tokens per pass, bf16, KL reference model). Returns the opened device,
/// or a message saying what the preset needs, what this machine has, and the scale-out route.
/// `ignore_memory` skips the memory comparison (the estimate is a worst case: most
/// trajectories are shorter than the response budget).
pub fn paper_preflight(
    preset: Preset,
    device: DeviceChoice,
    ignore_memory: bool,
) -> std::result::Result<candle_core::Device, String> {
    let Some(config) = paper_model_config(preset) else {
        return Err(format!("preset {} is not a paper preset", preset.name()));
    };
    let model = preset.hub_model().unwrap_or("the model");
    let settings = preset.settings();
    let shape = memory::TrainingShape {
        reference_model: settings.grpo.loss.kl_coef > 0.0,
        ..memory::TrainingShape::paper_minimum()
    };
    let need = memory::estimate(&config, candle_core::DType::BF16, &shape);
    let needs = format!(
        "GRPO on {model} needs about {:.0} GiB on one GPU ({:.0} GiB weights, gradients, AdamW \
         moments and KL reference; {:.0} GiB activations for one {}-token trajectory in bf16; \
         {:.0} GiB in all with per-layer activation recomputation, which crossgym does not do)",
        memory::gib(need.total(false)),
        memory::gib(need.states()),
        memory::gib(need.activations),
        shape.tokens,
        memory::gib(need.total(true)),
    );
    let scale_out = "To train at this scale, serve the envs to a distributed trainer instead: \
         `crossgym serve` puts them behind AgentGym's HTTP protocol, and AgentGym-RL's launch \
         files (e.g. examples/train/*_train.sh, with actor_rollout_ref.agentgym.env_addr set to \
         the server) shard the model over several GPUs (FSDP, vLLM rollouts).";
    if !device.is_cuda() {
        return Err(format!(
            "preset {} trains {model} with the paper's settings and needs a CUDA GPU: run it \
             with `--device cuda` on a GPU machine, with a binary built by `cargo xtask \
             build-cuda`. Stopping now instead of starting a weeks-long CPU run. {needs}. \
             {scale_out}",
            preset.name()
        ));
    }
    let index = match device {
        DeviceChoice::Cuda(n) => n,
        DeviceChoice::Cpu => 0,
    };
    let has = match memory::gpu_memory() {
        Some(sizes) => match sizes.get(index) {
            Some(&bytes) => bytes,
            None => {
                return Err(format!(
                    "--device {device}: nvidia-smi lists {} GPU(s)",
                    sizes.len()
                ));
            }
        },
        None => {
            return Err(format!(
                "preset {} needs a CUDA GPU and `nvidia-smi` lists none here. {needs}. {scale_out}",
                preset.name()
            ));
        }
    };
    if has < need.total(false) && !ignore_memory {
        return Err(format!(
            "preset {}: {needs}; GPU {index} has {:.0} GiB, so it would fail hours into the \
             run. Stopping now (pass --ignore-memory-estimate to try anyway). {scale_out}",
            preset.name(),
            memory::gib(has)
        ));
    }
    device.open().map_err(|e| e.to_string())
}

/// Runs the preset into `out` (resuming what is there) and writes `summary.md` and
/// `report.html`; returns the summary text.
///
/// Models run on `device` (a small preset's base model is built on the CPU and moved there). A
/// paper preset first runs [`paper_preflight`] and stops within seconds when it cannot train
/// here; `ignore_memory` skips its memory comparison.
pub fn reproduce(
    preset: Preset,
    axes: &[u8],
    out: &Path,
    device: DeviceChoice,
    ignore_memory: bool,
    progress: bool,
) -> Result<String> {
    if axes.is_empty() || axes.iter().any(|a| !(1..=3).contains(a)) {
        return Err(StudyError::invalid(
            "reproduce",
            format!("--axes must list some of 1, 2, 3 (got {axes:?})"),
        ));
    }
    if preset.hub_model().is_some() {
        paper_preflight(preset, device, ignore_memory)
            .map_err(|m| StudyError::invalid("reproduce", m))?;
    }
    let start = Instant::now();
    std::fs::create_dir_all(out).map_err(|e| StudyError::io(out, e))?;
    let envs: Vec<String> = STUDY_ENVS.iter().map(|s| (*s).to_owned()).collect();
    let registry = Arc::new(registry_for(&envs)?);
    let base_dir = out.join("base");
    let (base, build, model_name): (Pretrained, BaseBuild, String) = match preset.base() {
        BaseSource::Built(spec) => {
            let (base, record) = build_small_base(&spec, &registry, &base_dir, progress)?;
            (
                device.place(base)?,
                BaseBuild::Built(Box::new(record)),
                format!("crossgym-small-{}", preset.name()),
            )
        }
        BaseSource::WarmStarted(spec) => {
            let (base, record) = warm_start_pretrained(&spec, &registry, &base_dir, progress)?;
            (
                device.place(base)?,
                BaseBuild::WarmStarted(Box::new(record)),
                format!("{}+warm-start", spec.model.hub_name()),
            )
        }
        BaseSource::Hub(repo) => {
            let dir = crossgym_policy::hub::HubCache::from_env().resolve(repo, None)?;
            let base = Pretrained::load_dir(&dir, device.dtype(), &device.open()?)?;
            (base, BaseBuild::Hub, repo.to_owned())
        }
    };
    let base_seconds = start.elapsed().as_secs_f64();
    let plan = preset.plan(&model_name, axes);
    let settings = preset.settings();
    let runner = StudyRunner::new(
        plan.clone(),
        out,
        base,
        Arc::clone(&registry),
        settings.clone(),
    )?
    .with_progress(progress);
    let zero_shot_path = base_dir.join("zero_shot.jsonl");
    let base_run = plan.runs.iter().find(|r| r.kind == RunKind::Base).cloned();
    if let (BaseBuild::WarmStarted(record), Some(base_run)) = (&build, &base_run) {
        // The pretrained model before its warm start, on the base run's test tasks.
        let raw = device.place(record.spec.model.load()?)?;
        let (k, max_tasks) = ZERO_SHOT_SCALE;
        let mut zero_shot_run = Run {
            id: ZERO_SHOT_RUN.to_owned(),
            ..base_run.clone()
        };
        zero_shot_run.eval.k = k;
        zero_shot_run.eval.max_tasks = Some(max_tasks);
        runner.evaluate_outside(&zero_shot_run, &raw, &zero_shot_path)?;
    }
    runner.run_all()?;
    let report_html = out.join("report").join("report.html");
    if report_html.exists() {
        std::fs::copy(&report_html, out.join("report.html"))
            .map_err(|e| StudyError::io(out.join("report.html"), e))?;
    }
    let records = runner.records()?;
    let results = StudyResults::build(
        &plan,
        &records,
        &Bootstrap {
            resamples: settings.bootstrap,
            ..Bootstrap::default()
        },
    )?;
    let found = findings(&results, &preset.study_envs());
    let timings = read_timings(&out.join("timings.jsonl"))?;
    let scores = match (&build, &base_run) {
        (BaseBuild::WarmStarted(_), Some(base_run)) => Some(base_scores(
            &envs,
            &crate::records::read_jsonl(&zero_shot_path)?,
            &records,
            &base_run.id,
            &Bootstrap {
                resamples: settings.bootstrap,
                ..Bootstrap::default()
            },
        )?),
        _ => None,
    };
    let mut summary = summary_markdown(
        preset,
        axes,
        &model_name,
        (&build, scores.as_deref()),
        &found,
        &timings,
        base_seconds,
        start.elapsed().as_secs_f64(),
    );
    summary.push_str(&size_markdown(preset, &model_name, &registry, &timings)?);
    write_atomic(&out.join("summary.md"), summary.as_bytes())?;
    let json =
        serde_json::to_string_pretty(&found).map_err(|e| StudyError::parse("findings.json", e))?;
    write_atomic(&out.join("findings.json"), json.as_bytes())?;
    Ok(summary)
}

/// The "Size" section of `summary.md`: the episodes and steps of this preset's plan and of the
/// complete plan at the same scale, and their time at this study's measured costs.
fn size_markdown(
    preset: Preset,
    model: &str,
    registry: &crossgym_env_core::Registry,
    timings: &[PhaseTiming],
) -> Result<String> {
    let (_, _, max_tasks, _) = preset.eval_scale();
    let mut sizes = Vec::new();
    for env in STUDY_ENVS {
        let made = registry.make(env)?;
        for split in [Split::Test, Split::Train] {
            let n = crate::eval::eval_tasks(made.as_ref(), &[split], max_tasks).len();
            sizes.push(((env, split), n));
        }
    }
    let tasks = |env: &str, split: Split| {
        sizes
            .iter()
            .find(|((e, s), _)| *e == env && *s == split)
            .map_or(0, |(_, n)| *n)
    };
    let stage_steps = preset.settings().stage_steps;
    let mut plans = vec![(preset, preset.plan(model, &[1, 2, 3]))];
    if preset == Preset::Cpu {
        plans.push((Preset::CpuFull, Preset::CpuFull.plan(model, &[1, 2, 3])));
    }
    let (per_episode, per_step) = measured_rates(timings, &[ZERO_SHOT_RUN]);
    let mut md = String::from(
        "\n## Size\n\n| plan | runs | evaluation episodes | GRPO steps | time at this study's costs |\n|---|---|---|---|---|\n",
    );
    for (name, plan) in plans {
        let cost = plan_cost(&plan, stage_steps, tasks);
        let time = match (per_episode, per_step) {
            (Some(e), Some(s)) => format!(
                "{:.1} h ({e:.2} s an episode, {s:.0} s a step; base build not included)",
                cost.seconds(e, s) / 3600.0
            ),
            _ => "not measured yet".to_owned(),
        };
        md.push_str(&format!(
            "| `{}` | {} | {} | {} | {time} |\n",
            name.name(),
            plan.runs.len(),
            cost.eval_episodes,
            cost.train_steps
        ));
    }
    Ok(md)
}

/// `env n, env n, …`.
fn demo_counts(demos: &[(String, usize)]) -> String {
    demos
        .iter()
        .map(|(e, n)| format!("{e} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The run id of the zero-shot evaluation of a warm-started base (its records are in
/// `base/zero_shot.jsonl`, outside the study's records).
pub const ZERO_SHOT_RUN: &str = "zero-shot";

/// The zero-shot evaluation of a warm-started base, `(k, first test tasks per env)`: a report
/// beside the base's scores, which no finding reads. Before its warm start the model replies
/// in prose until every turn's token cap, so each of its episodes costs the most tokens an
/// episode can.
pub const ZERO_SHOT_SCALE: (usize, usize) = (2, 10);

/// How this call got its base model.
enum BaseBuild {
    Built(Box<BuildRecord>),
    WarmStarted(Box<WarmStartRecord>),
    Hub,
}

fn read_timings(path: &Path) -> Result<Vec<PhaseTiming>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    crate::io::read_jsonl_of(path)
}

#[allow(clippy::too_many_arguments)]
fn summary_markdown(
    preset: Preset,
    axes: &[u8],
    model: &str,
    base: (&BaseBuild, Option<&[BaseScores]>),
    found: &[crate::findings::Finding],
    timings: &[PhaseTiming],
    base_seconds: f64,
    total_seconds: f64,
) -> String {
    let mut md = format!(
        "# crossgym reproduce --preset {} (axes {})\n\n",
        preset.name(),
        axes.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
    );
    md.push_str(&format!("Base model: `{model}`"));
    let (build, scores) = base;
    match build {
        BaseBuild::Built(b) => md.push_str(&format!(
            " — built here: {} parameters, byte-level BPE vocabulary {}, warm start on {} oracle demonstrations ({}), loss {:.3} → {:.3}",
            b.parameters,
            b.vocab_size,
            b.demos.iter().map(|(_, n)| n).sum::<usize>(),
            demo_counts(&b.demos),
            b.sft_loss.0,
            b.sft_loss.1
        )),
        BaseBuild::WarmStarted(b) => md.push_str(&format!(
            " — {} parameters, warm-started on {} oracle demonstrations of train tasks ({}): {} \
             steps of {} at learning rate {}, loss {:.3} → {:.3}, {:.0} s",
            b.parameters,
            b.demos.iter().map(|(_, n)| n).sum::<usize>(),
            demo_counts(&b.demos),
            b.spec.sft.steps,
            b.spec.sft.batch_size,
            b.spec.sft.optimizer.lr,
            b.sft_loss.0,
            b.sft_loss.1,
            b.seconds.iter().map(|(_, s)| s).sum::<f64>()
        )),
        BaseBuild::Hub => {}
    }
    md.push_str(".\n\n");
    if let Some(rows) = scores {
        md.push_str(
            "## The base before and after its warm start\n\n\
             avg@k on the test tasks below; the warm start saw only train tasks.\n\n",
        );
        md.push_str(&format!(
            "Zero-shot: avg@{} on the first {} test tasks per env (a report: no finding reads \
             it); warm-started: the base run's evaluation.\n\n",
            ZERO_SHOT_SCALE.0, ZERO_SHOT_SCALE.1
        ));
        md.push_str(&base_scores_markdown(rows));
        md.push('\n');
    }
    let (k, turns, tasks, every) = preset.eval_scale();
    md.push_str(&format!(
        "Evaluation: avg@{k}, turn cap {turns}, {} test tasks per env, curves every {} steps. \
         The paper: avg@8, K = 20, all test tasks, Qwen2.5-3B/7B-Instruct. Scaled-down numbers are \
         not comparable with the paper's in size — only in direction.\n\n",
        tasks.map_or("all".to_owned(), |n| format!("the first {n}")),
        every.map_or("—".to_owned(), |n| n.to_string())
    ));
    if preset == Preset::Cpu {
        md.push_str(&format!(
            "Plan: the runs that answer each finding (`crates/study/src/cpu_plan.rs` lists them \
             and what was dropped); findings over the trained envs {}. `--preset cpu-full` runs \
             the paper's complete plan at this scale.\n\n",
            preset.study_envs().join(", ")
        ));
    }
    md.push_str("## The paper's findings\n\n");
    md.push_str(&findings_markdown(found));
    let count = |v: Verdict| found.iter().filter(|f| f.verdict == v).count();
    md.push_str(&format!(
        "\n{} reproduced, {} not reproduced, {} inconclusive, {} not measured at these axes.\n\n",
        count(Verdict::Reproduced),
        count(Verdict::NotReproduced),
        count(Verdict::Inconclusive),
        count(Verdict::NotMeasured)
    ));
    md.push_str("## Time\n\n| phase | seconds | units |\n|---|---|---|\n");
    let build_seconds = match base.0 {
        BaseBuild::Built(b) => Some(&b.seconds),
        BaseBuild::WarmStarted(b) => Some(&b.seconds),
        BaseBuild::Hub => None,
    };
    if let Some(seconds) = build_seconds {
        for (phase, s) in seconds {
            md.push_str(&format!(
                "| base model: {phase} (cached after the first run) | {s:.1} | |\n"
            ));
        }
    }
    md.push_str(&format!(
        "| base model load or build, this call | {base_seconds:.1} | |\n"
    ));
    for phase in ["eval", "train", "report"] {
        let mine: Vec<&PhaseTiming> = timings.iter().filter(|t| t.phase == phase).collect();
        let seconds: f64 = mine.iter().map(|t| t.seconds).sum();
        let units: usize = mine.iter().map(|t| t.units).sum();
        let unit = match phase {
            "eval" => "episodes",
            "train" => "GRPO steps",
            _ => "records",
        };
        md.push_str(&format!(
            "| {phase} (all calls, all runs) | {seconds:.1} | {units} {unit} |\n"
        ));
    }
    md.push_str(&format!(
        "| this call, wall clock | {total_seconds:.1} | |\n"
    ));
    md.push_str(
        "\nTables (ours beside the paper's): `report/tables.md`; plots: `report/plots/`; \
         the HTML report: `report.html`.\n",
    );
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_select_the_axes_and_the_runs_they_start_from() {
        let axis3 = Preset::Smoke.plan("m", &[3]);
        assert!(axis3.validate().is_ok());
        // Two-stage runs need their upstream U runs; the other axis-1 regimes are left out.
        assert!(axis3.runs.iter().any(|r| r.id == "difficulty/babyai/u"));
        assert!(
            !axis3
                .runs
                .iter()
                .any(|r| r.id == "difficulty/babyai/u_easy")
        );
        assert!(
            axis3
                .runs
                .iter()
                .any(|r| r.id == "joint/webshop+searchqa+textcraft+alfworld+babyai")
        );
        let axis1 = Preset::Smoke.plan("m", &[1]);
        assert_eq!(axis1.runs.len(), 1 + 5 * 5);
        assert!(
            axis1
                .runs
                .iter()
                .all(|r| r.eval.k == 2 && r.eval.max_tasks == Some(2))
        );
        let all = Preset::CpuFull.plan("m", &[1, 2, 3]);
        assert_eq!(all.runs.len(), 1 + 25 + 20 + 2 + 1);
        let cpu = Preset::Cpu.plan("m", &[1, 2, 3]);
        assert_eq!(cpu.runs.len(), 9);
        assert!(
            cpu.runs
                .iter()
                .all(|r| r.eval.k == 4 && r.eval.max_tasks == Some(30))
        );
        // Axis 1 alone: the base, the U runs and the curricula.
        assert_eq!(Preset::Cpu.plan("m", &[1]).runs.len(), 1 + 3 + 2);
    }

    #[test]
    fn paper_presets_stop_on_the_cpu_with_what_they_need_and_bad_axes_are_refused() {
        let message = paper_preflight(Preset::Paper7b, DeviceChoice::Cpu, false).unwrap_err();
        assert!(message.contains("needs a CUDA GPU"), "{message}");
        assert!(message.contains("Qwen/Qwen2.5-7B-Instruct"), "{message}");
        assert!(
            message.contains("GiB") && message.contains("crossgym serve"),
            "{message}"
        );
        let out = std::env::temp_dir().join(format!("crossgym-axes-{}", std::process::id()));
        let cpu = DeviceChoice::Cpu;
        assert!(reproduce(Preset::Smoke, &[4], &out, cpu, false, false).is_err());
        assert!(reproduce(Preset::Paper3b, &[1], &out, cpu, false, false).is_err());
        // The paper preset stopped before creating anything.
        assert!(!out.exists());
    }

    #[test]
    fn paper_presets_need_more_than_one_h100_without_recomputation() {
        let shape = memory::TrainingShape::paper_minimum();
        for preset in [Preset::Paper3b, Preset::Paper7b] {
            let config = paper_model_config(preset).unwrap();
            let need = memory::estimate(&config, candle_core::DType::BF16, &shape);
            assert!(memory::gib(need.total(false)) > 80.0, "{preset:?}");
        }
        assert!(paper_model_config(Preset::Cpu).is_none());
    }
}
