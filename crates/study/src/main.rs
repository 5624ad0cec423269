//! The `crossgym` binary: parse flags, run the command, print errors.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = crossgym_study::cli::Cli::parse();
    match crossgym_study::cli::run(cli, &mut std::io::stdout().lock()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("crossgym: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
