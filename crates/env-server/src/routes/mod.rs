//! The routes of each env, as its reference server (`agentenv_<env>/server.py`) defines them,
//! plus `/close` everywhere and `GET /crossgym/stats`.

pub mod alfworld;
pub mod babyai;
pub mod searchqa;
pub mod textcraft;
pub mod webshop;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use serde_json::json;

use crate::app::{Stats, ok};

/// `GET /crossgym/stats`: live sessions and eviction counters (not in the reference).
pub fn stats_route(stats: Arc<dyn Stats>) -> Router {
    async fn handler(State(stats): State<Arc<dyn Stats>>) -> Response {
        let s = stats.stats();
        ok(json!({
            "live": s.live,
            "created": s.created,
            "closed": s.closed,
            "evicted_cap": s.evicted_cap,
            "evicted_idle": s.evicted_idle,
        }))
    }
    Router::new()
        .route("/crossgym/stats", get(handler))
        .with_state(stats)
}

/// Reads a body, or answers 422.
macro_rules! body_fields {
    ($bytes:expr) => {
        match $crate::body::Fields::body(&$bytes) {
            Ok(fields) => fields,
            Err(invalid) => return axum::response::IntoResponse::into_response(invalid),
        }
    };
}

/// Reads a query string, or answers 422.
macro_rules! query_fields {
    ($raw:expr) => {
        match $crate::body::Fields::query($raw.as_deref()) {
            Ok(fields) => fields,
            Err(invalid) => return axum::response::IntoResponse::into_response(invalid),
        }
    };
}

/// Ends field reading: answers 422 when any field was invalid.
macro_rules! finish {
    ($fields:expr) => {
        if let Err(invalid) = $fields.finish() {
            return axum::response::IntoResponse::into_response(invalid);
        }
    };
}

pub(crate) use {body_fields, finish, query_fields};
