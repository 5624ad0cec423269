//! [`SearchQaEnv`]: the [`Env`] implementation.

use std::sync::Arc;

use crossgym_env_core::{
    Env, EnvError, EnvInfo, ParserFamily, Step, TaskId, TaskSplit, paper, running_episode,
};

use crate::action::{Action, last_answer, parse_action};
use crate::index::SearchIndex;
use crate::questions::{Question, TaskSet};
use crate::scoring::exact_match;
use crate::{NAME, Result, defaults, messages};

/// How many passages a search returns (the reference's `num=3`).
pub const TOP_K: usize = 3;

/// Behaviour version of the env (see [`EnvInfo::version`]).
pub const VERSION: u32 = 0;

/// The env's description: the reference's instruction and acknowledgement, the whole-reply
/// parser, the paper's turn limits and Table-1 characteristics.
pub fn info() -> EnvInfo {
    paper::SEARCHQA.info(
        VERSION,
        messages::INSTRUCTION,
        messages::ACKNOWLEDGEMENT,
        ParserFamily::WholeReply,
    )
}

/// Answers one reply for a question with `golden_answers`, searching `index` when the reply
/// searches: the reference's step, without episode bookkeeping.
///
/// The reply's content never causes an error; only a failing search engine does.
pub fn respond(index: &SearchIndex, golden_answers: &[String], reply: &str) -> Result<Step> {
    match parse_action(reply) {
        Action::Search(query) => {
            let hits = index.search(query, TOP_K)?;
            let observation = messages::information(hits.iter().map(|hit| hit.contents.as_str()));
            Ok(Step::new(observation, 0.0, false)
                .with_action("search")
                .with_detail("query", query)
                .with_detail("hits", hits.len().to_string()))
        }
        Action::Answer(_) => {
            // Quirk of the reference: the first complete tag decides that this is an answer,
            // but the LAST <answer>…</answer> of the reply is what gets scored.
            let scored = last_answer(reply).unwrap_or_default();
            let step = if exact_match(scored, golden_answers) {
                Step::new(messages::CORRECT, 1.0, true).with_success(true)
            } else {
                Step::new(messages::INCORRECT, 0.0, false)
            };
            Ok(step.with_action("answer").with_detail("answer", scored))
        }
        Action::Invalid => Ok(Step::new(messages::INVALID, 0.0, false).invalid()),
    }
}

#[derive(Clone, Copy, Debug)]
struct Episode {
    task: TaskId,
    done: bool,
}

/// SearchQA: answer a question, searching a BM25 index of passages with `<search>…</search>`,
/// answering with `<answer>…</answer>`.
///
/// The index and the task set are shared (`Arc`), so many envs (one per rollout worker) cost
/// one index, and a clone is cheap (it carries the running episode).
#[derive(Clone, Debug)]
pub struct SearchQaEnv {
    info: EnvInfo,
    index: Arc<SearchIndex>,
    tasks: Arc<TaskSet>,
    episode: Option<Episode>,
}

impl SearchQaEnv {
    /// The offline default: the embedded Wikipedia-summaries corpus and its generated questions
    /// (4,000 train / 400 test). The index is built once per process and shared.
    pub fn new() -> Result<Self> {
        let data = defaults::default_data()?;
        Ok(Self::with_data(data.index.clone(), data.tasks.clone()))
    }

    /// An env over any index and task set (e.g. the reference's wiki-18 corpus and NQ/HotpotQA
    /// questions loaded with [`SearchIndex::open_or_build`] and [`TaskSet::load`]).
    pub fn with_data(index: Arc<SearchIndex>, tasks: Arc<TaskSet>) -> Self {
        Self {
            info: info(),
            index,
            tasks,
            episode: None,
        }
    }

    /// The search index.
    pub fn index(&self) -> &Arc<SearchIndex> {
        &self.index
    }

    /// The task set.
    pub fn task_set(&self) -> &Arc<TaskSet> {
        &self.tasks
    }

    /// The question of `task`.
    pub fn question(&self, task: TaskId) -> Result<&Question> {
        self.check_task(task)?;
        self.tasks.get(task).ok_or_else(|| EnvError::UnknownTask {
            env: NAME.to_owned(),
            task,
            num_tasks: self.tasks.len(),
        })
    }
}

impl Env for SearchQaEnv {
    fn info(&self) -> &EnvInfo {
        &self.info
    }

    fn num_tasks(&self) -> usize {
        self.tasks.len()
    }

    fn split(&self) -> &TaskSplit {
        self.tasks.split()
    }

    fn reset(&mut self, task: TaskId) -> Result<String> {
        let observation = messages::first_observation(&self.question(task)?.question);
        self.episode = Some(Episode { task, done: false });
        Ok(observation)
    }

    fn step(&mut self, reply: &str) -> Result<Step> {
        let episode = running_episode(NAME, self.episode, |e| e.done.then_some(e.task))?;
        let golden = &self.question(episode.task)?.golden_answers;
        let step = respond(&self.index, golden, reply)?;
        if step.done {
            self.episode = Some(Episode {
                done: true,
                ..episode
            });
        }
        Ok(step)
    }
}
