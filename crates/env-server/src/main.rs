//! `crossgym-env-server`: one of crossgym's envs over AgentGym's HTTP protocol, as a binary of
//! its own (the same server as `crossgym serve`, without the model and study code).

use std::process::ExitCode;

use clap::Parser;
use crossgym_env_server::cli::ServeArgs;

/// Serve one crossgym env over AgentGym's HTTP protocol until SIGINT or SIGTERM.
#[derive(Debug, Parser)]
#[command(name = "crossgym-env-server", version, about)]
struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout();
    match crossgym_env_server::run_until_signal(cli.serve.config(), &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crossgym-env-server --env {}: {e}", cli.serve.env);
            ExitCode::FAILURE
        }
    }
}
