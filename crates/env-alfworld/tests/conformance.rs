//! Replays every episode recorded from the real engine (TextWorld PDDL engine + alfworld 0.3.3,
//! wrapped as AgentGym does) from its `game.tw-pddl` file and compares, after every step, the
//! observation, the sorted admissible commands, won, done and reward.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crossgym_env_alfworld::{AlfWorldEnv, Game};
use crossgym_env_core::conformance::{Mismatch, Report, compare_text, jsonl_lines, read_fixture};
use crossgym_env_core::crate_fixture_dir;
use crossgym_env_core::{Env, EnvError, TaskId, TaskSplit};
use serde::Deserialize;

const EPISODES: &str = "alfworld_testgame_episodes.jsonl";

#[derive(Deserialize)]
struct Episode {
    episode_id: u64,
    game_id: String,
    initial_observation: String,
    initial_admissible_commands: Vec<String>,
    steps: Vec<RecordedStep>,
}

#[derive(Deserialize)]
struct RecordedStep {
    action: String,
    action_kind: String,
    observation: String,
    admissible_commands: Vec<String>,
    won: bool,
    done: bool,
    reward: f64,
}

fn replay(
    dir: &Path,
    games: &mut HashMap<String, Arc<Game>>,
    line: usize,
    text: &str,
) -> Result<(), Mismatch> {
    let label = format!("{EPISODES} line {line}");
    let episode: Episode = serde_json::from_str(text)
        .map_err(|e| Mismatch::new(&label, None, "record", "a valid episode", e.to_string()))?;
    let label = format!(
        "{label} (episode {}, {})",
        episode.episode_id, episode.game_id
    );
    let game = match games.get(&episode.game_id) {
        Some(game) => game.clone(),
        None => {
            let path = dir
                .join("games")
                .join(&episode.game_id)
                .join("game.tw-pddl");
            let game =
                Arc::new(Game::load(&path).map_err(|e| {
                    Mismatch::new(&label, None, "game file", "loads", e.to_string())
                })?);
            games.insert(episode.game_id.clone(), game.clone());
            game
        }
    };
    let split = TaskSplit::new("alfworld", 1, vec![TaskId(0)], Vec::new()).expect("split");
    let mut env = AlfWorldEnv::from_games(vec![game], split);
    let first = env
        .reset(TaskId(0))
        .map_err(|e| Mismatch::new(&label, None, "reset", "ok", e.to_string()))?;
    let expected_first = format!(
        "{}\nAVAILABLE ACTIONS: {}",
        episode.initial_observation,
        episode.initial_admissible_commands.join(",")
    );
    compare_text(&label, None, "first observation", &expected_first, &first)?;
    for (index, recorded) in episode.steps.iter().enumerate() {
        let outcome = env.step(&recorded.action);
        if recorded.action_kind == "after_done" {
            // AgentGym answers an error after done; the env contract is `EpisodeFinished`.
            match outcome {
                Err(EnvError::EpisodeFinished { .. }) => continue,
                other => {
                    return Err(Mismatch::new(
                        &label,
                        Some(index),
                        "after done",
                        "EpisodeFinished",
                        format!("{other:?}"),
                    ));
                }
            }
        }
        let step =
            outcome.map_err(|e| Mismatch::new(&label, Some(index), "step", "ok", e.to_string()))?;
        compare_text(
            &label,
            Some(index),
            "observation",
            &recorded.observation,
            &step.observation,
        )?;
        compare_text(
            &label,
            Some(index),
            "admissible commands",
            &recorded.admissible_commands.join("\n"),
            &env.admissible_commands().join("\n"),
        )?;
        let won = step.reward == 1.0;
        if won != recorded.won || step.done != recorded.done || step.reward != recorded.reward {
            return Err(Mismatch::new(
                &label,
                Some(index),
                "won/done/reward",
                format!("{} {} {}", recorded.won, recorded.done, recorded.reward),
                format!("{} {} {}", won, step.done, step.reward),
            ));
        }
    }
    Ok(())
}

#[test]
fn every_recorded_episode_replays_identically() {
    let dir = crate_fixture_dir!("alfworld");
    let text = read_fixture("alfworld", &dir, EPISODES).expect("fixture episodes");
    let mut games = HashMap::new();
    let mut report = Report::new(EPISODES);
    for (line, record) in jsonl_lines(&text) {
        report.record(replay(&dir, &mut games, line, record));
    }
    let checked = report.assert_ok();
    assert!(checked > 0);
}
