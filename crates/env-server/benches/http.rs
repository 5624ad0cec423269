//! Throughput and latency of `crossgym serve` on loopback: BabyAI and TextCraft with 64
//! concurrent keep-alive clients (the load generator of `crossgym_env_server::loadgen`), and,
//! when it can be started, AgentGym's Python BabyAI server driven by the same generator.
//!
//! ```text
//! cargo bench -p crossgym-env-server --bench http
//! # with the reference (a venv with fastapi, uvicorn, minigrid, gymnasium<1.0, gym, matplotlib):
//! AGENTGYM_REFERENCE=../shared/reference/agentgym \
//! CROSSGYM_REFERENCE_PYTHON=target/babyai-ref-server/bin/python \
//!     cargo bench -p crossgym-env-server --bench http
//! ```
//!
//! Environment: `CROSSGYM_BENCH_CLIENTS` (64), `CROSSGYM_BENCH_STEPS` (steps per client, 300),
//! `CROSSGYM_BENCH_REF_STEPS` (steps per client for the reference, 30).

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crossgym_env_server::loadgen::{Client, KillOnDrop, LoadReport, run_load};
use crossgym_env_server::{EnvName, Server, ServerConfig};

fn var(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn print(label: &str, clients: usize, report: &LoadReport) {
    println!(
        "{label:<28} {clients:>3} clients  {:>7} steps  {:>9.0} steps/s  p50 {:>8.2} ms  p99 {:>8.2} ms  errors {}",
        report.steps,
        report.steps_per_sec(),
        report.p50.as_secs_f64() * 1e3,
        report.p99.as_secs_f64() * 1e3,
        report.errors
    );
    for sample in &report.error_samples {
        println!("    error: {sample}");
    }
}

fn ours(env: EnvName, clients: usize, steps: usize) -> LoadReport {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime
        .block_on(Server::bind(ServerConfig::new(env)))
        .expect("bind");
    let addr = server.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = runtime.spawn(server.run(async {
        let _ = stopped.await;
    }));
    run_load(addr, env, clients, 20); // warm-up
    let report = run_load(addr, env, clients, steps);
    let _ = stop.send(());
    let _ = runtime.block_on(handle);
    report
}

/// AgentGym's BabyAI server (uvicorn, access log off), killed on drop.
struct Reference {
    child: KillOnDrop,
    addr: SocketAddr,
}

fn start_reference() -> Option<Reference> {
    let reference = PathBuf::from(std::env::var_os("AGENTGYM_REFERENCE")?);
    let python = std::env::var_os("CROSSGYM_REFERENCE_PYTHON")?;
    let port = TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/reference_server.py");
    let child = Command::new(python)
        .arg(script)
        .arg(reference.join("agentenv-babyai"))
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .ok()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut reference = Reference {
        child: KillOnDrop(child),
        addr,
    };
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        if let Ok(Some(_)) = reference.child.try_wait() {
            return None;
        }
        if Client::connect(addr)
            .and_then(|mut c| c.get("/"))
            .is_ok_and(|r| r.status == 200)
        {
            return Some(reference);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = reference.child.kill();
    None
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a tiny load then.
    let bench = std::env::args().any(|a| a == "--bench");
    let clients = var("CROSSGYM_BENCH_CLIENTS", 64);
    let steps = if bench {
        var("CROSSGYM_BENCH_STEPS", 300)
    } else {
        5
    };
    let ref_steps = var("CROSSGYM_BENCH_REF_STEPS", 30);
    println!(
        "loopback, {} CPUs; steps are `POST /step` round trips, latency per request",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let babyai = ours(EnvName::BabyAi, clients, steps);
    print("crossgym babyai", clients, &babyai);
    let textcraft = ours(EnvName::TextCraft, clients, steps);
    print("crossgym textcraft", clients, &textcraft);
    if !bench {
        return;
    }
    match start_reference() {
        Some(reference) => {
            run_load(reference.addr, EnvName::BabyAi, clients, 2); // warm-up
            let python = run_load(reference.addr, EnvName::BabyAi, clients, ref_steps);
            print("AgentGym babyai (Python)", clients, &python);
            println!(
                "babyai throughput ratio crossgym / AgentGym: {:.1}x (p99 {:.2} ms vs {:.2} ms)",
                babyai.steps_per_sec() / python.steps_per_sec().max(1e-9),
                babyai.p99.as_secs_f64() * 1e3,
                python.p99.as_secs_f64() * 1e3
            );
        }
        None => println!(
            "reference BabyAI server not started (set AGENTGYM_REFERENCE and CROSSGYM_REFERENCE_PYTHON)"
        ),
    }
}
