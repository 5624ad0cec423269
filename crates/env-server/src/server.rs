//! Building the router of one env, binding, serving with the idle sweeper, and shutting down.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::net::TcpListener;

use crate::app::Stats;
use crate::routes as env_routes;
use crate::{ServerConfig, ServerError, log};

/// The router of one env plus a handle on its sessions' counters.
pub struct Routes {
    /// Every route of the env (and `GET /crossgym/stats`), request log included.
    pub router: Router,
    /// The sessions' counters and the idle sweep.
    pub stats: Arc<dyn Stats>,
}

impl std::fmt::Debug for Routes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routes")
            .field("stats", &self.stats.stats())
            .finish()
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "detail": "Not Found" })),
    )
        .into_response()
}

/// Loads the env's shared data (once) and builds its routes.
pub fn routes(config: &ServerConfig) -> Result<Routes, ServerError> {
    log::set_request_log(config.log_requests);
    let (router, stats) = env_routes::table::env_routes(config)?;
    let router = router
        .merge(env_routes::stats_route(Arc::clone(&stats)))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(log::requests));
    Ok(Routes { router, stats })
}

/// The router of one env (for `tower::ServiceExt::oneshot` tests or embedding in another app).
pub fn router(config: &ServerConfig) -> Result<Router, ServerError> {
    routes(config).map(|r| r.router)
}

/// A bound server, ready to [`Server::run`].
pub struct Server {
    listener: TcpListener,
    routes: Routes,
    config: ServerConfig,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.listener.local_addr().ok())
            .field("config", &self.config)
            .finish()
    }
}

impl Server {
    /// Loads the env's data and binds `config.addr`.
    pub async fn bind(config: ServerConfig) -> Result<Server, ServerError> {
        let build = config.clone();
        let routes = tokio::task::spawn_blocking(move || routes(&build))
            .await
            .map_err(|e| ServerError::Internal(e.to_string()))??;
        let listener =
            TcpListener::bind(config.addr)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.addr,
                    source,
                })?;
        Ok(Server {
            listener,
            routes,
            config,
        })
    }

    /// The bound address (the real port when `config.addr` asked for port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        self.listener
            .local_addr()
            .map_err(|source| ServerError::Bind {
                addr: self.config.addr,
                source,
            })
    }

    /// The sessions' counters.
    pub fn stats(&self) -> Arc<dyn Stats> {
        Arc::clone(&self.routes.stats)
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and returns.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let stats = Arc::clone(&self.routes.stats);
        let interval = self.config.sweep_interval();
        let sweeper = tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let evicted = stats.sweep();
                if evicted > 0 {
                    log::event("idle_eviction", &format!("{evicted} sessions evicted"));
                }
            }
        });
        let result = axum::serve(self.listener, self.routes.router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| ServerError::Internal(e.to_string()));
        sweeper.abort();
        result
    }
}

/// Binds and serves `config` until `shutdown` completes.
pub async fn serve(
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    Server::bind(config).await?.run(shutdown).await
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// The `crossgym serve` command: a multi-threaded runtime, bind, print
/// `listening on http://ADDR (env NAME)` to `out`, serve until SIGINT/SIGTERM.
pub fn run_until_signal(config: ServerConfig, out: &mut dyn Write) -> Result<(), ServerError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(config.step_threads.max(1))
        // Idle step threads stay rather than exit and come back (see `step_threads`).
        .thread_keep_alive(std::time::Duration::from_secs(3600))
        .enable_all()
        .build()
        .map_err(|e| ServerError::Internal(format!("tokio runtime: {e}")))?;
    runtime.block_on(async {
        let env = config.env;
        let server = Server::bind(config).await?;
        let addr = server.local_addr()?;
        let _ = writeln!(out, "listening on http://{addr} (env {env})");
        let _ = out.flush();
        server.run(shutdown_signal()).await?;
        log::event("shutdown", &format!("{env} server on {addr} stopped"));
        Ok(())
    })
}
