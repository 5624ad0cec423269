//! The env server's request bodies and query strings, sent through each env's router in-process
//! (no socket: `tower::ServiceExt::oneshot`).
//!
//! An input is `env (u8) · request ⟨FILE_SEPARATOR⟩ request …`, a request being `route (u8) ·
//! body-or-query`: the body of a POST, the query string of a GET. Before the requests a session
//! is created, and `@ID` in a body or query stands for its id, so the fuzzer reaches the env
//! code of a live session. The contract checked: no 5xx, and no env panic (the server catches
//! those and answers "internal error in the environment"; under AFL the panic hook aborts first).

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use crossgym_env_server::{EnvName, ServerConfig, router};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::harness::{Reader, join_files, split_files};

/// Requests per input at most.
const MAX_REQUESTS: usize = 8;
/// Live sessions per env router (small, so eviction is exercised too).
const MAX_SESSIONS: usize = 32;

/// Every route of the five servers (an env answers 404 to the others).
const ROUTES: [(&str, &str); 14] = [
    ("GET", "/"),
    ("POST", "/create"),
    ("POST", "/step"),
    ("POST", "/reset"),
    ("POST", "/close"),
    ("GET", "/observation"),
    ("GET", "/available_actions"),
    ("GET", "/commands"),
    ("GET", "/goal"),
    ("GET", "/detail"),
    ("GET", "/instruction_text"),
    ("GET", "/state"),
    ("GET", "/list_envs"),
    ("GET", "/crossgym/stats"),
];

struct Servers {
    runtime: tokio::runtime::Runtime,
    routers: [OnceLock<Router>; 5],
}

fn servers() -> &'static Servers {
    static SERVERS: OnceLock<Servers> = OnceLock::new();
    SERVERS.get_or_init(|| Servers {
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime"),
        routers: Default::default(),
    })
}

/// Fuzzes the env server's routes (see the module docs).
pub fn server_requests(data: &[u8]) {
    let mut input = Reader::new(data);
    let index = usize::from(input.u8()) % EnvName::ALL.len();
    let env = EnvName::ALL[index];
    let servers = servers();
    let router = servers.routers[index].get_or_init(|| {
        let config = ServerConfig {
            max_sessions: MAX_SESSIONS,
            ..ServerConfig::new(env)
        };
        router(&config).unwrap_or_else(|e| panic!("{env}: the router builds: {e}"))
    });
    servers.runtime.block_on(async {
        let created = send(router, env, "POST", "/create", b"{}").await;
        let id = first_integer(&created).unwrap_or_else(|| "0".to_owned());
        for request in split_files(input.rest()).into_iter().take(MAX_REQUESTS) {
            let mut request = Reader::new(request);
            let (method, path) = ROUTES[usize::from(request.u8()) % ROUTES.len()];
            let payload = replace_id(request.rest(), &id);
            send(router, env, method, path, &payload).await;
        }
    });
}

/// Seeds of [`server_requests`]: a reset, a step and an observation per env.
pub fn server_requests_seeds() -> Vec<Vec<u8>> {
    let episode: [(&str, &str, &str); 5] = [
        ("babyai", r#"{"id": @ID, "data_idx": 1}"#, "turn left"),
        ("textcraft", r#"{"id": @ID, "data_idx": 0}"#, "inventory"),
        (
            "alfworld",
            r#"{"id": @ID, "game": 0, "world_type": "Text"}"#,
            "look",
        ),
        (
            "webshop",
            r#"{"env_idx": @ID, "session_id": 0}"#,
            "search[shoes]",
        ),
        (
            "searchqa",
            r#"{"env_idx": @ID, "id": 0}"#,
            "<search>paris</search>",
        ),
    ];
    let route = |path: &str| {
        let i = ROUTES
            .iter()
            .position(|(_, p)| *p == path)
            .expect("a route");
        u8::try_from(i).expect("few routes")
    };
    EnvName::ALL
        .iter()
        .enumerate()
        .map(|(index, env)| {
            let (_, reset, action) = episode
                .iter()
                .find(|(name, _, _)| *name == env.as_str())
                .expect("every env has a seed");
            let key = if reset.contains("env_idx") {
                "env_idx"
            } else {
                "id"
            };
            let mut requests = vec![[vec![route("/reset")], reset.as_bytes().to_vec()].concat()];
            let step = format!(r#"{{"{key}": @ID, "action": "{action}"}}"#);
            requests.push([vec![route("/step")], step.into_bytes()].concat());
            let query = format!("{key}=@ID");
            requests.push([vec![route("/observation")], query.into_bytes()].concat());
            let mut seed = vec![u8::try_from(index).expect("five envs")];
            seed.extend(join_files(&requests));
            seed
        })
        .collect()
}

/// Sends one request and checks the answer; returns its body.
async fn send(router: &Router, env: EnvName, method: &str, path: &str, payload: &[u8]) -> String {
    let request = if method == "GET" {
        let query = percent_encode(payload);
        Request::builder()
            .method(Method::GET)
            .uri(format!("{path}?{query}"))
            .body(Body::empty())
    } else {
        Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("content-type", "application/json")
            .body(Body::from(payload.to_vec()))
    }
    .expect("a well-formed request");
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    assert!(
        !status.is_server_error(),
        "{env} {method} {path} {:?}: {status} {body}",
        String::from_utf8_lossy(payload)
    );
    assert!(
        !body.contains("internal error"),
        "{env} {method} {path} {:?}: {body}",
        String::from_utf8_lossy(payload)
    );
    body
}

/// The first run of digits in `text` (the new session's id in every server's `/create` answer).
fn first_integer(text: &str) -> Option<String> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some(digits)
}

/// `payload` with every `@ID` replaced by `id`.
fn replace_id(payload: &[u8], id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len());
    let mut rest = payload;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix(b"@ID") {
            out.extend_from_slice(id.as_bytes());
            rest = after;
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

/// Percent-encodes every byte a URI query cannot hold as is (`=` and `&` kept as separators).
fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~=&".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
