//! The study's tables in the paper's layouts, ours beside the paper's.
//!
//! "Ours" are this project's measurements (percent, test split, final checkpoint of each run);
//! "paper" are the printed values of [`crate::paper`]. A cell we did not measure prints `–`.

use crate::audit::AuditReport;
use crate::failure::{FailureMode, ModeCounts};
use crate::metrics::{Breakdown, Summary};
use crate::paper::{ENVS, Model, TABLE6_7B};
use crate::plan::{Regime, RunKind};
use crate::results::StudyResults;
use crate::transfer::deltas;

use super::table::{Cell, Table};

fn pct(summary: Option<&Summary>) -> Option<f64> {
    summary.map(|s| 100.0 * s.avg_at_k.value)
}

fn ours_note(results: &StudyResults) -> String {
    format!(
        "Ours: plan {:?}, model {}, avg@k in percent on each env's test tasks at the run's final checkpoint. Paper: {} as printed.",
        results.plan.name, results.plan.model, "Xi et al. 2026"
    )
}

fn easy_hard_all(b: Option<&Breakdown>) -> String {
    let Some(b) = b else { return "–".to_owned() };
    let f = |s: Option<&Summary>| pct(s).map_or("–".to_owned(), |v| format!("{v:.1}"));
    format!(
        "{} / {} / {}",
        f(b.easy.as_ref()),
        f(b.hard.as_ref()),
        f(Some(&b.all))
    )
}

/// A header of `first`, then "<env> ours" and "<env> paper" for every env.
fn ours_and_paper_header(first: &str) -> Vec<String> {
    let mut header = vec![first.to_owned()];
    for env in ENVS {
        header.push(format!("{} ours", env.display_name));
        header.push(format!("{} paper", env.display_name));
    }
    header
}

/// Table 2: test avg@8 easy / hard / all per env and regime, ours beside `model`'s.
pub fn table2(results: &StudyResults, model: Model) -> Table {
    let header = ours_and_paper_header("model");
    let rows = model
        .table2()
        .iter()
        .map(|paper_row| {
            let mut row = vec![Cell::text(paper_row.regime.label())];
            for (i, env) in ENVS.iter().enumerate() {
                let ours = results
                    .final_of_kind(&RunKind::of_regime(env.name, paper_row.regime), env.name);
                let p = paper_row.cells[i];
                row.push(Cell::Text(easy_hard_all(ours)));
                row.push(Cell::Text(format!(
                    "{:.1} / {:.1} / {:.1}",
                    p.easy, p.hard, p.all
                )));
            }
            row
        })
        .collect();
    Table {
        name: format!("table2-{}", model.name().to_lowercase()),
        title: format!(
            "Table 2 — difficulty (easy / hard / all), paper: {}",
            model.name()
        ),
        header,
        rows,
        notes: vec![ours_note(results)],
    }
}

/// Table 3: train on one env, evaluate on all; ΔHeld-In, ΔHeld-Out, ΔOverall. Our deltas are over
/// the envs our base run and the row's run were both evaluated on.
pub fn table3(results: &StudyResults, model: Model) -> Table {
    let paper = model.table3();
    let mut header = ours_and_paper_header("trained on");
    for delta in ["ΔHeld-In", "ΔHeld-Out", "ΔOverall"] {
        header.push(format!("{delta} ours"));
        header.push(format!("{delta} paper"));
    }
    let score = |kind: &RunKind, env: &str| pct(results.final_of_kind(kind, env).map(|b| &b.all));
    let base: Vec<Option<f64>> = ENVS.iter().map(|e| score(&RunKind::Base, e.name)).collect();
    let mut rows = Vec::new();
    let mut base_row = vec![Cell::text("base")];
    for (i, b) in base.iter().enumerate() {
        base_row.push(Cell::Num(*b, 2));
        base_row.push(Cell::Num(Some(paper.base[i]), 2));
    }
    base_row.extend((0..6).map(|_| Cell::text("")));
    rows.push(base_row);
    for paper_row in &paper.rows {
        let train = ENVS[paper_row.trained_on];
        let kind = RunKind::of_regime(train.name, Regime::U);
        let ours: Vec<Option<f64>> = ENVS.iter().map(|e| score(&kind, e.name)).collect();
        let mut row = vec![Cell::text(train.display_name)];
        for (i, o) in ours.iter().enumerate() {
            row.push(Cell::Num(*o, 2));
            row.push(Cell::Num(Some(paper_row.scores[i]), 2));
        }
        // Our deltas over the envs with both a base and a trained score, if the training env is one.
        let both: Vec<usize> = (0..ENVS.len())
            .filter(|i| base[*i].is_some() && ours[*i].is_some())
            .collect();
        let ours_d = both
            .iter()
            .position(|i| *i == paper_row.trained_on)
            .and_then(|at| {
                let b: Vec<f64> = both.iter().filter_map(|i| base[*i]).collect();
                let t: Vec<f64> = both.iter().filter_map(|i| ours[*i]).collect();
                deltas(&b, &t, at).ok()
            });
        for (o, p) in [
            (ours_d.map(|d| d.held_in), paper_row.held_in),
            (ours_d.map(|d| d.held_out), paper_row.held_out),
            (ours_d.map(|d| d.overall), paper_row.overall),
        ] {
            row.push(Cell::Signed(o, 2));
            row.push(Cell::Signed(Some(p), 2));
        }
        rows.push(row);
    }
    Table {
        name: format!("table3-{}", model.name().to_lowercase()),
        title: format!("Table 3 — cross-environment transfer, paper: {}", model.name()),
        header,
        rows,
        notes: vec![
            ours_note(results),
            "ΔHeld-In = trained − base on the training env; ΔHeld-Out = mean of (trained − base) over the other envs; ΔOverall = mean over all envs. Ours use the envs this study evaluated.".to_owned(),
        ],
    }
}

/// Table 6: two-stage training, all envs after stage 2, ours beside the paper's (7B).
pub fn table6(results: &StudyResults) -> Table {
    let header = ours_and_paper_header("upstream + downstream");
    let rows = TABLE6_7B
        .iter()
        .map(|p| {
            let kind = RunKind::TwoStage {
                upstream: ENVS[p.upstream].name.to_owned(),
                downstream: ENVS[p.downstream].name.to_owned(),
            };
            let mut row = vec![Cell::Text(format!(
                "{} + {}",
                ENVS[p.upstream].display_name, ENVS[p.downstream].display_name
            ))];
            for (i, env) in ENVS.iter().enumerate() {
                row.push(Cell::Num(
                    pct(results.final_of_kind(&kind, env.name).map(|b| &b.all)),
                    2,
                ));
                row.push(Cell::Num(Some(p.scores[i]), 2));
            }
            row
        })
        .collect();
    Table {
        name: "table6".to_owned(),
        title: format!(
            "Table 6 — two-stage training, after stage 2, paper: {}",
            Model::Qwen7B.name()
        ),
        header,
        rows,
        notes: vec![ours_note(results)],
    }
}

/// Every measured (run, env) at its final checkpoint: avg@k and pass@k with intervals, mean turns
/// and generated tokens (the data of Figure 2), task and episode counts.
pub fn summary(results: &StudyResults) -> Table {
    let header = [
        "run",
        "env",
        "tasks",
        "episodes",
        "avg@k",
        "avg@k CI",
        "pass@k",
        "pass@k CI",
        "easy avg@k",
        "hard avg@k",
        "mean turns",
        "turns CI",
        "mean tokens",
        "tokens CI",
    ]
    .map(String::from)
    .to_vec();
    let ci = |lo: f64, hi: f64, scale: f64, d: usize| {
        Cell::Text(format!("[{:.d$}, {:.d$}]", scale * lo, scale * hi))
    };
    let rows = results
        .finals
        .iter()
        .map(|((run, env), b)| {
            let s = &b.all;
            vec![
                Cell::text(run.as_str()),
                Cell::text(env.as_str()),
                Cell::Num(Some(s.tasks as f64), 0),
                Cell::Num(Some(s.episodes as f64), 0),
                Cell::Num(Some(100.0 * s.avg_at_k.value), 2),
                ci(s.avg_at_k.lo, s.avg_at_k.hi, 100.0, 2),
                Cell::Num(Some(100.0 * s.pass_at_k.value), 2),
                ci(s.pass_at_k.lo, s.pass_at_k.hi, 100.0, 2),
                Cell::Num(pct(b.easy.as_ref()), 2),
                Cell::Num(pct(b.hard.as_ref()), 2),
                Cell::Num(Some(s.mean_turns.value), 2),
                ci(s.mean_turns.lo, s.mean_turns.hi, 1.0, 2),
                Cell::Num(Some(s.mean_tokens.value), 2),
                ci(s.mean_tokens.lo, s.mean_tokens.hi, 1.0, 2),
            ]
        })
        .collect();
    Table {
        name: "summary".to_owned(),
        title: "All evaluations (final checkpoints, test tasks)".to_owned(),
        header,
        rows,
        notes: vec![format!(
            "{} CI: percentile bootstrap over tasks. The paper quotes one efficiency pair: {} on BabyAI after U_easy, turns {:.2} → {:.2}, tokens {:.2} → {:.2}.",
            ours_note(results),
            Model::Qwen3B.name(),
            crate::paper::FIGURE2_BABYAI_3B_UEASY.turns.0,
            crate::paper::FIGURE2_BABYAI_3B_UEASY.turns.1,
            crate::paper::FIGURE2_BABYAI_3B_UEASY.tokens.0,
            crate::paper::FIGURE2_BABYAI_3B_UEASY.tokens.1,
        )],
    }
}

/// Failure-mode shares (percent of failed episodes) per (train env, test env), then held-in and
/// held-out totals.
pub fn failures(results: &StudyResults) -> Table {
    let mut header = vec![
        "train env".to_owned(),
        "test env".to_owned(),
        "failures".to_owned(),
    ];
    header.extend(FailureMode::ALL.iter().map(|m| m.name().to_owned()));
    let row = |train: &str, test: &str, counts: &ModeCounts| {
        let mut row = vec![
            Cell::text(train),
            Cell::text(test),
            Cell::Num(Some(counts.total() as f64), 0),
        ];
        row.extend(
            FailureMode::ALL
                .iter()
                .map(|m| Cell::Num((counts.total() > 0).then(|| 100.0 * counts.share(*m)), 1)),
        );
        row
    };
    let mut rows: Vec<Vec<Cell>> = results
        .failures
        .cells
        .iter()
        .map(|((tr, te), c)| row(tr, te, c))
        .collect();
    rows.push(row("all", "held-in", &results.failures.held_in()));
    rows.push(row("all", "held-out", &results.failures.held_out()));
    Table {
        name: "failure-modes".to_owned(),
        title: "Failure modes of failed test episodes (percent of failures)".to_owned(),
        header,
        rows,
        notes: vec!["Train env `base` is the untrained model. Modes come from the records (rule-based or LLM judge); unlabelled failures with a kept trajectory are classified by the rules.".to_owned()],
    }
}

/// The audit's inconsistent printed cells.
pub fn audit(report: &AuditReport) -> Table {
    let header = [
        "table",
        "model",
        "row",
        "column",
        "printed",
        "recomputed",
        "tolerance",
    ]
    .map(String::from)
    .to_vec();
    let rows = report
        .inconsistent()
        .into_iter()
        .map(|c| {
            vec![
                Cell::text(c.cell.table.as_str()),
                Cell::text(c.cell.model.as_str()),
                Cell::text(c.cell.row.as_str()),
                Cell::text(c.cell.column.as_str()),
                Cell::Num(Some(c.cell.printed), 2),
                Cell::Num(Some(c.cell.recomputed), 4),
                Cell::Num(Some(c.tolerance), 3),
            ]
        })
        .collect();
    Table {
        name: "audit".to_owned(),
        title: format!("Printed cells of the paper that do not follow from the others ({:?} tolerance)", report.mode),
        header,
        rows,
        notes: vec!["See `crossgym audit` for the rule behind each check and Table 2's inferred easy-half sizes.".to_owned()],
    }
}
