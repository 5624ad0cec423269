//! The paper's headline findings, checked against a study's measurements: each [`Finding`]
//! states the paper's claim, our numbers, and whether they agree — plainly, including when
//! they do not or when the study did not measure what the finding needs.

use crate::metrics::Estimate;
use crate::paired::{Contrast, Side, TaskScores, show};
use crate::plan::{Regime, RunKind};
use crate::results::StudyResults;

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
}

/// Scores within this many points count as the same (sequential vs joint; forgetting).
const SAME_POINTS: f64 = 5.0;

/// The verdict on a claim that `e` is positive (`paper_positive`) or negative: decided only when
/// the interval excludes 0.
fn directional(e: &Estimate, paper_positive: bool) -> Verdict {
    match (Side::of(e, 0.0), paper_positive) {
        (Side::Above, true) | (Side::Below, false) => Verdict::Reproduced,
        (Side::Above, false) | (Side::Below, true) => Verdict::NotReproduced,
        (Side::Straddles, _) => Verdict::Inconclusive,
    }
}

/// The verdict on a claim that `e` is within ± [`SAME_POINTS`]: reproduced when the whole
/// interval lies inside the band, not reproduced when it lies wholly outside.
fn within_band(e: &Estimate) -> Verdict {
    if e.lo >= -SAME_POINTS && e.hi <= SAME_POINTS {
        Verdict::Reproduced
    } else if e.lo > SAME_POINTS || e.hi < -SAME_POINTS {
        Verdict::NotReproduced
    } else {
        Verdict::Inconclusive
    }
}

/// The verdict on a claim that `e` is above −[`SAME_POINTS`] (no large drop).
fn above_band(e: &Estimate) -> Verdict {
    match Side::of(e, -SAME_POINTS) {
        Side::Above => Verdict::Reproduced,
        Side::Below => Verdict::NotReproduced,
        Side::Straddles => Verdict::Inconclusive,
    }
}

fn u(env: &str) -> RunKind {
    RunKind::difficulty(env, Regime::U)
}

/// The measurements the findings read: per-task scores by run kind and env.
struct Scores<'r> {
    results: &'r StudyResults,
    envs: &'r [String],
}

impl<'r> Scores<'r> {
    fn of(&self, kind: &RunKind, env: &str) -> Option<&'r TaskScores> {
        self.results.task_scores_of_kind(kind, env)
    }

    fn estimate(&self, contrast: Contrast<'_>) -> Option<Estimate> {
        contrast.estimate(&self.results.bootstrap)
    }

    /// The base's and every U run's scores on every env: `(base[j], u[i][j])`.
    fn transfer(&self) -> Option<(Vec<&'r TaskScores>, Vec<Vec<&'r TaskScores>>)> {
        let base: Option<Vec<_>> = self
            .envs
            .iter()
            .map(|e| self.of(&RunKind::Base, e))
            .collect();
        let rows: Option<Vec<Vec<_>>> = self
            .envs
            .iter()
            .map(|trained| self.envs.iter().map(|e| self.of(&u(trained), e)).collect())
            .collect();
        Some((base?, rows?))
    }

    /// Mean held-out change of the U run of env `i`: over the other envs `j`, `U_i(j) − base(j)`.
    fn held_out<'c>(
        &'c self,
        mut c: Contrast<'c>,
        base: &[&'c TaskScores],
        row: &[&'c TaskScores],
        i: usize,
        weight: f64,
    ) -> Contrast<'c> {
        let others = (self.envs.len() - 1) as f64;
        for (j, env) in self.envs.iter().enumerate().filter(|(j, _)| *j != i) {
            c = c.change(env, base[j], row[j], weight / others);
        }
        c
    }
}

fn not_measured(name: &'static str, paper: &'static str, needs: &str) -> Finding {
    Finding {
        name,
        paper,
        ours: needs.to_owned(),
        verdict: Verdict::NotMeasured,
    }
}

/// Checks the paper's findings on `results` of a study over `envs`. Each verdict comes from a
/// paired bootstrap interval over test tasks ([`crate::paired`]) at the confidence of the
/// results' [`crate::metrics::Bootstrap`]: a directional claim is "reproduced" only when the
/// interval excludes 0 in the paper's direction, "not reproduced" when it excludes 0 the other
/// way, otherwise "inconclusive"; the two claims of sameness (sequential ≈ joint, little
/// forgetting) compare the interval with a ±5-point band instead. Every number is in points
/// of avg@k, printed as `value [lo, hi]`.
pub fn findings(results: &StudyResults, envs: &[String]) -> Vec<Finding> {
    let s = Scores { results, envs };
    let n = envs.len();
    let transfer = s.transfer().filter(|_| n >= 2);
    vec![
        in_domain_vs_held_out(&s, transfer.as_ref()),
        held_in_gains(&s),
        curriculum(&s),
        babyai_transfer(&s, transfer.as_ref()),
        sequential_vs_joint(&s),
        forgetting(&s),
    ]
}

type Transfer<'r> = (Vec<&'r TaskScores>, Vec<Vec<&'r TaskScores>>);

/// 1. In-domain gains are large, held-out gains small.
fn in_domain_vs_held_out(s: &Scores<'_>, transfer: Option<&Transfer<'_>>) -> Finding {
    const NAME: &str = "in-domain vs held-out gains";
    const PAPER: &str = "RL raises held-in avg@8 a lot (3B mean ΔHeld-In +50.7) and held-out only a little (mean ΔHeld-Out +3.3)";
    let measured = transfer.and_then(|(base, rows)| {
        let w = 1.0 / s.envs.len() as f64;
        let mut held_in = Contrast::new();
        let mut held_out = Contrast::new();
        let mut gap = Contrast::new();
        for (i, env) in s.envs.iter().enumerate() {
            held_in = held_in.change(env, base[i], rows[i][i], w);
            gap = gap.change(env, base[i], rows[i][i], w);
            held_out = s.held_out(held_out, base, &rows[i], i, w);
            gap = s.held_out(gap, base, &rows[i], i, -w);
        }
        Some((
            s.estimate(held_in)?,
            s.estimate(held_out)?,
            s.estimate(gap)?,
        ))
    });
    match measured {
        Some((held_in, held_out, gap)) => Finding {
            name: NAME,
            paper: PAPER,
            ours: format!(
                "mean ΔHeld-In {}, mean ΔHeld-Out {}; held-in − held-out {} over {} envs",
                show(&held_in),
                show(&held_out),
                show(&gap),
                s.envs.len()
            ),
            verdict: directional(&gap, true),
        },
        None => not_measured(
            NAME,
            PAPER,
            "needs the base and every U run evaluated on every env (axis 2)",
        ),
    }
}

/// 2. Held-in gains on at least 4 of 5 envs.
fn held_in_gains(s: &Scores<'_>) -> Finding {
    const NAME: &str = "GRPO raises held-in avg@k";
    const PAPER: &str = "training on an env raises its test avg@8 on all five envs";
    let gains: Option<Vec<(&String, Estimate)>> = s
        .envs
        .iter()
        .map(|e| {
            let c = Contrast::new().change(e, s.of(&RunKind::Base, e)?, s.of(&u(e), e)?, 1.0);
            Some((e, s.estimate(c)?))
        })
        .collect();
    let Some(gains) = gains.filter(|g| !g.is_empty()) else {
        return not_measured(NAME, PAPER, "needs the base and U runs (axis 1)");
    };
    let n = gains.len();
    let up = gains
        .iter()
        .filter(|(_, e)| Side::of(e, 0.0) == Side::Above)
        .count();
    let down = gains
        .iter()
        .filter(|(_, e)| Side::of(e, 0.0) == Side::Below)
        .count();
    let need = (n * 4).div_ceil(5);
    let verdict = if up >= need {
        Verdict::Reproduced
    } else if down > n - need {
        Verdict::NotReproduced
    } else {
        Verdict::Inconclusive
    };
    Finding {
        name: NAME,
        paper: PAPER,
        ours: format!(
            "raised (interval above 0) on {up} of {n}, lowered on {down} (needs {need}): {}",
            gains
                .iter()
                .map(|(e, g)| format!("{e} {}", show(g)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        verdict,
    }
}

/// 3. Curricula: easy→hard vs hard→easy.
fn curriculum(s: &Scores<'_>) -> Finding {
    const NAME: &str = "easy→hard curriculum";
    const PAPER: &str = "easy→hard ends at least as high as hard→easy (7B: on 4 of 5 envs)";
    let pairs: Vec<(&String, &TaskScores, &TaskScores)> = s
        .envs
        .iter()
        .filter_map(|e| {
            let kind = |regime| RunKind::difficulty(e, regime);
            Some((
                e,
                s.of(&kind(Regime::EasyToHard), e)?,
                s.of(&kind(Regime::HardToEasy), e)?,
            ))
        })
        .collect();
    let w = 1.0 / pairs.len().max(1) as f64;
    let contrast = pairs
        .iter()
        .fold(Contrast::new(), |c, (e, easy_first, hard_first)| {
            c.change(e, hard_first, easy_first, w)
        });
    match s.estimate(contrast).filter(|_| !pairs.is_empty()) {
        Some(e) => Finding {
            name: NAME,
            paper: PAPER,
            ours: format!(
                "easy→hard − hard→easy, mean over {} envs ({}): {}",
                pairs.len(),
                pairs
                    .iter()
                    .map(|(e, _, _)| e.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                show(&e)
            ),
            verdict: directional(&e, true),
        },
        None => not_measured(NAME, PAPER, "needs the curriculum runs (axis 1)"),
    }
}

/// 4. BabyAI's negative transfer.
fn babyai_transfer(s: &Scores<'_>, transfer: Option<&Transfer<'_>>) -> Finding {
    const NAME: &str = "BabyAI's negative transfer";
    const PAPER: &str =
        "training on BabyAI transfers worst (7B ΔHeld-Out −3.23, the only negative one)";
    let b = s
        .envs
        .iter()
        .position(|e| e == crossgym_env_core::paper::BABYAI.name);
    let measured = match (transfer, b) {
        (Some((base, rows)), Some(b)) => {
            s.estimate(s.held_out(Contrast::new(), base, &rows[b], b, 1.0))
        }
        _ => None,
    };
    match measured {
        Some(e) => Finding {
            name: NAME,
            paper: PAPER,
            ours: format!("BabyAI-trained ΔHeld-Out {}", show(&e)),
            verdict: directional(&e, false),
        },
        None => not_measured(NAME, PAPER, "needs axis 2 with BabyAI"),
    }
}

/// 5. Sequential ≈ joint.
fn sequential_vs_joint(s: &Scores<'_>) -> Finding {
    const NAME: &str = "sequential ≈ joint";
    const PAPER: &str = "a five-stage sequence ends close to joint training on the mixture";
    let joint = RunKind::Joint {
        envs: s.envs.to_vec(),
    };
    let sequence = RunKind::Sequence {
        order: s.envs.to_vec(),
    };
    let w = 1.0 / s.envs.len().max(1) as f64;
    let against = |kind: &RunKind, other: &RunKind| -> Option<Estimate> {
        let mut c = Contrast::new();
        for e in s.envs {
            c = c.change(e, s.of(other, e)?, s.of(kind, e)?, w);
        }
        s.estimate(c)
    };
    let Some(gap) = against(&sequence, &joint).filter(|_| !s.envs.is_empty()) else {
        return not_measured(NAME, PAPER, "needs the sequence and joint runs (axis 3)");
    };
    // Two runs that both stayed at the base agree trivially: sameness says something only when
    // one of them moved away from the base.
    let moved = [&sequence, &joint].iter().any(|kind| {
        against(kind, &RunKind::Base).is_some_and(|e| Side::of(&e, 0.0) != Side::Straddles)
    });
    Finding {
        name: NAME,
        paper: PAPER,
        ours: format!(
            "sequence − joint, mean over {} envs: {} (sameness band ±{SAME_POINTS})",
            s.envs.len(),
            show(&gap)
        ),
        verdict: if moved {
            within_band(&gap)
        } else {
            Verdict::Inconclusive
        },
    }
}

/// 6. Little forgetting: upstream scores after the downstream stage.
fn forgetting(s: &Scores<'_>) -> Finding {
    const NAME: &str = "little forgetting";
    const PAPER: &str = "after a second stage the upstream env keeps most of its gain";
    let mut pairs = Vec::new();
    for up in s.envs {
        for down in s.envs.iter().filter(|d| *d != up) {
            let pair = RunKind::TwoStage {
                upstream: up.clone(),
                downstream: down.clone(),
            };
            if let (Some(before), Some(after)) = (s.of(&u(up), up), s.of(&pair, up)) {
                pairs.push((up, before, after));
            }
        }
    }
    let w = 1.0 / pairs.len().max(1) as f64;
    let contrast = pairs
        .iter()
        .fold(Contrast::new(), |c, (up, before, after)| {
            c.change(up, before, after, w)
        });
    let Some(change) = s.estimate(contrast).filter(|_| !pairs.is_empty()) else {
        return not_measured(NAME, PAPER, "needs the two-stage runs (axis 3)");
    };
    // Nothing to forget when no upstream run scored above 0.
    let scored = pairs
        .iter()
        .any(|(_, before, _)| before.values().any(|&x| x > 0.0));
    Finding {
        name: NAME,
        paper: PAPER,
        ours: format!(
            "upstream change after stage 2, mean over {} pairs: {} (drop band −{SAME_POINTS})",
            pairs.len(),
            show(&change)
        ),
        verdict: if scored {
            above_band(&change)
        } else {
            Verdict::Inconclusive
        },
    }
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
    use crate::metrics::Bootstrap;
    use crate::metrics::tests::record;
    use crate::plan::Plan;
    use crate::records::EpisodeRecord;

    fn estimate(lo: f64, hi: f64) -> Estimate {
        Estimate {
            value: (lo + hi) / 2.0,
            lo,
            hi,
        }
    }

    #[test]
    fn verdicts_need_the_interval_to_exclude_zero_or_the_band() {
        assert_eq!(directional(&estimate(0.5, 3.0), true), Verdict::Reproduced);
        assert_eq!(
            directional(&estimate(0.5, 3.0), false),
            Verdict::NotReproduced
        );
        assert_eq!(
            directional(&estimate(-3.0, -0.5), false),
            Verdict::Reproduced
        );
        assert_eq!(
            directional(&estimate(-0.5, 3.0), true),
            Verdict::Inconclusive
        );
        assert_eq!(
            directional(&estimate(0.0, 0.0), true),
            Verdict::Inconclusive
        );
        assert_eq!(within_band(&estimate(-4.0, 4.9)), Verdict::Reproduced);
        assert_eq!(within_band(&estimate(5.5, 9.0)), Verdict::NotReproduced);
        assert_eq!(within_band(&estimate(-9.0, 0.0)), Verdict::Inconclusive);
        assert_eq!(above_band(&estimate(-4.0, 2.0)), Verdict::Reproduced);
        assert_eq!(above_band(&estimate(-12.0, -6.0)), Verdict::NotReproduced);
        assert_eq!(above_band(&estimate(-8.0, 0.0)), Verdict::Inconclusive);
        let md = findings_markdown(&[Finding {
            name: "x",
            paper: "p",
            ours: "o".into(),
            verdict: Verdict::Inconclusive,
        }]);
        assert!(md.contains("| x | p | o | **inconclusive** |"));
    }

    /// Records of every run of a two-env paper plan on 20 test tasks × 2 samples: the base scores
    /// 0.2 on every fifth task; a U run (and easy→hard, the sequence, the joint run and the
    /// second stages on their upstream env) scores 1 on four tasks of five on its own env;
    /// BabyAI's U run scores 0 on TextCraft; everything else scores as the base.
    fn study(envs: &[String]) -> StudyResults {
        let plan = Plan::paper("m", envs, None, 0);
        let trained_like_u = |kind: &RunKind, env: &str| match kind {
            RunKind::Difficulty { env: e, regime } => {
                e == env && matches!(regime, Regime::U | Regime::EasyToHard)
            }
            RunKind::TwoStage { upstream, .. } => upstream == env,
            RunKind::Sequence { .. } | RunKind::Joint { .. } => true,
            RunKind::Base => false,
        };
        let mut records = Vec::new();
        for run in &plan.runs {
            for env in envs {
                for task in 0..20 {
                    let reward = if trained_like_u(&run.kind, env) {
                        if task % 5 == 4 { 0.0 } else { 1.0 }
                    } else if run.kind == u("babyai") && env == "textcraft" {
                        0.0
                    } else if task % 5 == 0 {
                        0.2
                    } else {
                        0.0
                    };
                    for sample in 0..2 {
                        records.push(EpisodeRecord {
                            run: run.id.clone(),
                            env: env.clone(),
                            ..record(task, sample, reward, 3, 30)
                        });
                    }
                }
            }
        }
        StudyResults::build(&plan, &records, &Bootstrap::default()).unwrap()
    }

    #[test]
    fn clear_effects_reproduce_every_finding_with_intervals() {
        let envs = vec!["babyai".to_owned(), "textcraft".to_owned()];
        let found = findings(&study(&envs), &envs);
        for f in &found {
            assert_eq!(f.verdict, Verdict::Reproduced, "{}: {}", f.name, f.ours);
            assert!(
                f.ours.contains('['),
                "{}: no interval in {}",
                f.name,
                f.ours
            );
        }
        // Held-in: 4 tasks gain 80 points, 12 gain 100, 4 none: +76.
        assert!(
            found[0].ours.contains("mean ΔHeld-In +76.0"),
            "{}",
            found[0].ours
        );
        // BabyAI's U run loses the base's 0.2 on 4 of TextCraft's 20 tasks: −4 points.
        assert!(
            found[3].ours.starts_with("BabyAI-trained ΔHeld-Out -4.0"),
            "{}",
            found[3].ours
        );
    }

    #[test]
    fn unmeasured_runs_are_named() {
        let envs = vec!["babyai".to_owned(), "textcraft".to_owned()];
        let mut results = study(&envs);
        results.task_scores.clear();
        let found = findings(&results, &envs);
        assert_eq!(found.len(), 6);
        assert!(found.iter().all(|f| f.verdict == Verdict::NotMeasured));
    }
}
