//! Replays the reference recordings (AgentGym's BabyAI text interface on MiniGrid 2.3.1).

use crossgym_env_babyai::session::TextSession;
use crossgym_env_babyai::state::RecordedState;
use crossgym_env_babyai::world::{Action, World};
use crossgym_env_core::conformance::{
    Mismatch, Report, compare_text, fixture_dir, jsonl_lines, read_fixture,
};
use crossgym_env_core::parse;
use serde_json::Value;

fn mismatch(
    episode: &str,
    step: Option<usize>,
    field: &str,
    expected: String,
    actual: String,
) -> Mismatch {
    Mismatch {
        episode: episode.to_owned(),
        step,
        field: field.to_owned(),
        expected,
        actual,
    }
}

fn replay_text_episode(record: &Value, episode: &str) -> Result<(), Mismatch> {
    let state = RecordedState::from_json(record)
        .and_then(|s| s.to_world())
        .map_err(|e| {
            mismatch(
                episode,
                None,
                "state",
                "a valid state".into(),
                e.to_string(),
            )
        })?;
    let mut session = TextSession::new(state);
    let expected = record["reset_observation"].as_str().unwrap_or_default();
    compare_text(
        episode,
        None,
        "reset observation",
        expected,
        &session.reset_observation(),
    )?;
    let steps = record["steps"].as_array().cloned().unwrap_or_default();
    for (i, step) in steps.iter().enumerate() {
        let reply = step["action_raw"].as_str().unwrap_or_default();
        let (observation, reward, done) = match parse::react_single_line(reply) {
            Err(e) => (e.to_string(), 0.0, false),
            Ok(action) => {
                let out = session.step(&action);
                (out.observation, out.score, out.done)
            }
        };
        compare_text(
            episode,
            Some(i),
            "observation",
            step["observation"].as_str().unwrap_or_default(),
            &observation,
        )?;
        let expected_reward = if step["client_only"].as_bool() == Some(true) {
            step["reward"].as_f64()
        } else {
            step["score"].as_f64()
        }
        .unwrap_or(f64::NAN);
        if expected_reward != reward {
            return Err(mismatch(
                episode,
                Some(i),
                "score",
                format!("{expected_reward:?}"),
                format!("{reward:?}"),
            ));
        }
        if step["done"].as_bool() != Some(done) {
            return Err(mismatch(
                episode,
                Some(i),
                "done",
                format!("{:?}", step["done"]),
                done.to_string(),
            ));
        }
    }
    Ok(())
}

fn replay_text_file(file: &str) -> Report {
    let dir = fixture_dir(
        "babyai",
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"),
    );
    let text = read_fixture("babyai", &dir, file).unwrap_or_else(|e| panic!("{e}"));
    let mut report = Report::new(file);
    for (line, raw) in jsonl_lines(&text) {
        let record: Value =
            serde_json::from_str(raw).unwrap_or_else(|e| panic!("{file} line {line}: {e}"));
        let episode = format!("{file} line {line} (data_idx {})", record["data_idx"]);
        report.record(replay_text_episode(&record, &episode));
    }
    report
}

#[test]
fn text_episodes_replay_identically() {
    replay_text_file("babyai_text.jsonl").assert_ok();
}

#[test]
fn scripted_text_episodes_replay_identically() {
    replay_text_file("babyai_text_scripted.jsonl").assert_ok();
}

fn world_of(record: &Value, episode: &str) -> Result<World, Mismatch> {
    RecordedState::from_json(record)
        .and_then(|s| s.to_world())
        .map_err(|e| {
            mismatch(
                episode,
                None,
                "state",
                "a valid state".into(),
                e.to_string(),
            )
        })
}

fn carried(world: &World) -> Value {
    match &world.carrying {
        Some(obj) => serde_json::json!(obj.encode()),
        None => Value::Null,
    }
}

fn box_contents(world: &World) -> Value {
    let mut out = Vec::new();
    for (pos, obj) in world.grid.objects_x_major() {
        if let Some(content) = &obj.contains {
            out.push(serde_json::json!([pos.0, pos.1, content.encode()]));
        }
    }
    Value::Array(out)
}

fn check_value(
    episode: &str,
    step: Option<usize>,
    field: &str,
    expected: &Value,
    actual: &Value,
) -> Result<(), Mismatch> {
    if expected == actual {
        Ok(())
    } else {
        Err(mismatch(
            episode,
            step,
            field,
            expected.to_string(),
            actual.to_string(),
        ))
    }
}

/// Primitive-level replay of one bot episode: MiniGrid dynamics and the BabyAI verifiers.
fn replay_bot_episode(record: &Value, episode: &str) -> Result<(), Mismatch> {
    let mut world = world_of(record, episode)?;
    let actions = record["primitive_actions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (i, a) in actions.iter().enumerate() {
        let action = a
            .as_u64()
            .and_then(|a| u8::try_from(a).ok())
            .and_then(Action::from_index)
            .ok_or_else(|| {
                mismatch(
                    episode,
                    Some(i),
                    "primitive_actions",
                    "0..6".into(),
                    a.to_string(),
                )
            })?;
        let out = world.step(action);
        check_value(
            episode,
            Some(i),
            "reward",
            &record["rewards"][i],
            &serde_json::json!(out.reward),
        )?;
        check_value(
            episode,
            Some(i),
            "terminated",
            &record["terminated"][i],
            &Value::Bool(out.terminated),
        )?;
        check_value(
            episode,
            Some(i),
            "truncated",
            &record["truncated"][i],
            &Value::Bool(out.truncated),
        )?;
        let pos = serde_json::json!([world.agent_pos.0, world.agent_pos.1]);
        check_value(
            episode,
            Some(i),
            "agent_pos_after",
            &record["agent_pos_after"][i],
            &pos,
        )?;
        check_value(
            episode,
            Some(i),
            "agent_dir_after",
            &record["agent_dir_after"][i],
            &serde_json::json!(world.agent_dir),
        )?;
        check_value(
            episode,
            Some(i),
            "carrying_after",
            &record["carrying_after"][i],
            &carried(&world),
        )?;
    }
    check_value(
        episode,
        None,
        "final_grid",
        &record["final_grid"],
        &serde_json::json!(world.grid.encode()),
    )?;
    check_value(
        episode,
        None,
        "final_box_contents",
        &record["final_box_contents"],
        &box_contents(&world),
    )?;
    check_value(
        episode,
        None,
        "final_step_count",
        &record["final_step_count"],
        &serde_json::json!(world.step_count),
    )
}

#[test]
fn bot_episodes_replay_identically() {
    let file = "babyai_bot.jsonl";
    let dir = fixture_dir(
        "babyai",
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"),
    );
    let text = read_fixture("babyai", &dir, file).unwrap_or_else(|e| panic!("{e}"));
    let mut report = Report::new(file);
    for (line, raw) in jsonl_lines(&text) {
        let record: Value =
            serde_json::from_str(raw).unwrap_or_else(|e| panic!("{file} line {line}: {e}"));
        let episode = format!("{file} line {line} (data_idx {})", record["data_idx"]);
        report.record(replay_bot_episode(&record, &episode));
    }
    report.assert_ok();
}

/// Text episodes also pin the world state after the last step.
#[test]
fn text_episodes_end_in_the_recorded_world() {
    let file = "babyai_text.jsonl";
    let dir = fixture_dir(
        "babyai",
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"),
    );
    let text = read_fixture("babyai", &dir, file).unwrap_or_else(|e| panic!("{e}"));
    let mut report = Report::new(format!("{file} (final state)"));
    for (line, raw) in jsonl_lines(&text) {
        let record: Value =
            serde_json::from_str(raw).unwrap_or_else(|e| panic!("{file} line {line}: {e}"));
        let episode = format!("{file} line {line} (data_idx {})", record["data_idx"]);
        report.record((|| {
            let world = world_of(&record, &episode)?;
            let mut session = TextSession::new(world);
            let steps = record["steps"].as_array().cloned().unwrap_or_default();
            for step in &steps {
                if let Ok(action) =
                    parse::react_single_line(step["action_raw"].as_str().unwrap_or_default())
                {
                    session.step(&action);
                }
            }
            let world = session.world();
            check_value(
                &episode,
                None,
                "final_grid",
                &record["final_grid"],
                &serde_json::json!(world.grid.encode()),
            )?;
            check_value(
                &episode,
                None,
                "final_box_contents",
                &record["final_box_contents"],
                &box_contents(world),
            )?;
            if let Some(last) = steps.last() {
                let pos = serde_json::json!([world.agent_pos.0, world.agent_pos.1]);
                check_value(&episode, None, "agent_pos", &last["agent_pos"], &pos)?;
                check_value(
                    &episode,
                    None,
                    "step_count",
                    &last["step_count"],
                    &serde_json::json!(world.step_count),
                )?;
            }
            Ok(())
        })());
    }
    report.assert_ok();
}
