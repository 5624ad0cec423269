//! `cargo xtask`: repository automation for crossgym.
//!
//! Only orchestration lives here; every piece of logic it runs is in a library crate or in
//! cargo itself.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

mod ci;
mod cuda;
mod fuzz;

/// Repository automation for crossgym.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run what CI runs (`.ci/run` calls this): format check, clippy with warnings denied, the
    /// test suite (the hub test on hf-hub's path among them), the ignored correctness tests (the
    /// smoke study among them), AgentGym's clients against the env server, the CUDA cross-build
    /// and the docs.
    Ci {
        /// Skip `cargo doc`.
        #[arg(long)]
        no_doc: bool,
        /// Skip the CUDA cross-build (the slowest step).
        #[arg(long)]
        no_cuda: bool,
    },
    /// Run the whole study at a preset scale (see `crossgym reproduce --help`); resumable.
    ///
    /// `smoke` builds in the dev profile (its dependencies are optimised; CI reuses the test
    /// build), `cpu` and `cpu-full` in release, and the paper presets in release with `--features cuda,hub`,
    /// after checking that an NVIDIA GPU is visible.
    Reproduce {
        /// smoke | cpu | cpu-full | paper-3b | paper-7b.
        #[arg(long)]
        preset: String,
        /// Axes to run, comma-separated (default 1,2,3).
        #[arg(long, default_value = "1,2,3")]
        axes: String,
        /// Output folder (default `target/reproduce/PRESET`).
        #[arg(long)]
        out: Option<String>,
        /// No progress bars.
        #[arg(long)]
        quiet: bool,
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
    /// Build `crossgym` with CUDA (features cuda,hub) for a GPU machine, here without a GPU.
    ///
    /// Installs the pinned CUDA 13.0 wheels into `target/cuda-toolkit` (once), makes link-time
    /// stubs for the GPU-only libraries, builds in `target/cuda`, and copies the stripped binary
    /// and its launcher `run-crossgym.sh` to OUT.
    BuildCuda {
        /// Output folder (default `target/cuda-bin`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Compute capability without the dot (H100/H200: 90).
        #[arg(long, default_value = cuda::DEFAULT_COMPUTE_CAP)]
        compute_cap: String,
        /// Parallel jobs of cargo and nvcc.
        #[arg(long, short, default_value_t = 2)]
        jobs: usize,
        /// Cargo profile: `release` (the binary to use) or `cuda-check` (CI: compiles and links
        /// everything unoptimised, in a fraction of the time; not for use).
        #[arg(long, default_value = "release")]
        profile: String,
    },
    /// Fuzz a target of `crossgym-fuzz` (or `--all`) with cargo-afl for N seconds each; prints
    /// executions, crashes and hangs from AFL's `fuzzer_stats`, and fails on a crash.
    Fuzz {
        /// The target (`cargo run -p crossgym-fuzz --bin seeds -- list` names them).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        target: Option<String>,
        /// Every target in turn.
        #[arg(long)]
        all: bool,
        /// Seconds of fuzzing per target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
    /// Check a lent GPU in at most 8 minutes; prints one JSON object (see `crossgym gpu-check`).
    ///
    /// `--device cuda` runs the CUDA build in `target/cuda-bin` (make it with `build-cuda`)
    /// through its launcher; `--device cpu` runs the same check on the CPU (with `--quick`, at
    /// toy sizes: what the tests run).
    GpuCheck {
        /// cuda, cuda:N or cpu.
        #[arg(long, default_value = "cuda")]
        device: String,
        /// Toy sizes.
        #[arg(long)]
        quick: bool,
        /// Folder of the CUDA build (default `target/cuda-bin`).
        #[arg(long)]
        bin: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let steps: Vec<Vec<String>> = match cli.command {
        Task::Ci { no_doc, no_cuda } => {
            let options = ci::CiOptions {
                doc: !no_doc,
                cuda: !no_cuda,
            };
            return match run_ci(&ci::steps(&workspace_root(), options)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    eprintln!("xtask: {message}");
                    ExitCode::FAILURE
                }
            };
        }
        Task::Reproduce {
            preset,
            axes,
            out,
            quiet,
        } => match reproduce_step(&preset, &axes, out, quiet) {
            Ok(step) => vec![step],
            Err(message) => {
                eprintln!("xtask: {message}");
                return ExitCode::FAILURE;
            }
        },
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
        Task::BuildCuda {
            out,
            compute_cap,
            jobs,
            profile,
        } => {
            let root = workspace_root();
            let options = cuda::BuildCuda {
                out: out.unwrap_or_else(|| root.join("target").join("cuda-bin")),
                root,
                compute_cap,
                jobs,
                profile,
            };
            return match cuda::build_cuda(&options) {
                Ok(message) => {
                    println!("{message}");
                    ExitCode::SUCCESS
                }
                Err(message) => {
                    eprintln!("xtask: {message}");
                    ExitCode::FAILURE
                }
            };
        }
        Task::Fuzz {
            target,
            all: _,
            seconds,
        } => {
            let options = fuzz::FuzzOptions {
                root: workspace_root(),
                targets: target.into_iter().collect(),
                seconds,
            };
            return match fuzz::fuzz(&options) {
                Ok(_) => ExitCode::SUCCESS,
                Err(message) => {
                    eprintln!("xtask: {message}");
                    ExitCode::FAILURE
                }
            };
        }
        Task::GpuCheck { device, quick, bin } => {
            let mut check = args(&["gpu-check", "--device", &device]);
            if quick {
                check.push("--quick".to_owned());
            }
            if device == "cpu" {
                // The quick check reuses the test build; the full one needs optimised code.
                let mut step = args(&["run", "--package", "crossgym-study"]);
                if !quick {
                    step.push("--release".to_owned());
                }
                step.extend(args(&["--bin", "crossgym", "--"]));
                step.extend(check);
                vec![step]
            } else {
                let root = workspace_root();
                let bin = bin.unwrap_or_else(|| root.join("target").join("cuda-bin"));
                return match cuda::gpu_check(&bin, &check) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(message) => {
                        eprintln!("xtask: {message}");
                        ExitCode::FAILURE
                    }
                };
            }
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

/// The cargo command of a reproduce preset, or why it cannot run on this machine.
fn reproduce_step(
    preset: &str,
    axes: &str,
    out: Option<String>,
    quiet: bool,
) -> Result<Vec<String>, String> {
    let mut step = args(&["run", "--package", "crossgym-study", "--bin", "crossgym"]);
    match preset {
        "smoke" => {}
        "cpu" | "cpu-full" => step.push("--release".to_owned()),
        "paper-3b" | "paper-7b" => {
            let gpus = Command::new("nvidia-smi").arg("-L").output();
            let visible = gpus.is_ok_and(|o| {
                o.status.success() && String::from_utf8_lossy(&o.stdout).contains("GPU")
            });
            if !visible {
                return Err(format!(
                    "preset {preset} trains Qwen2.5 with the paper's settings and needs NVIDIA GPUs \
                     (CUDA); `nvidia-smi -L` lists none here, so nothing was started. Use \
                     `--preset smoke` or `--preset cpu` on this machine."
                ));
            }
            step.extend(args(&["--release", "--features", "cuda,hub"]));
        }
        other => {
            return Err(format!(
                "unknown preset {other:?} (smoke, cpu, cpu-full, paper-3b, paper-7b)"
            ));
        }
    }
    let out = out.unwrap_or_else(|| format!("target/reproduce/{preset}"));
    step.extend(args(&[
        "--",
        "reproduce",
        "--preset",
        preset,
        "--axes",
        axes,
        "--out",
    ]));
    step.push(out);
    if preset.starts_with("paper-") {
        step.extend(args(&["--device", "cuda"]));
    }
    if quiet {
        step.push("--quiet".to_owned());
    }
    Ok(step)
}

/// The workspace root (the parent of this crate's folder).
fn workspace_root() -> PathBuf {
    let xtask = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().map_or(xtask.clone(), PathBuf::from)
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|arg| (*arg).to_owned()).collect()
}

/// Runs CI's steps in order from the workspace root, stopping at the first failure.
/// Runs the steps in order, stopping at the first failure; each step's wall time is printed
/// after it, and all of them (with the total) at the end, so a slow CI run says where it went.
fn run_ci(steps: &[ci::Step]) -> Result<(), String> {
    let started = std::time::Instant::now();
    let mut timings: Vec<(&str, f64)> = Vec::new();
    let result = steps.iter().try_for_each(|step| {
        let step_started = std::time::Instant::now();
        let result = run_ci_step(step);
        let seconds = step_started.elapsed().as_secs_f64();
        eprintln!("== {:.0} s: {}", seconds, step.title);
        timings.push((step.title, seconds));
        result
    });
    eprintln!("== CI step times");
    for (title, seconds) in &timings {
        eprintln!("{seconds:>7.0} s  {title}");
    }
    eprintln!("{:>7.0} s  in all", started.elapsed().as_secs_f64());
    result
}

/// One CI step: its command must succeed.
fn run_ci_step(step: &ci::Step) -> Result<(), String> {
    eprintln!("== {}", step.title);
    let mut command = match &step.command {
        ci::Command::Cargo(arguments) => cargo_command(arguments),
        ci::Command::Script(script) => {
            let mut command = Command::new("bash");
            command.arg(script);
            command
        }
    };
    cuda::run(
        command
            .current_dir(workspace_root())
            .envs(step.env.iter().map(|(k, v)| (*k, v.as_str()))),
    )
}

/// `cargo ARGUMENTS` with the cargo that runs xtask.
fn cargo_command(arguments: &[String]) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command.args(arguments);
    command
}

fn run_cargo(arguments: &[String]) -> Result<(), String> {
    eprintln!("xtask: cargo {}", arguments.join(" "));
    let status = cargo_command(arguments)
        .status()
        .map_err(|error| format!("could not start cargo: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", arguments.join(" ")))
    }
}
