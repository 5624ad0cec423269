//! Request-body fuzzing: random JSON (well-typed, ill-typed and random shapes) and random bytes on
//! every route of every env; no response may be 5xx and the server must keep answering.

use crossgym_env_server::EnvName;
use crossgym_env_server::loadgen::Client;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use crate::common::Running;

fn routes(env: EnvName) -> &'static [(&'static str, &'static str)] {
    match env {
        EnvName::BabyAi => &[
            ("GET", "/"),
            ("POST", "/create"),
            ("POST", "/step"),
            ("POST", "/reset"),
            ("GET", "/observation"),
            ("POST", "/close"),
        ],
        EnvName::TextCraft => &[
            ("GET", "/"),
            ("POST", "/create"),
            ("POST", "/step"),
            ("POST", "/reset"),
            ("GET", "/observation"),
            ("GET", "/commands"),
            ("GET", "/goal"),
            ("GET", "/detail"),
            ("POST", "/close"),
        ],
        EnvName::AlfWorld => &[
            ("GET", "/"),
            ("POST", "/create"),
            ("POST", "/step"),
            ("POST", "/reset"),
            ("GET", "/available_actions"),
            ("GET", "/observation"),
            ("GET", "/detail"),
            ("POST", "/close"),
        ],
        EnvName::WebShop => &[
            ("GET", "/"),
            ("GET", "/list_envs"),
            ("POST", "/create"),
            ("POST", "/step"),
            ("GET", "/available_actions"),
            ("GET", "/instruction_text"),
            ("GET", "/observation"),
            ("GET", "/state"),
            ("POST", "/reset"),
            ("POST", "/close"),
        ],
        EnvName::SearchQa => &[
            ("GET", "/"),
            ("POST", "/create"),
            ("POST", "/step"),
            ("GET", "/observation"),
            ("POST", "/reset"),
            ("POST", "/close"),
        ],
    }
}

const FIELDS: [&str; 9] = [
    "id",
    "env_idx",
    "action",
    "data_idx",
    "game",
    "world_type",
    "session_id",
    "commands",
    "goal",
];

const ACTIONS: [&str; 12] = [
    "turn left",
    "move forward",
    "go to red ball 1",
    "get 1 oak logs",
    "craft 4 oak planks using 1 oak logs",
    "look",
    "go to desk 1",
    "search[red shoes]",
    "click[buy now]",
    "click[next >]",
    "<search>paris</search>",
    "<answer>Paris</answer>",
];

fn random_string(rng: &mut ChaCha8Rng) -> String {
    match rng.random_range(0..4) {
        0 => ACTIONS[rng.random_range(0..ACTIONS.len())].to_owned(),
        1 => ["Text", "Embody", "Hybrid", "Paint", ""][rng.random_range(0..5)].to_owned(),
        2 => (0..rng.random_range(0..40))
            .map(|_| char::from_u32(rng.random_range(0..0x3000)).unwrap_or('?'))
            .collect(),
        _ => rng.random_range(-3i64..10).to_string(),
    }
}

fn random_value(rng: &mut ChaCha8Rng, depth: u32) -> Value {
    match rng.random_range(0..if depth > 2 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.random_bool(0.5)),
        2 => json!(rng.random_range(-2i64..12)),
        3 => [
            json!(i64::MAX),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(1e300),
            json!(-0.0),
            json!(2.5),
        ][rng.random_range(0..6)]
        .clone(),
        4 | 5 => json!(random_string(rng)),
        6 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.random_range(0..4))
                .map(|_| (random_string(rng), random_value(rng, depth + 1)))
                .collect(),
        ),
    }
}

fn random_body(rng: &mut ChaCha8Rng) -> Vec<u8> {
    match rng.random_range(0..10) {
        0 => {
            let mut bytes = vec![0u8; rng.random_range(0..64)];
            rng.fill_bytes(&mut bytes);
            bytes
        }
        1 => random_value(rng, 0).to_string().into_bytes(),
        2 => {
            let mut text = random_value(rng, 0).to_string().into_bytes();
            let cut = rng.random_range(0..=text.len());
            text.truncate(cut);
            text
        }
        _ => {
            // Mostly well-formed objects with the protocol's field names, so the fuzz reaches
            // the env code with valid, out-of-range and ill-typed values.
            let mut object = Map::new();
            for field in FIELDS {
                if rng.random_bool(0.6) {
                    let value = match rng.random_range(0..5) {
                        0..=2 if field == "action" || field == "world_type" => {
                            json!(random_string(rng))
                        }
                        0..=2 => json!(rng.random_range(-1i64..6)),
                        _ => random_value(rng, 1),
                    };
                    object.insert(field.to_owned(), value);
                }
            }
            Value::Object(object).to_string().into_bytes()
        }
    }
}

fn random_query(rng: &mut ChaCha8Rng) -> String {
    let mut query = String::new();
    for field in ["id", "env_idx"] {
        if rng.random_bool(0.7) {
            let value = match rng.random_range(0..4) {
                0 => "abc".to_owned(),
                1 => "%FF%00".to_owned(),
                _ => rng.random_range(-1i64..6).to_string(),
            };
            query.push_str(&format!(
                "{}{field}={value}",
                if query.is_empty() { "?" } else { "&" }
            ));
        }
    }
    query
}

/// Sends `per_env` random requests to every env; returns how many were sent.
fn fuzz(per_env: usize, seed: u64) -> usize {
    let mut sent = 0;
    for env in EnvName::ALL {
        let server = Running::env(env);
        let mut client = Client::connect(server.addr).expect("connect");
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ env.as_str().len() as u64);
        // A few live sessions so that random ids hit real ones.
        for _ in 0..3 {
            let body = if env == EnvName::SearchQa {
                "{\"id\": 1}"
            } else {
                "{}"
            };
            client.post("/create", body).expect("create");
        }
        let routes = routes(env);
        for _ in 0..per_env {
            let (method, path) = routes[rng.random_range(0..routes.len())];
            let response = if method == "GET" {
                client.get(&format!("{path}{}", random_query(&mut rng)))
            } else {
                let body = random_body(&mut rng);
                client.request(method, path, &body)
            };
            let response = response.unwrap_or_else(|e| panic!("{env} {method} {path}: {e}"));
            assert!(
                response.status < 500,
                "{env} {method} {path}: {} {}",
                response.status,
                response.text()
            );
            sent += 1;
        }
        let alive = client.get("/").expect("alive");
        assert_eq!(alive.status, 200);
        server.stop();
    }
    sent
}

#[test]
fn random_bodies_never_get_a_5xx() {
    assert_eq!(fuzz(1_000, 7), 5_000);
}

/// 100,000 bodies: `cargo test -p crossgym-env-server --release --test tests -- --ignored fuzz_100k --nocapture`.
#[test]
#[ignore = "about 10 s in release; run with --ignored"]
fn fuzz_100k_bodies() {
    let sent = fuzz(20_000, 2026);
    println!("fuzz: {sent} requests, none answered 5xx");
    assert_eq!(sent, 100_000);
}
