//! Demonstrations: oracle episodes of every env, in the reply format an agent must learn, for a
//! supervised warm start.
//!
//! A [`Demonstrator`] plays each env's own [`Oracle`] through the env's normal `reset`/`step`,
//! one reply per turn, and returns the [`Episode`]: the replies are exactly what a model should
//! write (the format each env's instruction asks for, with a short templated thought that states
//! what the oracle is doing and why, written by the env crate), and the observations, rewards and
//! `done` flags are the env's own answers to them. An episode the oracle does not solve within the
//! turn cap is `None`, never a fake success. The loop is the same for every env
//! ([`Oracle::demonstration`]); the experts behind it are:
//!
//! | env | oracle | reply |
//! |---|---|---|
//! | webshop | `oracle::play` (search the goal's query, find the product, click its options, buy) | `Thought:\nI think …\n\nAction:\nclick[…]` |
//! | searchqa | one search with the question's clue, answer the best-supported title | `<think>…</think>\n<search>…</search>`, then `<think>…</think>\n<answer>…</answer>` |
//! | textcraft | `oracle::plan` (gets, then crafts bottom-up) | `Thought:\n…\n\nAction:\nget 1 oak logs` |
//! | alfworld | `expert::solve` (admissible commands only) | `Thought:\n…\n\nAction:\ngo to shelf 1` |
//! | babyai | `oracle::next_action` (closed loop on the session) | `Thought:\n…\n\nAction:\nturn left` |
//!
//! Thoughts are deterministic functions of the task, the observation and the oracle's action (no
//! randomness). The turn cap is the larger of the env's training and evaluation limits (20 for
//! all but ALFWorld's 30) unless set with [`Demonstrator::with_max_turns`].
//!
//! A demonstration counts when the env says it succeeded ([`Episode::success`], e.g. BabyAI's
//! discounted success worth `1 - 0.9 · steps / max_steps`) and ended the episode — see
//! [`solved`].
//!
//! Cost and oracle success on the first 100 train tasks (release, loaded 2-core machine, default
//! caps):
//!
//! | env | solved | mean turns | per demonstration |
//! |---|---|---|---|
//! | webshop | 100/100 | 4.7 | 0.16 ms (the oracle is played twice: to learn its actions, then voiced) |
//! | searchqa | 95/100 | 2 | 0.56 ms |
//! | textcraft | 100/100 | 2.2 | 5 µs |
//! | alfworld | 100/100 | 6.2 | 1.9 ms |
//! | babyai | 68/100 (99/100 with a 200-turn cap) | 7.6 | 0.75 ms |
//!
//! BabyAI's oracle walks with primitive actions (`turn left`, `move forward`, …), so a third of
//! its solutions need more than 20 turns; they are left out rather than cut short.
//!
//! # Example
//!
//! ```
//! use crossgym_env_core::{Env, Split};
//! use crossgym_study::demos::Demonstrator;
//!
//! let mut demos = Demonstrator::new(&["textcraft".to_owned()])?;
//! let tasks = demos.env("textcraft")?.tasks(Split::Train)[..3].to_vec();
//! let episodes = demos.episodes("textcraft", &tasks, false)?;
//! assert!(episodes.iter().all(|e| e.success()));
//! assert!(episodes[0].turns[0].reply.starts_with("Thought:\n"));
//! # Ok::<(), crossgym_study::StudyError>(())
//! ```

use std::collections::BTreeMap;

use crossgym_env_core::{Episode, Oracle, TaskId};

use crate::envs::{STUDY_ENVS, StudyEnv, build, check_names, unknown_env};
use crate::{Result, StudyError};

/// Whether a demonstration solved its task: the env says so ([`Episode::success`]) and ended the
/// episode (BabyAI goes on after a success worth 0.5 or less; such an episode teaches nothing
/// clean, so it is left out). [`Oracle::demonstration`] keeps only these.
pub fn solved(episode: &Episode) -> bool {
    episode.success() && episode.done()
}

/// Plays oracles of the study's envs and records their episodes as demonstrations.
#[derive(Debug)]
pub struct Demonstrator {
    envs: BTreeMap<String, Box<dyn StudyEnv>>,
    max_turns: Option<usize>,
}

impl Demonstrator {
    /// Builds the named envs (each one of [`STUDY_ENVS`]; see [`crate::envs`] for the build
    /// times). Fails with [`StudyError::Invalid`] for an unknown name.
    pub fn new(names: &[String]) -> Result<Demonstrator> {
        check_names(names)?;
        let mut envs = BTreeMap::new();
        for name in names {
            if !envs.contains_key(name) {
                envs.insert(name.clone(), build(name)?);
            }
        }
        Ok(Demonstrator {
            envs,
            max_turns: None,
        })
    }

    /// Caps every demonstration at `max_turns` turns instead of the env's own limits.
    #[must_use]
    pub fn with_max_turns(mut self, max_turns: usize) -> Demonstrator {
        self.max_turns = Some(max_turns);
        self
    }

    /// The env called `name`, as the demonstrator holds it (for its task lists and info).
    pub fn env(&self, name: &str) -> Result<&dyn StudyEnv> {
        self.envs
            .get(name)
            .map(|env| &**env)
            .ok_or_else(|| self.not_held(name))
    }

    /// The names of the envs held, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.envs.keys().map(String::as_str)
    }

    /// The turn cap of demonstrations on `env`.
    pub fn max_turns(&self, env: &str) -> Result<usize> {
        let info = self.env(env)?.info();
        Ok(self
            .max_turns
            .unwrap_or(info.max_turns_train.max(info.max_turns_eval)))
    }

    /// The oracle's demonstration of `task` on `env`, or `None` when the oracle does not solve
    /// it within the turn cap ([`solved`]).
    ///
    /// Fails for an env this demonstrator does not hold, an unknown task, or an env error.
    pub fn episode(&mut self, env: &str, task: TaskId) -> Result<Option<Episode>> {
        let cap = self.max_turns(env)?;
        let Some(held) = self.envs.get_mut(env) else {
            return Err(self.not_held(env));
        };
        Ok(held.demonstration(task, cap)?)
    }

    /// The demonstrations of `tasks` on `env`, skipping the tasks the oracle does not solve,
    /// with a progress bar on stderr when `progress` is set.
    pub fn episodes(
        &mut self,
        env: &str,
        tasks: &[TaskId],
        progress: bool,
    ) -> Result<Vec<Episode>> {
        let bar = if progress {
            let bar = indicatif::ProgressBar::new(tasks.len() as u64);
            bar.set_message(format!("{env} demonstrations"));
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{msg} {bar:30} {pos}/{len} [{elapsed_precise} < {eta_precise}]",
            ) {
                bar.set_style(style);
            }
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        let mut episodes = Vec::with_capacity(tasks.len());
        for &task in tasks {
            if let Some(episode) = self.episode(env, task)? {
                episodes.push(episode);
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(episodes)
    }

    fn not_held(&self, name: &str) -> StudyError {
        if STUDY_ENVS.contains(&name) {
            StudyError::invalid(
                "demonstrations",
                format!(
                    "env {name:?} was not built for this demonstrator (it holds {})",
                    self.names().collect::<Vec<_>>().join(", ")
                ),
            )
        } else {
            unknown_env(name)
        }
    }
}
