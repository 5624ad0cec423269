//! What a study measured, gathered from a plan and its episode records: final scores per (run,
//! env), curves over checkpoints, failure-mode counts, and example trajectories for the report.

use std::collections::BTreeMap;

use crossgym_env_core::Split;

use crate::failure::{BASE, FailureClassifier, FailureDistribution, RuleClassifier};
use crate::metrics::{Bootstrap, Breakdown, avg_at_k, breakdown, task_rewards};
use crate::paired::TaskScores;
use crate::plan::{Plan, Regime, RunKind};
use crate::records::{Checkpoint, EpisodeRecord};
use crate::{Result, StudyError};

/// One point of a training curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvePoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Training steps since the run's start (stages laid end to end).
    pub x: f64,
    /// avg@k (fraction) on the test tasks.
    pub avg_at_k: f64,
}

/// The study's measurements.
#[derive(Clone, Debug)]
pub struct StudyResults {
    /// The plan the records belong to.
    pub plan: Plan,
    /// Test-split breakdown at each run's final checkpoint, by (run id, env).
    pub finals: BTreeMap<(String, String), Breakdown>,
    /// Mean reward per test task at each run's final checkpoint, by (run id, env): what the
    /// findings' paired bootstrap resamples.
    pub task_scores: BTreeMap<(String, String), TaskScores>,
    /// The bootstrap settings the intervals were computed with.
    pub bootstrap: Bootstrap,
    /// avg@k over checkpoints, by (run id, env).
    pub curves: BTreeMap<(String, String), Vec<CurvePoint>>,
    /// Failure modes of failed final-checkpoint test episodes of the base and axis-1 runs, by
    /// (train env, test env); the base model's train env is [`BASE`].
    pub failures: FailureDistribution,
    /// A few kept trajectories per (run id, env): successes first, then failures.
    pub examples: BTreeMap<(String, String), Vec<EpisodeRecord>>,
}

/// How many successful and how many failed trajectories the report keeps per (run, env).
pub const EXAMPLES_PER_CELL: usize = 2;

impl StudyResults {
    /// Gathers `records` (of any runs of `plan`; records of runs not in the plan are an error).
    /// Failed episodes with a kept trajectory and no failure mode are classified by the rules.
    pub fn build(plan: &Plan, records: &[EpisodeRecord], bootstrap: &Bootstrap) -> Result<Self> {
        let kinds: BTreeMap<&str, &RunKind> =
            plan.runs.iter().map(|r| (r.id.as_str(), &r.kind)).collect();
        if let Some(stray) = records.iter().find(|r| !kinds.contains_key(r.run.as_str())) {
            return Err(StudyError::invalid(
                format!("results for plan {:?}", plan.name),
                format!(
                    "a record of run {:?} (env {}, task {}) is not in the plan",
                    stray.run, stray.env, stray.task
                ),
            ));
        }
        let mut by_run: BTreeMap<&str, Vec<&EpisodeRecord>> = BTreeMap::new();
        for record in records.iter().filter(|r| r.split == Split::Test) {
            by_run.entry(record.run.as_str()).or_default().push(record);
        }
        let mut results = StudyResults {
            plan: plan.clone(),
            finals: BTreeMap::new(),
            task_scores: BTreeMap::new(),
            bootstrap: *bootstrap,
            curves: BTreeMap::new(),
            failures: FailureDistribution::default(),
            examples: BTreeMap::new(),
        };
        for (run, run_records) in by_run {
            let Some(last) = run_records.iter().map(|r| r.checkpoint).max() else {
                continue;
            };
            let mut by_env: BTreeMap<&str, Vec<&EpisodeRecord>> = BTreeMap::new();
            for record in &run_records {
                by_env.entry(record.env.as_str()).or_default().push(record);
            }
            let offsets = stage_offsets(&run_records);
            for (env, env_records) in by_env {
                let key = (run.to_owned(), env.to_owned());
                let finals: Vec<&EpisodeRecord> = env_records
                    .iter()
                    .copied()
                    .filter(|r| r.checkpoint == last)
                    .collect();
                if !finals.is_empty() {
                    let context = format!("run {run}, env {env}, final checkpoint");
                    results
                        .finals
                        .insert(key.clone(), breakdown(&context, &finals, bootstrap)?);
                    results
                        .task_scores
                        .insert(key.clone(), task_rewards(finals.iter().copied()));
                }
                results
                    .curves
                    .insert(key.clone(), curve(&env_records, &offsets));
                results.examples.insert(key, examples(&finals));
                if let Some(train) = kinds.get(run).and_then(|kind| failure_train_env(kind)) {
                    for record in finals.iter().filter(|r| !r.success) {
                        let mode = match (&record.failure, &record.episode) {
                            (Some(mode), _) => Some(*mode),
                            (None, Some(episode)) => Some(RuleClassifier.classify(episode)?.mode),
                            (None, None) => None,
                        };
                        if let Some(mode) = mode {
                            results.failures.add(train, env, mode);
                        }
                    }
                }
            }
        }
        Ok(results)
    }

    /// The final breakdown of `run` on `env`, if measured.
    pub fn final_of(&self, run: &str, env: &str) -> Option<&Breakdown> {
        self.finals.get(&(run.to_owned(), env.to_owned()))
    }

    /// The id of the plan's run of `kind`, if any.
    pub fn run_id(&self, kind: &RunKind) -> Option<&str> {
        self.plan
            .runs
            .iter()
            .find(|r| &r.kind == kind)
            .map(|r| r.id.as_str())
    }

    /// The per-task scores of the run of `kind` on `env` at its final checkpoint.
    pub fn task_scores_of_kind(&self, kind: &RunKind, env: &str) -> Option<&TaskScores> {
        self.run_id(kind)
            .and_then(|run| self.task_scores.get(&(run.to_owned(), env.to_owned())))
    }

    /// The final breakdown of the run of `kind` on `env`.
    pub fn final_of_kind(&self, kind: &RunKind, env: &str) -> Option<&Breakdown> {
        self.run_id(kind).and_then(|run| self.final_of(run, env))
    }
}

/// The train env a run's failures are filed under: the base model and axis-1 runs only.
fn failure_train_env(kind: &RunKind) -> Option<&str> {
    match kind {
        RunKind::Base => Some(BASE),
        RunKind::Difficulty {
            env,
            regime: Regime::U,
        } => Some(env.as_str()),
        _ => None,
    }
}

/// Steps before each stage: the sum of the last step seen in every earlier stage.
fn stage_offsets(records: &[&EpisodeRecord]) -> BTreeMap<u32, f64> {
    let mut last_step: BTreeMap<u32, u32> = BTreeMap::new();
    for r in records {
        let entry = last_step.entry(r.checkpoint.stage).or_default();
        *entry = (*entry).max(r.checkpoint.step);
    }
    let mut offsets = BTreeMap::new();
    let mut total = 0.0;
    for (stage, step) in last_step {
        offsets.insert(stage, total);
        total += f64::from(step);
    }
    offsets
}

fn curve(records: &[&EpisodeRecord], offsets: &BTreeMap<u32, f64>) -> Vec<CurvePoint> {
    let mut by_checkpoint: BTreeMap<Checkpoint, Vec<&EpisodeRecord>> = BTreeMap::new();
    for r in records {
        by_checkpoint.entry(r.checkpoint).or_default().push(r);
    }
    by_checkpoint
        .into_iter()
        .map(|(checkpoint, rs)| CurvePoint {
            checkpoint,
            x: offsets.get(&checkpoint.stage).copied().unwrap_or(0.0) + f64::from(checkpoint.step),
            avg_at_k: avg_at_k(rs.iter().copied()),
        })
        .collect()
}

fn examples(records: &[&EpisodeRecord]) -> Vec<EpisodeRecord> {
    let kept = |success: bool| {
        records
            .iter()
            .filter(move |r| r.success == success && r.episode.is_some())
            .take(EXAMPLES_PER_CELL)
            .map(|r| (*r).clone())
    };
    kept(true).chain(kept(false)).collect()
}
