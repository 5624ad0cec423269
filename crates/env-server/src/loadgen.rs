//! A small blocking HTTP/1.1 client (keep-alive, `Content-Length` bodies) and a load generator
//! that plays the AgentGym protocol of any env with N concurrent clients, for the tests and the
//! throughput bench. It speaks to any server of the protocol, so the same generator drives
//! crossgym's server and AgentGym's Python reference server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::ops::{Deref, DerefMut};
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::EnvName;

/// What can go wrong talking to a server.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The connection failed.
    #[error("{addr}: {source}")]
    Io {
        /// The server.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The response was not HTTP/1.1 as expected.
    #[error("{addr}: malformed response: {message}")]
    Protocol {
        /// The server.
        addr: SocketAddr,
        /// What was wrong.
        message: String,
    },
    /// The body was not JSON.
    #[error("response body is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The server answered something the protocol does not allow here.
    #[error("unexpected answer to {what}: {answer}")]
    Unexpected {
        /// The request.
        what: String,
        /// The status and body.
        answer: String,
    },
}

/// One HTTP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The body as JSON.
    pub fn json(&self) -> Result<Value, LoadError> {
        Ok(serde_json::from_slice(&self.body)?)
    }

    /// The body as (lossy) text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A keep-alive connection to one server (reconnects when the server closes it).
#[derive(Debug)]
pub struct Client {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
}

impl Client {
    /// Connects to `addr`.
    pub fn connect(addr: SocketAddr) -> Result<Client, LoadError> {
        let mut client = Client { addr, stream: None };
        client.reconnect()?;
        Ok(client)
    }

    fn io(&self, source: std::io::Error) -> LoadError {
        LoadError::Io {
            addr: self.addr,
            source,
        }
    }

    fn reconnect(&mut self) -> Result<(), LoadError> {
        let stream = TcpStream::connect(self.addr).map_err(|e| self.io(e))?;
        stream.set_nodelay(true).map_err(|e| self.io(e))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|e| self.io(e))?;
        self.stream = Some(BufReader::new(stream));
        Ok(())
    }

    /// Sends one request with a raw body (sent as `application/json` when not empty).
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<HttpResponse, LoadError> {
        match self.try_request(method, path, body) {
            Ok(response) => Ok(response),
            // A kept-alive connection the server closed: retry once on a fresh one.
            Err(LoadError::Io { .. }) => {
                self.reconnect()?;
                self.try_request(method, path, body)
            }
            Err(other) => Err(other),
        }
    }

    fn try_request(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<HttpResponse, LoadError> {
        if self.stream.is_none() {
            self.reconnect()?;
        }
        let addr = self.addr;
        let io = |source| LoadError::Io { addr, source };
        let protocol = |message: String| LoadError::Protocol { addr, message };
        let Some(reader) = self.stream.as_mut() else {
            return Err(protocol("no connection".into()));
        };
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n",
            body.len()
        );
        if !body.is_empty() {
            head.push_str("Content-Type: application/json\r\n");
        }
        head.push_str("\r\n");
        let stream = reader.get_mut();
        stream.write_all(head.as_bytes()).map_err(io)?;
        stream.write_all(body).map_err(io)?;
        let mut line = String::new();
        if reader.read_line(&mut line).map_err(io)? == 0 {
            self.stream = None;
            return Err(io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| protocol(format!("status line {line:?}")))?;
        let mut length = None;
        let mut close = false;
        loop {
            line.clear();
            reader.read_line(&mut line).map_err(io)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse::<usize>().ok();
                } else if name.eq_ignore_ascii_case("connection") {
                    close = value.eq_ignore_ascii_case("close");
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    return Err(protocol(format!("unsupported transfer-encoding {value}")));
                }
            }
        }
        let mut body = vec![0; length.unwrap_or(0)];
        reader.read_exact(&mut body).map_err(io)?;
        if close {
            self.stream = None;
        }
        Ok(HttpResponse { status, body })
    }

    /// `POST path` with a JSON body text.
    pub fn post(&mut self, path: &str, body: &str) -> Result<HttpResponse, LoadError> {
        self.request("POST", path, body.as_bytes())
    }

    /// `GET path`.
    pub fn get(&mut self, path: &str) -> Result<HttpResponse, LoadError> {
        self.request("GET", path, b"")
    }
}

/// How one env's protocol is played by the load generator.
#[derive(Clone, Copy, Debug)]
struct Protocol {
    id_field: &'static str,
    create_body: fn(usize) -> String,
    id_of: fn(&Value) -> Option<u64>,
    reset_body: fn(u64, usize) -> String,
    actions: &'static [&'static str],
}

fn protocol(env: EnvName) -> Protocol {
    let nested = |v: &Value| v["id"].as_u64();
    let bare = |v: &Value| v.as_u64();
    match env {
        EnvName::BabyAi => Protocol {
            id_field: "id",
            create_body: |_| String::new(),
            id_of: nested,
            reset_body: |id, task| json!({ "id": id, "data_idx": task }).to_string(),
            actions: &[
                "turn left",
                "turn right",
                "move forward",
                "turn left",
                "pick up key 1",
            ],
        },
        EnvName::TextCraft => Protocol {
            id_field: "id",
            create_body: |_| "{}".to_owned(),
            id_of: nested,
            reset_body: |id, task| json!({ "id": id, "data_idx": task }).to_string(),
            actions: &[
                "inventory",
                "get 1 oak logs",
                "craft 4 oak planks using 1 oak logs",
                "get 2 stone",
            ],
        },
        EnvName::AlfWorld => Protocol {
            id_field: "id",
            create_body: |_| String::new(),
            id_of: nested,
            reset_body: |id, task| {
                json!({ "id": id, "game": task % 2620, "world_type": "Text" }).to_string()
            },
            actions: &["look", "inventory", "go to countertop 1", "open drawer 1"],
        },
        EnvName::WebShop => Protocol {
            id_field: "env_idx",
            create_body: |_| String::new(),
            id_of: bare,
            reset_body: |id, task| json!({ "env_idx": id, "session_id": task % 100 }).to_string(),
            actions: &[
                "search[red shoes]",
                "click[next >]",
                "click[< prev]",
                "click[back to search]",
            ],
        },
        EnvName::SearchQa => Protocol {
            id_field: "env_idx",
            create_body: |task| json!({ "id": task % 400 }).to_string(),
            id_of: bare,
            reset_body: |id, task| json!({ "env_idx": id, "id": task % 400 }).to_string(),
            actions: &[
                "<search>capital of france</search>",
                "<think>hm</think>",
                "<answer>Paris</answer>",
            ],
        },
    }
}

/// What a load run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadReport {
    /// `/step` requests answered.
    pub steps: u64,
    /// Other requests answered (`/create`, `/reset`, `/close`).
    pub other_requests: u64,
    /// Requests that failed or answered an error.
    pub errors: u64,
    /// The first few error descriptions.
    pub error_samples: Vec<String>,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Median `/step` latency.
    pub p50: Duration,
    /// 99th-percentile `/step` latency.
    pub p99: Duration,
}

impl LoadReport {
    /// `/step` requests per second.
    pub fn steps_per_sec(&self) -> f64 {
        self.steps as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

struct ClientRun {
    steps: u64,
    other: u64,
    errors: Vec<String>,
    latencies: Vec<Duration>,
}

/// One client: create a session, reset it, step `steps` times (resetting whenever the episode
/// ends), close it. Every 50 steps it resets to the next task.
/// A server process under load, killed and reaped when dropped (a failed assertion or a panic
/// must not leave it running).
#[derive(Debug)]
pub struct KillOnDrop(pub Child);

impl Deref for KillOnDrop {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The JSON of a 200 answer; `None` for a failed request, another status or a body that is not
/// JSON.
fn ok_json(answer: &Result<HttpResponse, LoadError>) -> Option<Value> {
    answer
        .as_ref()
        .ok()
        .filter(|r| r.status == 200)
        .and_then(|r| r.json().ok())
}

fn play(addr: SocketAddr, env: EnvName, client_index: usize, steps: usize) -> ClientRun {
    let mut run = ClientRun {
        steps: 0,
        other: 0,
        errors: Vec::new(),
        latencies: Vec::with_capacity(steps),
    };
    let p = protocol(env);
    let fail = |run: &mut ClientRun, what: &str, detail: String| {
        run.errors
            .push(format!("client {client_index}: {what}: {detail}"));
    };
    let mut client = match Client::connect(addr) {
        Ok(client) => client,
        Err(e) => {
            fail(&mut run, "connect", e.to_string());
            return run;
        }
    };
    let created = client.post("/create", &(p.create_body)(client_index));
    run.other += 1;
    let id = match ok_json(&created).and_then(|v| (p.id_of)(&v)) {
        Some(id) => id,
        None => {
            fail(&mut run, "create", format!("{created:?}"));
            return run;
        }
    };
    let mut task = client_index;
    let reset = |client: &mut Client, run: &mut ClientRun, task: usize| {
        run.other += 1;
        match client.post("/reset", &(p.reset_body)(id, task)) {
            Ok(r) if r.status == 200 && !r.text().starts_with("{\"error\"") => {}
            other => fail(run, "reset", format!("{other:?}")),
        }
    };
    reset(&mut client, &mut run, task);
    for i in 0..steps {
        let action = p.actions[(client_index + i) % p.actions.len()];
        let body = json!({ p.id_field: id, "action": action }).to_string();
        let start = Instant::now();
        let answer = client.post("/step", &body);
        run.latencies.push(start.elapsed());
        run.steps += 1;
        let done = match ok_json(&answer) {
            Some(value) if value.get("error").is_none() => value["done"].as_bool().unwrap_or(false),
            _ => {
                fail(&mut run, "step", format!("{answer:?}"));
                true
            }
        };
        if done || (i + 1) % 50 == 0 {
            task += 1;
            reset(&mut client, &mut run, task);
        }
    }
    run.other += 1;
    if let Err(e) = client.post("/close", &json!({ p.id_field: id }).to_string()) {
        fail(&mut run, "close", e.to_string());
    }
    run
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Runs `clients` concurrent clients (threads) against the `env` server at `addr`, each doing
/// `steps_per_client` steps.
pub fn run_load(
    addr: SocketAddr,
    env: EnvName,
    clients: usize,
    steps_per_client: usize,
) -> LoadReport {
    let start = Instant::now();
    let runs: Vec<ClientRun> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|c| scope.spawn(move || play(addr, env, c, steps_per_client)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| ClientRun {
                    steps: 0,
                    other: 0,
                    errors: vec!["client thread panicked".into()],
                    latencies: Vec::new(),
                })
            })
            .collect()
    });
    let elapsed = start.elapsed();
    let mut latencies: Vec<Duration> = runs
        .iter()
        .flat_map(|r| r.latencies.iter().copied())
        .collect();
    latencies.sort_unstable();
    let errors: Vec<String> = runs.iter().flat_map(|r| r.errors.iter().cloned()).collect();
    LoadReport {
        steps: runs.iter().map(|r| r.steps).sum(),
        other_requests: runs.iter().map(|r| r.other).sum(),
        errors: errors.len() as u64,
        error_samples: errors.into_iter().take(5).collect(),
        elapsed,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
    }
}
