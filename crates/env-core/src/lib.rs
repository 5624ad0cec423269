//! The environment contract of crossgym.
//!
//! crossgym reimplements the five text environments of "Can RL Improve Generalization of LLM
//! Agents? An Empirical Study" (Xi et al. 2026) as native Rust crates. This crate is what they all
//! share, and what a trainer or a study needs to drive any of them; it has no ML dependencies.
//!
//! - [`Env`]: the trait every env implements — [`EnvInfo`] (name, instruction, parser family,
//!   turn limits, the paper's Table-1 [`Characteristics`]), a task list with a deterministic
//!   [`TaskSplit`], `reset(task)` and `step(reply) -> Step`. Object-safe and `Send`.
//! - [`parse`]: the reference's reply parsers (ReAct-last, ReAct-single-line).
//! - [`py`]: the CPython string semantics the references' texts depend on (`strip`, `repr`).
//! - [`run_episode`]: play an env with a scripted agent (`|observation| reply`).
//! - [`FnEnv`]: an env made of a start function and a play function (tests, examples, quick
//!   experiments), with the contract's bookkeeping done once.
//! - [`Oracle`]: an env's expert, as the replies that solve a task (demonstrations).
//! - [`conformance`]: replay recordings of the reference and report the first difference.
//! - [`check::check_env`]: the contract checks every env crate runs.
//! - [`Registry`]: ask for an env by name.
//! - [`paper`]: the paper's facts about the five envs (task-set sizes, turn limits).
//!
//! The one design choice that shapes the rest: **an env takes the agent's whole reply**, not a
//! pre-parsed action. The reference parses replies differently per env (which `Action:` counts,
//! what is stripped, what error text comes back), and an agent trained on the reference must see
//! the same observations here, so parsing is part of each env's behaviour.
//!
//! # Example
//!
//! ```
//! use crossgym_env_core::parse;
//!
//! let reply = "Thought: I need planks.\nAction: craft 4 oak planks using 1 oak logs.";
//! assert_eq!(parse::react_single_line(reply).unwrap(), "craft 4 oak planks using 1 oak logs");
//! assert_eq!(parse::react_last("Thought: ok\nAction: click[Buy Now]"), Some("click[Buy Now]"));
//! ```
//!
//! The [`Env`] docs show a complete tiny env driven by [`run_episode`].

pub mod check;
pub mod conformance;
mod env;
mod episode;
mod error;
mod fn_env;
mod oracle;
pub mod paper;
pub mod parse;
pub mod py;
mod registry;
mod task;

pub use env::{ActionList, Characteristics, Env, EnvInfo, Step, StepInfo, running_episode};
pub use episode::{Episode, Turn, run_episode, run_episode_capped};
pub use error::{EnvError, Result};
pub use fn_env::{FnEnv, PlayFn, StartFn};
pub use oracle::Oracle;
pub use parse::ParserFamily;
pub use registry::{EnvFactory, Registry};
pub use task::{Split, TaskId, TaskSplit};
