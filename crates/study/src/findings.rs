//! The paper's headline findings, checked against a study's measurements: each [`Finding`]
//! states the paper's claim, our numbers, and whether they agree — plainly, including when
//! they do not or when the study did not measure what the finding needs.

use crate::plan::{Regime, RunKind};
use crate::results::StudyResults;
use crate::transfer::deltas;

/// One finding of the paper and where our study stands on it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Finding {
    /// Short name.
    pub name: &'static str,
    /// What the paper reports.
    pub paper: &'static str,
    /// What we measured (numbers).
    pub ours: String,
    /// Whether ours agrees.
    pub verdict: Verdict,
}

/// Where a study stands on one finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Our numbers show the same effect.
    Reproduced,
    /// Our numbers show a different effect.
    NotReproduced,
    /// Measured, but the numbers cannot decide (e.g. every score is 0, or a tie).
    Inconclusive,
    /// The study did not run what the finding needs.
    NotMeasured,
}

impl Verdict {
    /// "reproduced", "not reproduced", "inconclusive" or "not measured".
    pub fn text(self) -> &'static str {
        match self {
            Verdict::Reproduced => "reproduced",
            Verdict::NotReproduced => "not reproduced",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotMeasured => "not measured",
        }
    }

    fn from_test(decided: bool, holds: bool) -> Self {
        match (decided, holds) {
            (false, _) => Verdict::Inconclusive,
            (true, true) => Verdict::Reproduced,
            (true, false) => Verdict::NotReproduced,
        }
    }
}

/// Scores within this many points count as the same.
const SAME_POINTS: f64 = 5.0;

/// Whether "sequential ≈ joint" says anything: at least one of the two ends more than
/// [`SAME_POINTS`] away from the base (two runs that both stayed at the base agree trivially),
/// or, without a base, either scored at all.
fn trained_away_from_base(sequence: f64, joint: f64, base: Option<f64>) -> bool {
    match base {
        Some(b) => [sequence, joint]
            .iter()
            .any(|x| ((x - b) * 100.0).abs() > SAME_POINTS),
        None => sequence > 0.0 || joint > 0.0,
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}", x * 100.0)
}

fn all_of(results: &StudyResults, kind: &RunKind, env: &str) -> Option<f64> {
    results
        .final_of_kind(kind, env)
        .map(|b| b.all.avg_at_k.value)
}

/// `env a <between> b` for each (env, a, b), in percent, comma-separated.
fn pairs(rows: &[(String, f64, f64)], between: &str) -> String {
    rows.iter()
        .map(|(e, a, b)| format!("{e} {} {between} {}", pct(*a), pct(*b)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn u(env: &str) -> RunKind {
    RunKind::difficulty(env, Regime::U)
}

/// Axis 2: the base row and one U row per env, in percent, when all are measured.
fn transfer_rows(results: &StudyResults, envs: &[String]) -> Option<(Vec<f64>, Vec<Vec<f64>>)> {
    let base: Option<Vec<f64>> = envs
        .iter()
        .map(|e| all_of(results, &RunKind::Base, e).map(|x| x * 100.0))
        .collect();
    let rows: Option<Vec<Vec<f64>>> = envs
        .iter()
        .map(|trained| {
            envs.iter()
                .map(|e| all_of(results, &u(trained), e).map(|x| x * 100.0))
                .collect()
        })
        .collect();
    Some((base?, rows?))
}

/// Checks the paper's findings on `results` of a study over `envs`.
pub fn findings(results: &StudyResults, envs: &[String]) -> Vec<Finding> {
    let mut out = Vec::new();
    let transfer = transfer_rows(results, envs);

    // 1. In-domain gains are large, held-out gains small.
    let mut held = None;
    if let Some((base, rows)) = &transfer
        && envs.len() >= 2
    {
        let ds: Vec<_> = rows
            .iter()
            .enumerate()
            .filter_map(|(i, row)| deltas(base, row, i).ok())
            .collect();
        if ds.len() == envs.len() {
            let n = ds.len() as f64;
            let held_in = ds.iter().map(|d| d.held_in).sum::<f64>() / n;
            let held_out = ds.iter().map(|d| d.held_out).sum::<f64>() / n;
            held = Some(ds);
            out.push(Finding {
                name: "in-domain vs held-out gains",
                paper: "RL raises held-in avg@8 a lot (3B mean ΔHeld-In +50.7) and held-out only a little (mean ΔHeld-Out +3.3)",
                ours: format!(
                    "mean ΔHeld-In {held_in:+.1} points, mean ΔHeld-Out {held_out:+.1} points over {} envs",
                    envs.len()
                ),
                verdict: Verdict::from_test(
                    held_in != 0.0 || held_out != 0.0,
                    held_in > 0.0 && held_in > held_out,
                ),
            });
        }
    }
    if held.is_none() {
        out.push(Finding {
            name: "in-domain vs held-out gains",
            paper: "RL raises held-in avg@8 a lot and held-out only a little",
            ours: "needs the base and every U run evaluated on every env (axis 2)".into(),
            verdict: Verdict::NotMeasured,
        });
    }

    // 2. Held-in gains on at least 4 of 5 envs.
    let gains: Vec<(String, f64, f64)> = envs
        .iter()
        .filter_map(|e| {
            Some((
                e.clone(),
                all_of(results, &RunKind::Base, e)?,
                all_of(results, &u(e), e)?,
            ))
        })
        .collect();
    if gains.len() == envs.len() && !envs.is_empty() {
        let raised = gains.iter().filter(|(_, b, t)| t > b).count();
        let need = (envs.len() * 4).div_ceil(5);
        out.push(Finding {
            name: "GRPO raises held-in avg@k",
            paper: "training on an env raises its test avg@8 on all five envs",
            ours: format!(
                "raised on {raised} of {}: {}",
                envs.len(),
                pairs(&gains, "→")
            ),
            verdict: Verdict::from_test(
                gains.iter().any(|(_, b, t)| *b != 0.0 || *t != 0.0),
                raised >= need,
            ),
        });
    } else {
        out.push(Finding {
            name: "GRPO raises held-in avg@k",
            paper: "training on an env raises its test avg@8 on all five envs",
            ours: "needs the base and U runs (axis 1)".into(),
            verdict: Verdict::NotMeasured,
        });
    }

    // 3. Curricula: easy→hard vs hard→easy.
    let curricula: Vec<(String, f64, f64)> = envs
        .iter()
        .filter_map(|e| {
            let kind = |regime| RunKind::difficulty(e, regime);
            Some((
                e.clone(),
                all_of(results, &kind(Regime::EasyToHard), e)?,
                all_of(results, &kind(Regime::HardToEasy), e)?,
            ))
        })
        .collect();
    if curricula.is_empty() {
        out.push(Finding {
            name: "easy→hard curriculum",
            paper: "easy→hard ends at least as high as hard→easy (7B: on 4 of 5 envs)",
            ours: "needs the curriculum runs (axis 1)".into(),
            verdict: Verdict::NotMeasured,
        });
    } else {
        let wins = curricula.iter().filter(|(_, a, b)| a > b).count();
        let losses = curricula.iter().filter(|(_, a, b)| a < b).count();
        out.push(Finding {
            name: "easy→hard curriculum",
            paper: "easy→hard ends at least as high as hard→easy (7B: on 4 of 5 envs)",
            ours: format!(
                "easy→hard higher on {wins}, lower on {losses}, tied on {} of {}: {}",
                curricula.len() - wins - losses,
                curricula.len(),
                pairs(&curricula, "vs")
            ),
            verdict: Verdict::from_test(wins != losses, wins > losses),
        });
    }

    // 4. BabyAI's negative transfer.
    match (
        &held,
        envs.iter()
            .position(|e| e == crossgym_env_core::paper::BABYAI.name),
    ) {
        (Some(ds), Some(b)) => {
            let lowest = ds.iter().map(|d| d.held_out).fold(f64::INFINITY, f64::min);
            let babyai = ds[b].held_out;
            out.push(Finding {
                name: "BabyAI's negative transfer",
                paper: "training on BabyAI transfers worst (7B ΔHeld-Out −3.23, the only negative one)",
                ours: format!(
                    "BabyAI-trained ΔHeld-Out {babyai:+.1} points (lowest of all: {lowest:+.1})"
                ),
                verdict: Verdict::from_test(
                    ds.iter().any(|d| d.held_out != babyai),
                    babyai < 0.0 || babyai <= lowest,
                ),
            });
        }
        _ => out.push(Finding {
            name: "BabyAI's negative transfer",
            paper: "training on BabyAI transfers worst (7B ΔHeld-Out −3.23)",
            ours: "needs axis 2 with BabyAI".into(),
            verdict: Verdict::NotMeasured,
        }),
    }

    // 5. Sequential ≈ joint.
    let joint = RunKind::Joint {
        envs: envs.to_vec(),
    };
    let sequence = RunKind::Sequence {
        order: envs.to_vec(),
    };
    let mean_over = |kind: &RunKind| -> Option<f64> {
        let v: Option<Vec<f64>> = envs.iter().map(|e| all_of(results, kind, e)).collect();
        v.map(|v| v.iter().sum::<f64>() / v.len().max(1) as f64)
    };
    match (mean_over(&sequence), mean_over(&joint)) {
        (Some(s), Some(j)) => out.push(Finding {
            name: "sequential ≈ joint",
            paper: "a five-stage sequence ends close to joint training on the mixture",
            ours: format!(
                "sequence mean avg@k {} vs joint {} ({:+.1} points)",
                pct(s),
                pct(j),
                (s - j) * 100.0
            ),
            verdict: Verdict::from_test(
                trained_away_from_base(s, j, mean_over(&RunKind::Base)),
                ((s - j) * 100.0).abs() <= SAME_POINTS,
            ),
        }),
        _ => out.push(Finding {
            name: "sequential ≈ joint",
            paper: "a five-stage sequence ends close to joint training on the mixture",
            ours: "needs the sequence and joint runs (axis 3)".into(),
            verdict: Verdict::NotMeasured,
        }),
    }

    // 6. Little forgetting: upstream scores after the downstream stage.
    let mut drops = Vec::new();
    for up in envs {
        for down in envs.iter().filter(|d| *d != up) {
            let pair = RunKind::TwoStage {
                upstream: up.clone(),
                downstream: down.clone(),
            };
            if let (Some(before), Some(after)) =
                (all_of(results, &u(up), up), all_of(results, &pair, up))
            {
                drops.push((before, (after - before) * 100.0));
            }
        }
    }
    if drops.is_empty() {
        out.push(Finding {
            name: "little forgetting",
            paper: "after a second stage the upstream env keeps most of its gain",
            ours: "needs the two-stage runs (axis 3)".into(),
            verdict: Verdict::NotMeasured,
        });
    } else {
        let mean = drops.iter().map(|(_, d)| d).sum::<f64>() / drops.len() as f64;
        let worst = drops.iter().map(|(_, d)| *d).fold(f64::INFINITY, f64::min);
        out.push(Finding {
            name: "little forgetting",
            paper: "after a second stage the upstream env keeps most of its gain",
            ours: format!(
                "upstream change after stage 2: mean {mean:+.1} points, worst {worst:+.1} over {} pairs",
                drops.len()
            ),
            // Nothing to forget when no upstream run scored above 0.
            verdict: Verdict::from_test(drops.iter().any(|(b, _)| *b > 0.0), mean > -5.0),
        });
    }
    out
}

/// The findings as a Markdown table.
pub fn findings_markdown(findings: &[Finding]) -> String {
    let mut md = String::from("| finding | paper | ours | verdict |\n|---|---|---|---|\n");
    for f in findings {
        md.push_str(&format!(
            "| {} | {} | {} | **{}** |\n",
            f.name,
            f.paper,
            f.ours,
            f.verdict.text()
        ));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_and_all_zero_scores_are_inconclusive_not_reproduced() {
        assert_eq!(Verdict::from_test(false, true), Verdict::Inconclusive);
        assert_eq!(Verdict::from_test(true, true), Verdict::Reproduced);
        assert_eq!(Verdict::from_test(true, false), Verdict::NotReproduced);
        let md = findings_markdown(&[Finding {
            name: "x",
            paper: "p",
            ours: "o".into(),
            verdict: Verdict::Inconclusive,
        }]);
        assert!(md.contains("| x | p | o | **inconclusive** |"));
    }

    #[test]
    fn sequence_and_joint_that_stayed_at_the_base_decide_nothing() {
        assert!(!trained_away_from_base(0.0, 0.005, Some(0.0)));
        assert!(!trained_away_from_base(0.31, 0.29, Some(0.3)));
        assert!(trained_away_from_base(0.42, 0.3, Some(0.3)));
        assert!(trained_away_from_base(0.0, 0.01, None));
        assert!(!trained_away_from_base(0.0, 0.0, None));
    }
}
