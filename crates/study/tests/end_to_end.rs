//! A whole plan on two envs, from episodes to every table, plot and the HTML report, through the
//! library and through `crossgym report`.
//!
//! The envs are the toy env of `toy.rs` under the names of two paper envs, and the "model" is a
//! scripted agent whose skill depends on the run and checkpoint: this exercises every code path
//! of the harness; it measures nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crossgym_env_core::{Env, Split, run_episode};
use crossgym_study::difficulty::DifficultyFile;
use crossgym_study::envs::STUDY_ENVS;
use crossgym_study::findings::{Verdict, findings};
use crossgym_study::metrics::Bootstrap;
use crossgym_study::plan::{Manifest, Plan, Regime, Run, RunKind};
use crossgym_study::records::{Checkpoint, EpisodeRecord, append_jsonl, read_jsonl};
use crossgym_study::report::write_report;
use crossgym_study::reproduce::Preset;
use crossgym_study::results::StudyResults;

use crate::toy::{agent, toy};

const ENVS: [&str; 2] = ["textcraft", "babyai"];
const K: usize = 2;

fn skill(run: &Run, checkpoint: Checkpoint) -> f64 {
    let trained = match &run.kind {
        RunKind::Base => 0.0,
        RunKind::Difficulty {
            regime: Regime::UEasy,
            ..
        } => 0.4,
        RunKind::Difficulty { .. } => 0.5,
        _ => 0.45,
    };
    0.2 + trained * f64::from(checkpoint.stage.min(2) * 4 + checkpoint.step) / 12.0
}

fn checkpoints(run: &Run) -> Vec<Checkpoint> {
    let mut list = vec![Checkpoint::START];
    for stage in 1..=run.stages.len() as u32 {
        list.extend([2, 4].map(|step| Checkpoint { stage, step }));
    }
    list
}

fn evaluate(run: &Run, seed: u64) -> Vec<EpisodeRecord> {
    let mut records = Vec::new();
    for checkpoint in checkpoints(run) {
        let p = skill(run, checkpoint);
        for env_name in &run.eval.envs {
            let mut env = toy(env_name);
            // Different draws per env, so the two envs' numbers differ.
            let env_seed = env_name
                .bytes()
                .fold(seed, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
            let mut splits = vec![Split::Test];
            if run.kind == RunKind::Base {
                splits.push(Split::Train);
            }
            for split in splits {
                for task in env.tasks(split).to_vec() {
                    for sample in 0..K as u32 {
                        let s = env_seed
                            ^ (task.0 as u64) << 8
                            ^ u64::from(sample) << 20
                            ^ u64::from(checkpoint.step) << 32;
                        let episode = run_episode(&mut env, task, agent(p, s)).unwrap();
                        let tokens = episode
                            .turns
                            .iter()
                            .map(|t| t.reply.split_whitespace().count())
                            .sum();
                        let mut record = EpisodeRecord::from_episode(
                            &run.id, checkpoint, split, sample, &episode, tokens,
                        );
                        record.episode = Some(episode);
                        records.push(record);
                    }
                }
            }
        }
    }
    records
}

/// Runs the paper's plan on [`ENVS`] into `dir` (skipping finished runs) and returns the plan
/// path.
fn run_study(dir: &Path) -> PathBuf {
    let envs: Vec<String> = ENVS.iter().map(|s| (*s).to_owned()).collect();
    let mut plan = Plan::paper("scripted-toy-agent", &envs, Some(2), 5);
    plan.name = "toy end-to-end".to_owned();
    run_plan(dir, plan)
}

/// Runs `plan` at k = [`K`] into `dir` (skipping finished runs) and returns the plan path.
fn run_plan(dir: &Path, mut plan: Plan) -> PathBuf {
    for run in &mut plan.runs {
        run.eval.k = K;
    }
    let plan_path = dir.join("plan.toml");
    plan.save(&plan_path).unwrap();
    let manifest_path = dir.join("manifest.json");
    let mut manifest = Manifest::load_or_default(&manifest_path).unwrap();
    for run in plan
        .pending(&manifest)
        .into_iter()
        .cloned()
        .collect::<Vec<_>>()
    {
        let file = dir
            .join("results")
            .join(format!("{}.jsonl", run.id.replace('/', "_")));
        std::fs::remove_file(&file).ok();
        append_jsonl(&file, &evaluate(&run, run.seed)).unwrap();
        manifest.mark_done(&run, vec![file.display().to_string()]);
        manifest.save(&manifest_path).unwrap();
    }
    assert!(
        plan.pending(&Manifest::load_or_default(&manifest_path).unwrap())
            .is_empty()
    );
    plan_path
}

fn report_dir(name: &str) -> PathBuf {
    crate::common::created_scratch(name)
}

fn build_report(dir: &Path) -> (Vec<PathBuf>, PathBuf) {
    let results = study_results(dir, run_study(dir));
    let out = dir.join("report");
    (write_report(&results, &out).unwrap(), out)
}

/// The results of the plan at `plan_path` from the records in `dir`, with its difficulty split.
fn study_results(dir: &Path, plan_path: PathBuf) -> StudyResults {
    let plan = Plan::load(&plan_path).unwrap();
    let mut records = Vec::new();
    for entry in std::fs::read_dir(dir.join("results")).unwrap() {
        records.extend(read_jsonl(&entry.unwrap().path()).unwrap());
    }
    let base: Vec<EpisodeRecord> = records
        .iter()
        .filter(|r| r.run == "base")
        .cloned()
        .collect();
    let split = DifficultyFile::from_records("scripted-toy-agent", K, 0, &base).unwrap();
    split.save(&dir.join("difficulty.json")).unwrap();
    split.label(&mut records);
    StudyResults::build(
        &plan,
        &records,
        &Bootstrap {
            resamples: 200,
            ..Bootstrap::default()
        },
    )
    .unwrap()
}

#[test]
fn the_cpu_plan_answers_every_finding_and_reports() {
    let dir = report_dir("e2e-cpu");
    let all: Vec<String> = STUDY_ENVS.iter().map(|s| (*s).to_owned()).collect();
    let plan = Preset::Cpu.plan("scripted-toy-agent", &[1, 2, 3]);
    assert_eq!(plan.runs[0].eval.envs, all);
    let results = study_results(&dir, run_plan(&dir, plan));
    let found = findings(&results, &Preset::Cpu.study_envs());
    assert_eq!(found.len(), 6);
    for finding in &found {
        assert_ne!(
            finding.verdict,
            Verdict::NotMeasured,
            "{}: {}",
            finding.name,
            finding.ours
        );
        assert!(finding.ours.contains('['), "{}", finding.ours);
    }
    let out = dir.join("report");
    write_report(&results, &out).unwrap();
    assert!(out.join("report.html").exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_two_env_plan_produces_every_table_plot_and_the_html_report() {
    let dir = report_dir("e2e");
    let (written, out) = build_report(&dir);
    for name in [
        "table2-qwen2.5-3b-instruct",
        "table3-qwen2.5-7b-instruct",
        "table6",
        "summary",
        "failure-modes",
        "audit",
    ] {
        for ext in ["md", "csv", "json"] {
            let path = out.join("tables").join(format!("{name}.{ext}"));
            assert!(written.contains(&path), "{} missing", path.display());
        }
    }
    let plots = [
        "figure2-turns",
        "figure2-tokens",
        "figure3-upstream",
        "figure3-downstream",
        "figure5-sequence-textcraft-babyai",
        "figure5-joint-textcraft-babyai",
        "figure6-failure-modes",
    ];
    for name in plots {
        let png = std::fs::read(out.join("plots").join(format!("{name}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}");
        let svg = std::fs::read_to_string(out.join("plots").join(format!("{name}.svg"))).unwrap();
        assert!(svg.contains("<text"), "{name} has no text");
    }
    // Ours beside the paper's: TextCraft's U row has our easy / hard / all and the paper's 93.9 / 47.4 / 73.9.
    let t2 = std::fs::read_to_string(out.join("tables/table2-qwen2.5-3b-instruct.csv")).unwrap();
    let u_row = t2.lines().find(|l| l.starts_with("U,")).unwrap();
    let cells: Vec<&str> = u_row.split(',').collect();
    assert!(
        cells[5].split(" / ").all(|v| v.parse::<f64>().is_ok()),
        "{u_row}"
    );
    assert_eq!(cells[6], "93.9 / 47.4 / 73.9");
    assert_eq!(cells[1], "–", "WebShop was not run");
    let t3 = std::fs::read_to_string(out.join("tables/table3-qwen2.5-3b-instruct.md")).unwrap();
    assert!(t3.contains("+72.56") && t3.contains("ΔHeld-Out ours"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg") && !html.contains("<?xml"));
    assert!(
        html.contains("Trajectories")
            && html.contains("class=\"ok\"")
            && html.contains("class=\"fail\"")
    );
    assert!(html.contains("Action: pick"));
    let failures = std::fs::read_to_string(out.join("tables/failure-modes.csv")).unwrap();
    assert!(failures.contains("all,held-in") && failures.contains("all,held-out"));

    // The CLI reads the same files and rebuilds the report; a rerun skips finished runs.
    let cli_out = dir.join("cli-report");
    let status = Command::new(env!("CARGO_BIN_EXE_crossgym"))
        .args(["report", "--plan"])
        .arg(dir.join("plan.toml"))
        .arg("--results")
        .arg(dir.join("results"))
        .arg("--difficulty")
        .arg(dir.join("difficulty.json"))
        .arg("--out")
        .arg(&cli_out)
        .args(["--bootstrap", "50"])
        .output()
        .unwrap();
    crate::common::assert_success(&status);
    assert!(String::from_utf8_lossy(&status.stdout).contains("records; wrote"));
    assert!(cli_out.join("report.html").exists());
    let before = std::fs::metadata(dir.join("manifest.json"))
        .unwrap()
        .modified()
        .unwrap();
    run_study(&dir);
    assert_eq!(
        std::fs::metadata(dir.join("manifest.json"))
            .unwrap()
            .modified()
            .unwrap(),
        before
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The Chromium binary: `$CROSSGYM_CHROMIUM`, else `chromium` on the PATH. Without it the test is
/// SKIPPED loudly, except under CI (`CI` set), where `.ci/run` installs Debian's `chromium`.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CROSSGYM_CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromium"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but chromium is missing (.ci/run installs Debian's chromium)"
        );
        eprintln!(
            "SKIPPED: chromium_renders_the_html_report needs chromium (apt-get install chromium)"
        );
    }
    found
}

/// Chromium headless with the flags this offline machine needs, in a fresh profile.
fn headless(chromium: &Path, profile: &Path) -> Command {
    let mut command = Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// Runs a headless Chromium command and returns its standard output; fails the test on an error.
fn run_chromium(mut command: Command) -> String {
    let out = command.output().expect("chromium starts");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `(width, height)` from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png[12..16], b"IHDR");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

/// Renders the HTML report in headless Chromium: the page a reader opens starts with the findings
/// (verdicts and intervals), then the key figures (the transfer heatmap first), then the tables;
/// and the first screen, captured as a screenshot (kept in the temp folder to look at), is not
/// blank.
#[test]
fn chromium_renders_the_html_report() {
    let Some(chromium) = chromium() else { return };
    let dir = report_dir("chromium");
    let (_, out) = build_report(&dir);
    let page = format!("file://{}", out.join("report.html").display());
    let mut dump = headless(&chromium, &dir.join("profile-dom"));
    dump.arg("--dump-dom").arg(&page);
    let dom = run_chromium(dump);
    let at = |needle: &str| {
        dom.find(needle)
            .unwrap_or_else(|| panic!("{needle} not in the rendered page"))
    };
    assert!(at("id=\"findings\"") < at("id=\"figures\""));
    assert!(at("id=\"figures\"") < at("class=\"heat\""));
    assert!(at("class=\"heat\"") < at("<svg"));
    assert!(at("<svg") < at("id=\"tables\""));
    assert!(
        dom.matches("class=\"verdict ").count() == 6,
        "six findings with verdicts"
    );
    let shot = std::env::temp_dir().join("crossgym-report.png");
    std::fs::remove_file(&shot).ok();
    let mut screenshot = headless(&chromium, &dir.join("profile-shot"));
    screenshot
        .arg("--window-size=1400,1000")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&page);
    run_chromium(screenshot);
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(png_size(&png), (1400, 1000));
    assert!(png.len() > 20_000, "a blank page compresses to a few kB");
    eprintln!("screenshot: {}", shot.display());
    std::fs::remove_dir_all(&dir).ok();
}
