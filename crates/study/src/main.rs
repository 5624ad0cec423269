//! The `crossgym` binary: parse flags, run the command, print errors.

use clap::Parser;

fn main() -> std::process::ExitCode {
    // Training allocates and frees large buffers every step: keep them for reuse.
    crossgym_policy::memory::keep_freed_memory();
    let cli = crossgym_study::cli::Cli::parse();
    match crossgym_study::cli::run(cli, &mut std::io::stdout().lock()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("crossgym: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
