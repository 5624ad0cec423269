//! The `crossgym` command line: flags (clap) and what each command does. `main.rs` only calls
//! [`run`].
//!
//! `play`, `eval`, `train`, `sft` and `study` join when the policy and GRPO crates land; the
//! commands here need no model.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::audit::{AuditMode, audit, render_text};
use crate::difficulty::DifficultyFile;
use crate::metrics::Bootstrap;
use crate::plan::Plan;
use crate::records::{EpisodeRecord, read_jsonl};
use crate::report::write_report;
use crate::results::StudyResults;
use crate::{Result, StudyError};

/// crossgym: RL generalization study of LLM agents across five text environments.
#[derive(Debug, Parser)]
#[command(name = "crossgym", version, about)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the printed cells of the paper's Tables 2 and 3 that do not follow from the others.
    Audit {
        /// Print a JSON array of {table, model, row, column, printed, recomputed}.
        #[arg(long)]
        json: bool,
        /// Take printed inputs as exact (allow only the rounding of the derived cell).
        #[arg(long)]
        strict: bool,
    },
    /// Write a plan file for the paper's study on some envs (kept if it exists, unless --force).
    Plan {
        /// Envs, comma-separated, in the paper's order of your choice.
        #[arg(long, value_delimiter = ',', required = true)]
        envs: Vec<String>,
        /// Base model (Hugging Face name or local path).
        #[arg(long)]
        model: String,
        /// Evaluate every this many training steps within each axis-3 stage (curves).
        #[arg(long)]
        every: Option<usize>,
        /// Seed of every run.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output TOML file.
        #[arg(long)]
        out: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Make the easy/hard difficulty file from base-model records (kept if it exists, unless --force).
    Split {
        /// Record files (JSONL) or folders searched for them.
        #[arg(long, required = true)]
        results: Vec<PathBuf>,
        /// The run whose starting-checkpoint records rank the tasks.
        #[arg(long, default_value = "base")]
        run: String,
        /// Base model name recorded in the file.
        #[arg(long)]
        model: String,
        /// Seed of the tie-breaking.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output JSON file.
        #[arg(long)]
        out: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Build the tables, plots and HTML report of a plan from its episode records.
    Report {
        /// The plan file (TOML).
        #[arg(long)]
        plan: PathBuf,
        /// Record files (JSONL) or folders searched for them.
        #[arg(long, required = true)]
        results: Vec<PathBuf>,
        /// Label records with this difficulty file (for easy/hard columns).
        #[arg(long)]
        difficulty: Option<PathBuf>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Bootstrap resamples for confidence intervals.
        #[arg(long, default_value_t = 1000)]
        bootstrap: usize,
        /// Bootstrap seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

/// Every `*.jsonl` file under `paths` (files as given, folders searched recursively, sorted).
pub fn jsonl_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
        let entries = std::fs::read_dir(dir).map_err(|e| StudyError::io(dir, e))?;
        for entry in entries {
            let path = entry.map_err(|e| StudyError::io(dir, e))?.path();
            if path.is_dir() {
                walk(&path, found)?;
            } else if path.extension().is_some_and(|ext| ext == "jsonl") {
                found.push(path);
            }
        }
        Ok(())
    }
    let mut found = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut found)?;
        } else {
            found.push(path.clone());
        }
    }
    found.sort();
    Ok(found)
}

fn read_all(paths: &[PathBuf]) -> Result<Vec<EpisodeRecord>> {
    let mut records = Vec::new();
    for file in jsonl_files(paths)? {
        records.extend(read_jsonl(&file)?);
    }
    Ok(records)
}

fn emit(out: &mut dyn Write, text: &str) -> Result<()> {
    out.write_all(text.as_bytes())
        .map_err(|e| StudyError::io("<stdout>", e))
}

/// Runs one parsed command, printing to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<()> {
    match cli.command {
        Command::Audit { json, strict } => {
            let mode = if strict {
                AuditMode::Strict
            } else {
                AuditMode::RoundingAware
            };
            let report = audit(mode);
            if json {
                let text = serde_json::to_string_pretty(&report.findings())
                    .map_err(|e| StudyError::parse("<audit>", e))?;
                let tolerances: Vec<String> = report
                    .inconsistent()
                    .iter()
                    .map(|c| {
                        format!(
                            "{} {} {}: {}",
                            c.cell.table, c.cell.row, c.cell.column, c.tolerance
                        )
                    })
                    .collect();
                eprintln!(
                    "audit mode {mode:?}; tolerances used: {}",
                    tolerances.join("; ")
                );
                emit(out, &(text + "\n"))
            } else {
                emit(out, &render_text(&report))
            }
        }
        Command::Plan {
            envs,
            model,
            every,
            seed,
            out: path,
            force,
        } => {
            if path.exists() && !force {
                return emit(
                    out,
                    &format!(
                        "{} exists; kept (use --force to overwrite)\n",
                        path.display()
                    ),
                );
            }
            let plan = Plan::paper(&model, &envs, every, seed);
            plan.validate()?;
            plan.save(&path)?;
            emit(
                out,
                &format!("wrote {} ({} runs)\n", path.display(), plan.runs.len()),
            )
        }
        Command::Split {
            results,
            run,
            model,
            seed,
            out: path,
            force,
        } => {
            if path.exists() && !force {
                let existing = DifficultyFile::load(&path)?;
                return emit(
                    out,
                    &format!(
                        "{} exists ({} envs); kept (use --force to remake)\n",
                        path.display(),
                        existing.envs.len()
                    ),
                );
            }
            let records: Vec<EpisodeRecord> = read_all(&results)?
                .into_iter()
                .filter(|r| r.run == run && r.checkpoint == crate::records::Checkpoint::START)
                .collect();
            let k = records
                .iter()
                .map(|r| r.sample as usize + 1)
                .max()
                .unwrap_or(0);
            let file = DifficultyFile::from_records(&model, k, seed, &records)?;
            file.save(&path)?;
            emit(
                out,
                &format!(
                    "wrote {} ({} envs, k = {k})\n",
                    path.display(),
                    file.envs.len()
                ),
            )
        }
        Command::Report {
            plan,
            results,
            difficulty,
            out: dir,
            bootstrap,
            seed,
        } => {
            let plan = Plan::load(&plan)?;
            let mut records = read_all(&results)?;
            if let Some(path) = difficulty {
                DifficultyFile::load(&path)?.label(&mut records);
            }
            let bootstrap = Bootstrap {
                resamples: bootstrap,
                seed,
                ..Bootstrap::default()
            };
            let study = StudyResults::build(&plan, &records, &bootstrap)?;
            let written = write_report(&study, &dir)?;
            emit(
                out,
                &format!(
                    "read {} records; wrote {} files under {}\n",
                    records.len(),
                    written.len(),
                    dir.display()
                ),
            )
        }
    }
}
