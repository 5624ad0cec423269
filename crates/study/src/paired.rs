//! Paired, stratified bootstrap intervals for differences between runs, as the findings need.
//!
//! A finding compares runs on the same test tasks: "the U run beats the base on its env", "the
//! mean held-in gain exceeds the mean held-out gain". Every such quantity is a [`Contrast`]: a
//! weighted sum of per-env avg@k scores of several runs, e.g. `U_e(e) − base(e)`. Its interval
//! comes from resampling *tasks*: within each env, the test tasks that every term of that env
//! measured are drawn with replacement, the same draw for every term of the env (so the
//! comparison stays paired: a hard task drawn twice counts twice for both runs), and envs are
//! drawn independently (stratified). The interval is the percentile interval of the resampled
//! contrast at [`Bootstrap::confidence`].

use std::collections::{BTreeMap, BTreeSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::metrics::{Bootstrap, Estimate, percentile};

/// Mean reward per test task (task id → the mean over its samples) of one run on one env.
pub type TaskScores = BTreeMap<usize, f64>;

/// A weighted sum of per-env avg@k scores of several runs, in points (×100).
#[derive(Default)]
pub struct Contrast<'a> {
    terms: Vec<(&'a str, &'a TaskScores, f64)>,
}

impl<'a> Contrast<'a> {
    /// An empty contrast (value 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `weight ×` the avg@k of `scores`, measured on `env`.
    pub fn add(mut self, env: &'a str, scores: &'a TaskScores, weight: f64) -> Self {
        self.terms.push((env, scores, weight));
        self
    }

    /// Adds `weight × (after − before)` on `env`.
    pub fn change(
        self,
        env: &'a str,
        before: &'a TaskScores,
        after: &'a TaskScores,
        weight: f64,
    ) -> Self {
        self.add(env, after, weight).add(env, before, -weight)
    }

    /// The contrast on all paired tasks and its bootstrap interval, in points; `None` when an env
    /// has no task that all of its terms measured.
    pub fn estimate(&self, bootstrap: &Bootstrap) -> Option<Estimate> {
        let strata = self.strata()?;
        let value = strata.iter().map(|s| s.value(None)).sum::<f64>();
        if bootstrap.resamples == 0 {
            return Some(Estimate {
                value,
                lo: value,
                hi: value,
            });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(bootstrap.seed);
        let mut draws: Vec<f64> = (0..bootstrap.resamples)
            .map(|_| strata.iter().map(|s| s.value(Some(&mut rng))).sum())
            .collect();
        draws.sort_by(f64::total_cmp);
        let alpha = (1.0 - bootstrap.confidence.clamp(0.0, 1.0)) / 2.0;
        Some(Estimate {
            value,
            lo: percentile(&draws, alpha),
            hi: percentile(&draws, 1.0 - alpha),
        })
    }

    /// One stratum per env (in name order): its paired tasks and weighted score rows.
    fn strata(&self) -> Option<Vec<Stratum>> {
        let envs: BTreeSet<&str> = self.terms.iter().map(|(env, _, _)| *env).collect();
        envs.into_iter()
            .map(|env| {
                let terms: Vec<_> = self.terms.iter().filter(|(e, _, _)| *e == env).collect();
                let mut tasks: BTreeSet<usize> = terms[0].1.keys().copied().collect();
                for (_, scores, _) in &terms[1..] {
                    tasks.retain(|t| scores.contains_key(t));
                }
                if tasks.is_empty() {
                    return None;
                }
                // Per task, the weighted sum of its scores over the terms.
                let per_task = tasks
                    .iter()
                    .map(|t| terms.iter().map(|(_, s, w)| w * s[t] * 100.0).sum())
                    .collect();
                Some(Stratum { per_task })
            })
            .collect()
    }
}

/// One env's paired tasks: the contrast's share of each task.
struct Stratum {
    per_task: Vec<f64>,
}

impl Stratum {
    /// The mean over all tasks, or over a resample of them drawn from `rng`.
    fn value(&self, rng: Option<&mut ChaCha8Rng>) -> f64 {
        let n = self.per_task.len();
        let sum: f64 = match rng {
            None => self.per_task.iter().sum(),
            Some(rng) => (0..n).map(|_| self.per_task[rng.random_range(0..n)]).sum(),
        };
        sum / n as f64
    }
}

/// Where an interval lies relative to 0 (or a band around 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Wholly above.
    Above,
    /// Wholly below.
    Below,
    /// Overlapping.
    Straddles,
}

impl Side {
    /// Where `e`'s interval lies relative to the value `at`.
    pub fn of(e: &Estimate, at: f64) -> Self {
        if e.lo > at {
            Side::Above
        } else if e.hi < at {
            Side::Below
        } else {
            Side::Straddles
        }
    }
}

/// `value [lo, hi]` in points, one decimal.
pub fn show(e: &Estimate) -> String {
    format!("{:+.1} [{:+.1}, {:+.1}]", e.value, e.lo, e.hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(values: &[f64]) -> TaskScores {
        values.iter().copied().enumerate().collect()
    }

    #[test]
    fn a_uniform_gain_has_a_tight_interval_and_pairing_matters() {
        // Each task gains exactly 0.2 but tasks differ a lot: paired, the interval is a point.
        let before = scores(&[0.0, 0.5, 0.1, 0.7, 0.3, 0.0, 0.6, 0.2]);
        let after: TaskScores = before.iter().map(|(t, s)| (*t, s + 0.2)).collect();
        let b = Bootstrap::default();
        let e = Contrast::new()
            .change("babyai", &before, &after, 1.0)
            .estimate(&b)
            .unwrap();
        assert!((e.value - 20.0).abs() < 1e-9);
        assert!((e.lo - 20.0).abs() < 1e-9 && (e.hi - 20.0).abs() < 1e-9);
        assert_eq!(Side::of(&e, 0.0), Side::Above);
    }

    #[test]
    fn noise_straddles_zero_and_the_draw_is_seeded() {
        let before = scores(&[0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
        let after = scores(&[1.0, 0.0, 0.0, 1.0, 1.0, 0.0]);
        let b = Bootstrap::default();
        let contrast = Contrast::new().change("textcraft", &before, &after, 1.0);
        let e = contrast.estimate(&b).unwrap();
        assert_eq!(e.value, 0.0);
        assert_eq!(Side::of(&e, 0.0), Side::Straddles);
        assert_eq!(contrast.estimate(&b), Some(e));
        // Many distinct differences: another seed draws another interval.
        let wide = scores(
            &(0..50)
                .map(|i| f64::from((i * 7) % 11) / 10.0)
                .collect::<Vec<_>>(),
        );
        let zero = scores(&[0.0; 50]);
        let contrast = Contrast::new().change("textcraft", &zero, &wide, 1.0);
        let other = Bootstrap { seed: 7, ..b };
        assert_eq!(contrast.estimate(&b), contrast.estimate(&b));
        assert_ne!(contrast.estimate(&other), contrast.estimate(&b));
    }

    #[test]
    fn envs_are_separate_strata_and_unpaired_tasks_are_left_out() {
        let a = scores(&[0.0, 0.0, 0.0]);
        let b: TaskScores = [(0, 1.0), (1, 1.0), (9, 0.0)].into_iter().collect();
        let c = scores(&[0.5, 0.5]);
        // babyai: tasks 0 and 1 pair up, +100 each; webshop: one term, 50.
        let e = Contrast::new()
            .change("babyai", &a, &b, 0.5)
            .add("webshop", &c, 0.5)
            .estimate(&Bootstrap::default())
            .unwrap();
        assert!((e.value - 75.0).abs() < 1e-9);
        let empty = TaskScores::new();
        assert!(
            Contrast::new()
                .change("babyai", &a, &empty, 1.0)
                .estimate(&Bootstrap::default())
                .is_none()
        );
    }

    #[test]
    fn without_resamples_the_interval_is_the_point() {
        let e = Contrast::new()
            .add("alfworld", &scores(&[0.25, 0.75]), 1.0)
            .estimate(&Bootstrap {
                resamples: 0,
                ..Bootstrap::default()
            })
            .unwrap();
        assert_eq!((e.value, e.lo, e.hi), (50.0, 50.0, 50.0));
        assert_eq!(show(&e), "+50.0 [+50.0, +50.0]");
    }
}
