//! Which runs a study does: the training regimes of the three axes as serde data (plan files),
//! and a manifest of finished runs so that a rerun skips them.
//!
//! A [`Plan`] is a list of [`Run`]s. A run starts from the base model (or from another run's final
//! checkpoint, [`Run::init_from`]), trains through its [`Stage`]s in order, and is evaluated by its
//! [`EvalSpec`] — during each stage every [`EvalSpec::every`] steps (for forgetting and transfer
//! curves) and at the end. Plans are written as TOML ([`Plan::save`], [`Plan::load`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::io::{read_json, read_toml, write_json_atomic, write_toml_atomic};
use crate::{Result, StudyError};

/// Which half of an env's tasks, by the base model's difficulty ([`crate::difficulty`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Difficulty {
    /// The half the base model solves more often.
    Easy,
    /// The other half.
    Hard,
}

impl fmt::Display for Difficulty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Difficulty::Easy => "easy",
            Difficulty::Hard => "hard",
        })
    }
}

/// Which of an env's training tasks a stage draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskPool {
    /// Every training task (U).
    All,
    /// The easy half (U_easy).
    Easy,
    /// The hard half (U_hard).
    Hard,
}

/// The training regimes of axis 1 (the rows of the paper's Table 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// No training: the base model.
    Base,
    /// Train on the easy half.
    UEasy,
    /// Train on the hard half.
    UHard,
    /// Train on all training tasks, mixed.
    U,
    /// Curriculum: the easy half, then the hard half.
    EasyToHard,
    /// Reverse curriculum: the hard half, then the easy half.
    HardToEasy,
}

impl Regime {
    /// All six, in the paper's row order.
    pub const ALL: [Regime; 6] = [
        Regime::Base,
        Regime::UEasy,
        Regime::UHard,
        Regime::U,
        Regime::EasyToHard,
        Regime::HardToEasy,
    ];

    /// The paper's row label (`U_easy`, `easy→hard`, …).
    pub fn label(self) -> &'static str {
        match self {
            Regime::Base => "base",
            Regime::UEasy => "U_easy",
            Regime::UHard => "U_hard",
            Regime::U => "U",
            Regime::EasyToHard => "easy→hard",
            Regime::HardToEasy => "hard→easy",
        }
    }

    /// A file- and id-safe name (`u_easy`, `easy_to_hard`, …).
    pub fn slug(self) -> &'static str {
        match self {
            Regime::Base => "base",
            Regime::UEasy => "u_easy",
            Regime::UHard => "u_hard",
            Regime::U => "u",
            Regime::EasyToHard => "easy_to_hard",
            Regime::HardToEasy => "hard_to_easy",
        }
    }

    /// The task pools of its stages, in order (none for the base model).
    pub fn pools(self) -> &'static [TaskPool] {
        match self {
            Regime::Base => &[],
            Regime::UEasy => &[TaskPool::Easy],
            Regime::UHard => &[TaskPool::Hard],
            Regime::U => &[TaskPool::All],
            Regime::EasyToHard => &[TaskPool::Easy, TaskPool::Hard],
            Regime::HardToEasy => &[TaskPool::Hard, TaskPool::Easy],
        }
    }
}

impl fmt::Display for Regime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One source of training tasks in a stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Env name.
    pub env: String,
    /// Which of its training tasks.
    pub pool: TaskPool,
    /// Relative sampling weight in a mixture (1 for a single source).
    pub weight: f64,
}

/// One training stage: GRPO on a mixture of sources.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// Task sources; a joint mixture has several, each batch drawn by weight with the run's seed.
    pub sources: Vec<Source>,
    /// Training steps (GRPO rounds); `None` leaves it to the trainer's per-env default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<usize>,
}

impl Stage {
    /// A stage on one env's pool.
    pub fn single(env: &str, pool: TaskPool) -> Self {
        Self {
            sources: vec![Source {
                env: env.to_owned(),
                pool,
                weight: 1.0,
            }],
            steps: None,
        }
    }
}

/// How a run is evaluated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalSpec {
    /// The envs evaluated (on their test tasks).
    pub envs: Vec<String>,
    /// Samples per task (the k of avg@k; the paper uses 8).
    pub k: usize,
    /// Test-time turn cap K (the paper uses 20).
    pub max_turns: usize,
    /// Sampling temperature (the paper uses 1).
    pub temperature: f64,
    /// Also evaluate every this many training steps within each stage (curves); `None`: only at
    /// the end of each stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<usize>,
    /// Evaluate only the first this many tasks of each split (in split order) of every env;
    /// `None`: all of them (the paper). Scaled-down studies set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tasks: Option<usize>,
    /// Evaluate only the final model, not the start (whose records are still copied from the
    /// run it starts from where that one has them), the ends of earlier stages nor every
    /// [`EvalSpec::every`] steps: for runs whose findings read only their end, in studies sized
    /// to a small machine.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub final_only: bool,
}

impl EvalSpec {
    /// The paper's protocol (avg@8, K = 20, temperature 1) on `envs`.
    pub fn paper(envs: &[String]) -> Self {
        Self {
            envs: envs.to_vec(),
            k: 8,
            max_turns: crossgym_env_core::paper::EVAL_MAX_TURNS,
            temperature: 1.0,
            every: None,
            max_tasks: None,
            final_only: false,
        }
    }
}

/// What a run is, for reports: which cell of which table it fills.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RunKind {
    /// The base model, untrained (Table 2's base row, Table 3's base row).
    Base,
    /// Axis 1 (and, for [`Regime::U`] evaluated on every env, axis 2): one env, one regime.
    Difficulty {
        /// The training env.
        env: String,
        /// The regime.
        regime: Regime,
    },
    /// Axis 3: two stages, upstream then downstream.
    TwoStage {
        /// Stage-1 env.
        upstream: String,
        /// Stage-2 env.
        downstream: String,
    },
    /// Axis 3: a whole sequence of envs, one stage each.
    Sequence {
        /// The envs in training order.
        order: Vec<String>,
    },
    /// Axis 3: one stage on a random mixture of all the envs' training data.
    Joint {
        /// The envs mixed.
        envs: Vec<String>,
    },
}

impl RunKind {
    /// The axis-1 run of `regime` trained on `env`.
    pub fn difficulty(env: &str, regime: Regime) -> RunKind {
        RunKind::Difficulty {
            env: env.to_owned(),
            regime,
        }
    }

    /// The base run for [`Regime::Base`], else [`RunKind::difficulty`].
    pub fn of_regime(env: &str, regime: Regime) -> RunKind {
        if regime == Regime::Base {
            RunKind::Base
        } else {
            RunKind::difficulty(env, regime)
        }
    }

    /// The run id this kind gets in generated plans (`difficulty/webshop/u_easy`, …).
    pub fn id(&self) -> String {
        match self {
            RunKind::Base => "base".to_owned(),
            RunKind::Difficulty { env, regime } => format!("difficulty/{env}/{}", regime.slug()),
            RunKind::TwoStage {
                upstream,
                downstream,
            } => format!("two-stage/{upstream}+{downstream}"),
            RunKind::Sequence { order } => format!("sequence/{}", order.join("+")),
            RunKind::Joint { envs } => format!("joint/{}", envs.join("+")),
        }
    }
}

/// One run: train through its stages, evaluate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    /// Unique id within the plan; also its directory name under the study's output folder.
    pub id: String,
    /// What the run is.
    pub kind: RunKind,
    /// Start from this run's final checkpoint instead of the base model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_from: Option<String>,
    /// Training stages in order (empty: evaluate the starting model).
    pub stages: Vec<Stage>,
    /// How it is evaluated.
    pub eval: EvalSpec,
    /// Seed of every random choice in the run (sampling, batch order, mixture draws).
    pub seed: u64,
}

impl Run {
    /// The base model's run: no training, evaluated with the paper's protocol on `eval_envs`.
    pub fn base(eval_envs: &[String], seed: u64) -> Self {
        Run {
            id: RunKind::Base.id(),
            kind: RunKind::Base,
            init_from: None,
            stages: Vec::new(),
            eval: EvalSpec::paper(eval_envs),
            seed,
        }
    }

    /// The axis-1 run of `regime` on `env` (one stage per pool of the regime), evaluated with the
    /// paper's protocol on `eval_envs`.
    pub fn regime(env: &str, regime: Regime, eval_envs: &[String], seed: u64) -> Self {
        let kind = RunKind::difficulty(env, regime);
        Run {
            id: kind.id(),
            kind,
            init_from: None,
            stages: regime
                .pools()
                .iter()
                .map(|pool| Stage::single(env, *pool))
                .collect(),
            eval: EvalSpec::paper(eval_envs),
            seed,
        }
    }

    /// The axis-3 two-stage run `upstream` → `downstream`: it starts from the upstream env's U
    /// run (stage 1 = [`Regime::U`] on the upstream env, as in the paper) and trains on all of
    /// the downstream env's training tasks.
    pub fn two_stage(upstream: &str, downstream: &str, eval: EvalSpec, seed: u64) -> Self {
        let kind = RunKind::TwoStage {
            upstream: upstream.to_owned(),
            downstream: downstream.to_owned(),
        };
        Run {
            id: kind.id(),
            kind,
            init_from: Some(RunKind::difficulty(upstream, Regime::U).id()),
            stages: vec![Stage::single(downstream, TaskPool::All)],
            eval,
            seed,
        }
    }

    /// A stable fingerprint of the run's definition (FNV-1a over its JSON form): the manifest
    /// stores it so that a run whose definition changed is not skipped.
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        format!("{:016x}", fnv1a(json.as_bytes()))
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A study plan: runs in the order they are done.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Name for reports.
    pub name: String,
    /// The base model (a Hugging Face name or a local path; interpreted by the policy crate).
    pub model: String,
    /// The runs.
    pub runs: Vec<Run>,
}

impl Plan {
    /// An empty plan.
    pub fn new(name: &str, model: &str) -> Self {
        Self {
            name: name.to_owned(),
            model: model.to_owned(),
            runs: Vec::new(),
        }
    }

    /// Axis 1 for every env in `envs`: the base model and the five regimes. The base and U runs are
    /// evaluated on all of `envs` (so they also give axis 2); the others on their own env.
    pub fn with_difficulty(mut self, envs: &[String], seed: u64) -> Self {
        self.push(Run::base(envs, seed));
        for env in envs {
            for regime in Regime::ALL.into_iter().skip(1) {
                let eval_envs = if regime == Regime::U {
                    envs.to_vec()
                } else {
                    vec![env.clone()]
                };
                self.push(Run::regime(env, regime, &eval_envs, seed));
            }
        }
        self
    }

    /// Axis 3, two stages, for every ordered pair of `envs`: stage 2 starts from the upstream env's
    /// U run (stage 1 = [`Regime::U`] on the upstream env, as in the paper) and is evaluated on all
    /// `envs` every `every` steps for the forgetting and transfer curves.
    pub fn with_two_stage(mut self, envs: &[String], every: Option<usize>, seed: u64) -> Self {
        for upstream in envs {
            for downstream in envs.iter().filter(|env| *env != upstream) {
                let mut eval = EvalSpec::paper(envs);
                eval.every = every;
                self.push(Run::two_stage(upstream, downstream, eval, seed));
            }
        }
        self
    }

    /// Adds a run of `kind` trained from the base model through `stages`, evaluated on
    /// `eval_envs` (every `every` steps when given).
    fn push_from_base(
        &mut self,
        kind: RunKind,
        eval_envs: &[String],
        every: Option<usize>,
        stages: Vec<Stage>,
        seed: u64,
    ) {
        let mut eval = EvalSpec::paper(eval_envs);
        eval.every = every;
        self.push(Run {
            id: kind.id(),
            kind,
            init_from: None,
            stages,
            eval,
            seed,
        });
    }

    /// Axis 3, whole sequences: one run per order, one stage per env, evaluated on every env of the
    /// order every `every` steps.
    pub fn with_sequences(
        mut self,
        orders: &[Vec<String>],
        every: Option<usize>,
        seed: u64,
    ) -> Self {
        for order in orders {
            let kind = RunKind::Sequence {
                order: order.clone(),
            };
            let stages = order
                .iter()
                .map(|env| Stage::single(env, TaskPool::All))
                .collect();
            self.push_from_base(kind, order, every, stages, seed);
        }
        self
    }

    /// Axis 3, joint training: one stage on an equal-weight mixture of all `envs`.
    pub fn with_joint(mut self, envs: &[String], every: Option<usize>, seed: u64) -> Self {
        let kind = RunKind::Joint {
            envs: envs.to_vec(),
        };
        let stages = vec![Stage {
            sources: envs
                .iter()
                .map(|env| Source {
                    env: env.clone(),
                    pool: TaskPool::All,
                    weight: 1.0,
                })
                .collect(),
            steps: None,
        }];
        self.push_from_base(kind, envs, every, stages, seed);
        self
    }

    /// The paper's full study on `envs`: axis 1 (with axis 2 from the base and U runs), all
    /// two-stage pairs, the sequence in the given order and its reverse, and the joint mixture.
    pub fn paper(model: &str, envs: &[String], every: Option<usize>, seed: u64) -> Self {
        let reversed: Vec<String> = envs.iter().rev().cloned().collect();
        let mut orders = vec![envs.to_vec()];
        if envs.len() > 2 {
            orders.push(reversed);
        }
        Self::new("paper", model)
            .with_difficulty(envs, seed)
            .with_two_stage(envs, every, seed)
            .with_sequences(&orders, every, seed)
            .with_joint(envs, every, seed)
    }

    /// The envs some run trains on an easy or hard pool of: the base model's train-task
    /// evaluation (the difficulty split) is needed for these only.
    pub fn pool_envs(&self) -> Vec<String> {
        let mut envs: Vec<String> = Vec::new();
        let sources = self
            .runs
            .iter()
            .flat_map(|r| &r.stages)
            .flat_map(|s| &s.sources);
        for source in sources.filter(|s| s.pool != TaskPool::All) {
            if !envs.contains(&source.env) {
                envs.push(source.env.clone());
            }
        }
        envs
    }

    /// The envs whose train tasks `run` is evaluated on: for the base run, those of its eval
    /// envs that some run draws an easy or hard pool from (the difficulty split needs them);
    /// none for any other run.
    pub fn train_eval_envs(&self, run: &Run) -> Vec<String> {
        if run.kind != RunKind::Base {
            return Vec::new();
        }
        self.pool_envs()
            .into_iter()
            .filter(|env| run.eval.envs.contains(env))
            .collect()
    }

    /// Appends `run` unless the plan already has a run of its id.
    pub fn push(&mut self, run: Run) {
        if !self.runs.iter().any(|existing| existing.id == run.id) {
            self.runs.push(run);
        }
    }

    /// Checks ids are unique and non-empty, every `init_from` names an earlier run, and every
    /// number is in its range: stages have sources with finite weights > 0 and `steps` ≥ 1 when
    /// given; evaluation has envs, `k` ≥ 1, `max_turns` ≥ 1, a finite `temperature` ≥ 0, and
    /// `every` / `max_tasks` ≥ 1 when given. An error names the run and the field (dotted, e.g.
    /// `stages[0].sources[1].weight`) with the value and the allowed range.
    pub fn validate(&self) -> Result<()> {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (index, run) in self.runs.iter().enumerate() {
            let context = || format!("plan {:?}, run {:?}", self.name, run.id);
            let bad = |field: &str, value: &dyn fmt::Display, allowed: &str| {
                Err(StudyError::invalid(
                    context(),
                    format!("{field}: {value} is out of range (allowed: {allowed})"),
                ))
            };
            if run.id.trim().is_empty() {
                return Err(StudyError::invalid(
                    format!("plan {:?}, runs[{index}]", self.name),
                    "id: an empty id is out of range (allowed: a non-empty name)",
                ));
            }
            if seen.insert(run.id.as_str(), index).is_some() {
                return Err(StudyError::invalid(context(), "the id is used twice"));
            }
            if let Some(init) = &run.init_from
                && !seen.contains_key(init.as_str())
            {
                return Err(StudyError::invalid(
                    context(),
                    format!("init_from {init:?} is not an earlier run of the plan"),
                ));
            }
            for (s, stage) in run.stages.iter().enumerate() {
                if stage.sources.is_empty() {
                    return Err(StudyError::invalid(
                        context(),
                        format!("stages[{s}].sources: none (allowed: one or more sources)"),
                    ));
                }
                if stage.steps == Some(0) {
                    return bad(
                        &format!("stages[{s}].steps"),
                        &0,
                        "1 or more, or leave it out for the settings' stage_steps",
                    );
                }
                for (i, source) in stage.sources.iter().enumerate() {
                    if source.env.trim().is_empty() {
                        return bad(
                            &format!("stages[{s}].sources[{i}].env"),
                            &"\"\"",
                            "an env name",
                        );
                    }
                    if !(source.weight.is_finite() && source.weight > 0.0) {
                        return bad(
                            &format!("stages[{s}].sources[{i}].weight"),
                            &source.weight,
                            "a finite number > 0",
                        );
                    }
                }
            }
            let eval = &run.eval;
            if eval.envs.is_empty() {
                return Err(StudyError::invalid(
                    context(),
                    "eval.envs: none (allowed: one or more env names)",
                ));
            }
            if eval.k == 0 {
                return bad("eval.k", &0, "1 or more");
            }
            if eval.max_turns == 0 {
                return bad("eval.max_turns", &0, "1 or more");
            }
            if !(eval.temperature.is_finite() && eval.temperature >= 0.0) {
                return bad(
                    "eval.temperature",
                    &eval.temperature,
                    "a finite number >= 0 (0 is greedy)",
                );
            }
            if eval.every == Some(0) {
                return bad(
                    "eval.every",
                    &0,
                    "1 or more, or leave it out to evaluate at stage ends only",
                );
            }
            if eval.max_tasks == Some(0) {
                return bad(
                    "eval.max_tasks",
                    &0,
                    "1 or more, or leave it out for every task",
                );
            }
        }
        Ok(())
    }

    /// Reads and validates a TOML plan file.
    pub fn load(path: &Path) -> Result<Self> {
        let plan: Plan = read_toml(path)?;
        plan.validate()?;
        Ok(plan)
    }

    /// Writes the plan as TOML.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_toml_atomic(path, self)
    }

    /// The runs the manifest does not list as finished with their current definition.
    pub fn pending<'a>(&'a self, manifest: &Manifest) -> Vec<&'a Run> {
        self.runs
            .iter()
            .filter(|run| !manifest.is_done(run))
            .collect()
    }
}

/// One finished run in the [`Manifest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishedRun {
    /// [`Run::fingerprint`] of the definition that was run.
    pub fingerprint: String,
    /// Files the run produced, relative to the study folder (results, checkpoints).
    pub outputs: Vec<String>,
}

/// The runs of a study folder that are finished, so a rerun skips them (JSON file).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Finished runs by id.
    pub finished: BTreeMap<String, FinishedRun>,
}

impl Manifest {
    /// Reads the manifest at `path`, or an empty one if the file does not exist.
    pub fn load_or_default(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Ok(Self::default());
        }
        read_json(path)
    }

    /// Writes the manifest (atomically: a crash never leaves half a file).
    pub fn save(&self, path: &Path) -> Result<()> {
        write_json_atomic(path, self)
    }

    /// Whether `run` finished with its current definition.
    pub fn is_done(&self, run: &Run) -> bool {
        self.finished
            .get(&run.id)
            .is_some_and(|done| done.fingerprint == run.fingerprint())
    }

    /// Records `run` as finished with its outputs.
    pub fn mark_done(&mut self, run: &Run, outputs: Vec<String>) {
        self.finished.insert(
            run.id.clone(),
            FinishedRun {
                fingerprint: run.fingerprint(),
                outputs,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envs(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn paper_plan_has_every_axis_and_validates() {
        let all = envs(&["webshop", "searchqa", "textcraft", "alfworld", "babyai"]);
        let plan = Plan::paper("Qwen/Qwen2.5-3B-Instruct", &all, Some(10), 7);
        plan.validate().unwrap();
        // 1 base + 5 regimes x 5 envs + 20 pairs + 2 sequences + 1 joint.
        assert_eq!(plan.runs.len(), 1 + 25 + 20 + 2 + 1);
        let e2h = plan
            .runs
            .iter()
            .find(|r| r.id == "difficulty/textcraft/easy_to_hard")
            .unwrap();
        assert_eq!(e2h.stages.len(), 2);
        assert_eq!(e2h.stages[0].sources[0].pool, TaskPool::Easy);
        let pair = plan
            .runs
            .iter()
            .find(|r| r.id == "two-stage/babyai+webshop")
            .unwrap();
        assert_eq!(pair.init_from.as_deref(), Some("difficulty/babyai/u"));
        assert_eq!(pair.eval.every, Some(10));
    }

    #[test]
    fn plan_round_trips_through_toml() {
        let plan = Plan::paper("m", &envs(&["babyai", "textcraft"]), None, 3);
        let dir = std::env::temp_dir().join(format!("crossgym-plan-{}", std::process::id()));
        let path = dir.join("plan.toml");
        plan.save(&path).unwrap();
        assert_eq!(Plan::load(&path).unwrap(), plan);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn validate_names_the_bad_run() {
        let mut plan = Plan::paper("m", &envs(&["babyai", "textcraft"]), None, 3);
        plan.runs[0].init_from = Some("later".to_owned());
        let err = plan.validate().unwrap_err().to_string();
        assert!(err.contains("\"base\"") && err.contains("later"), "{err}");
    }

    #[test]
    fn manifest_skips_finished_runs_until_their_definition_changes() {
        let mut plan = Plan::paper("m", &envs(&["babyai", "textcraft"]), None, 3);
        let mut manifest = Manifest::default();
        let total = plan.pending(&manifest).len();
        manifest.mark_done(&plan.runs[0], vec!["base/results.jsonl".to_owned()]);
        assert_eq!(plan.pending(&manifest).len(), total - 1);
        plan.runs[0].seed = 4;
        assert_eq!(plan.pending(&manifest).len(), total);
    }
}
