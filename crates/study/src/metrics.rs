//! Evaluation metrics: avg@k, pass@k, mean turns and generated tokens, per-difficulty breakdown,
//! and seeded bootstrap confidence intervals.
//!
//! Definitions (the paper's, §3): **avg@k** is the mean final reward over tasks × k samples;
//! **pass@k** is the share of tasks where some sample's final reward is > 0. Values are fractions
//! in `[0, 1]`; reports print them as percentages like the paper. With unequal sample counts
//! per task, avg@k averages per-task means, so every task weighs the same.
//!
//! Confidence intervals resample *tasks* with replacement (keeping each task's k samples
//! together: samples of one task are not independent) and take percentiles of the statistic.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::plan::Difficulty;
use crate::records::EpisodeRecord;
use crate::{Result, StudyError};

/// Bootstrap settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bootstrap {
    /// Resamples (0 disables intervals: they collapse to the point estimate).
    pub resamples: usize,
    /// Two-sided confidence level, e.g. 0.95.
    pub confidence: f64,
    /// Seed of the resampling.
    pub seed: u64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Self {
            resamples: 1000,
            confidence: 0.95,
            seed: 0,
        }
    }
}

/// A point estimate with its bootstrap interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The statistic on the full data.
    pub value: f64,
    /// Lower end of the interval.
    pub lo: f64,
    /// Upper end of the interval.
    pub hi: f64,
}

/// What one evaluation set (one run, checkpoint and env, or any slice of it) scores.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Distinct tasks.
    pub tasks: usize,
    /// Episodes (tasks × samples).
    pub episodes: usize,
    /// avg@k.
    pub avg_at_k: Estimate,
    /// pass@k.
    pub pass_at_k: Estimate,
    /// Share of episodes with reward exactly 1.
    pub success_rate: f64,
    /// Mean interaction turns per episode.
    pub mean_turns: Estimate,
    /// Mean generated tokens per episode.
    pub mean_tokens: Estimate,
}

/// A [`Summary`] of the easy half, the hard half and all tasks.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    /// Easy tasks (absent when no record is labelled easy).
    pub easy: Option<Summary>,
    /// Hard tasks (absent when no record is labelled hard).
    pub hard: Option<Summary>,
    /// All tasks.
    pub all: Summary,
}

/// Per-task aggregates: the bootstrap resamples these.
#[derive(Clone, Copy, Debug)]
struct TaskAggregate {
    mean_reward: f64,
    passed: bool,
    mean_turns: f64,
    mean_tokens: f64,
    successes: usize,
    samples: usize,
}

fn aggregate<'a>(records: impl IntoIterator<Item = &'a EpisodeRecord>) -> Vec<TaskAggregate> {
    let mut groups: BTreeMap<(&str, usize), Vec<&EpisodeRecord>> = BTreeMap::new();
    for record in records {
        groups
            .entry((record.env.as_str(), record.task.0))
            .or_default()
            .push(record);
    }
    groups
        .into_values()
        .map(|group| {
            let n = group.len() as f64;
            TaskAggregate {
                mean_reward: group.iter().map(|r| r.reward).sum::<f64>() / n,
                passed: group.iter().any(|r| r.reward > 0.0),
                mean_turns: group.iter().map(|r| r.turns as f64).sum::<f64>() / n,
                mean_tokens: group.iter().map(|r| r.generated_tokens as f64).sum::<f64>() / n,
                successes: group.iter().filter(|r| r.success).count(),
                samples: group.len(),
            }
        })
        .collect()
}

fn mean_by(tasks: &[TaskAggregate], f: impl Fn(&TaskAggregate) -> f64) -> f64 {
    tasks.iter().map(f).sum::<f64>() / tasks.len() as f64
}

/// The mean reward of each task (by task id) of `records` of one env: the per-task terms whose
/// mean is [`avg_at_k`].
pub fn task_rewards<'a>(
    records: impl IntoIterator<Item = &'a EpisodeRecord>,
) -> BTreeMap<usize, f64> {
    let mut sums: BTreeMap<usize, (f64, usize)> = BTreeMap::new();
    for record in records {
        let entry = sums.entry(record.task.0).or_default();
        entry.0 += record.reward;
        entry.1 += 1;
    }
    sums.into_iter()
        .map(|(task, (sum, n))| (task, sum / n as f64))
        .collect()
}

/// avg@k of `records` (0 when empty): the mean over tasks of each task's mean final reward.
pub fn avg_at_k<'a>(records: impl IntoIterator<Item = &'a EpisodeRecord>) -> f64 {
    let tasks = aggregate(records);
    if tasks.is_empty() {
        0.0
    } else {
        mean_by(&tasks, |t| t.mean_reward)
    }
}

/// pass@k of `records` (0 when empty): the share of tasks with some sample's reward > 0.
pub fn pass_at_k<'a>(records: impl IntoIterator<Item = &'a EpisodeRecord>) -> f64 {
    let tasks = aggregate(records);
    if tasks.is_empty() {
        0.0
    } else {
        mean_by(&tasks, |t| f64::from(u8::from(t.passed)))
    }
}

/// Summarises `records` with bootstrap intervals; fails on an empty set (naming `context`).
pub fn summarize<'a>(
    context: &str,
    records: impl IntoIterator<Item = &'a EpisodeRecord>,
    bootstrap: &Bootstrap,
) -> Result<Summary> {
    let tasks = aggregate(records);
    if tasks.is_empty() {
        return Err(StudyError::invalid(
            context,
            "no episode records to summarise",
        ));
    }
    let stats: [fn(&TaskAggregate) -> f64; 4] = [
        |t| t.mean_reward,
        |t| f64::from(u8::from(t.passed)),
        |t| t.mean_turns,
        |t| t.mean_tokens,
    ];
    let points: Vec<f64> = stats.iter().map(|f| mean_by(&tasks, f)).collect();
    let intervals = bootstrap_intervals(&tasks, &stats, bootstrap);
    let estimate = |i: usize| Estimate {
        value: points[i],
        lo: intervals[i].0,
        hi: intervals[i].1,
    };
    let episodes: usize = tasks.iter().map(|t| t.samples).sum();
    Ok(Summary {
        tasks: tasks.len(),
        episodes,
        avg_at_k: estimate(0),
        pass_at_k: estimate(1),
        success_rate: tasks.iter().map(|t| t.successes).sum::<usize>() as f64 / episodes as f64,
        mean_turns: estimate(2),
        mean_tokens: estimate(3),
    })
}

/// Summaries of the easy half, the hard half (by each record's [`EpisodeRecord::difficulty`]) and
/// all records.
pub fn breakdown(
    context: &str,
    records: &[&EpisodeRecord],
    bootstrap: &Bootstrap,
) -> Result<Breakdown> {
    let half = |difficulty: Difficulty| {
        let subset: Vec<&EpisodeRecord> = records
            .iter()
            .copied()
            .filter(|r| r.difficulty == Some(difficulty))
            .collect();
        if subset.is_empty() {
            Ok(None)
        } else {
            summarize(&format!("{context} ({difficulty})"), subset, bootstrap).map(Some)
        }
    };
    Ok(Breakdown {
        easy: half(Difficulty::Easy)?,
        hard: half(Difficulty::Hard)?,
        all: summarize(context, records.iter().copied(), bootstrap)?,
    })
}

fn bootstrap_intervals(
    tasks: &[TaskAggregate],
    stats: &[fn(&TaskAggregate) -> f64],
    bootstrap: &Bootstrap,
) -> Vec<(f64, f64)> {
    let points: Vec<f64> = stats.iter().map(|f| mean_by(tasks, f)).collect();
    if bootstrap.resamples == 0 {
        return points.iter().map(|p| (*p, *p)).collect();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(bootstrap.seed);
    let n = tasks.len();
    let mut draws: Vec<Vec<f64>> = vec![Vec::with_capacity(bootstrap.resamples); stats.len()];
    let mut sums = vec![0.0; stats.len()];
    for _ in 0..bootstrap.resamples {
        sums.iter_mut().for_each(|s| *s = 0.0);
        for _ in 0..n {
            let task = &tasks[rng.random_range(0..n)];
            for (sum, stat) in sums.iter_mut().zip(stats) {
                *sum += stat(task);
            }
        }
        for (draw, sum) in draws.iter_mut().zip(&sums) {
            draw.push(sum / n as f64);
        }
    }
    let alpha = (1.0 - bootstrap.confidence.clamp(0.0, 1.0)) / 2.0;
    draws
        .into_iter()
        .map(|mut values| {
            values.sort_by(f64::total_cmp);
            (percentile(&values, alpha), percentile(&values, 1.0 - alpha))
        })
        .collect()
}

/// Linear-interpolated percentile of sorted `values` at `q` in `[0, 1]`.
pub(crate) fn percentile(values: &[f64], q: f64) -> f64 {
    let position = q * (values.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let weight = position - below as f64;
    values[below] * (1.0 - weight) + values[above] * weight
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crossgym_env_core::{Split, TaskId};

    pub(crate) fn record(
        task: usize,
        sample: u32,
        reward: f64,
        turns: usize,
        tokens: usize,
    ) -> EpisodeRecord {
        EpisodeRecord {
            turns,
            generated_tokens: tokens,
            ..EpisodeRecord::scored("r", "babyai", TaskId(task), Split::Test, sample, reward)
        }
    }

    #[test]
    fn avg_and_pass_follow_the_paper_definitions() {
        // Task 0: rewards 1, 0 → mean 0.5, passed. Task 1: 0, 0 → 0, not passed.
        // Task 2: 0.25, 0 → 0.125, passed (reward > 0 counts, even if partial).
        let rs = [
            record(0, 0, 1.0, 3, 30),
            record(0, 1, 0.0, 5, 50),
            record(1, 0, 0.0, 20, 200),
            record(1, 1, 0.0, 20, 100),
            record(2, 0, 0.25, 4, 40),
            record(2, 1, 0.0, 6, 60),
        ];
        assert!((avg_at_k(&rs) - (0.5 + 0.0 + 0.125) / 3.0).abs() < 1e-12);
        assert!((pass_at_k(&rs) - 2.0 / 3.0).abs() < 1e-12);
        let s = summarize("t", &rs, &Bootstrap::default()).unwrap();
        assert_eq!((s.tasks, s.episodes), (3, 6));
        assert!((s.mean_turns.value - 58.0 / 6.0).abs() < 1e-12);
        assert!((s.mean_tokens.value - 80.0).abs() < 1e-12);
        assert!((s.success_rate - 1.0 / 6.0).abs() < 1e-12);
        assert!(s.avg_at_k.lo <= s.avg_at_k.value && s.avg_at_k.value <= s.avg_at_k.hi);
        assert!(s.avg_at_k.lo < s.avg_at_k.hi);
    }

    #[test]
    fn bootstrap_is_seeded_and_collapses_without_resamples() {
        let rs: Vec<EpisodeRecord> = (0..40)
            .flat_map(|t| {
                (0..4)
                    .map(move |s| record(t, s, f64::from((t as u32 + s).is_multiple_of(3)), 5, 10))
            })
            .collect();
        let b = Bootstrap {
            resamples: 200,
            confidence: 0.9,
            seed: 9,
        };
        assert_eq!(
            summarize("t", &rs, &b).unwrap(),
            summarize("t", &rs, &b).unwrap()
        );
        let other = summarize("t", &rs, &Bootstrap { seed: 10, ..b }).unwrap();
        assert_ne!(other.avg_at_k, summarize("t", &rs, &b).unwrap().avg_at_k);
        let none = summarize("t", &rs, &Bootstrap { resamples: 0, ..b }).unwrap();
        assert_eq!(none.avg_at_k.lo, none.avg_at_k.value);
        assert_eq!(none.mean_turns.hi, 5.0);
    }

    #[test]
    fn breakdown_splits_by_difficulty_and_empty_sets_are_errors() {
        let mut rs = [record(0, 0, 1.0, 2, 3), record(1, 0, 0.0, 2, 3)];
        rs[0].difficulty = Some(Difficulty::Easy);
        rs[1].difficulty = Some(Difficulty::Hard);
        let refs: Vec<&EpisodeRecord> = rs.iter().collect();
        let b = breakdown("webshop", &refs, &Bootstrap::default()).unwrap();
        assert_eq!(b.easy.unwrap().avg_at_k.value, 1.0);
        assert_eq!(b.hard.unwrap().avg_at_k.value, 0.0);
        assert_eq!(b.all.avg_at_k.value, 0.5);
        let err = summarize("webshop test", &[], &Bootstrap::default()).unwrap_err();
        assert!(err.to_string().contains("webshop test"));
    }
}
