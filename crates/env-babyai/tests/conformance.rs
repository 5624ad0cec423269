//! Replays the reference recordings (AgentGym's BabyAI text interface on MiniGrid 2.3.1).

use crossgym_env_babyai::session::TextSession;
use crossgym_env_babyai::state::RecordedState;
use crossgym_env_babyai::world::{Action, World};
use crossgym_env_core::conformance::{Mismatch, Report, compare_text, fixture_records};
use crossgym_env_core::crate_fixture_dir;
use crossgym_env_core::parse;
use serde_json::Value;

fn replay_text_episode(record: &Value, episode: &str) -> Result<(), Mismatch> {
    let state = RecordedState::from_json(record)
        .and_then(|s| s.to_world())
        .map_err(|e| Mismatch::new(episode, None, "state", "a valid state", e.to_string()))?;
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
            return Err(Mismatch::new(
                episode,
                Some(i),
                "score",
                format!("{expected_reward:?}"),
                format!("{reward:?}"),
            ));
        }
        if step["done"].as_bool() != Some(done) {
            return Err(Mismatch::new(
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

/// Checks every record of the fixture `file` with `check` (given the record and its label),
/// into a report named `name`.
fn replay_file(
    file: &str,
    name: String,
    check: fn(&Value, &str) -> Result<(), Mismatch>,
) -> Report {
    let dir = crate_fixture_dir!("babyai");
    let records = fixture_records("babyai", &dir, file, |line| {
        serde_json::from_str::<Value>(line)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let mut report = Report::new(name);
    for (label, record) in records {
        let episode = format!("{label} (data_idx {})", record["data_idx"]);
        report.record(check(&record, &episode));
    }
    report
}

fn replay_text_file(file: &str) -> Report {
    replay_file(file, file.to_owned(), replay_text_episode)
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
        .map_err(|e| Mismatch::new(episode, None, "state", "a valid state", e.to_string()))
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
        Err(Mismatch::new(
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
                Mismatch::new(episode, Some(i), "primitive_actions", "0..6", a.to_string())
            })?;
        let out = world.step(action);
        // (field, the record's key, our value), compared in this order.
        let after = [
            ("reward", "rewards", serde_json::json!(out.reward)),
            ("terminated", "terminated", Value::Bool(out.terminated)),
            ("truncated", "truncated", Value::Bool(out.truncated)),
            (
                "agent_pos_after",
                "agent_pos_after",
                serde_json::json!([world.agent_pos.0, world.agent_pos.1]),
            ),
            (
                "agent_dir_after",
                "agent_dir_after",
                serde_json::json!(world.agent_dir),
            ),
            ("carrying_after", "carrying_after", carried(&world)),
        ];
        for (field, key, ours) in &after {
            check_value(episode, Some(i), field, &record[*key][i], ours)?;
        }
    }
    final_grid_and_boxes(record, episode, &world)?;
    check_value(
        episode,
        None,
        "final_step_count",
        &record["final_step_count"],
        &serde_json::json!(world.step_count),
    )
}

/// The recorded grid and box contents after the last step against `world`'s.
fn final_grid_and_boxes(record: &Value, episode: &str, world: &World) -> Result<(), Mismatch> {
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
        &box_contents(world),
    )
}

#[test]
fn bot_episodes_replay_identically() {
    let file = "babyai_bot.jsonl";
    replay_file(file, file.to_owned(), replay_bot_episode).assert_ok();
}

/// Text episodes also pin the world state after the last step.
#[test]
fn text_episodes_end_in_the_recorded_world() {
    let file = "babyai_text.jsonl";
    replay_file(file, format!("{file} (final state)"), final_state).assert_ok();
}

/// The world after a text episode's last step against the recorded one.
fn final_state(record: &Value, episode: &str) -> Result<(), Mismatch> {
    let world = world_of(record, episode)?;
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
    final_grid_and_boxes(record, episode, world)?;
    if let Some(last) = steps.last() {
        let pos = serde_json::json!([world.agent_pos.0, world.agent_pos.1]);
        check_value(episode, None, "agent_pos", &last["agent_pos"], &pos)?;
        check_value(
            episode,
            None,
            "step_count",
            &last["step_count"],
            &serde_json::json!(world.step_count),
        )?;
    }
    Ok(())
}
