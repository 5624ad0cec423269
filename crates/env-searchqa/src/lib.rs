//! SearchQA for crossgym: question answering with a search tool, in the text interface of
//! AgentGym's SearchQA env (a Search-R1-style server).
//!
//! - [`SearchQaEnv`]: the [`Env`](crossgym_env_core::Env). The agent searches with
//!   `<search>query</search>` and gets the top 3 passages as
//!   `<information>Doc 1(Title: …) …</information>`, and answers with `<answer>…</answer>`,
//!   scored by exact match after normalisation ([`scoring`]).
//! - [`action`]: how a reply becomes an action (the first complete tag decides; the last
//!   `<answer>` is scored — a quirk of the reference kept on purpose).
//! - [`SearchIndex`]: a real BM25 engine (tantivy, English stemming and stop words), in memory
//!   or on disk (built once, reused).
//! - [`corpus`] and [`questions`]: the reference's data layout (wiki-18 corpus JSON lines
//!   `{"id", "contents"}`, question JSON lines `{"question", "golden_answers"}`).
//! - [`generate`]: the offline default task set — 4,000 train / 400 test Jeopardy-style
//!   questions over 10,033 embedded Wikipedia summaries ([`wiki`]; CC BY-SA 4.0), each verified
//!   answerable by the engine.
//! - [`oracle`]: a scripted agent that searches with the question and answers with the
//!   best-supported title.
//!
//! The design choice that shapes the rest: the reference retrieves with a dense e5 model over a
//! 21M-passage dump (about 80 GB, not reachable offline), so the default ships a small real
//! corpus with questions generated from it and *verified* against this crate's own BM25 engine,
//! and the committed question file pins the task list (a tantivy upgrade that reorders results
//! cannot silently change the tasks).
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use crossgym_env_core::{Env, TaskId};
//! use crossgym_env_searchqa::{Passage, Question, SearchIndex, SearchQaEnv, TaskSet};
//!
//! let passages = [
//!     Passage::from_title_text("0", "Paris", "Paris is the capital and largest city of France."),
//!     Passage::from_title_text("1", "Lyon", "Lyon is a city in France on the Rhône."),
//! ];
//! let index = SearchIndex::in_memory("two passages", &passages)?;
//! let question = Question::new("what is the capital of france", vec!["Paris".into()]);
//! let tasks = TaskSet::from_halves(vec![question.clone()], vec![question])?;
//! let mut env = SearchQaEnv::with_data(Arc::new(index), Arc::new(tasks));
//!
//! let first = env.reset(TaskId(0))?;
//! assert!(first.ends_with("Question: what is the capital of france?"));
//! let step = env.step("<think>search</think><search>capital of France</search>")?;
//! assert!(step.observation.starts_with("<information>Doc 1(Title: \"Paris\") Paris is the capital"));
//! let step = env.step("<answer> the paris </answer>")?;
//! assert_eq!((step.reward, step.done), (1.0, true));
//! # Ok::<(), crossgym_env_core::EnvError>(())
//! ```

pub mod action;
pub mod corpus;
pub mod defaults;
mod env;
pub mod generate;
pub mod index;
mod jsonl;
pub mod messages;
pub mod oracle;
pub mod questions;
pub mod scoring;
pub mod text;
pub mod wiki;

pub use corpus::Passage;
pub use env::{SearchQaEnv, TOP_K, VERSION, info, respond};
pub use index::{Hit, IndexOrigin, SearchIndex};
pub use messages::{ACKNOWLEDGEMENT, INSTRUCTION};
pub use questions::{Question, TaskSet};

/// The env's name in registries and reports.
pub const NAME: &str = crossgym_env_core::paper::SEARCHQA.name;

/// Results of this crate (errors are the env contract's [`crossgym_env_core::EnvError`]).
pub type Result<T, E = crossgym_env_core::EnvError> = std::result::Result<T, E>;
