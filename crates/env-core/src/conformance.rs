//! Replaying reference recordings against an env, with readable diffs.
//!
//! Every env crate keeps conformance data recorded from the reference implementation in its
//! `tests/fixtures/` and replays it in a test. The fixture directory can be swapped for another
//! set of the same format (e.g. a held-back set) with the `CROSSGYM_FIXTURES` environment variable
//! ([`fixture_dir`]). A [`Report`] gathers the outcome of many episodes and fails when any differs
//! or when nothing was checked, so an empty or misplaced fixture set can never pass.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Env, EnvError, Result, TaskId};

/// The environment variable that overrides every conformance test's fixture directory.
pub const FIXTURES_ENV_VAR: &str = "CROSSGYM_FIXTURES";

/// The fixture directory for `env`: `$CROSSGYM_FIXTURES/<env>` if that directory exists, else
/// `$CROSSGYM_FIXTURES` when the variable is set, else `crate_default` (the crate's
/// `tests/fixtures`).
pub fn fixture_dir(env: &str, crate_default: impl AsRef<Path>) -> PathBuf {
    let override_dir = std::env::var_os(FIXTURES_ENV_VAR);
    resolve_fixture_dir(env, override_dir.as_deref(), crate_default.as_ref())
}

/// [`fixture_dir`] for `env` with the calling crate's `tests/fixtures` as the default (a macro,
/// so that the crate is the caller's, not env-core's).
///
/// ```
/// let dir = crossgym_env_core::crate_fixture_dir!("textcraft");
/// assert!(dir.ends_with("fixtures") || std::env::var_os("CROSSGYM_FIXTURES").is_some());
/// ```
#[macro_export]
macro_rules! crate_fixture_dir {
    ($env:expr) => {
        $crate::conformance::fixture_dir(
            $env,
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"),
        )
    };
}

/// [`fixture_dir`] with the variable's value passed in.
pub fn resolve_fixture_dir(
    env: &str,
    override_dir: Option<&OsStr>,
    crate_default: &Path,
) -> PathBuf {
    match override_dir {
        Some(root) if !root.is_empty() => {
            let root = PathBuf::from(root);
            let per_env = root.join(env);
            if per_env.is_dir() { per_env } else { root }
        }
        _ => crate_default.to_path_buf(),
    }
}

/// Reads one fixture file, with an error naming the env and the path.
pub fn read_fixture(env: &str, dir: &Path, file: &str) -> Result<String> {
    let path = dir.join(file);
    std::fs::read_to_string(&path)
        .map_err(|source| EnvError::io(env, path.display().to_string(), source))
}

/// The non-empty lines of a JSON-lines fixture, numbered from 1 (for error messages).
pub fn jsonl_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line))
        .filter(|(_, line)| !line.trim().is_empty())
}

/// The records of the JSON-lines fixture `file` in `dir`, read with `parse`, each labelled
/// `"<file> line <n>"`; the error of a record that does not parse names the env, the file and
/// the line.
pub fn fixture_records<T, E: fmt::Display>(
    env: &str,
    dir: &Path,
    file: &str,
    parse: impl Fn(&str) -> std::result::Result<T, E>,
) -> Result<Vec<(String, T)>> {
    let text = read_fixture(env, dir, file)?;
    jsonl_lines(&text)
        .map(|(line, raw)| {
            parse(raw)
                .map(|record| (format!("{file} line {line}"), record))
                .map_err(|e| {
                    EnvError::data(
                        env,
                        format!("{}:{line}", dir.join(file).display()),
                        e.to_string(),
                    )
                })
        })
        .collect()
}

/// One recorded step: what the agent sent and what the reference answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedStep {
    /// The agent's whole reply (or the bare action, for envs recorded at the action level).
    pub reply: String,
    /// The reference's observation.
    pub observation: String,
    /// The reference's reward.
    pub reward: f64,
    /// The reference's done flag.
    pub done: bool,
}

/// The first place where an env differs from a recording.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// Which recording (e.g. `"babyai_text.jsonl line 17 (task 16)"`).
    pub episode: String,
    /// Step index (0-based); `None` for the reset observation or a whole-episode property.
    pub step: Option<usize>,
    /// What differs (`"observation"`, `"reward"`, `"done"`, or an env-specific field).
    pub field: String,
    /// The recorded value.
    pub expected: String,
    /// The env's value.
    pub actual: String,
}

impl Mismatch {
    /// `field` of `episode` differs at `step` (`None`: the reset or the whole episode).
    pub fn new(
        episode: impl Into<String>,
        step: Option<usize>,
        field: &str,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Mismatch {
        Mismatch {
            episode: episode.into(),
            step,
            field: field.to_owned(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }

    /// The env failed with `error` at `field` of `episode`'s reset, where the record has a value.
    pub fn error(episode: impl Into<String>, field: &str, error: impl fmt::Display) -> Mismatch {
        Mismatch::new(episode, None, field, String::new(), error.to_string())
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = match self.step {
            Some(step) => format!("step {step}"),
            None => "reset".to_owned(),
        };
        writeln!(f, "{}: {} differs at {}", self.episode, self.field, at)?;
        f.write_str(&text_diff(&self.expected, &self.actual))
    }
}

impl std::error::Error for Mismatch {}

/// A readable difference between an expected and an actual text: the first differing character
/// with context, then a line diff when the texts span several lines.
pub fn text_diff(expected: &str, actual: &str) -> String {
    let first = expected
        .char_indices()
        .zip(actual.chars())
        .find(|((_, e), a)| e != a)
        .map(|((at, _), _)| at)
        .unwrap_or_else(|| expected.len().min(actual.len()));
    let context = |text: &str| {
        let start = floor_char_boundary(text, first.saturating_sub(40));
        let end = floor_char_boundary(text, (first + 40).min(text.len()));
        format!("{:?}", &text[start..end])
    };
    let mut out = format!(
        "  first difference at byte {first} (expected {} bytes, got {})\n  expected: …{}…\n  actual:   …{}…\n",
        expected.len(),
        actual.len(),
        context(expected),
        context(actual)
    );
    if expected.contains('\n') || actual.contains('\n') {
        let diff = similar::TextDiff::from_lines(expected, actual);
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(2)
                .header("expected", "actual")
                .to_string(),
        );
    }
    out
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// `Ok` if the texts are equal, else a [`Mismatch`] for `field`.
pub fn compare_text(
    episode: &str,
    step: Option<usize>,
    field: &str,
    expected: &str,
    actual: &str,
) -> std::result::Result<(), Mismatch> {
    if expected == actual {
        Ok(())
    } else {
        Err(Mismatch::new(episode, step, field, expected, actual))
    }
}

/// An env failure during a replay, as a mismatch (the reference did not fail there).
fn env_failure(episode: &str, step: Option<usize>, error: &EnvError) -> Mismatch {
    Mismatch::new(
        episode,
        step,
        "env result",
        "a step",
        format!("error: {error}"),
    )
}

/// Sends every recorded reply to an env that is already reset and compares observation, reward
/// (exactly: fixtures store Python floats that round-trip) and done after each.
pub fn replay_steps<E: Env + ?Sized>(
    env: &mut E,
    episode: &str,
    steps: &[RecordedStep],
) -> std::result::Result<(), Mismatch> {
    for (index, recorded) in steps.iter().enumerate() {
        let step = env
            .step(&recorded.reply)
            .map_err(|error| env_failure(episode, Some(index), &error))?;
        compare_text(
            episode,
            Some(index),
            "observation",
            &recorded.observation,
            &step.observation,
        )?;
        compare_reward_done(
            episode,
            Some(index),
            (recorded.reward, recorded.done),
            (step.reward, step.done),
        )?;
    }
    Ok(())
}

/// `Ok` if the reward (exactly: fixtures store Python floats that round-trip) and the done flag
/// are the recorded ones, else a [`Mismatch`] for the first that differs.
pub fn compare_reward_done(
    episode: &str,
    step: Option<usize>,
    (expected_reward, expected_done): (f64, bool),
    (reward, done): (f64, bool),
) -> std::result::Result<(), Mismatch> {
    if reward != expected_reward {
        return Err(Mismatch::new(
            episode,
            step,
            "reward",
            format!("{expected_reward:?}"),
            format!("{reward:?}"),
        ));
    }
    if done != expected_done {
        return Err(Mismatch::new(
            episode,
            step,
            "done",
            expected_done.to_string(),
            done.to_string(),
        ));
    }
    Ok(())
}

/// Resets `env` to `task`, compares the first observation, then [`replay_steps`].
pub fn replay_task<E: Env + ?Sized>(
    env: &mut E,
    task: TaskId,
    episode: &str,
    first_observation: &str,
    steps: &[RecordedStep],
) -> std::result::Result<(), Mismatch> {
    let observation = env
        .reset(task)
        .map_err(|error| env_failure(episode, None, &error))?;
    compare_text(
        episode,
        None,
        "first observation",
        first_observation,
        &observation,
    )?;
    replay_steps(env, episode, steps)
}

/// Gathers the outcome of many checks and fails if any differed or none ran.
#[derive(Debug)]
pub struct Report {
    name: String,
    checked: usize,
    mismatches: Vec<Mismatch>,
}

impl Report {
    /// A new report for the fixture set `name` (e.g. `"babyai_text.jsonl"`).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            checked: 0,
            mismatches: Vec::new(),
        }
    }

    /// Records one check's outcome.
    pub fn record(&mut self, outcome: std::result::Result<(), Mismatch>) {
        self.checked += 1;
        if let Err(mismatch) = outcome {
            self.mismatches.push(mismatch);
        }
    }

    /// How many checks ran.
    pub fn checked(&self) -> usize {
        self.checked
    }

    /// The mismatches so far.
    pub fn mismatches(&self) -> &[Mismatch] {
        &self.mismatches
    }

    /// `Ok(number checked)` when every check passed and at least one ran; otherwise a message
    /// with the count and the first few mismatches in full.
    pub fn finish(self) -> std::result::Result<usize, String> {
        if self.checked == 0 {
            return Err(format!("{}: no fixture records were checked", self.name));
        }
        if self.mismatches.is_empty() {
            return Ok(self.checked);
        }
        let mut message = format!(
            "{}: {} of {} records differ from the reference; the first ones:\n",
            self.name,
            self.mismatches.len(),
            self.checked
        );
        for mismatch in self.mismatches.iter().take(3) {
            message.push_str(&mismatch.to_string());
            message.push('\n');
        }
        Err(message)
    }

    /// [`Report::finish`] for tests: panics with the message on failure.
    pub fn assert_ok(self) -> usize {
        match self.finish() {
            Ok(checked) => checked,
            Err(message) => panic!("{message}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_dir_prefers_the_per_env_folder_of_the_override() {
        let default = Path::new("crate/tests/fixtures");
        assert_eq!(resolve_fixture_dir("e", None, default), default);
        assert_eq!(
            resolve_fixture_dir("e", Some(OsStr::new("")), default),
            default
        );
        let root = std::env::temp_dir().join(format!("crossgym-fixtures-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        assert_eq!(
            resolve_fixture_dir("e", Some(root.as_os_str()), default),
            root
        );
        std::fs::create_dir_all(root.join("e")).unwrap();
        assert_eq!(
            resolve_fixture_dir("e", Some(root.as_os_str()), default),
            root.join("e")
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
