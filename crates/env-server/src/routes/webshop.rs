//! WebShop (`agentenv_webshop`): `env_idx` ids; `/create` answers the bare id; `/step` answers
//! `state` (the page text) with `info: null`; `/reset` takes an optional `session_id` (the goal)
//! and answers `[observation, null]`; plus `/available_actions`, `/instruction_text`,
//! `/observation`, `/state`, `/list_envs` and (ours) `/close`.
//!
//! A new session starts on goal `env_idx % goals` (the reference starts on a random one), and
//! `/reset` without `session_id` goes back to that goal.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use crossgym_env_webshop::Session;
use serde_json::{Value, json};

use super::{Ids, on_session, read_action, read_body, read_id};
use crate::ServerConfig;
use crate::app::{Shared, Stats, ok, reply};
use crate::registry::WebShopData;

/// One client's WebShop session.
#[derive(Debug, Default)]
pub struct ShopSession {
    session: Option<Session>,
    default_goal: usize,
}

type Shop = Shared<WebShopData, ShopSession>;

const IDS: Ids = Ids::EnvIdx;

/// The router and its session counters.
pub fn router(data: Arc<WebShopData>, config: &ServerConfig) -> (Router, Arc<dyn Stats>) {
    super::env_router(data, config, IDS, "ok", |r| {
        r.route("/list_envs", get(list_envs))
            .route("/create", post(create))
            .route("/step", post(step))
            .route("/available_actions", get(available_actions))
            .route("/instruction_text", get(instruction_text))
            .route("/observation", get(observation))
            .route("/state", get(state))
            .route("/reset", post(reset))
    })
}

fn start(data: &WebShopData, goal: usize, session: &mut ShopSession) -> Result<String, String> {
    let goals = data.catalogue.goals();
    let chosen = goals.get(goal).ok_or_else(|| {
        format!(
            "session_id {goal} is out of range (goals 0..{})",
            goals.len()
        )
    })?;
    let fresh = Session::new(chosen.clone(), goal);
    let observation = fresh.observation(&data.catalogue);
    session.session = Some(fresh);
    Ok(observation)
}

async fn list_envs(State(app): State<Shop>) -> Response {
    ok(json!(app.sessions.ids()))
}

async fn create(State(app): State<Shop>) -> Response {
    reply(
        app.create(|data, id, session| {
            let n = data.catalogue.goals().len().max(1);
            session.default_goal = usize::try_from(id % n as u64).unwrap_or(0);
            start(data, session.default_goal, session).map(|_| ())
        })
        .await
        .map(|(id, ())| json!(id)),
    )
}

async fn step(State(app): State<Shop>, body: Bytes) -> Response {
    let request = read_action(&body, IDS);
    on_session(&app, request, move |data, shop, id, action| {
        let session = shop
            .session
            .as_mut()
            .ok_or_else(|| super::env_not_found(id))?;
        let catalogue = &data.catalogue;
        let outcome = session.step(&action, catalogue, catalogue.index());
        Ok(json!({
            "state": outcome.observation,
            "reward": outcome.reward,
            "done": outcome.done,
            "info": null,
        }))
    })
    .await
}

async fn reset(State(app): State<Shop>, body: Bytes) -> Response {
    let request = read_body(&body, |f| (f.int(IDS.field()), f.opt_int("session_id")));
    on_session(&app, request, move |data, shop, _, session_id| {
        let goal = match session_id {
            None => shop.default_goal,
            Some(goal) => usize::try_from(goal)
                .map_err(|_| format!("session_id must be non-negative, got {goal}"))?,
        };
        let observation = start(data, goal, shop)?;
        Ok(json!([observation, null]))
    })
    .await
}

/// A `GET ?env_idx=` route answering one value of the session.
async fn read(
    app: Shop,
    query: Option<String>,
    pick: fn(&WebShopData, &Session) -> Value,
) -> Response {
    let request = read_id(query, IDS);
    on_session(&app, request, move |data, shop, id, ()| {
        shop.session
            .as_ref()
            .map(|session| pick(data, session))
            .ok_or_else(|| super::env_not_found(id))
    })
    .await
}

async fn available_actions(State(app): State<Shop>, RawQuery(query): RawQuery) -> Response {
    read(app, query, |data, session| {
        let (has_search_bar, clickables) = session.available_actions(&data.catalogue);
        json!({ "has_search_bar": has_search_bar, "clickables": clickables })
    })
    .await
}

async fn instruction_text(State(app): State<Shop>, RawQuery(query): RawQuery) -> Response {
    read(app, query, |_, session| {
        json!(format!("Instruction: {}", session.goal().instruction_text))
    })
    .await
}

async fn observation(State(app): State<Shop>, RawQuery(query): RawQuery) -> Response {
    read(app, query, |data, session| {
        json!(session.observation(&data.catalogue))
    })
    .await
}

async fn state(State(app): State<Shop>, RawQuery(query): RawQuery) -> Response {
    let request = read_id(query, IDS);
    on_session(&app, request, |_, _, _, ()| {
        Err(
            "crossgym's WebShop renders pages as text only: /state (url, html) is not \
                 available; use /observation"
                .to_owned(),
        )
    })
    .await
}
