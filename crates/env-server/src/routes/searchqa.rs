//! SearchQA (`agentenv_searchqa`): `env_idx` ids; `/create` takes the item `id` and answers the
//! bare env id; `/step` takes the whole reply and answers `observation` with `info: null`;
//! `/reset` takes `env_idx` and an item `id` and answers the question prompt; `/observation`
//! answers it too. Item ids are crossgym's SearchQA task ids.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use crossgym_env_core::TaskId;
use crossgym_env_searchqa::{messages, respond};
use serde_json::json;

use super::{body_fields, finish, query_fields};
use crate::ServerConfig;
use crate::app::{App, Shared, Stats, ok, reply};
use crate::registry::SearchQaData;

/// One client's SearchQA session: the question it answers.
#[derive(Debug, Default)]
pub struct QaSession {
    task: Option<TaskId>,
}

type Qa = Shared<SearchQaData, QaSession>;

/// The router and its session counters.
pub fn router(data: Arc<SearchQaData>, config: &ServerConfig) -> (Router, Arc<dyn Stats>) {
    let app: Qa = App::new(
        data,
        config.max_sessions,
        config.idle_timeout,
        super::env_not_found,
    );
    let router = Router::new()
        .route("/", get(|| async { ok(json!("ok")) }))
        .route("/create", post(create))
        .route("/step", post(step))
        .route("/observation", get(observation))
        .route("/reset", post(reset))
        .route("/close", post(super::close_env_idx))
        .with_state(Arc::clone(&app));
    (router, app)
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
    let mut fields = body_fields!(body);
    let item = fields.int("id");
    finish!(fields);
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
    let mut fields = body_fields!(body);
    let id = fields.int("env_idx");
    let action = fields.string("action");
    finish!(fields);
    reply(
        app.with(id, move |data, session| {
            let task = session
                .task
                .ok_or_else(|| format!("Env {id} not initialized"))?;
            let question = data
                .tasks
                .get(task)
                .ok_or_else(|| format!("Item id {} is out of range.", task.0))?;
            let step = respond(&data.index, &question.golden_answers, &action)
                .map_err(|e| e.to_string())?;
            Ok(json!({
                "observation": step.observation,
                "reward": step.reward,
                "done": step.done,
                "info": null,
            }))
        })
        .await,
    )
}

async fn observation(State(app): State<Qa>, RawQuery(query): RawQuery) -> Response {
    let mut fields = query_fields!(query);
    let id = fields.int("env_idx");
    finish!(fields);
    reply(
        app.with(id, move |data, session| {
            let task = session
                .task
                .ok_or_else(|| format!("Env {id} not initialized"))?;
            prompt(data, task).map(|p| json!(p))
        })
        .await,
    )
}

async fn reset(State(app): State<Qa>, body: Bytes) -> Response {
    let mut fields = body_fields!(body);
    let id = fields.int("env_idx");
    let item = fields.opt_int("id");
    finish!(fields);
    reply(
        app.with(id, move |data, session| {
            let item = item.ok_or_else(|| "reset needs an item id (`id`)".to_owned())?;
            let task = task_of(data, item)?;
            session.task = Some(task);
            prompt(data, task).map(|p| json!(p))
        })
        .await,
    )
}
