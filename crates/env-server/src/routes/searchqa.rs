//! SearchQA (`agentenv_searchqa`): `env_idx` ids; `/create` takes the item `id` and answers the
//! bare env id; `/step` takes the whole reply and answers `observation` with `info: null`;
//! `/reset` takes `env_idx` and an item `id` and answers the question prompt; `/observation`
//! answers it too. Item ids are crossgym's SearchQA task ids.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use crossgym_env_core::TaskId;
use crossgym_env_searchqa::{messages, respond};
use serde_json::json;

use super::{Ids, on_session, read_action, read_body, read_id};
use crate::ServerConfig;
use crate::app::{Shared, Stats, reply};
use crate::registry::SearchQaData;

/// One client's SearchQA session: the question it answers.
#[derive(Debug, Default)]
pub struct QaSession {
    task: Option<TaskId>,
}

type Qa = Shared<SearchQaData, QaSession>;

const IDS: Ids = Ids::EnvIdx;

/// The router and its session counters.
pub fn router(data: Arc<SearchQaData>, config: &ServerConfig) -> (Router, Arc<dyn Stats>) {
    super::env_router(data, config, IDS, "ok", |r| {
        r.route("/create", post(create))
            .route("/step", post(step))
            .route("/observation", get(observation))
            .route("/reset", post(reset))
    })
}

fn task_of(data: &SearchQaData, item: i64) -> Result<TaskId, String> {
    usize::try_from(item)
        .ok()
        .filter(|&i| i < data.tasks.len())
        .map(TaskId)
        .ok_or_else(|| format!("Item id {item} is out of range."))
}

fn prompt(data: &SearchQaData, task: TaskId) -> Result<String, String> {
    data.tasks
        .get(task)
        .map(|q| messages::first_observation(&q.question))
        .ok_or_else(|| format!("Item id {} is out of range.", task.0))
}

async fn create(State(app): State<Qa>, body: Bytes) -> Response {
    let item = match read_body(&body, |f| f.int("id")) {
        Ok(item) => item,
        Err(invalid) => return invalid.into_response(),
    };
    reply(
        app.create(move |data, _, session| {
            session.task = Some(task_of(data, item)?);
            Ok(())
        })
        .await
        .map(|(id, ())| json!(id)),
    )
}

async fn step(State(app): State<Qa>, body: Bytes) -> Response {
    let request = read_action(&body, IDS);
    on_session(&app, request, move |data, session, id, action| {
        let task = session
            .task
            .ok_or_else(|| format!("Env {id} not initialized"))?;
        let question = data
            .tasks
            .get(task)
            .ok_or_else(|| format!("Item id {} is out of range.", task.0))?;
        let step =
            respond(&data.index, &question.golden_answers, &action).map_err(|e| e.to_string())?;
        Ok(json!({
            "observation": step.observation,
            "reward": step.reward,
            "done": step.done,
            "info": null,
        }))
    })
    .await
}

async fn observation(State(app): State<Qa>, RawQuery(query): RawQuery) -> Response {
    let request = read_id(query, IDS);
    on_session(&app, request, move |data, session, id, ()| {
        let task = session
            .task
            .ok_or_else(|| format!("Env {id} not initialized"))?;
        prompt(data, task).map(|p| json!(p))
    })
    .await
}

async fn reset(State(app): State<Qa>, body: Bytes) -> Response {
    let request = read_body(&body, |f| (f.int(IDS.field()), f.opt_int("id")));
    on_session(&app, request, move |data, session, _, item| {
        let item = item.ok_or_else(|| "reset needs an item id (`id`)".to_owned())?;
        let task = task_of(data, item)?;
        session.task = Some(task);
        prompt(data, task).map(|p| json!(p))
    })
    .await
}
