//! TextCraft (`agentenv_textcraft`): `id` ids; `/create` resets to goal `data_idx = id` (the
//! reference ignores the body's `commands` and `goal`, and so do we); steps go on after the goal
//! is crafted, as in the reference.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use crossgym_env_textcraft::commands;
use crossgym_env_textcraft::{Crafting, NameId};
use serde_json::{Value, json};

use super::{Ids, on_session, read_action, read_body, read_id};
use crate::ServerConfig;
use crate::app::{Shared, Stats, reply};
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

type Craft = Shared<TextCraftData, CraftSession>;

const IDS: Ids = Ids::Id;

/// The router and its session counters.
pub fn router(data: Arc<TextCraftData>, config: &ServerConfig) -> (Router, Arc<dyn Stats>) {
    super::env_router(data, config, IDS, "This is environment TextCraft.", |r| {
        r.route("/create", post(create))
            .route("/step", post(step))
            .route("/reset", post(reset))
            .route("/observation", get(observation))
            .route("/commands", get(commands_route))
            .route("/goal", get(goal))
            .route("/detail", get(detail))
    })
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

async fn create(State(app): State<Craft>, body: Bytes) -> Response {
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

async fn step(State(app): State<Craft>, body: Bytes) -> Response {
    let request = read_action(&body, IDS);
    on_session(&app, request, move |_, session, id, action| {
        let game = session.game.as_mut().ok_or_else(|| super::invalid_id(id))?;
        let outcome = game.crafting.act(&action);
        game.observation = outcome.observation.clone();
        game.reward = outcome.reward;
        game.done = outcome.done;
        Ok(json!({
            "observation": outcome.observation,
            "reward": outcome.reward,
            "done": outcome.done,
        }))
    })
    .await
}

async fn reset(State(app): State<Craft>, body: Bytes) -> Response {
    let request = read_body(&body, |f| {
        (f.int(IDS.field()), f.opt_int("data_idx").unwrap_or(0))
    });
    on_session(&app, request, move |data, session, id, data_idx| {
        let index = u64::try_from(data_idx)
            .map_err(|_| format!("data_idx must be a non-negative integer, got {data_idx}"))?;
        let observation = start(data, index, session)?;
        Ok(json!({ "id": id, "observation": observation, "done": false, "reward": 0 }))
    })
    .await
}

/// A `GET ?id=` route answering one value of the session.
async fn read(
    app: Craft,
    query: Option<String>,
    pick: fn(&TextCraftData, &Game) -> Value,
) -> Response {
    let request = read_id(query, IDS);
    on_session(&app, request, move |data, session, id, ()| {
        session
            .game
            .as_ref()
            .map(|game| pick(data, game))
            .ok_or_else(|| super::invalid_id(id))
    })
    .await
}

async fn observation(State(app): State<Craft>, RawQuery(query): RawQuery) -> Response {
    read(app, query, |_, game| json!(game.observation)).await
}

async fn commands_route(State(app): State<Craft>, RawQuery(query): RawQuery) -> Response {
    read(app, query, |_, game| json!(game.commands)).await
}

async fn goal(State(app): State<Craft>, RawQuery(query): RawQuery) -> Response {
    read(app, query, |data, game| {
        json!(data.env.book().name(game.goal))
    })
    .await
}

async fn detail(State(app): State<Craft>, RawQuery(query): RawQuery) -> Response {
    read(app, query, |_, game| {
        json!({
            "observation": game.observation,
            "done": game.done,
            "reward": game.reward,
            "deleted": false,
        })
    })
    .await
}
