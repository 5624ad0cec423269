//! Replays the reference's step fixtures (`searchqa_steps.jsonl`): every record's action, query or
//! observation, reward and done must match. Reads `CROSSGYM_FIXTURES` when set.

use std::sync::Arc;

use crossgym_env_core::conformance::{
    Mismatch, Report, compare_reward_done, compare_text, fixture_records,
};
use crossgym_env_core::crate_fixture_dir;
use crossgym_env_core::{Env, TaskId};
use crossgym_env_searchqa::{Question, SearchQaEnv, TaskSet};
use serde::Deserialize;

use crate::common::sample_index;

const FILE: &str = "searchqa_steps.jsonl";

#[derive(Deserialize)]
struct Record {
    id: u64,
    reply: String,
    golden_answers: Vec<String>,
    action: Option<String>,
    query: Option<String>,
    observation: Option<String>,
    reward: f64,
    done: bool,
}

fn check(
    env: &mut SearchQaEnv,
    task: TaskId,
    episode: &str,
    record: &Record,
) -> Result<(), Mismatch> {
    env.reset(task).map_err(|error| {
        Mismatch::new(
            episode,
            Some(0),
            "reset",
            "a first observation",
            error.to_string(),
        )
    })?;
    let step = env.step(&record.reply).map_err(|error| {
        Mismatch::new(episode, Some(0), "env result", "a step", error.to_string())
    })?;
    compare_text(
        episode,
        Some(0),
        "action",
        record.action.as_deref().unwrap_or("null"),
        step.info.action.as_deref().unwrap_or("null"),
    )?;
    if record.action.as_deref() == Some("search") {
        let expected = record.query.as_deref().ok_or_else(|| {
            Mismatch::new(
                episode,
                Some(0),
                "fixture",
                "a query for a search record",
                "none",
            )
        })?;
        let actual = step.info.details.get("query").map_or("", String::as_str);
        compare_text(episode, Some(0), "query", expected, actual)?;
        if !(step.observation.starts_with("<information>")
            && step.observation.ends_with("</information>"))
        {
            return Err(Mismatch::new(
                episode,
                Some(0),
                "observation",
                "<information>…</information>",
                step.observation,
            ));
        }
    } else {
        let expected = record
            .observation
            .as_deref()
            .ok_or_else(|| Mismatch::new(episode, Some(0), "fixture", "an observation", "none"))?;
        compare_text(episode, Some(0), "observation", expected, &step.observation)?;
    }
    compare_reward_done(
        episode,
        Some(0),
        (record.reward, record.done),
        (step.reward, step.done),
    )
}

#[test]
fn step_fixtures_match_the_reference() {
    let dir = crate_fixture_dir!("searchqa");
    let records = fixture_records("searchqa", &dir, FILE, |line| {
        serde_json::from_str::<Record>(line)
    })
    .unwrap_or_else(|error| panic!("{error}"));
    let questions = records
        .iter()
        .map(|(_, record)| {
            Question::new(
                &format!("fixture {}", record.id),
                record.golden_answers.clone(),
            )
        })
        .collect::<Vec<_>>();
    let n = questions.len();
    let tasks =
        TaskSet::new(questions, (0..n).map(TaskId).collect(), Vec::new()).expect("task set");
    let mut env = SearchQaEnv::with_data(sample_index(), Arc::new(tasks));
    let mut report = Report::new(FILE);
    for (task, (line, record)) in records.iter().enumerate() {
        let episode = format!("{line} (id {})", record.id);
        report.record(check(&mut env, TaskId(task), &episode, record));
    }
    let checked = report.assert_ok();
    assert_eq!(checked, n);
}
