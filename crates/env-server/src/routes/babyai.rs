//! BabyAI (`agentenv_babyai`): `id` ids; `/reset` takes `data_idx` (level `data_idx % 40`, seed
//! `data_idx / 40`); payloads carry `reward` (the env's last reward) and `score` (their sum,
//! which the client reports as the reward).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use crossgym_env_babyai::session::TextSession;
use crossgym_env_babyai::task_world;
use crossgym_env_core::TaskId;
use serde_json::json;

use super::{Ids, on_session, read_action, read_body, read_id};
use crate::ServerConfig;
use crate::app::{Shared, Stats};
use crate::registry::BabyAiData;

/// One client's BabyAI session.
#[derive(Debug, Default)]
pub struct BabySession {
    episode: Option<Episode>,
}

#[derive(Debug)]
struct Episode {
    text: TextSession,
    /// The last observation without the action-list suffix (the reference's `_get_obs()`).
    last_text: String,
    reward: f64,
    done: bool,
}

type Baby = Shared<BabyAiData, BabySession>;

fn not_reset(id: u64) -> String {
    format!("The environment {id} has not been reset: call /reset with a data_idx first.")
}

const IDS: Ids = Ids::Id;

/// The router and its session counters.
pub fn router(data: Arc<BabyAiData>, config: &ServerConfig) -> (Router, Arc<dyn Stats>) {
    super::env_router(data, config, IDS, "This is environment BabyAI.", |r| {
        r.route("/create", post(super::create_empty))
            .route("/step", post(step))
            .route("/reset", post(reset))
            .route("/observation", get(observation))
    })
}

async fn step(State(app): State<Baby>, body: Bytes) -> Response {
    let request = read_action(&body, IDS);
    on_session(&app, request, move |_, session, id, action| {
        let Some(episode) = session.episode.as_mut() else {
            return Err(not_reset(id as u64));
        };
        if episode.done {
            return Err(format!("The task with environment {id} has finished."));
        }
        let out = episode.text.step(&action);
        let suffix = episode.text.rendering().available_suffix();
        episode.last_text = out
            .observation
            .strip_suffix(suffix.as_str())
            .unwrap_or(&out.observation)
            .to_owned();
        episode.reward = out.reward;
        episode.done = out.done;
        Ok(json!({
            "observation": out.observation,
            "reward": out.reward,
            "score": out.score,
            "done": out.done,
        }))
    })
    .await
}

async fn reset(State(app): State<Baby>, body: Bytes) -> Response {
    let request = read_body(&body, |f| (f.int(IDS.field()), f.int("data_idx")));
    on_session(&app, request, move |_, session, _, data_idx| {
        let task = usize::try_from(data_idx)
            .map(TaskId)
            .map_err(|_| format!("data_idx must be a non-negative integer, got {data_idx}"))?;
        let world = task_world(task).map_err(|e| e.to_string())?;
        let text = TextSession::new(world);
        let observation = text.reset_observation();
        let last_text = text.rendering().description.clone();
        let done = text.done();
        session.episode = Some(Episode {
            text,
            last_text,
            reward: 0.0,
            done,
        });
        Ok(json!({
            "observation": observation,
            "reward": 0.0,
            "score": 0.0,
            "deleted": false,
            "done": done,
        }))
    })
    .await
}

async fn observation(State(app): State<Baby>, RawQuery(query): RawQuery) -> Response {
    let request = read_id(query, IDS);
    on_session(&app, request, move |_, session, _, ()| {
        Ok(match &session.episode {
            Some(episode) => json!({
                "observation": format!(
                    "Your goal: {}\n{}{}",
                    episode.text.goal(),
                    episode.last_text,
                    episode.text.rendering().available_suffix()
                ),
                "reward": episode.reward,
                "score": episode.text.score(),
                "done": episode.done,
                "deleted": false,
            }),
            None => json!({
                "observation": "Environment not initialized",
                "reward": 0,
                "score": 0,
                "done": false,
                "deleted": false,
            }),
        })
    })
    .await
}
