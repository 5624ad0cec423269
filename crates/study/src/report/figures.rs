//! The paper's figures from study results: Figure 2 (turns and tokens per regime), Figure 3
//! (two-stage forgetting and transfer curves), Figure 5 (sequential and joint training curves),
//! Figure 6 (failure modes, held-in vs held-out).

use crate::failure::FailureMode;
use crate::paper::{ENVS, display_name, env_index};
use crate::plan::{Regime, RunKind};
use crate::results::StudyResults;

use super::plot::{Chart, ChartData, Series};

fn envs_measured(results: &StudyResults) -> Vec<&'static str> {
    ENVS.iter()
        .map(|e| e.name)
        .filter(|env| results.finals.keys().any(|(_, e)| e == env))
        .collect()
}

fn label(env: &str) -> String {
    env_index(env).map_or_else(|| env.to_owned(), |i| display_name(i).to_owned())
}

/// Figure 2: mean interaction turns and mean generated tokens per episode, per env and regime.
pub fn figure2(results: &StudyResults) -> Vec<Chart> {
    let envs = envs_measured(results);
    let metric = |name: &str, title: &str, y: &str, f: fn(&crate::metrics::Summary) -> f64| Chart {
        name: name.to_owned(),
        title: title.to_owned(),
        x_label: "environment".to_owned(),
        y_label: y.to_owned(),
        data: ChartData::Bars {
            categories: envs.iter().map(|e| label(e)).collect(),
            groups: Regime::ALL
                .iter()
                .map(|regime| {
                    let values = envs
                        .iter()
                        .map(|env| {
                            results
                                .final_of_kind(&RunKind::of_regime(env, *regime), env)
                                .map(|b| f(&b.all))
                        })
                        .collect();
                    (regime.label().to_owned(), values)
                })
                .collect(),
        },
    };
    vec![
        metric(
            "figure2-turns",
            "Figure 2 — mean interaction turns per episode",
            "turns",
            |s| s.mean_turns.value,
        ),
        metric(
            "figure2-tokens",
            "Figure 2 — mean generated tokens per episode",
            "tokens",
            |s| s.mean_tokens.value,
        ),
    ]
}

fn curve(results: &StudyResults, run: &str, env: &str) -> Vec<(f64, f64)> {
    results
        .curves
        .get(&(run.to_owned(), env.to_owned()))
        .map(|points| points.iter().map(|p| (p.x, 100.0 * p.avg_at_k)).collect())
        .unwrap_or_default()
}

/// Figure 3: during stage 2 of each two-stage run, the upstream env's score (forgetting) and the
/// downstream env's score (transfer... and learning), one chart each.
pub fn figure3(results: &StudyResults) -> Vec<Chart> {
    let mut upstream_lines = Vec::new();
    let mut downstream_lines = Vec::new();
    for run in &results.plan.runs {
        if let RunKind::TwoStage {
            upstream,
            downstream,
        } = &run.kind
        {
            let name = format!("{} → {}", label(upstream), label(downstream));
            upstream_lines.push(Series {
                name: name.clone(),
                points: curve(results, &run.id, upstream),
            });
            downstream_lines.push(Series {
                name,
                points: curve(results, &run.id, downstream),
            });
        }
    }
    let chart = |name: &str, title: &str, series: Vec<Series>| Chart {
        name: name.to_owned(),
        title: title.to_owned(),
        x_label: "stage-2 training steps".to_owned(),
        y_label: "avg@k (%)".to_owned(),
        data: ChartData::Lines(series),
    };
    vec![
        chart(
            "figure3-upstream",
            "Figure 3 — upstream env during stage 2 (forgetting)",
            upstream_lines,
        ),
        chart(
            "figure3-downstream",
            "Figure 3 — downstream env during stage 2",
            downstream_lines,
        ),
    ]
}

/// Figure 5: every env's score over the whole of each sequential run and the joint run.
pub fn figure5(results: &StudyResults) -> Vec<Chart> {
    results
        .plan
        .runs
        .iter()
        .filter(|run| matches!(run.kind, RunKind::Sequence { .. } | RunKind::Joint { .. }))
        .map(|run| Chart {
            name: format!("figure5-{}", run.id.replace(['/', '+'], "-")),
            title: format!("Figure 5 — {}", run.id),
            x_label: "training steps (stages end to end)".to_owned(),
            y_label: "avg@k (%)".to_owned(),
            data: ChartData::Lines(
                run.eval
                    .envs
                    .iter()
                    .map(|env| Series {
                        name: label(env),
                        points: curve(results, &run.id, env),
                    })
                    .collect(),
            ),
        })
        .collect()
}

/// Figure 6: failure-mode shares among failed episodes, held-in vs held-out.
pub fn figure6(results: &StudyResults) -> Vec<Chart> {
    let held_in = results.failures.held_in();
    let held_out = results.failures.held_out();
    let shares = |counts: &crate::failure::ModeCounts| {
        FailureMode::ALL
            .iter()
            .map(|m| (counts.total() > 0).then(|| 100.0 * counts.share(*m)))
            .collect::<Vec<_>>()
    };
    let short = |m: &FailureMode| {
        match m {
            FailureMode::InstructionMisinterpretation => "instruction",
            FailureMode::GuessingOrFabrication => "guessing",
            FailureMode::ActionExecutionFailure => "execution",
            FailureMode::ConstraintPrioritizationFailure => "constraints",
            FailureMode::ConfirmationBias => "confirmation",
            FailureMode::StateOrMemoryInconsistency => "state/memory",
            FailureMode::LogicOrNumericalDeficit => "logic/numeric",
            FailureMode::TerminationProtocolFailure => "termination",
        }
        .to_owned()
    };
    vec![Chart {
        name: "figure6-failure-modes".to_owned(),
        title: "Figure 6 — failure modes, held-in vs held-out".to_owned(),
        x_label: "failure mode".to_owned(),
        y_label: "share of failures (%)".to_owned(),
        data: ChartData::Bars {
            categories: FailureMode::ALL.iter().map(short).collect(),
            groups: vec![
                (
                    format!("held-in (n = {})", held_in.total()),
                    shares(&held_in),
                ),
                (
                    format!("held-out (n = {})", held_out.total()),
                    shares(&held_out),
                ),
            ],
        },
    }]
}

/// All figures with data.
pub fn all(results: &StudyResults) -> Vec<Chart> {
    [
        figure2(results),
        figure3(results),
        figure5(results),
        figure6(results),
    ]
    .into_iter()
    .flatten()
    .filter(|chart| !chart.is_empty())
    .collect()
}
