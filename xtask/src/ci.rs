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
    /// Fails unless each file exists and is not empty.
    NonEmpty(&'static [&'static str]),
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

/// An ignored test CI runs: package, test target, name filter, environment.
type IgnoredTest = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// The ignored tests that guard correctness (the default task sets, the oracles, the server under
/// random bodies and under a soak) and fit CI's time in the test profile.
const IGNORED_CORRECTNESS: [IgnoredTest; 4] = [
    (
        "crossgym-env-searchqa",
        "tests",
        "the_committed_questions_are_what_the_generator_makes",
        &[],
    ),
    (
        "crossgym-env-alfworld",
        "env",
        "expert_solves_every_generated_game",
        &[],
    ),
    ("crossgym-env-server", "tests", "fuzz_100k", &[]),
    (
        "crossgym-env-server",
        "tests",
        "soak",
        &[("CROSSGYM_SOAK_SECS", "30")],
    ),
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
    for (package, target, filter, env) in IGNORED_CORRECTNESS {
        steps.push(Step {
            title: "an ignored correctness test",
            command: Command::Cargo(
                [
                    "test",
                    "-p",
                    package,
                    "--test",
                    target,
                    "--",
                    "--ignored",
                    filter,
                ]
                .iter()
                .map(|a| (*a).to_owned())
                .collect(),
            ),
            env: env.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        });
    }
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
    steps.push(cargo(
        "cargo xtask reproduce --preset smoke (the whole study at toy scale, all five envs)",
        &[
            "run",
            "--package",
            "crossgym-study",
            "--bin",
            "crossgym",
            "--",
            "reproduce",
            "--preset",
            "smoke",
            "--quiet",
            "--out",
            "target/reproduce/smoke",
        ],
    ));
    steps.push(Step {
        title: "the smoke study wrote its summary and report",
        command: Command::NonEmpty(&[
            "target/reproduce/smoke/summary.md",
            "target/reproduce/smoke/report.html",
        ]),
        env: Vec::new(),
    });
    steps.push(cargo(
        "hub models offline through hf-hub",
        &[
            "test",
            "-p",
            "crossgym-policy",
            "--features",
            "hub",
            "--test",
            "tests",
            "hub",
        ],
    ));
    if options.cuda {
        steps.push(cargo(
            "cargo xtask build-cuda (the CUDA binary for GPU machines, cross-built without a GPU)",
            &["xtask", "build-cuda"],
        ));
    }
    if options.doc {
        let mut doc = cargo("cargo doc", &["doc", "--workspace", "--no-deps", "--quiet"]);
        doc.env.push(("RUSTDOCFLAGS", "-D warnings".to_owned()));
        steps.push(doc);
    }
    steps
}
