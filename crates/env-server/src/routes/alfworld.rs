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

use super::{body_fields, finish, query_fields};
use crate::ServerConfig;
use crate::app::{App, Shared, Stats, ok, reply};
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

/// The router and its session counters.
pub fn router(data: Arc<AlfWorldData>, config: &ServerConfig) -> (Router, Arc<dyn Stats>) {
    let app: Alf = App::new(
        data,
        config.max_sessions,
        config.idle_timeout,
        super::invalid_id,
    );
    let router = Router::new()
        .route(
            "/",
            get(|| async { ok(json!("This is environment AlfWorld.")) }),
        )
        .route("/create", post(super::create_empty))
        .route("/step", post(step))
        .route("/reset", post(reset))
        .route("/available_actions", get(available_actions))
        .route("/observation", get(observation))
        .route("/detail", get(detail))
        .route("/close", post(super::close_id))
        .with_state(Arc::clone(&app));
    (router, app)
}

async fn step(State(app): State<Alf>, body: Bytes) -> Response {
    let mut fields = body_fields!(body);
    let id = fields.int("id");
    let action = fields.string("action");
    finish!(fields);
    reply(
        app.with(id, move |_, session| {
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
        .await,
    )
}

async fn reset(State(app): State<Alf>, body: Bytes) -> Response {
    let mut fields = body_fields!(body);
    let id = fields.int("id");
    let game = fields.int("game");
    let world_type = fields.string("world_type");
    finish!(fields);
    if !["Text", "Embody", "Hybrid"].contains(&world_type.as_str()) {
        return crate::app::app_error(
            "world_type must be one of \"Text\", \"Embody\" and \"Hybrid\"",
        );
    }
    reply(
        app.with(id, move |data, session| {
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
        })
        .await,
    )
}

/// A `GET ?id=` route answering one value of a running (not finished) game.
async fn read(app: Alf, query: Option<String>, pick: fn(&Episode) -> Value) -> Response {
    let mut fields = query_fields!(query);
    let id = fields.int("id");
    finish!(fields);
    reply(
        app.with(id, move |_, session| {
            let episode = session.episode.as_ref().ok_or_else(|| not_reset(id))?;
            if episode.done {
                return Err(format!("The task with environment {id} has finished."));
            }
            Ok(pick(episode))
        })
        .await,
    )
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
