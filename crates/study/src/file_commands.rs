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
    path: &Path,
    force: bool,
    out: &mut dyn Write,
) -> Result<()> {
    if path.exists() && !force {
        return emit(
            out,
            &format!(
                "{} exists; kept (use --force to overwrite)\n",
                path.display()
            ),
        );
    }
    let plan = Plan::paper(model, envs, every, seed);
    plan.validate()?;
    plan.save(path)?;
    emit(
        out,
        &format!("wrote {} ({} runs)\n", path.display(), plan.runs.len()),
    )
}

/// `crossgym split`: the easy/hard difficulty file from the starting-checkpoint records of `run`
/// (kept if it exists, unless `force`).
pub fn split(
    results: &[PathBuf],
    run: &str,
    model: &str,
    seed: u64,
    path: &Path,
    force: bool,
    out: &mut dyn Write,
) -> Result<()> {
    if path.exists() && !force {
        let existing = DifficultyFile::load(path)?;
        return emit(
            out,
            &format!(
                "{} exists ({} envs); kept (use --force to remake)\n",
                path.display(),
                existing.envs.len()
            ),
        );
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
