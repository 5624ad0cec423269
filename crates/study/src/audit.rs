//! The audit of the paper's printed tables: recompute every derived cell from the cells it is
//! derived from, and list the printed cells that do not follow.
//!
//! Checks:
//! - **Table 3** ΔHeld-In, ΔHeld-Out, ΔOverall from the base row and the trained row
//!   ([`crate::transfer::deltas`]).
//! - **Table 2** "all" from "easy" and "hard" and Table 5's test-set size `n`:
//!   `all = (n_easy·easy + (n − n_easy)·hard) / n`. The paper does not print `n_easy`, and its
//!   halves are not balanced (`(easy + hard) / 2` misses most cells by far), so for each (model,
//!   env) the audit infers the one `n_easy` in `0..=n` that fits the most of its six rows (all rows
//!   of a model share the base model's split) and lists the rows that no longer fit.
//! - **Table 3 against Table 2**: Table 3's base row is Table 2's base "all", and its in-domain cell
//!   of the row trained on env X is Table 2's U "all" on X (they agree on 19 of 20 cells, so they
//!   are the same runs).
//!
//! Tolerances ([`AuditMode`]): a printed cell follows from the others when it is within the
//! tolerance of the recomputed value. [`AuditMode::RoundingAware`] (the default) allows for the
//! rounding of both the printed inputs and the printed result, so every listed cell is
//! inconsistent whatever the unrounded values were. [`AuditMode::Strict`] takes the printed inputs
//! as exact and allows only the rounding of the result (half a unit of its last printed digit).

use serde::{Deserialize, Serialize};

use crate::paper::{ENVS, Model, display_name};
use crate::plan::Regime;
use crate::transfer::deltas;

/// Float slack added to every tolerance (values like 5.905 are not exact in binary).
const EPSILON: f64 = 1e-9;

/// How much disagreement a printed cell may have with its recomputation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditMode {
    /// Allow the rounding of inputs and result (worst case).
    #[default]
    RoundingAware,
    /// Inputs exact; allow only the rounding of the printed result.
    Strict,
}

/// One printed cell that does not follow from the others (the `--json` object).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// `"Table 2"` or `"Table 3"`.
    pub table: String,
    /// The model, e.g. `Qwen2.5-3B-Instruct`.
    pub model: String,
    /// The printed row label (training env or regime).
    pub row: String,
    /// The printed column label.
    pub column: String,
    /// The printed value.
    pub printed: f64,
    /// The value recomputed from the other cells (rounded to 4 decimals).
    pub recomputed: f64,
}

/// One check the audit made, consistent or not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// The cell and both values.
    pub cell: Finding,
    /// The tolerance used.
    pub tolerance: f64,
    /// How the recomputed value was obtained.
    pub rule: String,
}

impl Check {
    /// Whether the printed cell is further from the recomputed value than the tolerance.
    pub fn inconsistent(&self) -> bool {
        (self.cell.printed - self.cell.recomputed).abs() > self.tolerance + EPSILON
    }
}

/// The easy-half size the audit inferred for one (model, env) of Table 2.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InferredShare {
    /// The model.
    pub model: String,
    /// The env's display name.
    pub env: String,
    /// Inferred easy test tasks.
    pub n_easy: usize,
    /// Test tasks (Table 5).
    pub n: usize,
    /// Of its six rows, how many the balanced split (`n_easy = n / 2`) would flag.
    pub balanced_misfits: usize,
}

/// Everything the audit did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    /// The tolerance mode.
    pub mode: AuditMode,
    /// Every check, in table order.
    pub checks: Vec<Check>,
    /// Table 2's inferred easy-half sizes.
    pub shares: Vec<InferredShare>,
}

impl AuditReport {
    /// The printed cells that do not follow from the others.
    pub fn findings(&self) -> Vec<Finding> {
        self.checks
            .iter()
            .filter(|c| c.inconsistent())
            .map(|c| c.cell.clone())
            .collect()
    }

    /// The inconsistent checks (with their tolerance and rule).
    pub fn inconsistent(&self) -> Vec<&Check> {
        self.checks.iter().filter(|c| c.inconsistent()).collect()
    }
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// Runs every check on the embedded tables.
pub fn audit(mode: AuditMode) -> AuditReport {
    let mut checks = Vec::new();
    let mut shares = Vec::new();
    for model in Model::ALL {
        table3_deltas(model, mode, &mut checks);
    }
    for model in Model::ALL {
        table2_all(model, mode, &mut checks, &mut shares);
    }
    for model in Model::ALL {
        table3_vs_table2(model, mode, &mut checks);
    }
    AuditReport {
        mode,
        checks,
        shares,
    }
}

fn table3_deltas(model: Model, mode: AuditMode, checks: &mut Vec<Check>) {
    // Inputs printed to 0.01: a difference is off by at most 0.01, so is a mean of differences.
    let tolerance = match mode {
        AuditMode::RoundingAware => 0.01 + 0.005,
        AuditMode::Strict => 0.005,
    };
    let table = model.table3();
    for row in &table.rows {
        let Ok(recomputed) = deltas(&table.base, &row.scores, row.trained_on) else {
            continue;
        };
        for (column, printed, value) in [
            ("ΔHeld-In", row.held_in, recomputed.held_in),
            ("ΔHeld-Out", row.held_out, recomputed.held_out),
            ("ΔOverall", row.overall, recomputed.overall),
        ] {
            checks.push(Check {
                cell: Finding {
                    table: "Table 3".into(),
                    model: model.name().into(),
                    row: display_name(row.trained_on).into(),
                    column: column.into(),
                    printed,
                    recomputed: round4(value),
                },
                tolerance,
                rule: "from the base and trained rows (transfer::deltas)".into(),
            });
        }
    }
}

fn table2_all(
    model: Model,
    mode: AuditMode,
    checks: &mut Vec<Check>,
    shares: &mut Vec<InferredShare>,
) {
    // Inputs printed to 0.1: a weighted mean of them is off by at most 0.05; plus 0.05 for `all`.
    let tolerance = match mode {
        AuditMode::RoundingAware => 0.05 + 0.05,
        AuditMode::Strict => 0.05,
    };
    let rows = model.table2();
    for (env, paper_env) in ENVS.iter().enumerate() {
        let n = paper_env.test_tasks;
        let fit = |n_easy: usize| -> Vec<f64> {
            rows.iter()
                .map(|row| {
                    let cell = row.cells[env];
                    (n_easy as f64 * cell.easy + (n - n_easy) as f64 * cell.hard) / n as f64
                })
                .collect()
        };
        let misfits = |n_easy: usize| -> (usize, f64) {
            let values = fit(n_easy);
            let residuals = rows
                .iter()
                .zip(&values)
                .map(|(row, v)| (row.cells[env].all - v).abs());
            let count = residuals
                .clone()
                .filter(|r| *r > tolerance + EPSILON)
                .count();
            (count, residuals.sum())
        };
        let n_easy = (0..=n)
            .min_by(|a, b| {
                let (ca, sa) = misfits(*a);
                let (cb, sb) = misfits(*b);
                ca.cmp(&cb).then(sa.total_cmp(&sb))
            })
            .unwrap_or(n / 2);
        shares.push(InferredShare {
            model: model.name().into(),
            env: paper_env.display_name.into(),
            n_easy,
            n,
            balanced_misfits: misfits(n / 2).0,
        });
        for (row, value) in rows.iter().zip(fit(n_easy)) {
            checks.push(Check {
                cell: Finding {
                    table: "Table 2".into(),
                    model: model.name().into(),
                    row: row.regime.label().into(),
                    column: format!("{} all", paper_env.display_name),
                    printed: row.cells[env].all,
                    recomputed: round4(value),
                },
                tolerance,
                rule: format!(
                    "(n_easy·easy + (n−n_easy)·hard)/n with n = {n} (Table 5) and n_easy = {n_easy} inferred from the six rows"
                ),
            });
        }
    }
}

fn table3_vs_table2(model: Model, mode: AuditMode, checks: &mut Vec<Check>) {
    // Table 2 prints 0.1, Table 3 0.01: the same value may differ by 0.05 + 0.005.
    let tolerance = match mode {
        AuditMode::RoundingAware => 0.05 + 0.005,
        AuditMode::Strict => 0.05,
    };
    let t2 = model.table2();
    let t3 = model.table3();
    let all_of = |regime: Regime, env: usize| {
        t2.iter()
            .find(|row| row.regime == regime)
            .map(|row| row.cells[env].all)
    };
    for env in 0..ENVS.len() {
        if let Some(value) = all_of(Regime::Base, env) {
            checks.push(Check {
                cell: Finding {
                    table: "Table 3".into(),
                    model: model.name().into(),
                    row: "base".into(),
                    column: display_name(env).into(),
                    printed: t3.base[env],
                    recomputed: value,
                },
                tolerance,
                rule: "Table 2's base row, column all".into(),
            });
        }
    }
    for row in &t3.rows {
        if let Some(value) = all_of(Regime::U, row.trained_on) {
            checks.push(Check {
                cell: Finding {
                    table: "Table 3".into(),
                    model: model.name().into(),
                    row: display_name(row.trained_on).into(),
                    column: display_name(row.trained_on).into(),
                    printed: row.scores[row.trained_on],
                    recomputed: value,
                },
                tolerance,
                rule: "Table 2's U row, column all".into(),
            });
        }
    }
}

/// The audit as a human-readable text: the findings with tolerance and rule, then Table 2's
/// inferred easy shares.
pub fn render_text(report: &AuditReport) -> String {
    let mut out = format!(
        "Audit of the paper's Tables 2 and 3 ({} checks, mode {:?}): {} printed cells do not follow from the others.\n\n",
        report.checks.len(),
        report.mode,
        report.inconsistent().len()
    );
    for check in report.inconsistent() {
        let c = &check.cell;
        // As printed: Table 2 has one decimal, Table 3 two.
        let d = if c.table == "Table 2" { 1 } else { 2 };
        out.push_str(&format!(
            "- {} · {} · row {} · column {}: printed {:.d$}, recomputed {} (|diff| {:.4} > tolerance {}); {}\n",
            c.table,
            c.model,
            c.row,
            c.column,
            c.printed,
            c.recomputed,
            (c.printed - c.recomputed).abs(),
            check.tolerance,
            check.rule
        ));
    }
    out.push_str("\nTable 2's easy halves, inferred from its 'all' cells (the paper's halves are not balanced):\n");
    for share in &report.shares {
        out.push_str(&format!(
            "- {} · {}: n_easy = {} of {} ({:.1}%); a balanced split would contradict {} of 6 rows\n",
            share.model,
            share.env,
            share.n_easy,
            share.n,
            100.0 * share.n_easy as f64 / share.n as f64,
            share.balanced_misfits
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(findings: &[Finding], table: &str, model: &str, row: &str, column: &str) -> bool {
        findings.iter().any(|f| {
            f.table == table && f.model.contains(model) && f.row == row && f.column == column
        })
    }

    #[test]
    fn rounding_aware_audit_finds_the_inconsistent_cells() {
        let report = audit(AuditMode::RoundingAware);
        let findings = report.findings();
        // Table 3: 3B SearchQA ΔOverall is printed +4.56; the rows give +7.37.
        assert!(has(&findings, "Table 3", "3B", "SearchQA", "ΔOverall"));
        let bad = findings.iter().find(|f| f.column == "ΔOverall").unwrap();
        assert_eq!(bad.recomputed, 7.374);
        // Table 2: 7B ALFWorld U prints 97.7 / 97.2 / 92.0 — no split gives "all" below both halves.
        assert!(has(&findings, "Table 2", "7B", "U", "ALFWorld all"));
        assert!(has(&findings, "Table 2", "7B", "U", "TextCraft all"));
        // Table 3 vs Table 2: 3B BabyAI base 61.83 vs 61.6.
        assert!(has(&findings, "Table 3", "3B", "base", "BabyAI"));
        // Within rounding, +6.29 can follow from unrounded inputs, so it is not listed here.
        assert!(!has(&findings, "Table 3", "3B", "WebShop", "ΔHeld-Out"));
        // Consistent cells are not listed.
        assert!(!has(&findings, "Table 3", "7B", "TextCraft", "ΔOverall"));
        assert_eq!(findings.len(), 8, "{findings:#?}");
        assert_eq!(report.checks.len(), 110);
    }

    #[test]
    fn strict_audit_also_lists_cells_off_by_input_rounding() {
        let findings = audit(AuditMode::Strict).findings();
        assert_eq!(findings.len(), 17, "{findings:#?}");
        assert!(has(&findings, "Table 3", "3B", "WebShop", "ΔHeld-Out"));
        assert!(has(&findings, "Table 3", "3B", "SearchQA", "ΔHeld-In"));
        assert!(has(&findings, "Table 3", "3B", "SearchQA", "ΔOverall"));
        // 7B SearchQA ΔHeld-Out recomputes to 5.905 and is printed 5.91: rounding, not a mismatch.
        assert!(!has(&findings, "Table 3", "7B", "SearchQA", "ΔHeld-Out"));
    }

    #[test]
    fn inferred_easy_shares_are_stable_across_models() {
        let report = audit(AuditMode::RoundingAware);
        let share = |model: &str, env: &str| {
            report
                .shares
                .iter()
                .find(|s| s.model.contains(model) && s.env == env)
                .unwrap()
                .n_easy
        };
        for env in ["SearchQA", "TextCraft", "ALFWorld", "BabyAI"] {
            assert_eq!(share("3B", env), share("7B", env), "{env}");
        }
        assert_eq!(share("3B", "SearchQA"), 120);
        assert!(report.shares.iter().any(|s| s.balanced_misfits > 0));
    }
}
