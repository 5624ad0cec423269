//! ALFWorld (`agentenv_alfworld`): `id` ids; `/reset` takes `game` (a task id of the generated
//! set) and `world_type` (`Text`, `Embody` or `Hybrid`, checked as the reference does) and
//! answers `available_actions` and `task_type`; steps answer the admissible commands; a finished
//! game refuses further steps with the reference's text.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use crossgym_env_alfworld::{Engine, Game, MAX_STEPS, NOTHING_HAPPENS, process_ob};
use crossgym_env_core::TaskId;
use serde_json::{Value, json};

use super::{Ids, on_session, read_action, read_body, read_id};
use crate::ServerConfig;
use crate::app::{Shared, Stats};
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

type Alf = Shared<AlfWorldData, AlfSession>;

fn not_reset(id: i64) -> String {
    format!("The environment {id} has no game loaded: call /reset with a game first.")
}

const IDS: Ids = Ids::Id;

/// The router and its session counters.
pub fn router(data: Arc<AlfWorldData>, config: &ServerConfig) -> (Router, Arc<dyn Stats>) {
    super::env_router(data, config, IDS, "This is environment AlfWorld.", |r| {
        r.route("/create", post(super::create_empty))
            .route("/step", post(step))
            .route("/reset", post(reset))
            .route("/available_actions", get(available_actions))
            .route("/observation", get(observation))
            .route("/detail", get(detail))
    })
}

async fn step(State(app): State<Alf>, body: Bytes) -> Response {
    let request = read_action(&body, IDS);
    on_session(&app, request, move |_, session, id, action| {
        let episode = session.episode.as_mut().ok_or_else(|| not_reset(id))?;
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
    })
    .await
}

async fn reset(State(app): State<Alf>, body: Bytes) -> Response {
    let request = read_body(&body, |f| {
        (f.int(IDS.field()), (f.int("game"), f.string("world_type")))
    });
    if let Ok((_, (_, world_type))) = &request
        && !["Text", "Embody", "Hybrid"].contains(&world_type.as_str())
    {
        return crate::app::app_error(
            "world_type must be one of \"Text\", \"Embody\" and \"Hybrid\"",
        );
    }
    on_session(
        &app,
        request,
        move |data, session, id, (game, world_type)| {
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
            session.episode = Some(Episode {
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
        },
    )
    .await
}

/// A `GET ?id=` route answering one value of a running (not finished) game.
async fn read(app: Alf, query: Option<String>, pick: fn(&Episode) -> Value) -> Response {
    let request = read_id(query, IDS);
    on_session(&app, request, move |_, session, id, ()| {
        let episode = session.episode.as_ref().ok_or_else(|| not_reset(id))?;
        if episode.done {
            return Err(format!("The task with environment {id} has finished."));
        }
        Ok(pick(episode))
    })
    .await
}

async fn available_actions(State(app): State<Alf>, RawQuery(query): RawQuery) -> Response {
    read(app, query, |episode| json!(episode.available)).await
}

async fn observation(State(app): State<Alf>, RawQuery(query): RawQuery) -> Response {
    read(app, query, |episode| json!(episode.observation)).await
}

async fn detail(State(app): State<Alf>, RawQuery(query): RawQuery) -> Response {
    read(app, query, |episode| {
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
    .await
}
