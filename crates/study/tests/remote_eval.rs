//! Evaluating a model served over the OpenAI API with many requests in flight: the record file
//! does not depend on the concurrency and equals the one-group-at-a-time path's.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crossgym_env_core::{Registry, Split};
use crossgym_study::envs::registry_for;
use crossgym_study::eval::{EpisodeSource, EvalOptions, evaluate};
use crossgym_study::plan::Plan;
use crossgym_study::policy_source::{PolicySource, TokenLimits};
use crossgym_study::records::Checkpoint;
use serde_json::{Value, json};

use crate::stream_eval::Grouped;

/// Requests now being answered, and the most at once.
#[derive(Default)]
struct Load {
    now: AtomicUsize,
    most: AtomicUsize,
    total: AtomicUsize,
}

/// Replies the server picks from by the request's seed and turn, so samples differ.
const REPLIES: [&str; 4] = [
    "Thought: look.\nAction: go forward",
    "Thought: turn.\nAction: turn left",
    "Thought: craft.\nAction: get 1 oak log",
    "Thought: check.\nAction: inventory",
];

fn answer(stream: TcpStream, load: &Load) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let now = load.now.fetch_add(1, Ordering::SeqCst) + 1;
    load.most.fetch_max(now, Ordering::SeqCst);
    load.total.fetch_add(1, Ordering::SeqCst);
    // Long enough that requests of several workers overlap.
    std::thread::sleep(Duration::from_millis(15));
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let turns = request["messages"].as_array().map_or(0, Vec::len);
    let seed = request["seed"].as_u64().unwrap_or(0);
    let content = REPLIES[(seed as usize + turns) % REPLIES.len()];
    let text = json!({
        "id": "x", "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 20 * turns, "completion_tokens": 6}
    })
    .to_string();
    load.now.fetch_sub(1, Ordering::SeqCst);
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}

/// A chat-completions server on 127.0.0.1 answering each connection on its own thread.
fn serve(load: Arc<Load>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let load = load.clone();
            std::thread::spawn(move || answer(stream, &load));
        }
    });
    format!("http://{addr}/v1")
}

fn run_eval(source: &mut dyn EpisodeSource, registry: &Registry, envs: &[String], out: &Path) {
    let mut plan = Plan::paper("remote", envs, None, 0);
    plan.runs[0].eval.k = 3;
    plan.runs[0].eval.max_turns = 3;
    plan.runs[0].eval.max_tasks = Some(4);
    std::fs::remove_file(out).ok();
    let played = evaluate(
        &plan.runs[0],
        Checkpoint::START,
        registry,
        source,
        None,
        out,
        &EvalOptions {
            splits: vec![Split::Test],
            ..EvalOptions::default()
        },
    )
    .unwrap();
    assert_eq!(played, envs.len() * 4 * 3);
}

#[test]
fn served_model_records_do_not_depend_on_requests_in_flight() {
    let root = std::env::temp_dir().join(format!("crossgym-remote-eval-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
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
    assert_eq!(files[0].lines().count(), 24);
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
