//! SearchQA (`agentenv_searchqa`): `env_idx` ids; `/create` takes the item `id` and answers the
//! bare env id; `/step` takes the whole reply and answers `observation` with `info: null`;
//! `/reset` takes `env_idx` and an item `id` and answers the question prompt; `/observation`
//! answers it too. Item ids are crossgym's SearchQA task ids.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use crossgym_env_core::TaskId;
use crossgym_env_searchqa::{messages, respond};
use serde_json::json;

use super::{Answer, EnvSession, EnvState, Fields, read_body};
use crate::app::reply;
use crate::registry::SearchQaData;

/// One client's SearchQA session: the question it answers.
#[derive(Debug, Default)]
pub struct QaSession {
    task: Option<TaskId>,
}

impl EnvSession<SearchQaData> for QaSession {
    type ResetArgs = Option<i64>;

    fn reset_args(fields: &mut Fields) -> Option<i64> {
        fields.opt_int("id")
    }

    fn reset(&mut self, data: &SearchQaData, _: i64, item: Option<i64>) -> Answer {
        let item = item.ok_or_else(|| "reset needs an item id (`id`)".to_owned())?;
        let task = task_of(data, item)?;
        self.task = Some(task);
        prompt(data, task).map(|p| json!(p))
    }

    fn step(&mut self, data: &SearchQaData, id: i64, action: String) -> Answer {
        let task = self.task(id)?;
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
    }
}

impl QaSession {
    /// The session's question, or the reference's not-initialised text.
    fn task(&self, id: i64) -> Result<TaskId, String> {
        self.task.ok_or_else(|| format!("Env {id} not initialized"))
    }
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

pub(crate) async fn create(State(app): EnvState<SearchQaData, QaSession>, body: Bytes) -> Response {
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

/// `GET /observation`: the question prompt.
pub(crate) fn observation(data: &SearchQaData, s: &QaSession, id: i64) -> Answer {
    prompt(data, s.task(id)?).map(|p| json!(p))
}
