//! ALFWorld (`agentenv_alfworld`): `id` ids; `/reset` takes `game` (a task id of the generated
//! set) and `world_type` (`Text`, `Embody` or `Hybrid`, checked as the reference does) and
//! answers `available_actions` and `task_type`; steps answer the admissible commands; a finished
//! game refuses further steps with the reference's text.

use std::sync::Arc;

use crossgym_env_alfworld::{Engine, Game, MAX_STEPS, NOTHING_HAPPENS, process_ob};
use crossgym_env_core::TaskId;
use serde_json::json;

use super::{Answer, EnvSession, Fields};
use crate::registry::AlfWorldData;

/// One client's ALFWorld session.
#[derive(Debug, Default)]
pub struct AlfSession {
    episode: Option<Episode>,
}

#[derive(Debug)]
struct Episode {
    engine: Engine,
    game: i64,
    world_type: String,
    steps: usize,
    observation: String,
    available: Vec<String>,
    reward: f64,
    done: bool,
}

impl EnvSession<AlfWorldData> for AlfSession {
    type ResetArgs = (i64, String);

    fn reset_args(fields: &mut Fields) -> (i64, String) {
        (fields.int("game"), fields.string("world_type"))
    }

    fn check_reset((_, world_type): &(i64, String)) -> Result<(), String> {
        if ["Text", "Embody", "Hybrid"].contains(&world_type.as_str()) {
            Ok(())
        } else {
            Err("world_type must be one of \"Text\", \"Embody\" and \"Hybrid\"".to_owned())
        }
    }

    fn reset(&mut self, data: &AlfWorldData, id: i64, (game, world_type): (i64, String)) -> Answer {
        let generator = &data.generator;
        let task = usize::try_from(game)
            .ok()
            .filter(|&g| g < generator.num_tasks())
            .map(TaskId)
            .ok_or_else(|| {
                format!(
                    "game {game} is out of range (games 0..{})",
                    generator.num_tasks()
                )
            })?;
        let generated = generator.generate(task).map_err(|e| e.to_string())?;
        let params = &generated.params;
        let task_type = format!(
            "{}-{}-None-{}-{}/trial_crossgym_{:05}",
            params.task_type.name(),
            params.object,
            params.target,
            params.floorplan,
            task.0
        );
        let loaded = Game::from_problem(&generated.problem, generated.task_line.clone())
            .map_err(|m| format!("game {game}: {m}"))?;
        let engine = Engine::new(Arc::new(loaded));
        let observation = engine.intro();
        let available: Vec<String> = engine.admissible().map(str::to_owned).collect();
        let answer = json!({
            "id": id,
            "observation": observation,
            "available_actions": available,
            "task_type": task_type,
        });
        self.episode = Some(Episode {
            engine,
            game,
            world_type,
            steps: 0,
            observation,
            available,
            reward: 0.0,
            done: false,
        });
        Ok(answer)
    }

    fn step(&mut self, _: &AlfWorldData, id: i64, action: String) -> Answer {
        let episode = self.episode.as_mut().ok_or_else(|| not_reset(id))?;
        if episode.done {
            return Err(format!("The task with environment {id} has finished."));
        }
        let feedback = episode.engine.execute(&action);
        episode.steps += 1;
        let won = episode.engine.won();
        episode.done = won || episode.steps >= MAX_STEPS;
        episode.reward = if won { 1.0 } else { 0.0 };
        episode.observation = feedback
            .as_deref()
            .map_or(NOTHING_HAPPENS, process_ob)
            .to_owned();
        episode.available = episode.engine.admissible().map(str::to_owned).collect();
        Ok(json!({
            "observation": episode.observation,
            "reward": episode.reward,
            "available_actions": episode.available,
            "done": episode.done,
        }))
    }
}

impl AlfSession {
    /// The running (not finished) game, or the reference's error text.
    fn running(&self, id: i64) -> Result<&Episode, String> {
        let episode = self.episode.as_ref().ok_or_else(|| not_reset(id))?;
        if episode.done {
            return Err(format!("The task with environment {id} has finished."));
        }
        Ok(episode)
    }
}

/// `GET /available_actions`: the admissible commands.
pub(crate) fn available_actions(_: &AlfWorldData, s: &AlfSession, id: i64) -> Answer {
    s.running(id).map(|episode| json!(episode.available))
}

/// `GET /observation`: the last observation.
pub(crate) fn observation(_: &AlfWorldData, s: &AlfSession, id: i64) -> Answer {
    s.running(id).map(|episode| json!(episode.observation))
}

/// `GET /detail`: the game, its world type and its state.
pub(crate) fn detail(_: &AlfWorldData, s: &AlfSession, id: i64) -> Answer {
    s.running(id).map(|episode| {
        json!({
            "world_type": episode.world_type,
            "game": episode.game,
            "observation": episode.observation,
            "available_actions": episode.available,
            "done": episode.done,
            "reward": episode.reward,
            "deleted": false,
        })
    })
}

/// The reference's text for a session that has no episode yet.
fn not_reset(id: i64) -> String {
    format!("The environment {id} has no game loaded: call /reset with a game first.")
}
