//! `cargo xtask`: repository automation for crossgym.
//!
//! Only orchestration lives here; every piece of logic it runs is in a library crate or in
//! cargo itself.

use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

/// Repository automation for crossgym.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run what CI runs: format check, clippy with warnings denied, the test suite, and docs.
    Ci {
        /// Skip `cargo doc` (it is the slowest step after the tests).
        #[arg(long)]
        no_doc: bool,
    },
    /// Run the criterion benchmarks of one crate (all crates when omitted).
    Bench {
        /// Package to benchmark, e.g. `crossgym-env-babyai`.
        #[arg(long, short)]
        package: Option<String>,
        /// Extra arguments for criterion (after `--`).
        #[arg(last = true)]
        criterion_args: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let steps: Vec<Vec<String>> = match cli.command {
        Task::Ci { no_doc } => {
            let mut steps = vec![
                args(&["fmt", "--all", "--check"]),
                args(&[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ]),
                args(&["test", "--workspace"]),
            ];
            if !no_doc {
                steps.push(args(&["doc", "--workspace", "--no-deps"]));
            }
            steps
        }
        Task::Bench {
            package,
            criterion_args,
        } => {
            let mut step = args(&["bench"]);
            match package {
                Some(package) => step.extend(["--package".to_owned(), package]),
                None => step.push("--workspace".to_owned()),
            }
            if !criterion_args.is_empty() {
                step.push("--".to_owned());
                step.extend(criterion_args);
            }
            vec![step]
        }
    };
    for step in steps {
        if let Err(message) = run_cargo(&step) {
            eprintln!("xtask: {message}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|arg| (*arg).to_owned()).collect()
}

fn run_cargo(arguments: &[String]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!("xtask: cargo {}", arguments.join(" "));
    let mut command = Command::new(cargo);
    command.args(arguments);
    if arguments.first().is_some_and(|first| first == "doc") {
        command.env("RUSTDOCFLAGS", "-D warnings");
    }
    let status = command
        .status()
        .map_err(|error| format!("could not start cargo: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", arguments.join(" ")))
    }
}
