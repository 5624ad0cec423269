//! TextCraft (`agentenv_textcraft`): `id` ids; `/create` resets to goal `data_idx = id` (the
//! reference ignores the body's `commands` and `goal`, and so do we); steps go on after the goal
//! is crafted, as in the reference.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use crossgym_env_textcraft::commands;
use crossgym_env_textcraft::{Crafting, NameId};
use serde_json::json;

use super::{Answer, EnvSession, EnvState, Fields, read_body};
use crate::app::reply;
use crate::registry::TextCraftData;

/// One client's TextCraft session.
#[derive(Debug, Default)]
pub struct CraftSession {
    game: Option<Game>,
}

#[derive(Debug)]
struct Game {
    crafting: Crafting,
    goal: NameId,
    commands: String,
    observation: String,
    reward: u8,
    done: bool,
}

impl EnvSession<TextCraftData> for CraftSession {
    type ResetArgs = i64;

    fn reset_args(fields: &mut Fields) -> i64 {
        fields.opt_int("data_idx").unwrap_or(0)
    }

    fn reset(&mut self, data: &TextCraftData, id: i64, data_idx: i64) -> Answer {
        let index = u64::try_from(data_idx)
            .map_err(|_| format!("data_idx must be a non-negative integer, got {data_idx}"))?;
        let observation = start(data, index, self)?;
        Ok(json!({ "id": id, "observation": observation, "done": false, "reward": 0 }))
    }

    fn step(&mut self, _: &TextCraftData, id: i64, action: String) -> Answer {
        let game = self.game.as_mut().ok_or_else(|| super::invalid_id(id))?;
        let outcome = game.crafting.act(&action);
        game.observation = outcome.observation.clone();
        game.reward = outcome.reward;
        game.done = outcome.done;
        Ok(json!({
            "observation": outcome.observation,
            "reward": outcome.reward,
            "done": outcome.done,
        }))
    }
}

/// Starts goal `data_idx` (modulo the number of goals) and returns its first observation.
fn start(
    data: &TextCraftData,
    data_idx: u64,
    session: &mut CraftSession,
) -> Result<String, String> {
    let env = &data.env;
    let task = env.task_for_data_idx(usize::try_from(data_idx).unwrap_or(usize::MAX));
    let goal = env.goal(task).map_err(|e| e.to_string())?;
    let list = env.commands(task).map_err(|e| e.to_string())?;
    let book = env.book();
    let observation = commands::observation(book, goal, &list);
    let commands = list
        .shown
        .iter()
        .map(|recipe| book.recipe(*recipe).text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let crafting = match session.game.take() {
        Some(mut game) => {
            game.crafting.restart(goal);
            game.crafting
        }
        None => Crafting::new(Arc::clone(book), goal),
    };
    session.game = Some(Game {
        crafting,
        goal,
        commands,
        observation: observation.clone(),
        reward: 0,
        done: false,
    });
    Ok(observation)
}

pub(crate) async fn create(
    State(app): EnvState<TextCraftData, CraftSession>,
    body: Bytes,
) -> Response {
    if let Err(invalid) = read_body(&body, |f| (f.opt_string("commands"), f.opt_string("goal"))) {
        return invalid.into_response();
    }
    reply(
        app.create(start)
            .await
            .map(|(id, observation)| {
                json!({ "id": id, "observation": observation, "done": false, "reward": 0 })
            }),
    )
}

impl CraftSession {
    /// The running game, or the reference's invalid-id text.
    fn game(&self, id: i64) -> Result<&Game, String> {
        self.game.as_ref().ok_or_else(|| super::invalid_id(id))
    }
}

/// `GET /observation`: the last observation.
pub(crate) fn observation(_: &TextCraftData, s: &CraftSession, id: i64) -> Answer {
    s.game(id).map(|game| json!(game.observation))
}

/// `GET /commands`: the crafting commands shown for the goal.
pub(crate) fn commands_route(_: &TextCraftData, s: &CraftSession, id: i64) -> Answer {
    s.game(id).map(|game| json!(game.commands))
}

/// `GET /goal`: the goal item's name.
pub(crate) fn goal(data: &TextCraftData, s: &CraftSession, id: i64) -> Answer {
    s.game(id)
        .map(|game| json!(data.env.book().name(game.goal)))
}

/// `GET /detail`: observation, done and reward.
pub(crate) fn detail(_: &TextCraftData, s: &CraftSession, id: i64) -> Answer {
    s.game(id).map(|game| {
        json!({
            "observation": game.observation,
            "done": game.done,
            "reward": game.reward,
            "deleted": false,
        })
    })
}
