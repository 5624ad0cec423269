//! crossgym's five text environments behind AgentGym's HTTP protocol.
//!
//! AgentGym-based trainers (AgentGym-RL, verl, AgentGym's own `Evaluator`) drive environments
//! through AgentGym's Python client classes, one HTTP server per env. This crate serves any of
//! crossgym's envs with the routes, methods, query parameters and JSON shapes of the reference
//! servers (`agentenv_<env>/server.py`), so those clients run unchanged against a single native
//! binary (`crossgym serve --env NAME`).
//!
//! - [`ServerConfig`], [`Server`] and [`serve`]: bind, serve, shut down gracefully; [`router`]
//!   gives the bare [`axum::Router`] for tests (`tower::ServiceExt::oneshot`) or embedding.
//! - [`EnvName`] and [`registry`]: the five envs and the one module that constructs them and
//!   their shared, read-only data (catalogue, indexes, recipe book), loaded once per server.
//! - [`sessions`]: ids never reused, a session cap with least-recently-used eviction, an idle
//!   timeout, and errors that name an evicted or closed id.
//! - [`loadgen`]: a small keep-alive HTTP/1.1 client and load generator (tests and benches).
//!
//! The one design choice that shapes the rest: **the server speaks the reference server's
//! action protocol, not crossgym's reply protocol**. AgentGym's clients parse the model's reply
//! themselves and send the bare action (SearchQA excepted), so each route module drives the
//! env's session-level type (BabyAI's `TextSession`, TextCraft's `Crafting`, ALFWorld's `Engine`,
//! WebShop's `Session`, SearchQA's `respond`) with the action as the reference server would; the
//! client plus this server then give the same observations as crossgym's in-process env given
//! the whole reply (checked by `tests/agentgym_clients.py` with AgentGym's own clients).
//!
//! Env code runs on tokio's blocking pool under a per-session mutex, with panics caught (an
//! error answer and a log line, never a 500). Application errors answer `200 {"error": …}` as
//! the reference does; a body that does not parse or misses a field answers FastAPI's `422
//! {"detail": [...]}`.
//!
//! # Example
//!
//! ```
//! use crossgym_env_server::{EnvName, ServerConfig, loadgen::Client};
//!
//! let runtime = tokio::runtime::Runtime::new()?;
//! let server = runtime.block_on(crossgym_env_server::Server::bind(ServerConfig::new(EnvName::BabyAi)))?;
//! let addr = server.local_addr()?;
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let handle = runtime.spawn(server.run(async { let _ = stopped.await; }));
//!
//! let mut client = Client::connect(addr)?;
//! let created = client.post("/create", "")?;
//! let id = created.json()?["id"].as_u64().unwrap();
//! let reset = client.post("/reset", &format!(r#"{{"id": {id}, "data_idx": 1}}"#))?.json()?;
//! assert!(reset["observation"].as_str().unwrap().starts_with("Your goal: go to the red ball\n"));
//! let step = client.post("/step", &format!(r#"{{"id": {id}, "action": "turn left"}}"#))?.json()?;
//! assert!(step["observation"].as_str().unwrap().contains("Available actions: ["));
//!
//! let _ = stop.send(());
//! runtime.block_on(handle)??;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod app;
mod body;
pub mod cli;
mod config;
pub mod loadgen;
mod log;
pub mod registry;
mod routes;
mod server;
pub mod sessions;

use std::net::SocketAddr;

pub use config::{DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_SESSIONS, ServerConfig, default_step_threads};
pub use registry::{EnvName, UnknownEnvName};
pub use server::{Routes, Server, router, routes, run_until_signal, serve, shutdown_signal};
pub use sessions::SessionStats;

/// What can stop a server from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The env's data failed to load.
    #[error("loading the env: {0}")]
    Env(#[from] crossgym_env_core::EnvError),
    /// The address could not be bound or read.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The runtime or the HTTP server failed.
    #[error("server: {0}")]
    Internal(String),
}
