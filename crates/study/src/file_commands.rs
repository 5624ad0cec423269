//! The `crossgym` commands that work on files only, no model: `audit`, `plan`, `split` and
//! `report` (the model-driven ones are in [`crate::commands`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::audit::{AuditMode, audit as audit_tables, render_text};
use crate::difficulty::DifficultyFile;
use crate::metrics::Bootstrap;
use crate::plan::Plan;
use crate::records::{EpisodeRecord, read_jsonl};
use crate::report::write_report;
use crate::results::StudyResults;
use crate::{Result, StudyError};

/// A file a command writes: kept when it exists, unless `force`.
#[derive(clap::Args, Clone, Debug)]
pub struct OutputFile {
    /// Output file.
    #[arg(long = "out")]
    pub path: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

impl OutputFile {
    /// Whether the file exists and is kept (no `force`).
    pub fn kept(&self) -> bool {
        self.path.exists() && !self.force
    }

    /// The line that says the file was kept, with `detail` (about the kept file) after its path.
    fn kept_line(&self, detail: &str) -> String {
        format!(
            "{} exists{detail}; kept (use --force to overwrite)\n",
            self.path.display()
        )
    }
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

/// Every episode record in the `*.jsonl` files under `paths` ([`jsonl_files`]).
pub fn read_all(paths: &[PathBuf]) -> Result<Vec<EpisodeRecord>> {
    let mut records = Vec::new();
    for file in jsonl_files(paths)? {
        records.extend(read_jsonl(&file)?);
    }
    Ok(records)
}

/// Writes `text` to the command's output.
pub(crate) fn emit(out: &mut dyn Write, text: &str) -> Result<()> {
    out.write_all(text.as_bytes())
        .map_err(|e| StudyError::io("<stdout>", e))
}

/// `crossgym audit`: the printed cells of the paper's Tables 2 and 3 that do not follow from the
/// others, as text or (`json`) a JSON array; `strict` takes printed inputs as exact.
pub fn audit(json: bool, strict: bool, out: &mut dyn Write) -> Result<()> {
    let mode = if strict {
        AuditMode::Strict
    } else {
        AuditMode::RoundingAware
    };
    let report = audit_tables(mode);
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

/// `crossgym plan`: the paper's study on `envs` as a plan file (kept if it exists, unless `force`).
pub fn plan(
    envs: &[String],
    model: &str,
    every: Option<usize>,
    seed: u64,
    file: &OutputFile,
    out: &mut dyn Write,
) -> Result<()> {
    if file.kept() {
        return emit(out, &file.kept_line(""));
    }
    let plan = Plan::paper(model, envs, every, seed);
    plan.validate()?;
    plan.save(&file.path)?;
    let runs = plan.runs.len();
    emit(
        out,
        &format!("wrote {} ({runs} runs)\n", file.path.display()),
    )
}

/// `crossgym split`: the easy/hard difficulty file from the starting-checkpoint records of `run`
/// (kept if it exists, unless `force`).
pub fn split(
    results: &[PathBuf],
    run: &str,
    model: &str,
    seed: u64,
    file: &OutputFile,
    out: &mut dyn Write,
) -> Result<()> {
    let path = file.path.as_path();
    if file.kept() {
        let existing = DifficultyFile::load(path)?;
        let detail = format!(" ({} envs)", existing.envs.len());
        return emit(out, &file.kept_line(&detail));
    }
    let records: Vec<EpisodeRecord> = read_all(results)?
        .into_iter()
        .filter(|r| r.run == run && r.checkpoint == crate::records::Checkpoint::START)
        .collect();
    let k = records
        .iter()
        .map(|r| r.sample as usize + 1)
        .max()
        .unwrap_or(0);
    let file = DifficultyFile::from_records(model, k, seed, &records)?;
    file.save(path)?;
    emit(
        out,
        &format!(
            "wrote {} ({} envs, k = {k})\n",
            path.display(),
            file.envs.len()
        ),
    )
}

/// `crossgym report`: the tables, plots and HTML report of `plan` from the records under
/// `results`, easy/hard labelled from `difficulty` when given.
pub fn report(
    plan: &Path,
    results: &[PathBuf],
    difficulty: Option<&Path>,
    bootstrap: &Bootstrap,
    dir: &Path,
    out: &mut dyn Write,
) -> Result<()> {
    let plan = Plan::load(plan)?;
    let mut records = read_all(results)?;
    if let Some(path) = difficulty {
        DifficultyFile::load(path)?.label(&mut records);
    }
    let study = StudyResults::build(&plan, &records, bootstrap)?;
    let written = write_report(&study, dir)?;
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
