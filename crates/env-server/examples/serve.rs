//! Serves one env without building the `crossgym` CLI (which links the ML stack):
//! `cargo run --release -p crossgym-env-server --example serve -- ENV [PORT]`.
//! `crossgym serve` is the full command (host, session cap, idle timeout, request log).

use crossgym_env_server::{EnvName, ServerConfig, run_until_signal};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(env) = args.first().and_then(|a| a.parse::<EnvName>().ok()) else {
        eprintln!("usage: serve ENV [PORT]  (ENV: webshop, searchqa, textcraft, alfworld, babyai)");
        return std::process::ExitCode::FAILURE;
    };
    let port = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    let config = ServerConfig {
        addr: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        ..ServerConfig::new(env)
    };
    match run_until_signal(config, &mut std::io::stdout()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("serve: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
