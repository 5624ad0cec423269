//! The results data model: one [`EpisodeRecord`] per evaluated episode, stored as JSON Lines.
//!
//! Evaluation appends records as it goes ([`append_jsonl`]); a resumed evaluation reads them back
//! ([`read_jsonl`]) and skips every [`RecordKey`] already present; reports read the same files.

use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use crossgym_env_core::{Episode, Split, TaskId};
use serde::{Deserialize, Serialize};

use crate::failure::FailureMode;
use crate::io::read_jsonl_of;
use crate::plan::Difficulty;
use crate::{Result, StudyError};

/// Which model state was evaluated: stage 0 step 0 is the starting model; stage `s` step `n` is
/// after `n` training steps of stage `s` (1-based stages).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Training stage (0 = before training).
    pub stage: u32,
    /// Training steps done within the stage.
    pub step: u32,
}

impl Checkpoint {
    /// The starting model.
    pub const START: Checkpoint = Checkpoint { stage: 0, step: 0 };
}

impl std::fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.stage, self.step)
    }
}

impl std::str::FromStr for Checkpoint {
    type Err = String;

    /// `STAGE:STEP`, e.g. `0:0` (the starting model) or `2:150`.
    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        let bad = || format!("{text:?} is not STAGE:STEP (two whole numbers, e.g. 1:150)");
        let (stage, step) = text.split_once(':').ok_or_else(bad)?;
        Ok(Self {
            stage: stage.trim().parse().map_err(|_| bad())?,
            step: step.trim().parse().map_err(|_| bad())?,
        })
    }
}

/// One evaluated episode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpisodeRecord {
    /// The plan run evaluated ([`crate::plan::Run::id`]).
    pub run: String,
    /// The model state evaluated.
    pub checkpoint: Checkpoint,
    /// Env name.
    pub env: String,
    /// The task.
    pub task: TaskId,
    /// Which half of the env's tasks it belongs to.
    pub split: Split,
    /// Sample index, `0..k`.
    pub sample: u32,
    /// The trajectory's final reward (the last step's reward).
    pub reward: f64,
    /// Whether the task was solved ([`Episode::success`]: the env's own success flag).
    pub success: bool,
    /// Whether the env ended the episode (false: the turn cap K cut it).
    pub done: bool,
    /// Interaction turns.
    pub turns: usize,
    /// Tokens the model generated over the whole episode.
    pub generated_tokens: usize,
    /// The task's difficulty half, when a difficulty split is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difficulty: Option<Difficulty>,
    /// The failure mode of a failed episode, once classified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureMode>,
    /// The whole trajectory, when kept (the HTML report's browser shows a few).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub episode: Option<Episode>,
}

impl EpisodeRecord {
    /// A record of `episode` (reward, success, done and turns come from it).
    pub fn from_episode(
        run: &str,
        checkpoint: Checkpoint,
        split: Split,
        sample: u32,
        episode: &Episode,
        generated_tokens: usize,
    ) -> Self {
        Self {
            run: run.to_owned(),
            checkpoint,
            env: episode.env.clone(),
            task: episode.task,
            split,
            sample,
            reward: episode.score(),
            success: episode.success(),
            done: episode.done(),
            turns: episode.num_turns(),
            generated_tokens,
            difficulty: None,
            failure: None,
            episode: None,
        }
    }

    /// A record made by hand (results imported from elsewhere, benches, tests): a finished
    /// episode at the start checkpoint with `reward`, a success when it is 1, and no turns,
    /// tokens or labels (set those fields after).
    pub fn scored(
        run: &str,
        env: &str,
        task: TaskId,
        split: Split,
        sample: u32,
        reward: f64,
    ) -> Self {
        Self {
            run: run.to_owned(),
            checkpoint: Checkpoint::START,
            env: env.to_owned(),
            task,
            split,
            sample,
            reward,
            success: reward == 1.0,
            done: true,
            turns: 0,
            generated_tokens: 0,
            difficulty: None,
            failure: None,
            episode: None,
        }
    }

    /// The identity of this record for resuming.
    pub fn key(&self) -> RecordKey {
        RecordKey {
            run: self.run.clone(),
            checkpoint: self.checkpoint,
            env: self.env.clone(),
            task: self.task,
            sample: self.sample,
        }
    }
}

/// What makes a record unique: a resumed evaluation skips keys it already has.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey {
    /// Run id.
    pub run: String,
    /// Model state.
    pub checkpoint: Checkpoint,
    /// Env name.
    pub env: String,
    /// Task.
    pub task: TaskId,
    /// Sample index.
    pub sample: u32,
}

/// The keys of `records`.
pub fn keys(records: &[EpisodeRecord]) -> BTreeSet<RecordKey> {
    records.iter().map(EpisodeRecord::key).collect()
}

/// Reads a JSON Lines file of records; an error names the file and line. Blank lines are skipped.
pub fn read_jsonl(path: &Path) -> Result<Vec<EpisodeRecord>> {
    read_jsonl_of(path)
}

/// Appends records to a JSON Lines file (created with its folders if missing), one write per call.
pub fn append_jsonl(path: &Path, records: &[EpisodeRecord]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| StudyError::io(parent, e))?;
    }
    let mut buffer = String::new();
    for record in records {
        let line = serde_json::to_string(record)
            .map_err(|e| StudyError::parse(path.display().to_string(), e))?;
        buffer.push_str(&line);
        buffer.push('\n');
    }
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| StudyError::io(path, e))?;
    file.write_all(buffer.as_bytes())
        .map_err(|e| StudyError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossgym_env_core::{Step, Turn};

    fn episode(reward: f64, done: bool) -> Episode {
        Episode {
            env: "babyai".into(),
            task: TaskId(4),
            first_observation: "Your goal: go to the red ball".into(),
            turns: vec![Turn {
                reply: "Action: turn left".into(),
                step: Step::new("ok", reward, done)
                    .with_action("turn left")
                    .with_success(done),
            }],
        }
    }

    #[test]
    fn records_take_success_from_the_env_not_the_reward() {
        let discounted = |success| {
            let mut episode = episode(0.82, true);
            episode.turns[0].step.info.success = success;
            EpisodeRecord::from_episode("base", Checkpoint::START, Split::Test, 0, &episode, 1)
        };
        // BabyAI's discounted success reward is below 1 and still a success.
        assert!(discounted(true).success);
        assert!(
            !discounted(false).success,
            "partial credit is not a success"
        );
    }

    #[test]
    fn record_from_episode_and_jsonl_round_trip() {
        let record = EpisodeRecord::from_episode(
            "base",
            Checkpoint::START,
            Split::Test,
            2,
            &episode(1.0, true),
            17,
        );
        assert!(record.success && record.done);
        assert_eq!((record.turns, record.generated_tokens), (1, 17));
        let dir = std::env::temp_dir().join(format!("crossgym-records-{}", std::process::id()));
        let path = dir.join("r.jsonl");
        append_jsonl(&path, std::slice::from_ref(&record)).unwrap();
        let mut second = record.clone();
        second.sample = 3;
        second.episode = Some(episode(0.5, false));
        append_jsonl(&path, &[second.clone()]).unwrap();
        let back = read_jsonl(&path).unwrap();
        assert_eq!(back, vec![record, second]);
        assert_eq!(keys(&back).len(), 2);
        std::fs::write(&path, "{\"run\": 1}\n").unwrap();
        let err = read_jsonl(&path).unwrap_err().to_string();
        assert!(err.contains("r.jsonl:1"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
