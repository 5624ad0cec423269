//! Evaluating a model served over the OpenAI API with many requests in flight: the record file
//! does not depend on the concurrency and equals the one-group-at-a-time path's.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Json, State};
use axum::routing::post;
use crossgym_study::envs::registry_for;
use crossgym_study::policy_source::{PolicySource, TokenLimits};
use serde_json::{Value, json};

use crate::stream_eval::{Grouped, run_eval};

/// Requests now being answered, and the most at once.
#[derive(Default)]
struct Load {
    now: AtomicUsize,
    most: AtomicUsize,
}

/// Replies the server picks from by the request's seed and turn, so samples differ.
const REPLIES: [&str; 4] = [
    "Thought: look.\nAction: go forward",
    "Thought: turn.\nAction: turn left",
    "Thought: craft.\nAction: get 1 oak log",
    "Thought: check.\nAction: inventory",
];

/// Answers a chat completion after a short wait (long enough that the requests of several
/// workers overlap), counting the requests in flight.
async fn complete(State(load): State<Arc<Load>>, Json(request): Json<Value>) -> Json<Value> {
    let now = load.now.fetch_add(1, Ordering::SeqCst) + 1;
    load.most.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(15)).await;
    let turns = request["messages"].as_array().map_or(0, Vec::len);
    let seed = request["seed"].as_u64().unwrap_or(0);
    let content = REPLIES[(seed as usize + turns) % REPLIES.len()];
    load.now.fetch_sub(1, Ordering::SeqCst);
    Json(json!({
        "id": "x", "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 20 * turns, "completion_tokens": 6}
    }))
}

/// A chat-completions server on 127.0.0.1 (axum, on a thread of its own).
fn serve(load: Arc<Load>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = Router::new()
                .route("/v1/chat/completions", post(complete))
                .with_state(load);
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{addr}/v1")
}

#[test]
fn served_model_records_do_not_depend_on_requests_in_flight() {
    let root = crate::common::created_scratch("remote-eval");
    let envs = vec!["textcraft".to_owned(), "babyai".to_owned()];
    let registry = registry_for(&envs).unwrap();
    let load = Arc::new(Load::default());
    let url = serve(load.clone());
    let source = || {
        PolicySource::remote(
            &url,
            "served",
            None,
            None,
            TokenLimits {
                max_tokens_per_turn: 16,
                max_total_tokens: 400,
            },
            3,
        )
    };
    let mut files = Vec::new();
    for concurrency in [1, 6] {
        let out = root.join(format!("c{concurrency}.jsonl"));
        run_eval(
            &mut source().with_concurrency(concurrency),
            &registry,
            &envs,
            &out,
        );
        let most = load.most.swap(0, Ordering::SeqCst);
        assert!(
            most <= concurrency && (concurrency == 1 || most > 1),
            "{most} requests in flight at once with concurrency {concurrency}"
        );
        files.push(std::fs::read_to_string(&out).unwrap());
    }
    let grouped = root.join("grouped.jsonl");
    run_eval(&mut Grouped(source()), &registry, &envs, &grouped);
    files.push(std::fs::read_to_string(&grouped).unwrap());
    assert_eq!(files[0].lines().count(), 18);
    assert_eq!(files[0], files[1], "concurrency 1 and 6 differ");
    assert_eq!(
        files[0], files[2],
        "streamed and grouped record files differ"
    );
    // Each sample asked with its own seed, so the samples of a task are not all alike.
    let replies: std::collections::HashSet<String> = files[0]
        .lines()
        .map(|line| {
            let record: Value = serde_json::from_str(line).unwrap();
            record["episode"]["turns"][0]["reply"].to_string()
        })
        .collect();
    assert!(replies.len() > 1, "{replies:?}");
    std::fs::remove_dir_all(&root).ok();
}
