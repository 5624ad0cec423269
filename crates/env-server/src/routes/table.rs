//! The table of every env's routes: its reference server's (`agentenv_<env>/server.py`) routes
//! beyond `/step`, `/reset` and `/close`, its greeting, and how its requests name sessions.

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use super::alfworld::{self, AlfSession};
use super::babyai::{self, BabySession};
use super::searchqa::{self, QaSession};
use super::textcraft::{self, CraftSession};
use super::webshop::{self, ShopSession};
use super::{Ids, create_empty, env_router, get_view};
use crate::app::Stats;
use crate::{EnvName, ServerConfig, ServerError, registry};

/// The router of the env `config` names, and its session counters: every route of the env's
/// reference server (`agentenv_<env>/server.py`), plus `/close`.
pub(crate) fn env_routes(config: &ServerConfig) -> Result<(Router, Arc<dyn Stats>), ServerError> {
    Ok(match config.env {
        EnvName::BabyAi => env_router::<_, BabySession>(
            registry::babyai_data()?,
            config,
            (Ids::Id, "This is environment BabyAI."),
            |r| {
                r.route("/create", post(create_empty))
                    .route("/observation", get_view(babyai::observation))
            },
        ),
        EnvName::TextCraft => env_router::<_, CraftSession>(
            registry::textcraft_data()?,
            config,
            (Ids::Id, "This is environment TextCraft."),
            |r| {
                r.route("/create", post(textcraft::create))
                    .route("/observation", get_view(textcraft::observation))
                    .route("/commands", get_view(textcraft::commands_route))
                    .route("/goal", get_view(textcraft::goal))
                    .route("/detail", get_view(textcraft::detail))
            },
        ),
        EnvName::AlfWorld => env_router::<_, AlfSession>(
            registry::alfworld_data()?,
            config,
            (Ids::Id, "This is environment AlfWorld."),
            |r| {
                r.route("/create", post(create_empty))
                    .route("/available_actions", get_view(alfworld::available_actions))
                    .route("/observation", get_view(alfworld::observation))
                    .route("/detail", get_view(alfworld::detail))
            },
        ),
        EnvName::WebShop => env_router::<_, ShopSession>(
            registry::webshop_data()?,
            config,
            (Ids::EnvIdx, "ok"),
            |r| {
                r.route("/list_envs", get(webshop::list_envs))
                    .route("/create", post(webshop::create))
                    .route("/available_actions", get_view(webshop::available_actions))
                    .route("/instruction_text", get_view(webshop::instruction_text))
                    .route("/observation", get_view(webshop::observation))
                    .route("/state", get_view(webshop::state))
            },
        ),
        EnvName::SearchQa => env_router::<_, QaSession>(
            registry::searchqa_data()?,
            config,
            (Ids::EnvIdx, "ok"),
            |r| {
                r.route("/create", post(searchqa::create))
                    .route("/observation", get_view(searchqa::observation))
            },
        ),
    })
}
