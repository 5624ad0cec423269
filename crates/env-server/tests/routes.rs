//! Each env's routes and JSON shapes, the reference's error shapes, 422s, and session bounds.

use std::time::Duration;

use axum::http::StatusCode;
use crossgym_env_server::loadgen::Client;
use crossgym_env_server::{EnvName, ServerConfig, router};
use serde_json::{Value, json};

use crate::common::{Running, call, get, post, post_empty};

fn app(env: EnvName) -> axum::Router {
    router(&ServerConfig::new(env)).expect("router")
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

#[tokio::test]
async fn babyai_routes() {
    let r = app(EnvName::BabyAi);
    assert_eq!(get(&r, "/").await, json!("This is environment BabyAI."));
    let (status, created) = call(&r, "POST", "/create", "").await;
    assert_eq!(status, StatusCode::OK);
    let id = created["id"].as_u64().expect("id");
    let before = get(&r, &format!("/observation?id={id}")).await;
    assert_eq!(before["observation"], json!("Environment not initialized"));
    let reset = post(&r, "/reset", json!({"id": id, "data_idx": 1})).await;
    assert!(text(&reset["observation"]).starts_with("Your goal: go to the red ball\n"));
    assert_eq!(
        (reset["score"].as_f64(), reset["done"].as_bool()),
        (Some(0.0), Some(false))
    );
    let step = post(&r, "/step", json!({"id": id, "action": "turn left"})).await;
    for key in ["observation", "reward", "score", "done"] {
        assert!(step.get(key).is_some(), "{key} missing in {step}");
    }
    let observed = get(&r, &format!("/observation?id={id}")).await;
    assert!(text(&observed["observation"]).starts_with("Your goal: go to the red ball\n"));
    let bad = post(&r, "/step", json!({"id": id, "action": "fly"})).await;
    assert!(text(&bad["observation"]).starts_with("The action is not recognized."));
    assert_eq!(post(&r, "/close", json!({"id": id})).await, json!(true));
    assert_eq!(post(&r, "/close", json!({"id": id})).await, json!(false));
    let (status, gone) = call(
        &r,
        "POST",
        "/step",
        &json!({"id": id, "action": "turn left"}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text(&gone["error"]).starts_with(&format!("The id {id} is not valid.")),
        "{gone}"
    );
    let unknown = post(&r, "/reset", json!({"id": 999, "data_idx": 0})).await;
    assert_eq!(unknown, json!({"error": "The id 999 is not valid."}));
}

#[tokio::test]
async fn textcraft_routes() {
    let r = app(EnvName::TextCraft);
    let created = post(&r, "/create", json!({"commands": null, "goal": null})).await;
    let id = created["id"].as_u64().expect("id");
    assert!(text(&created["observation"]).starts_with("Crafting commands:\n"));
    assert_eq!(
        (created["done"].clone(), created["reward"].clone()),
        (json!(false), json!(0))
    );
    let reset = post(&r, "/reset", json!({"id": id, "data_idx": 0})).await;
    assert!(text(&reset["observation"]).ends_with("Goal: craft acacia planks."));
    let goal = get(&r, &format!("/goal?id={id}")).await;
    assert!(text(&goal).contains("acacia_planks"), "{goal}");
    let commands = get(&r, &format!("/commands?id={id}")).await;
    assert!(text(&reset["observation"]).contains(text(&commands)));
    let got = post(
        &r,
        "/step",
        json!({"id": id, "action": "get 1 acacia logs"}),
    )
    .await;
    assert_eq!(
        got,
        json!({"observation": "Got 1 acacia logs", "reward": 0, "done": false})
    );
    let crafted = post(
        &r,
        "/step",
        json!({"id": id, "action": "craft 4 acacia planks using 1 acacia logs"}),
    )
    .await;
    assert_eq!(crafted["reward"], json!(1));
    assert_eq!(crafted["done"], json!(true));
    // The reference keeps answering after the goal is crafted.
    let after = post(&r, "/step", json!({"id": id, "action": "inventory"})).await;
    assert!(
        text(&after["observation"]).starts_with("Inventory:"),
        "{after}"
    );
    let detail = get(&r, &format!("/detail?id={id}")).await;
    assert_eq!(detail["deleted"], json!(false));
    assert_eq!(
        get(&r, &format!("/observation?id={id}")).await,
        after["observation"]
    );
}

#[tokio::test]
async fn alfworld_routes() {
    let r = app(EnvName::AlfWorld);
    let created = post_empty(&r, "/create").await;
    let id = created["id"].as_u64().expect("id");
    let wrong = post(
        &r,
        "/reset",
        json!({"id": id, "game": 0, "world_type": "Paint"}),
    )
    .await;
    assert_eq!(
        wrong,
        json!({"error": "world_type must be one of \"Text\", \"Embody\" and \"Hybrid\""})
    );
    let reset = post(
        &r,
        "/reset",
        json!({"id": id, "game": 3, "world_type": "Text"}),
    )
    .await;
    assert!(
        text(&reset["observation"]).contains("Your task is to: "),
        "{reset}"
    );
    assert!(
        reset["available_actions"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    assert!(text(&reset["task_type"]).contains('/'));
    let step = post(&r, "/step", json!({"id": id, "action": "dance"})).await;
    assert_eq!(step["observation"], json!("Nothing happens."));
    assert_eq!(
        (step["reward"].as_f64(), step["done"].as_bool()),
        (Some(0.0), Some(false))
    );
    let actions = get(&r, &format!("/available_actions?id={id}")).await;
    assert_eq!(actions, step["available_actions"]);
    let detail = get(&r, &format!("/detail?id={id}")).await;
    assert_eq!(
        (detail["game"].clone(), detail["world_type"].clone()),
        (json!(3), json!("Text"))
    );
    for _ in 1..50 {
        post(&r, "/step", json!({"id": id, "action": "dance"})).await;
    }
    let finished = post(&r, "/step", json!({"id": id, "action": "look"})).await;
    assert_eq!(
        finished,
        json!({"error": format!("The task with environment {id} has finished.")})
    );
    let out_of_range = post(
        &r,
        "/reset",
        json!({"id": id, "game": 99999, "world_type": "Text"}),
    )
    .await;
    assert!(out_of_range["error"].is_string());
}

#[tokio::test]
async fn webshop_routes() {
    let r = app(EnvName::WebShop);
    assert_eq!(get(&r, "/").await, json!("ok"));
    let id = post_empty(&r, "/create").await;
    let id = id.as_u64().expect("bare id");
    assert_eq!(get(&r, "/list_envs").await, json!([id]));
    let reset = post(&r, "/reset", json!({"env_idx": id, "session_id": 5})).await;
    assert_eq!(reset[1], Value::Null);
    assert!(
        text(&reset[0]).starts_with("WebShop [SEP] Instruction: [SEP]"),
        "{reset}"
    );
    let actions = get(&r, &format!("/available_actions?env_idx={id}")).await;
    assert_eq!(
        actions,
        json!({"has_search_bar": true, "clickables": ["search"]})
    );
    let instruction = get(&r, &format!("/instruction_text?env_idx={id}")).await;
    assert!(text(&instruction).starts_with("Instruction: "));
    let step = post(
        &r,
        "/step",
        json!({"env_idx": id, "action": "search[shoes]"}),
    )
    .await;
    assert!(text(&step["state"]).contains("[SEP] Next >"), "{step}");
    assert_eq!(step["info"], Value::Null);
    let observed = get(&r, &format!("/observation?env_idx={id}")).await;
    assert_eq!(observed, step["state"]);
    let state = get(&r, &format!("/state?env_idx={id}")).await;
    assert!(state["error"].is_string());
    let unknown = post(&r, "/step", json!({"env_idx": 77, "action": "search[x]"})).await;
    assert_eq!(unknown, json!({"error": "Env 77 not found"}));
    assert_eq!(
        post(&r, "/close", json!({"env_idx": id})).await,
        json!(true)
    );
    assert_eq!(get(&r, "/list_envs").await, json!([]));
}

#[tokio::test]
async fn searchqa_routes() {
    let r = app(EnvName::SearchQa);
    let id = post(&r, "/create", json!({"id": 0})).await;
    let id = id.as_u64().expect("bare id");
    let prompt = post(&r, "/reset", json!({"env_idx": id, "id": 3})).await;
    assert!(text(&prompt).contains("Question: "));
    assert_eq!(get(&r, &format!("/observation?env_idx={id}")).await, prompt);
    let step = post(
        &r,
        "/step",
        json!({"env_idx": id, "action": "<search>paris</search>"}),
    )
    .await;
    assert!(
        text(&step["observation"]).starts_with("<information>Doc 1(Title: "),
        "{step}"
    );
    assert_eq!(step["info"], Value::Null);
    let invalid = post(&r, "/step", json!({"env_idx": id, "action": "hm"})).await;
    assert!(text(&invalid["observation"]).starts_with("Your previous action is invalid."));
    let bad_item = post(&r, "/create", json!({"id": 10_000_000})).await;
    assert!(bad_item["error"].is_string());
}

#[tokio::test]
async fn bad_bodies_get_fastapi_422s_and_unknown_routes_404() {
    let r = app(EnvName::BabyAi);
    let (status, body) = call(&r, "POST", "/step", "{not json").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["type"], json!("json_invalid"));
    let (status, body) = call(&r, "POST", "/step", &json!({"action": "x"}).to_string()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["loc"], json!(["body", "id"]));
    assert_eq!(body["detail"][0]["msg"], json!("Field required"));
    let (status, body) = call(&r, "GET", "/observation?id=abc", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["type"], json!("int_parsing"));
    let (status, _) = call(&r, "POST", "/reset", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = call(&r, "GET", "/nowhere", "").await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, json!({"detail": "Not Found"}))
    );
}

#[test]
fn the_cap_evicts_the_least_recently_used_session_and_names_it() {
    let server = Running::start(ServerConfig {
        max_sessions: 3,
        ..ServerConfig::new(EnvName::BabyAi)
    });
    let mut client = Client::connect(server.addr).expect("connect");
    let ids: Vec<u64> = (0..5)
        .map(|_| {
            client.post("/create", "").unwrap().json().unwrap()["id"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(ids, [0, 1, 2, 3, 4], "ids are sequential and never reused");
    let evicted = client
        .post("/reset", &json!({"id": 0, "data_idx": 0}).to_string())
        .unwrap()
        .json()
        .unwrap();
    let message = evicted["error"].as_str().expect("error");
    assert!(
        message.starts_with("The id 0 is not valid.") && message.contains("at most 3 sessions"),
        "{message}"
    );
    let live = client
        .post("/reset", &json!({"id": 4, "data_idx": 0}).to_string())
        .unwrap()
        .json()
        .unwrap();
    assert!(live.get("error").is_none(), "{live}");
    let stats = client.get("/crossgym/stats").unwrap().json().unwrap();
    assert_eq!(
        (stats["live"].clone(), stats["evicted_cap"].clone()),
        (json!(3), json!(2))
    );
    server.stop();
}

#[test]
fn the_sweeper_evicts_idle_sessions() {
    let server = Running::start(ServerConfig {
        idle_timeout: Duration::from_millis(100),
        ..ServerConfig::new(EnvName::TextCraft)
    });
    let mut client = Client::connect(server.addr).expect("connect");
    let id = client.post("/create", "{}").unwrap().json().unwrap()["id"]
        .as_u64()
        .unwrap();
    let mut waited = Duration::ZERO;
    while server.stats.stats().evicted_idle == 0 && waited < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
        waited += Duration::from_millis(20);
    }
    let answer = client
        .post(
            "/step",
            &json!({"id": id, "action": "inventory"}).to_string(),
        )
        .unwrap()
        .json()
        .unwrap();
    assert!(
        answer["error"].as_str().is_some_and(|m| m.contains("idle")),
        "{answer}"
    );
    server.stop();
}
