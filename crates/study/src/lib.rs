//! The study harness of crossgym: plans, numbers and reports for the three axes of "Can RL
//! Improve Generalization of LLM Agents? An Empirical Study" (Xi et al. 2026), and the `crossgym`
//! command line.
//!
//! - [`plan`]: the runs of a study as data — axis 1 regimes ([`plan::Regime`]: U_easy, U_hard, U,
//!   easy→hard, hard→easy), axis 2 (U runs evaluated on every env), axis 3 (two-stage pairs,
//!   sequences, the joint mixture) — in TOML plan files, and the [`plan::Manifest`] of finished runs
//!   that makes every command resumable.
//! - [`records`]: one [`records::EpisodeRecord`] per evaluated episode, in JSON Lines;
//!   [`eval::evaluate`] plays what is missing through an [`eval::EpisodeSource`] (the model).
//! - [`metrics`]: avg@k, pass@k, mean turns and tokens, per-difficulty breakdown, seeded bootstrap
//!   intervals. [`transfer`]: ΔHeld-In / ΔHeld-Out / ΔOverall.
//! - [`difficulty`]: easy/hard halves from the base model's per-task avg@k, saved for reuse.
//! - [`failure`]: the paper's eight failure modes; a rule-based and an LLM-judge classifier behind
//!   [`failure::FailureClassifier`].
//! - [`paper`]: the paper's Tables 2, 3 and 6 as data; [`audit`]: which printed cells do not follow
//!   from the others.
//! - [`report`]: tables in the paper's layouts (Markdown, CSV, JSON) with ours beside the paper's,
//!   plots (SVG, PNG) and one self-contained HTML report.
//!
//! The key design choice: **everything downstream of an episode is plain data**. Evaluation (in
//! the policy crate's rollout loop) turns episodes into records; every number, table, plot and
//! report here is a pure function of records, a plan and the difficulty file, so a report can be
//! rebuilt at any time from what is on disk, and all of it is testable without a model.
//!
//! # Example
//!
//! ```
//! use crossgym_study::paper::{Model, TABLE3_3B};
//! use crossgym_study::transfer::deltas;
//! use crossgym_study::audit::{audit, AuditMode};
//!
//! // Table 3, Qwen2.5-3B trained on WebShop (row 0): the paper prints +72.56 / +6.29 / +19.54.
//! let row = &TABLE3_3B.rows[0];
//! let d = deltas(&TABLE3_3B.base, &row.scores, row.trained_on)?;
//! assert_eq!(format!("{:+.2} / {:+.2} / {:+.2}", d.held_in, d.held_out, d.overall), "+72.56 / +6.28 / +19.54");
//!
//! // The audit lists the printed cells that do not follow from the others.
//! let findings = audit(AuditMode::RoundingAware).findings();
//! assert!(findings.iter().any(|f| f.model == Model::Qwen3B.name() && f.row == "SearchQA" && f.column == "ΔOverall"));
//! # Ok::<(), crossgym_study::StudyError>(())
//! ```

pub mod audit;
pub mod base_scores;
pub mod cli;
pub mod commands;
pub mod cpu_plan;
pub mod demos;
pub mod device;
pub mod difficulty;
pub mod envs;
mod episodes;
mod error;
pub mod eval;
pub mod export;
pub mod failure;
pub mod file_commands;
pub mod findings;
pub mod gpu_check;
mod io;
pub mod memory;
pub mod metrics;
pub mod paired;
pub mod paper;
pub mod plan;
pub mod plan_cost;
pub mod policy_source;
pub mod pool;
pub mod pretrained_base;
pub mod records;
mod remote_eval;
pub mod report;
pub mod reproduce;
pub mod results;
pub mod runner;
pub mod small_base;
pub mod transfer;
pub mod warm_start;

pub use error::{Result, StudyError};
