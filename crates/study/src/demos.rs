//! Demonstrations: oracle episodes of every env, in the reply format an agent must learn, for a
//! supervised warm start.
//!
//! A [`Demonstrator`] plays each env's own oracle through the env's normal `reset`/`step`, one
//! reply per turn, and returns the [`Episode`]: the replies are exactly what a model should write
//! (the format each env's instruction asks for, with a short templated thought that states what
//! the oracle is doing and why), and the observations, rewards and `done` flags are the env's
//! own answers to them. An episode the oracle does not solve within the turn cap is `None`,
//! never a fake success.
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

use crossgym_env_alfworld::{AlfWorldEnv, expert};
use crossgym_env_babyai::{BabyAiEnv, oracle as babyai_oracle};
use crossgym_env_core::{Env, Episode, TaskId, Turn};
use crossgym_env_searchqa::{SearchQaEnv, TOP_K, oracle as searchqa_oracle};
use crossgym_env_textcraft::{TextCraftEnv, oracle as textcraft_oracle};
use crossgym_env_webshop::{WebShopEnv, oracle as webshop_oracle};

use crate::envs::{STUDY_ENVS, StudyEnv, unknown_env};
use crate::{Result, StudyError};

/// A ReAct reply in the layout the ReAct envs' instructions ask for:
/// `Thought:\n{thought}\n\nAction:\n{action}`.
pub fn react_reply(thought: &str, action: &str) -> String {
    format!("Thought:\n{thought}\n\nAction:\n{action}")
}

/// Whether a demonstration solved its task: the env says so ([`Episode::success`]) and ended the
/// episode (BabyAI goes on after a success worth 0.5 or less; such an episode teaches nothing
/// clean, so it is left out).
pub fn solved(episode: &Episode) -> bool {
    episode.success() && episode.done()
}

/// Plays oracles of the study's envs and records their episodes as demonstrations.
#[derive(Debug)]
pub struct Demonstrator {
    envs: BTreeMap<String, StudyEnv>,
    max_turns: Option<usize>,
}

impl Demonstrator {
    /// Builds the named envs (each one of [`STUDY_ENVS`]; see [`crate::envs`] for the build
    /// times). Fails with [`StudyError::Invalid`] for an unknown name.
    pub fn new(names: &[String]) -> Result<Demonstrator> {
        if let Some(bad) = names.iter().find(|n| !STUDY_ENVS.contains(&n.as_str())) {
            return Err(unknown_env(bad));
        }
        let mut envs = BTreeMap::new();
        for name in names {
            if !envs.contains_key(name) {
                envs.insert(name.clone(), StudyEnv::build(name)?);
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
    pub fn env(&self, name: &str) -> Result<&StudyEnv> {
        self.envs.get(name).ok_or_else(|| self.not_held(name))
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
        let episode = match self.envs.get_mut(env) {
            Some(StudyEnv::WebShop(env)) => webshop(env, task, cap)?,
            Some(StudyEnv::SearchQa(env)) => searchqa(env, task, cap)?,
            Some(StudyEnv::TextCraft(env)) => textcraft(env, task, cap)?,
            Some(StudyEnv::AlfWorld(env)) => alfworld(env, task, cap)?,
            Some(StudyEnv::BabyAi(env)) => babyai(env, task, cap)?,
            _ => return Err(self.not_held(env)),
        };
        Ok(episode.filter(solved))
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

/// Resets `env` to `task` and steps it with the replies `next` writes (given the env and the
/// latest observation) until the env is done, `next` has no reply (the oracle is stuck), or
/// `cap` turns were played. `None` when `next` gave up.
fn play<E: Env>(
    env: &mut E,
    task: TaskId,
    cap: usize,
    mut next: impl FnMut(&E, &str) -> Result<Option<String>>,
) -> Result<Option<Episode>> {
    let first_observation = env.reset(task)?;
    let mut turns: Vec<Turn> = Vec::new();
    while turns.len() < cap {
        let observation = turns
            .last()
            .map_or(first_observation.as_str(), |t| t.step.observation.as_str());
        let Some(reply) = next(env, observation)? else {
            return Ok(None);
        };
        let step = env.step(&reply)?;
        let done = step.done;
        turns.push(Turn { reply, step });
        if done {
            break;
        }
    }
    Ok(Some(Episode {
        env: env.info().name.clone(),
        task,
        first_observation,
        turns,
    }))
}

/// WebShop: the crate's oracle is a scripted closure, so it is played once to learn its actions
/// (they depend only on the task), then again with each action voiced.
fn webshop(env: &mut WebShopEnv, task: TaskId, cap: usize) -> Result<Option<Episode>> {
    let scout = webshop_oracle::play(env, task)?;
    if !scout.success() || scout.turns.len() > cap {
        return Ok(None);
    }
    let actions: Vec<String> = scout
        .turns
        .iter()
        .map(|t| t.step.info.action.clone().unwrap_or_default())
        .collect();
    let goal = env.catalogue().goals()[task.0].clone();
    let mut actions = actions.into_iter();
    let mut searches = 0;
    play(env, task, cap, |_, observation| {
        let Some(action) = actions.next() else {
            return Ok(None);
        };
        let thought = if let Some(query) = bracket(&action, "search") {
            searches += 1;
            if searches == 1 {
                format!("I think I should search for {query}, which describes what I need.")
            } else {
                "I think I should search for the product's full name to find it directly."
                    .to_owned()
            }
        } else if let Some(value) = bracket(&action, "click") {
            let value_lower = value.to_lowercase();
            if value_lower == "buy now" {
                if goal.goal_options.is_empty() {
                    "I think this item matches the instruction, so I can buy it now.".to_owned()
                } else {
                    "I think the item matches and the required options are selected, so I can buy it now."
                        .to_owned()
                }
            } else if value_lower == "next >" {
                "I think none of the results on this page is what I want, so I should check the next page."
                    .to_owned()
            } else if value_lower == "< prev" || value_lower == "back to search" {
                format!("I think I should go {value} and try again.")
            } else if value_lower == goal.asin.to_lowercase()
                && observation.contains("(Total results:")
            {
                format!("I think {value} matches the instruction, so I should open it.")
            } else if let Some((name, _)) = goal
                .goal_options
                .0
                .iter()
                .find(|(_, v)| v.to_lowercase() == value_lower)
            {
                format!("I think I should select {value} as the {name}, as the instruction asks.")
            } else {
                format!("I think I should click {value}.")
            }
        } else {
            "I think I should act on this page.".to_owned()
        };
        Ok(Some(react_reply(&thought, &action)))
    })
}

/// The argument of `verb[argument]`.
fn bracket<'a>(action: &'a str, verb: &str) -> Option<&'a str> {
    action
        .strip_prefix(verb)?
        .strip_prefix('[')?
        .strip_suffix(']')
}

/// SearchQA: one search with the question's clue, then the title most of the top passages
/// are about (the crate's oracle, voiced).
fn searchqa(env: &mut SearchQaEnv, task: TaskId, cap: usize) -> Result<Option<Episode>> {
    let question = env.question(task)?.question.clone();
    let query = searchqa_oracle::query_of(&question).to_owned();
    let Some(answer) = searchqa_oracle::best_title(env.index(), &query)? else {
        return Ok(None);
    };
    let hits = env.index().search(&query, TOP_K)?;
    let docs: Vec<String> = hits
        .iter()
        .enumerate()
        .filter(|(_, hit)| hit.title() == answer)
        .map(|(rank, _)| format!("Doc {}", rank + 1))
        .collect();
    let support = match docs.as_slice() {
        [only] => format!("{only} is about {answer} and fits the question"),
        _ => format!(
            "{} of the {} passages ({}) are about {answer}",
            docs.len(),
            hits.len(),
            docs.join(", ")
        ),
    };
    let mut replies = [
        format!(
            "<think>I do not know this for sure, so I will search for the clue.</think>\n<search>{query}</search>"
        ),
        format!(
            "<think>{support}, so the answer is {answer}.</think>\n<answer>{answer}</answer>"
        ),
    ]
    .into_iter();
    play(env, task, cap, |_, _| Ok(replies.next()))
}

/// TextCraft: the crate's plan (gets, then crafts bottom-up), each command voiced.
fn textcraft(env: &mut TextCraftEnv, task: TaskId, cap: usize) -> Result<Option<Episode>> {
    let goal = env.goal(task)?;
    let goal_name = env.book().display(goal).to_owned();
    let actions = textcraft_oracle::plan(env.book(), goal)?;
    if actions.len() > cap {
        return Ok(None);
    }
    let total = actions.len();
    let mut actions = actions.into_iter().enumerate();
    play(env, task, cap, |_, _| {
        let Some((index, action)) = actions.next() else {
            return Ok(None);
        };
        let mut thought = if let Some(rest) = action.strip_prefix("get ") {
            format!("To craft {goal_name}, I need {rest} from the environment, so I get it.")
        } else if let Some((output, inputs)) = action
            .strip_prefix("craft ")
            .and_then(|a| a.split_once(" using "))
        {
            if index + 1 == total {
                format!("I have {inputs}, so I can craft {output}, which is the goal.")
            } else {
                format!("I have {inputs}, so I can craft {output} for the next step.")
            }
        } else {
            "I follow the plan.".to_owned()
        };
        if index == 0 {
            thought = format!(
                "The goal is {goal_name}. I will get the base items first, then craft. {thought}"
            );
        }
        Ok(Some(react_reply(&thought, &action)))
    })
}

/// ALFWorld: the crate's expert solves the game through admissible commands; each voiced.
fn alfworld(env: &mut AlfWorldEnv, task: TaskId, cap: usize) -> Result<Option<Episode>> {
    let game = env.game(task)?;
    let Some(commands) = expert::solve(&game) else {
        return Ok(None);
    };
    if commands.len() > cap {
        return Ok(None);
    }
    let mut commands = commands.into_iter();
    let mut first = true;
    play(env, task, cap, |_, observation| {
        let Some(command) = commands.next() else {
            return Ok(None);
        };
        let mut thought = alfworld_thought(&command);
        if std::mem::take(&mut first)
            && let Some(goal) = alfworld_task(observation)
        {
            thought = format!("My task is to {goal}. {thought}");
        }
        Ok(Some(react_reply(&thought, &command)))
    })
}

/// The task sentence of ALFWorld's first observation (`Your task is to: …`), without the final
/// period.
fn alfworld_task(observation: &str) -> Option<&str> {
    let start = observation.find("Your task is to: ")? + "Your task is to: ".len();
    let line = observation[start..].lines().next()?;
    Some(line.trim().trim_end_matches('.'))
}

/// A short thought for one ALFWorld command, by its verb.
fn alfworld_thought(command: &str) -> String {
    let words: Vec<&str> = command.split(' ').collect();
    let joined =
        |from: usize, to: usize| words[from.min(words.len())..to.min(words.len())].join(" ");
    let split_at = |word: &str| words.iter().position(|w| *w == word);
    match words.first().copied() {
        Some("go") => format!("I should go to the {} next.", joined(2, words.len())),
        Some("open") => format!(
            "The {} is closed, so I open it to look inside.",
            joined(1, words.len())
        ),
        Some("take") => match split_at("from") {
            Some(at) => format!(
                "I see the {} at the {}, so I take it.",
                joined(1, at),
                joined(at + 1, words.len())
            ),
            None => format!("I take the {}.", joined(1, words.len())),
        },
        Some("put") => match split_at("in/on") {
            Some(at) => format!(
                "I put the {} in the {}, as the task asks.",
                joined(1, at),
                joined(at + 1, words.len())
            ),
            None => format!("I put the {} down.", joined(1, words.len())),
        },
        Some(verb @ ("heat" | "cool" | "clean")) => {
            let state = match verb {
                "heat" => "hot",
                "cool" => "cool",
                _ => "clean",
            };
            match split_at("with") {
                Some(at) => format!(
                    "The task needs the {} {state}, so I {verb} it with the {}.",
                    joined(1, at),
                    joined(at + 1, words.len())
                ),
                None => format!("The task needs it {state}, so I {verb} it."),
            }
        }
        Some("use") => format!(
            "I turn on the {} to look at the object in its light.",
            joined(1, words.len())
        ),
        _ => format!("Next I {command}."),
    }
}

/// BabyAI: the crate's oracle, closed loop on the env's session, each action voiced.
fn babyai(env: &mut BabyAiEnv, task: TaskId, cap: usize) -> Result<Option<Episode>> {
    let mut first = true;
    play(env, task, cap, |env, _| {
        let Some(session) = env.session() else {
            return Ok(None);
        };
        let Some(action) = babyai_oracle::next_action(session) else {
            return Ok(None);
        };
        let mut thought = babyai_thought(&action);
        if std::mem::take(&mut first) {
            thought = format!("My goal is to {}. {thought}", session.goal());
        }
        Ok(Some(react_reply(&thought, &action)))
    })
}

/// A short thought for one BabyAI action.
fn babyai_thought(action: &str) -> String {
    match action {
        "turn left" | "turn right" => format!("I {action} to face the next step of my path."),
        "move forward" => "The way ahead is clear, so I move forward.".to_owned(),
        "toggle" => "There is a door in front of me that is in my way, so I toggle it.".to_owned(),
        "drop" => "I drop what I am carrying here.".to_owned(),
        other => {
            if let Some(object) = other
                .strip_prefix("pickup ")
                .or_else(|| other.strip_prefix("pick up "))
            {
                format!("The {object} is in front of me, so I pick it up.")
            } else if let Some(target) = other.strip_prefix("go to ") {
                format!("I go to the {target}.")
            } else if let Some(door) = other.strip_prefix("toggle and go through ") {
                format!("I open the {door} and go through it.")
            } else if let Some(door) = other.strip_prefix("go through ") {
                format!("I go through the open {door}.")
            } else {
                format!("Next I {other}.")
            }
        }
    }
}
