//! Per-step metrics: one JSON object per line, and a progress bar for people.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crossgym_policy::Trajectory;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::{GrpoError, Result};

/// What one training step did. Rewards are the trajectories' final rewards.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepMetrics {
    /// Which loop (`"grpo"` or `"sft"`).
    pub phase: String,
    /// 1-based step number.
    pub step: u64,
    /// Mean reward over the batch's trajectories.
    pub reward_mean: f64,
    /// Population standard deviation of those rewards.
    pub reward_std: f64,
    /// Share of trajectories that solved their task ([`success_rate`]).
    pub success_rate: f64,
    /// Mean reward per env name, for mixtures.
    pub reward_by_env: std::collections::BTreeMap<String, f64>,
    /// Token-mean of the training loss over the batch.
    pub loss: f64,
    /// Token-mean of the clipped policy-gradient term.
    pub pg_loss: f64,
    /// Token-mean of the (clamped, low-variance) KL estimate to the reference.
    pub kl: f64,
    /// Token-mean entropy of the policy.
    pub entropy: f64,
    /// Share of tokens whose ratio was clipped.
    pub clip_fraction: f64,
    /// Token-mean of the ratio π/π_old (1 on the first mini-batch when nothing changed).
    pub ratio_mean: f64,
    /// Global gradient norm before clipping (largest over the step's updates).
    pub grad_norm: f64,
    /// Optimizer updates applied in this step.
    pub updates: u64,
    /// Updates skipped because the loss or a gradient was NaN or infinite.
    pub skipped_updates: u64,
    /// Tokens the loss covered (assistant tokens).
    pub loss_tokens: u64,
    /// All tokens of the batch's sequences (prompts and observations included).
    pub total_tokens: u64,
    /// Mean turns per trajectory.
    pub turns_mean: f64,
    /// Seconds spent on rollouts.
    pub rollout_seconds: f64,
    /// Seconds spent on the update (reference log-probs, forward, backward, optimizer).
    pub update_seconds: f64,
    /// Wall-clock seconds of the whole step.
    pub seconds: f64,
}

/// Appends [`StepMetrics`] as JSON lines to a file (or nowhere).
#[derive(Debug)]
pub struct MetricsLog {
    out: Option<(PathBuf, BufWriter<File>)>,
}

impl MetricsLog {
    /// A log that writes nothing.
    pub fn none() -> Self {
        Self { out: None }
    }

    /// Appends to `path` (created if missing), so a resumed run continues its file.
    pub fn append(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_owned();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| GrpoError::io(parent, e))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| GrpoError::io(&path, e))?;
        Ok(Self {
            out: Some((path, BufWriter::new(file))),
        })
    }

    /// Writes one line and flushes it (a crashed run keeps every finished step).
    pub fn write(&mut self, metrics: &StepMetrics) -> Result<()> {
        if let Some((path, out)) = &mut self.out {
            let line = serde_json::to_string(metrics).map_err(|source| GrpoError::Json {
                context: "step metrics".into(),
                source,
            })?;
            writeln!(out, "{line}")
                .and_then(|()| out.flush())
                .map_err(|e| GrpoError::io(&*path, e))?;
        }
        Ok(())
    }
}

/// Bringing a metrics file back in line with the checkpoint a run resumes from.
impl MetricsLog {
    /// Cuts the metrics file at `path` back to the steps a run resumed at `step` has done: the
    /// lines of steps `1..=step` stay, the lines of later steps (written after the checkpoint,
    /// by a run that was then killed; the resumed run writes them again) and a torn last line
    /// (a write cut short) go. Call it once the run's step is known (after a resume, or with 0
    /// for a fresh start). Truncates in place, so a [`MetricsLog`] already open on the file
    /// keeps appending where the kept lines end. A missing file is fine (the run starts a new
    /// one). Errors, naming the file: a complete line that is not a [`StepMetrics`], and a file
    /// that does not hold exactly the steps `1..=step` in order before the later ones (a line of
    /// a checkpointed step is lost or duplicated, which no crash can cause: each line is
    /// written before its step's checkpoint). Returns the bytes cut.
    pub fn truncate_to_step(path: impl AsRef<Path>, step: u64) -> Result<u64> {
        let path = path.as_ref();
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(GrpoError::io(path, e)),
        };
        let mut keep = 0usize;
        let mut offset = 0usize;
        let mut next = 1;
        for (index, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
            let start = offset;
            offset += line.len();
            if !line.ends_with(b"\n") {
                break; // a torn last line: the write that was cut short
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let metrics: StepMetrics =
                serde_json::from_slice(line).map_err(|source| GrpoError::Json {
                    context: format!("{}:{}", path.display(), index + 1),
                    source,
                })?;
            if metrics.step > step {
                break;
            }
            if metrics.step != next {
                return Err(GrpoError::Input(format!(
                    "{}:{}: holds step {} where step {next} belongs (the file does not match the \
                     checkpoint at step {step})",
                    path.display(),
                    index + 1,
                    metrics.step
                )));
            }
            next += 1;
            keep = start + line.len();
        }
        if next != step + 1 {
            return Err(GrpoError::Input(format!(
                "{}: holds the steps up to {} but the checkpoint is at step {step}: the lines of \
                 the steps after {} are lost (move the file away to continue without them)",
                path.display(),
                next - 1,
                next - 1
            )));
        }
        let cut = (bytes.len() - keep) as u64;
        if cut > 0 {
            let file = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| GrpoError::io(path, e))?;
            file.set_len(keep as u64)
                .and_then(|()| file.sync_all())
                .map_err(|e| GrpoError::io(path, e))?;
        }
        Ok(cut)
    }
}

/// How much the loop tells a person.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verbosity {
    /// Nothing on the terminal (CI, tests).
    #[default]
    Quiet,
    /// A progress bar with the latest reward, KL and step time.
    Progress,
}

/// A progress bar that exists only in [`Verbosity::Progress`].
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar over `total` steps starting at `done`.
    pub fn new(verbosity: Verbosity, phase: &str, done: u64, total: u64) -> Self {
        let bar = (verbosity == Verbosity::Progress).then(|| {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template(
                "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(phase.to_owned());
            bar.set_position(done);
            bar
        });
        Self { bar }
    }

    /// Advances one step and shows its headline numbers.
    pub fn step(&self, metrics: &StepMetrics) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "reward {:.3} loss {:.4} kl {:.4} {:.1}s",
                metrics.reward_mean, metrics.loss, metrics.kl, metrics.seconds
            ));
            bar.inc(1);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Share of `trajectories` that solved their task, 0 for none.
///
/// Success is the env's own flag ([`Trajectory::success`]), not a reward threshold: BabyAI pays a
/// success `1 − 0.9·steps/max_steps`, always below 1.
pub fn success_rate(trajectories: &[Trajectory]) -> f64 {
    let solved = trajectories.iter().filter(|t| t.success()).count();
    solved as f64 / trajectories.len().max(1) as f64
}

/// Mean and population standard deviation (0, 0 for an empty slice).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_append() {
        let path = std::env::temp_dir().join(format!(
            "crossgym-grpo-metrics-{}.jsonl",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        for step in 1..=2 {
            let mut log = MetricsLog::append(&path).unwrap();
            log.write(&StepMetrics {
                phase: "grpo".into(),
                step,
                reward_mean: 0.5,
                ..StepMetrics::default()
            })
            .unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<StepMetrics> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].step, 2);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn mean_std_is_population() {
        assert_eq!(mean_std(&[1.0, 0.0]), (0.5, 0.5));
        assert_eq!(mean_std(&[]), (0.0, 0.0));
    }

    /// Replays a fixed script of replies per row, one per turn.
    struct Replay {
        scripts: Vec<Vec<String>>,
        turns: Vec<usize>,
    }

    impl crossgym_policy::ChatAgent for Replay {
        fn start(
            &mut self,
            n: usize,
            _messages: &[crossgym_policy::Message],
        ) -> crossgym_policy::Result<()> {
            self.turns = vec![0; n];
            Ok(())
        }
        fn add_user(&mut self, _row: usize, _text: &str) -> crossgym_policy::Result<()> {
            Ok(())
        }
        fn reply(
            &mut self,
            rows: &[usize],
            _max_tokens: &[usize],
        ) -> crossgym_policy::Result<Vec<crossgym_policy::AgentReply>> {
            Ok(rows
                .iter()
                .map(|&row| {
                    let turn = self.turns[row];
                    self.turns[row] += 1;
                    crossgym_policy::AgentReply {
                        text: self.scripts[row].get(turn).cloned().unwrap_or_default(),
                        generated_tokens: 1,
                        truncated: false,
                    }
                })
                .collect())
        }
        fn response_tokens(&self, _row: usize) -> usize {
            0
        }
        fn token_record(&self, _row: usize) -> Option<crossgym_policy::TokenRecord> {
            None
        }
    }

    #[test]
    fn babyai_successes_count_although_their_reward_is_below_one() {
        use crossgym_env_babyai::{BabyAiEnv, oracle};
        use crossgym_env_core::{Env, TaskId};

        // The BabyAI oracle's replies for one task, found by playing it closed loop.
        let task = TaskId(1);
        let mut env = BabyAiEnv::new().unwrap();
        env.reset(task).unwrap();
        let mut solution = Vec::new();
        while let Some(action) = env.session().and_then(oracle::next_action) {
            let reply = format!("Thought: go.\nAction: {action}");
            let done = env.step(&reply).unwrap().done;
            solution.push(reply);
            if done {
                break;
            }
        }
        // Row 0 replays the solution, row 1 never acts.
        let mut agent = Replay {
            scripts: vec![solution.clone(), Vec::new()],
            turns: Vec::new(),
        };
        let mut envs = [BabyAiEnv::new().unwrap(), BabyAiEnv::new().unwrap()];
        let limits = crossgym_policy::RolloutLimits {
            max_turns: solution.len(),
            max_tokens_per_turn: 16,
            max_total_tokens: 1 << 20,
        };
        let batch =
            crossgym_policy::rollout_group(&mut envs, task, &mut agent, None, &limits).unwrap();
        assert!(batch[0].done() && batch[0].reward() > 0.0 && batch[0].reward() < 1.0);
        assert!(!batch[1].success());
        assert_eq!(success_rate(&batch), 0.5);
        assert_eq!(success_rate(&[]), 0.0);
    }
}
