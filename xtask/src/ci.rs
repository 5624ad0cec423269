//! `cargo xtask ci`: every check CI runs, in order; `.ci/run` only prepares the machine and
//! calls it, so the checks are defined once.

use std::path::Path;

/// One CI step: a cargo command or a script, with extra environment variables.
pub struct Step {
    /// What the log says before the step runs.
    pub title: &'static str,
    /// `cargo` and its arguments, or a script run with `bash`.
    pub command: Command,
    /// Environment variables of the step.
    pub env: Vec<(&'static str, String)>,
}

/// What a step runs.
pub enum Command {
    /// `cargo ARGS`.
    Cargo(Vec<String>),
    /// `bash SCRIPT` (relative to the workspace root).
    Script(&'static str),
}

/// Which of the optional steps run.
#[derive(Clone, Copy, Debug)]
pub struct CiOptions {
    /// `cargo doc` with warnings denied.
    pub doc: bool,
    /// The CUDA cross-build (the slowest step).
    pub cuda: bool,
}

fn cargo(title: &'static str, args: &[&str]) -> Step {
    Step {
        title,
        command: Command::Cargo(args.iter().map(|a| (*a).to_owned()).collect()),
        env: Vec::new(),
    }
}

/// The ignored tests that guard correctness and fit CI's time: SearchQA's committed questions
/// equal the generator's output, the ALFWorld expert solves all 2,620 games, the BabyAI oracle's
/// 99% target, 100,000 fuzzed request bodies, and the smoke preset run twice from scratch with
/// byte-identical records and tables, its summary and report written (CI's smoke study). (The
/// env server's soak is not here: its 5% memory bound is missed, see
/// crates/env-server/README.md.)
const IGNORED_CORRECTNESS: [&str; 5] = [
    "smoke_preset_twice_gives_identical_records_and_tables",
    "the_committed_questions_are_what_the_generator_makes",
    "oracle_meets_the_99_percent_target",
    "expert_solves_every_generated_game",
    "fuzz_100k",
];

/// Every step, in order, for a checkout at `root`.
pub fn steps(root: &Path, options: CiOptions) -> Vec<Step> {
    let mut steps = vec![
        cargo("cargo fmt", &["fmt", "--all", "--check"]),
        cargo(
            "cargo clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
        cargo(
            "cargo test --workspace (README test command)",
            &["test", "--workspace"],
        ),
    ];
    // With `--workspace`, as the suite above, so nothing is rebuilt for other features.
    let mut ignored: Vec<String> = ["test", "--workspace", "--", "--ignored"]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
    ignored.extend(IGNORED_CORRECTNESS.iter().map(|t| (*t).to_owned()));
    steps.push(Step {
        title: "the ignored correctness tests",
        command: Command::Cargo(ignored),
        env: Vec::new(),
    });
    let reference = root.join("../shared/reference/agentgym");
    steps.push(Step {
        title: "env server: AgentGym's own Python clients against crossgym serve (all five envs)",
        command: Command::Script("crates/env-server/tests/agentgym_clients.sh"),
        // Without the reference folder the script prints SKIPPED loudly.
        env: if reference.is_dir() {
            vec![("AGENTGYM_REFERENCE", reference.display().to_string())]
        } else {
            Vec::new()
        },
    });
    // The fuzz targets' seed replays run in `cargo test --workspace`; coverage-guided runs
    // (`cargo xtask fuzz`) are not a CI step: their AFL-instrumented build of every dependency
    // took 72 minutes on a 2-core machine, more than CI's budget.
    if options.cuda {
        // The `cuda-check` profile: the same sources, features, kernels and link step as the
        // release binary, unoptimised (the release profile's whole-program optimisation of every
        // dependency was CI's slowest step).
        steps.push(cargo(
            "cargo xtask build-cuda --profile cuda-check (the CUDA build compiles and links \
             without a GPU)",
            &[
                "xtask",
                "build-cuda",
                "--profile",
                "cuda-check",
                "--out",
                "target/cuda-check-bin",
            ],
        ));
    }
    if options.doc {
        let mut doc = cargo("cargo doc", &["doc", "--workspace", "--no-deps", "--quiet"]);
        doc.env.push(("RUSTDOCFLAGS", "-D warnings".to_owned()));
        steps.push(doc);
    }
    steps
}
