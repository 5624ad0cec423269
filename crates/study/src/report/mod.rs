//! Reports: the paper's tables (Markdown, CSV, JSON) with ours beside the paper's, the figures
//! (SVG and PNG), and one self-contained HTML report, all from [`StudyResults`].

pub mod figures;
pub mod html;
pub mod plot;
mod table;
pub mod tables;

use std::path::{Path, PathBuf};

pub use table::{Cell, Table};

use crate::audit::{AuditMode, audit, render_text};
use crate::findings::findings;
use crate::io::write_atomic;
use crate::paper::{ENVS, Model};
use crate::plan::RunKind;
use crate::results::StudyResults;
use crate::{Result, StudyError};

/// Every table of the report, in order.
pub fn all_tables(results: &StudyResults, audit_report: &crate::audit::AuditReport) -> Vec<Table> {
    let mut list = Vec::new();
    for model in Model::ALL {
        list.push(tables::table2(results, model));
    }
    for model in Model::ALL {
        list.push(tables::table3(results, model));
    }
    list.push(tables::table6(results));
    list.push(tables::summary(results));
    list.push(tables::failures(results));
    list.push(tables::audit(audit_report));
    list
}

/// The paper's envs (in its order) on which the base model was measured: the envs the findings
/// of a report cover.
pub fn measured_envs(results: &StudyResults) -> Vec<String> {
    ENVS.iter()
        .map(|e| e.name)
        .filter(|e| results.final_of_kind(&RunKind::Base, e).is_some())
        .map(str::to_owned)
        .collect()
}

/// Writes the report into `out`: `tables/<name>.{md,csv,json}`, `tables.md` (all tables),
/// `plots/<name>.{svg,png}` and `report.html`. Returns the files written.
pub fn write_report(results: &StudyResults, out: &Path) -> Result<Vec<PathBuf>> {
    let audit_report = audit(AuditMode::RoundingAware);
    let tables = all_tables(results, &audit_report);
    let mut written = Vec::new();
    let mut write = |path: PathBuf, bytes: &[u8]| -> Result<()> {
        write_atomic(&path, bytes)?;
        written.push(path);
        Ok(())
    };
    let mut pngs = Vec::new();
    let mut all_md = String::new();
    for table in &tables {
        // Not `with_extension`: names such as `table2-qwen2.5-3b-instruct` contain dots.
        let file = |ext: &str| out.join("tables").join(format!("{}.{ext}", table.name));
        write(file("md"), table.to_markdown().as_bytes())?;
        write(file("csv"), table.to_csv().as_bytes())?;
        let json = serde_json::to_string_pretty(&table.to_json())
            .map_err(|e| StudyError::parse(file("json").display().to_string(), e))?;
        write(file("json"), json.as_bytes())?;
        all_md.push_str(&table.to_markdown());
        all_md.push('\n');
    }
    write(out.join("tables.md"), all_md.as_bytes())?;
    let mut figures = Vec::new();
    for chart in figures::all(results) {
        let svg = chart.to_svg()?;
        write(
            out.join("plots").join(format!("{}.svg", chart.name)),
            svg.as_bytes(),
        )?;
        let png = out.join("plots").join(format!("{}.png", chart.name));
        chart.write_png(&png)?;
        pngs.push(png);
        figures.push((chart.name.clone(), svg));
    }
    let found = findings(results, &measured_envs(results));
    let html = html::render(
        results,
        &found,
        &tables,
        &figures,
        &render_text(&audit_report),
    );
    write(out.join("report.html"), html.as_bytes())?;
    written.extend(pngs);
    Ok(written)
}
