//! The `crossgym` command line: flags (clap) and what each command does. `main.rs` only calls
//! [`run`].
//!
//! The model-driven commands (`play`, `eval`, `train`, `sft`, `base`, `study`) are in
//! [`crate::commands`]; `audit`, `plan`, `split`, `report` and `serve` (the env server of
//! `crossgym-env-server`) need no model.

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crossgym_grpo::{GrpoConfig, SftConfig};
use crossgym_policy::RequestPolicy;

use crate::device::DeviceChoice;
use crate::file_commands::OutputFile;
use crate::io::{read_text, read_toml};
use crate::metrics::Bootstrap;
use crate::small_base::SmallBaseSpec;
use crate::{Result, StudyError};
use crate::{commands, file_commands};

/// crossgym: RL generalization study of LLM agents across five text environments.
#[derive(Debug, Parser)]
#[command(name = "crossgym", version, about)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The flags of every command that runs a model.
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct ModelFlags {
    /// Where the model runs: cpu (f32 weights), cuda or cuda:N (bf16; needs a CUDA build).
    #[arg(long, default_value = "cpu")]
    pub device: DeviceChoice,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
}

/// What `train` and `sft` share: the model they start from, the envs, the settings and the
/// output folder.
#[derive(Clone, Debug, clap::Args)]
pub struct Training {
    /// Model directory or .gguf file.
    #[arg(long)]
    pub model: PathBuf,
    /// Envs, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub envs: Vec<String>,
    /// Settings (TOML: GRPO's for train, the warm start's for sft; the paper's defaults when
    /// absent).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output folder (checkpoints, metrics.jsonl, final/).
    #[arg(long)]
    pub out: PathBuf,
    /// Where the model runs, and whether progress is shown.
    #[command(flatten)]
    pub flags: ModelFlags,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Play one task of an env in the terminal (type replies; `\n` for a newline; empty line quits).
    Play {
        /// The env (webshop, searchqa, textcraft, alfworld, babyai).
        #[arg(long)]
        env: String,
        /// The task id.
        #[arg(long)]
        task: usize,
        /// Let the env's oracle play instead, and print its episode.
        #[arg(long)]
        oracle: bool,
    },
    /// Evaluate a model (local directory / GGUF, or an OpenAI-compatible server) on envs' test tasks.
    Eval {
        /// Model directory or .gguf file (or the served model's name with --url).
        #[arg(long)]
        model: String,
        /// Base URL of an OpenAI-compatible server (e.g. http://127.0.0.1:8000/v1).
        #[arg(long)]
        url: Option<String>,
        /// API key for --url (default: $OPENAI_API_KEY when set).
        #[arg(long)]
        api_key: Option<String>,
        /// With --url: seconds before one request is abandoned (then retried).
        #[arg(long, default_value_t = 300)]
        request_timeout: u64,
        /// With --url: retries of a request after a 429, a 5xx or a connection error, waiting
        /// 0.5 s, 1 s, 2 s, … (at most 30 s, or longer when the server says Retry-After).
        #[arg(long, default_value_t = 6)]
        max_retries: u32,
        /// What is played, and where the records go.
        #[command(flatten)]
        settings: commands::EvalSettings,
        /// Where the model runs, and whether progress is shown.
        #[command(flatten)]
        flags: ModelFlags,
    },
    /// GRPO-train a model on one env or an equal mixture (resumes from OUT/checkpoints).
    Train {
        /// The model, the envs, the settings and the output folder.
        #[command(flatten)]
        training: Training,
    },
    /// Supervised warm start on oracle demonstrations (resumes from OUT/checkpoints).
    Sft {
        /// The model, the envs, the settings and the output folder.
        #[command(flatten)]
        training: Training,
        /// Demonstrations per env.
        #[arg(long, default_value_t = 64)]
        demos: usize,
    },
    /// Build (or reuse) a small base model from scratch: demonstrations, tokenizer, warm start.
    Base {
        /// Spec (TOML, see `crossgym_study::small_base::SmallBaseSpec`); without it, a default
        /// spec on --envs.
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Envs for the default spec.
        #[arg(long, value_delimiter = ',')]
        envs: Vec<String>,
        /// Output folder (cached: an equal spec is not rebuilt).
        #[arg(long)]
        out: PathBuf,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// The whole study at a preset scale into OUT: base model, runs, report.html, summary.md.
    Reproduce {
        /// smoke (minutes), cpu (the runs behind each finding; hours on 2 cores), cpu-full (the
        /// paper's whole plan at cpu's scale), paper-3b / paper-7b (CUDA GPUs).
        #[arg(long, value_enum)]
        preset: crate::reproduce::Preset,
        /// Axes to run, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [1u8, 2, 3])]
        axes: Vec<u8>,
        /// Output folder (resumed when it exists).
        #[arg(long)]
        out: PathBuf,
        /// Paper presets: start even when the memory estimate exceeds the GPU's memory.
        #[arg(long)]
        ignore_memory_estimate: bool,
        /// Where the model runs, and whether progress is shown.
        #[command(flatten)]
        flags: ModelFlags,
    },
    /// Run every pending run of a plan (training and evaluation), then write the report.
    Study {
        /// The plan file (TOML).
        #[arg(long)]
        plan: PathBuf,
        /// The base model (directory or .gguf).
        #[arg(long)]
        model: PathBuf,
        /// Settings (TOML, see `crossgym_study::runner::StudySettings`).
        #[arg(long)]
        settings: Option<PathBuf>,
        /// The study folder (resumed when it exists).
        #[arg(long)]
        out: PathBuf,
        /// Where the model runs, and whether progress is shown.
        #[command(flatten)]
        flags: ModelFlags,
    },
    /// Check a device (a lent GPU) in a few minutes: SmolLM2 fixture prompts against the CPU,
    /// GRPO updates in f32 and bf16, decode speed, a Qwen2.5-3B-shaped model; one JSON object.
    GpuCheck {
        /// The device under test: cuda, cuda:N (or cpu, with --quick, for a test).
        #[arg(long, default_value = "cuda")]
        device: DeviceChoice,
        /// Toy sizes (a tiny model instead of SmolLM2 for the update and decode parts).
        #[arg(long)]
        quick: bool,
        /// The SmolLM2-135M-Instruct GGUF (default: in $CROSSGYM_CACHE or target/crossgym-cache).
        #[arg(long)]
        gguf: Option<PathBuf>,
        /// smollm2_reference.json (default: crates/policy/tests/fixtures/).
        #[arg(long)]
        fixture: Option<PathBuf>,
    },
    /// Serve one env over AgentGym's HTTP protocol (AgentGym-RL, verl and AgentGym's clients use
    /// it unchanged); stops on SIGINT or SIGTERM.
    Serve {
        /// The server's options.
        #[command(flatten)]
        args: crossgym_env_server::cli::ServeArgs,
    },
    /// Write a plan's runs as launch files of another trainer (see `export agentgym-rl --help`).
    Export {
        /// The trainer.
        #[command(subcommand)]
        target: ExportTarget,
    },
    /// List the printed cells of the paper's Tables 2 and 3 that do not follow from the others.
    Audit {
        /// Print a JSON array of {table, model, row, column, printed, recomputed}.
        #[arg(long)]
        json: bool,
        /// Take printed inputs as exact (allow only the rounding of the derived cell).
        #[arg(long)]
        strict: bool,
    },
    /// Write a plan file for the paper's study on some envs (kept if it exists, unless --force).
    Plan {
        /// Envs, comma-separated, in the paper's order of your choice.
        #[arg(long, value_delimiter = ',', required = true)]
        envs: Vec<String>,
        /// Base model (Hugging Face name or local path).
        #[arg(long)]
        model: String,
        /// Evaluate every this many training steps within each axis-3 stage (curves).
        #[arg(long)]
        every: Option<usize>,
        /// Seed of every run.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output TOML file (kept if it exists, unless --force).
        #[command(flatten)]
        out: OutputFile,
    },
    /// Make the easy/hard difficulty file from base-model records (kept if it exists, unless --force).
    Split {
        /// Record files (JSONL) or folders searched for them.
        #[arg(long, required = true)]
        results: Vec<PathBuf>,
        /// The run whose starting-checkpoint records rank the tasks.
        #[arg(long, default_value = "base")]
        run: String,
        /// Base model name recorded in the file.
        #[arg(long)]
        model: String,
        /// Seed of the tie-breaking.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output JSON file (kept if it exists, unless --force).
        #[command(flatten)]
        out: OutputFile,
    },
    /// Build the tables, plots and HTML report of a plan from its episode records.
    Report {
        /// The plan file (TOML).
        #[arg(long)]
        plan: PathBuf,
        /// Record files (JSONL) or folders searched for them.
        #[arg(long, required = true)]
        results: Vec<PathBuf>,
        /// Label records with this difficulty file (for easy/hard columns).
        #[arg(long)]
        difficulty: Option<PathBuf>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Bootstrap resamples for confidence intervals.
        #[arg(long, default_value_t = 1000)]
        bootstrap: usize,
        /// Bootstrap seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

/// Trainers `crossgym export` writes launch files for.
#[derive(Debug, Subcommand)]
pub enum ExportTarget {
    /// AgentGym-RL (verl + Ray + vLLM): item-id files, one launch script per run with the paper's
    /// hyper-parameters against `crossgym serve`, and the `crossgym eval --url` commands that
    /// bring the checkpoints back into `crossgym report`.
    AgentgymRl {
        /// The plan file (TOML).
        #[arg(long)]
        plan: PathBuf,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Difficulty file (for runs on the easy or hard half).
        #[arg(long)]
        difficulty: Option<PathBuf>,
        /// Host of the env servers as the rollout workers reach them.
        #[arg(long, default_value = "127.0.0.1")]
        env_host: String,
        /// The base model as AgentGym-RL loads it (default: the plan's model).
        #[arg(long)]
        base_model: Option<String>,
        /// Epochs over each stage's items.
        #[arg(long, default_value_t = 10)]
        epochs: usize,
    },
}

use crate::file_commands::emit;
pub use crate::file_commands::jsonl_files;

/// Runs one parsed command, printing to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<()> {
    match cli.command {
        Command::Play { env, task, oracle } => {
            let stdin = std::io::stdin();
            let mut input = stdin.lock();
            commands::play(&env, task, oracle, &mut input, out)
        }
        Command::Eval {
            model,
            url,
            api_key,
            request_timeout,
            max_retries,
            settings,
            flags: ModelFlags { device, quiet },
        } => {
            let model = match url {
                Some(url) => commands::EvalModel::Remote {
                    url,
                    model,
                    api_key: api_key.or_else(|| std::env::var("OPENAI_API_KEY").ok()),
                    requests: RequestPolicy {
                        timeout: std::time::Duration::from_secs(request_timeout.max(1)),
                        max_retries,
                        ..RequestPolicy::default()
                    },
                },
                None => commands::EvalModel::Local(PathBuf::from(model)),
            };
            let cmd = commands::EvalCommand {
                model,
                device,
                settings,
                progress: !quiet,
            };
            commands::eval(&cmd, out)
        }
        Command::Train { training: t } => {
            let config = match &t.config {
                Some(path) => GrpoConfig::from_file(path)?,
                None => GrpoConfig::default(),
            };
            let (device, progress) = (t.flags.device, !t.flags.quiet);
            commands::train(&t.model, device, &t.envs, config, &t.out, progress, out)
        }
        Command::Sft { training: t, demos } => {
            let config = match &t.config {
                Some(path) => SftConfig::from_toml_str(&read_text(path)?)?,
                None => SftConfig::default(),
            };
            let (device, progress) = (t.flags.device, !t.flags.quiet);
            commands::sft(
                &t.model, device, &t.envs, demos, config, &t.out, progress, out,
            )
        }
        Command::Base {
            spec,
            envs,
            out: dir,
            quiet,
        } => {
            let spec = match spec {
                Some(path) => read_toml(&path)?,
                None if envs.is_empty() => {
                    return Err(StudyError::invalid("base", "give --spec or --envs"));
                }
                None => SmallBaseSpec::new(&envs, 64, 200),
            };
            commands::base(&spec, &dir, !quiet, out)
        }
        Command::Reproduce {
            preset,
            axes,
            out: dir,
            ignore_memory_estimate,
            flags: ModelFlags { device, quiet },
        } => {
            let summary = crate::reproduce::reproduce(
                preset,
                &axes,
                &dir,
                device,
                ignore_memory_estimate,
                !quiet,
            )?;
            emit(out, &summary)
        }
        Command::Study {
            plan,
            model,
            settings,
            out: dir,
            flags: ModelFlags { device, quiet },
        } => commands::study(
            &plan,
            &model,
            device,
            settings.as_deref(),
            &dir,
            !quiet,
            out,
        ),
        Command::GpuCheck {
            device,
            quick,
            gguf,
            fixture,
        } => {
            let mut options = crate::gpu_check::GpuCheckOptions::new(device, quick);
            options.gguf = gguf.unwrap_or(options.gguf);
            options.fixture = fixture.unwrap_or(options.fixture);
            let report = crate::gpu_check::gpu_check(&options)?;
            let text = serde_json::to_string_pretty(&report)
                .map_err(|e| StudyError::parse("gpu-check", e))?;
            emit(out, &format!("{text}\n"))
        }
        Command::Export {
            target:
                ExportTarget::AgentgymRl {
                    plan,
                    out: dir,
                    difficulty,
                    env_host,
                    base_model,
                    epochs,
                },
        } => {
            let options = crate::export::ExportOptions {
                env_host,
                base_model,
                epochs,
                ..crate::export::ExportOptions::default()
            };
            commands::export_agentgym_rl(&plan, difficulty.as_deref(), &options, &dir, out)
        }
        Command::Serve { args } => crossgym_env_server::run_until_signal(args.config(), out)
            .map_err(|e| StudyError::Invalid {
                context: format!("crossgym serve --env {}", args.env),
                message: e.to_string(),
            }),
        Command::Audit { json, strict } => file_commands::audit(json, strict, out),
        Command::Plan {
            envs,
            model,
            every,
            seed,
            out: file,
        } => file_commands::plan(&envs, &model, every, seed, &file, out),
        Command::Split {
            results,
            run,
            model,
            seed,
            out: file,
        } => file_commands::split(&results, &run, &model, seed, &file, out),
        Command::Report {
            plan,
            results,
            difficulty,
            out: dir,
            bootstrap,
            seed,
        } => {
            let bootstrap = Bootstrap {
                resamples: bootstrap,
                seed,
                ..Bootstrap::default()
            };
            file_commands::report(
                &plan,
                &results,
                difficulty.as_deref(),
                &bootstrap,
                &dir,
                out,
            )
        }
    }
}
