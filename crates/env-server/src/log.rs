//! Structured logs: one JSON line per request (when enabled) and per internal error, on stderr.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;

static REQUESTS: AtomicBool = AtomicBool::new(false);

/// Turns the per-request log on or off (process-wide; internal errors are always logged).
pub fn set_request_log(enabled: bool) {
    REQUESTS.store(enabled, Ordering::Relaxed);
}

/// Logs one event line: `{"event": kind, "message": message}`.
pub fn event(kind: &str, message: &str) {
    eprintln!("{}", json!({ "event": kind, "message": message }));
}

/// Middleware: `{"event":"request","method","path","status","micros"}` per request when enabled.
pub async fn requests(request: Request, next: Next) -> Response {
    if !REQUESTS.load(Ordering::Relaxed) {
        return next.run(request).await;
    }
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let start = Instant::now();
    let response = next.run(request).await;
    eprintln!(
        "{}",
        json!({
            "event": "request",
            "method": method,
            "path": path,
            "status": response.status().as_u16(),
            "micros": start.elapsed().as_micros() as u64,
        })
    );
    response
}
