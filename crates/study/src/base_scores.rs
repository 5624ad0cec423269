//! What a warm start did to a pretrained base: per env, the model's avg@k on the test tasks
//! before the warm start (zero-shot) beside the warm-started base's, each with its bootstrap
//! 95% interval over tasks, for `summary.md`.

use serde::{Deserialize, Serialize};

use crossgym_env_core::Split;

use crate::Result;
use crate::metrics::{Bootstrap, Estimate, summarize};
use crate::records::{Checkpoint, EpisodeRecord};

/// One env's row: zero-shot and warm-started avg@k on the same test tasks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaseScores {
    /// The env.
    pub env: String,
    /// Test tasks scored.
    pub tasks: usize,
    /// avg@k of the model before its warm start (`None` when not evaluated).
    pub zero_shot: Option<Estimate>,
    /// avg@k of the warm-started base (`None` when not evaluated).
    pub warm_started: Option<Estimate>,
}

/// The rows of `envs`: `zero_shot` holds the records of the model before its warm start, and
/// `base_run` names the study's base run, whose start-checkpoint test records are the
/// warm-started side.
pub fn base_scores(
    envs: &[String],
    zero_shot: &[EpisodeRecord],
    study: &[EpisodeRecord],
    base_run: &str,
    bootstrap: &Bootstrap,
) -> Result<Vec<BaseScores>> {
    let mut rows = Vec::with_capacity(envs.len());
    for env in envs {
        let of_env = |r: &&EpisodeRecord| r.env == *env && r.split == Split::Test;
        let before: Vec<&EpisodeRecord> = zero_shot.iter().filter(of_env).collect();
        let after: Vec<&EpisodeRecord> = study
            .iter()
            .filter(of_env)
            .filter(|r| r.run == base_run && r.checkpoint == Checkpoint::START)
            .collect();
        let estimate = |records: &[&EpisodeRecord], side: &str| -> Result<Option<Estimate>> {
            if records.is_empty() {
                return Ok(None);
            }
            let context = format!("{side} scores of {env}");
            Ok(Some(
                summarize(&context, records.iter().copied(), bootstrap)?.avg_at_k,
            ))
        };
        let tasks = {
            let mut ids: Vec<_> = before.iter().chain(&after).map(|r| r.task).collect();
            ids.sort_unstable();
            ids.dedup();
            ids.len()
        };
        rows.push(BaseScores {
            env: env.clone(),
            tasks,
            zero_shot: estimate(&before, "zero-shot")?,
            warm_started: estimate(&after, "warm-started")?,
        });
    }
    Ok(rows)
}

/// The rows as a Markdown table, avg@k in percent with its interval.
pub fn base_scores_markdown(rows: &[BaseScores]) -> String {
    let cell = |e: &Option<Estimate>| match e {
        Some(e) => format!(
            "{:.1} [{:.1}, {:.1}]",
            100.0 * e.value,
            100.0 * e.lo,
            100.0 * e.hi
        ),
        None => "not evaluated".to_owned(),
    };
    let mut md = String::from(
        "| env | test tasks | zero-shot avg@k (95% CI) | warm-started avg@k (95% CI) |\n\
         |---|---|---|---|\n",
    );
    for row in rows {
        md.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            row.env,
            row.tasks,
            cell(&row.zero_shot),
            cell(&row.warm_started)
        ));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The metrics tests' record, for another run, env and split.
    fn record(run: &str, env: &str, task: usize, reward: f64, split: Split) -> EpisodeRecord {
        EpisodeRecord {
            run: run.to_owned(),
            env: env.to_owned(),
            split,
            ..crate::metrics::tests::record(task, 0, reward, 1, 1)
        }
    }

    #[test]
    fn rows_take_test_records_of_each_side_and_env() {
        let zero = vec![
            record("zero-shot", "babyai", 1, 0.0, Split::Test),
            record("zero-shot", "babyai", 2, 1.0, Split::Test),
        ];
        let study = vec![
            record("base", "babyai", 1, 1.0, Split::Test),
            record("base", "babyai", 2, 1.0, Split::Test),
            // Not the warm-started side: a train task, and another run.
            record("base", "babyai", 3, 0.0, Split::Train),
            record("difficulty/babyai/u", "babyai", 1, 0.0, Split::Test),
        ];
        let envs = vec!["babyai".to_owned(), "textcraft".to_owned()];
        let rows = base_scores(&envs, &zero, &study, "base", &Bootstrap::default()).unwrap();
        assert_eq!(rows[0].tasks, 2);
        assert_eq!(rows[0].zero_shot.unwrap().value, 0.5);
        assert_eq!(rows[0].warm_started.unwrap().value, 1.0);
        assert_eq!(rows[1].zero_shot, None);
        let md = base_scores_markdown(&rows);
        assert!(md.contains("| babyai | 2 | 50.0 ["), "{md}");
        assert!(md.contains("| textcraft | 0 | not evaluated | not evaluated |"));
    }
}
