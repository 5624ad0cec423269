//! The OpenAI-compatible evaluation backend against a small HTTP server on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossgym_env_core::TaskId;
use crossgym_policy::{
    FinishReason, OpenAiAgent, RequestPolicy, RolloutLimits, SamplingParams, Trajectory,
    rollout_group,
};
use serde_json::{Value, json};

use crate::rollout::{LetterEnv, letter_env};

/// Serves chat completions: the first reply of a conversation has no `e` (the env says try
/// again), the second has one; records every request body. Answers 500 to a request without
/// messages.
fn serve(requests: Arc<Mutex<Vec<Value>>>) -> String {
    serve_flaky(requests, 0, "")
}

/// [`serve`], but the first `failures` requests get `failure` (a status line, with
/// `Retry-After: 0`) instead of an answer.
fn serve_flaky(requests: Arc<Mutex<Vec<Value>>>, failures: usize, failure: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
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
            reader.read_exact(&mut body).unwrap();
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let seen = {
                let mut requests = requests.lock().unwrap();
                requests.push(request.clone());
                requests.len()
            };
            let (status, answer) = match request["messages"].as_array() {
                _ if seen <= failures => (failure, json!({"error": "try later"})),
                Some(messages) => {
                    let replies = messages.iter().filter(|m| m["role"] == "assistant").count();
                    let content = if replies <= 1 {
                        "Action: go north"
                    } else {
                        "Action: use e"
                    };
                    (
                        "200 OK",
                        json!({
                            "id": "x", "object": "chat.completion",
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": content}}],
                            "usage": {"prompt_tokens": 10 * messages.len(), "completion_tokens": 4}
                        }),
                    )
                }
                None => ("500 Internal Server Error", json!({"error": "no messages"})),
            };
            let text = answer.to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nRetry-After: 0\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    format!("http://{addr}/v1")
}

#[test]
fn remote_agent_plays_a_group_through_the_rollout_loop() {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let url = serve(requests.clone());
    let mut agent = OpenAiAgent::new(
        &url,
        "served-model",
        SamplingParams::with_temperature(0.7, 42),
    )
    .with_api_key("secret");
    let mut envs: Vec<LetterEnv> = (0..2).map(|_| letter_env()).collect();
    let limits = RolloutLimits {
        max_turns: 5,
        max_tokens_per_turn: 64,
        max_total_tokens: 1000,
    };
    let group = rollout_group(&mut envs, TaskId(2), &mut agent, Some("sys"), &limits).unwrap();
    for t in &group {
        assert_eq!(t.turns(), 2);
        assert_eq!(t.reward(), 1.0);
        assert_eq!(t.finish, FinishReason::Done);
        assert_eq!(t.steps[0].reply, "Action: go north");
        assert_eq!(t.steps[0].observation, "Turn 1 failed, again.");
        assert_eq!(t.generated_tokens, 8);
        assert!(t.tokens.is_empty() && t.loss_mask.is_empty());
    }
    let requests = requests.lock().unwrap();
    assert_eq!(requests.len(), 4);
    let first = &requests[0];
    assert_eq!(first["model"], "served-model");
    assert_eq!(first["max_tokens"], 64);
    assert_eq!(first["temperature"], 0.7);
    let roles: Vec<&str> = first["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert_eq!(first["messages"][3]["content"], "Task 2: go.");
    // Rows get different seeds.
    assert_ne!(requests[0]["seed"], requests[1]["seed"]);
}

#[test]
fn remote_errors_name_the_endpoint() {
    // Nothing listens on this port once the listener is dropped.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/v1");
    let err = play_one(&url, quick_retries(2)).unwrap_err().to_string();
    // A refused connection is retried like an overloaded server.
    assert!(err.contains(&url) && err.contains("after 3 tries"), "{err}");
}

/// Retries with waits too short to slow the tests.
fn quick_retries(max_retries: u32) -> RequestPolicy {
    RequestPolicy {
        timeout: Duration::from_secs(30),
        max_retries,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
    }
}

fn play_one(url: &str, policy: RequestPolicy) -> crossgym_policy::Result<Vec<Trajectory>> {
    let mut agent =
        OpenAiAgent::new(url, "m", SamplingParams::greedy()).with_request_policy(policy);
    let mut envs = vec![letter_env()];
    let limits = RolloutLimits {
        max_turns: 5,
        max_tokens_per_turn: 8,
        max_total_tokens: 1000,
    };
    rollout_group(&mut envs, TaskId(0), &mut agent, None, &limits)
}

#[test]
fn overloaded_and_failing_servers_are_retried() {
    for status in [
        "429 Too Many Requests",
        "503 Service Unavailable",
        "500 Internal Server Error",
    ] {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let url = serve_flaky(requests.clone(), 3, status);
        let played = play_one(&url, quick_retries(3)).unwrap();
        assert_eq!(played[0].reward(), 1.0, "{status}");
        // Three refused tries, then the episode's two replies.
        assert_eq!(requests.lock().unwrap().len(), 5, "{status}");
    }
}

#[test]
fn retries_stop_at_the_limit_and_client_errors_are_not_retried() {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let url = serve_flaky(requests.clone(), 10, "503 Service Unavailable");
    let err = play_one(&url, quick_retries(2)).unwrap_err().to_string();
    assert!(
        err.contains("503") && err.contains("after 3 tries"),
        "{err}"
    );
    assert_eq!(requests.lock().unwrap().len(), 3);

    let requests = Arc::new(Mutex::new(Vec::new()));
    let url = serve_flaky(requests.clone(), 10, "400 Bad Request");
    let err = play_one(&url, quick_retries(5)).unwrap_err().to_string();
    assert!(err.contains("400") && !err.contains("tries"), "{err}");
    assert_eq!(requests.lock().unwrap().len(), 1);
}

#[test]
fn backoff_doubles_up_to_its_cap_and_honours_retry_after() {
    let policy = RequestPolicy::default();
    let waits: Vec<u64> = (0..8)
        .map(|r| policy.backoff_for(r, None).as_millis() as u64)
        .collect();
    assert_eq!(waits, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    assert_eq!(
        policy.backoff_for(0, Some(Duration::from_secs(3))),
        Duration::from_secs(3)
    );
    assert_eq!(policy.backoff_for(40, None), Duration::from_secs(30));
}
