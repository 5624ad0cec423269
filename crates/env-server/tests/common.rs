//! Helpers: one-shot requests on a router, and a real server on a loopback port.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use crossgym_env_server::app::Stats;
use crossgym_env_server::{EnvName, Server, ServerConfig};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// Sends one request to a router; returns the status and the JSON body.
pub async fn call(router: &Router, method: &str, uri: &str, body: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

/// POSTs a JSON body to a router; returns the JSON answer.
pub async fn post(router: &Router, uri: &str, body: Value) -> Value {
    call(router, "POST", uri, &body.to_string()).await.1
}

/// POSTs an empty body to a router; returns the JSON answer.
pub async fn post_empty(router: &Router, uri: &str) -> Value {
    call(router, "POST", uri, "").await.1
}

/// GETs a URI of a router; returns the JSON answer.
pub async fn get(router: &Router, uri: &str) -> Value {
    call(router, "GET", uri, "").await.1
}

/// A server on a loopback port in its own runtime; stopped (gracefully) on drop.
pub struct Running {
    pub addr: SocketAddr,
    pub stats: std::sync::Arc<dyn Stats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    runtime: Option<tokio::runtime::Runtime>,
    handle: Option<tokio::task::JoinHandle<Result<(), crossgym_env_server::ServerError>>>,
}

impl Running {
    pub fn start(config: ServerConfig) -> Running {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let server = runtime.block_on(Server::bind(config)).expect("bind");
        let addr = server.local_addr().expect("addr");
        let stats = server.stats();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handle = runtime.spawn(server.run(async {
            let _ = stopped.await;
        }));
        Running {
            addr,
            stats,
            stop: Some(stop),
            runtime: Some(runtime),
            handle: Some(handle),
        }
    }

    pub fn env(env: EnvName) -> Running {
        Running::start(ServerConfig::new(env))
    }

    /// Stops the server and checks it shut down cleanly.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let (Some(runtime), Some(handle)) = (self.runtime.take(), self.handle.take()) {
            let result = runtime
                .block_on(async { tokio::time::timeout(Duration::from_secs(30), handle).await });
            assert!(
                matches!(result, Ok(Ok(Ok(())))),
                "server did not shut down cleanly: {result:?}"
            );
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
