//! Crash safety, tested by killing: the real `crossgym` binary (`train`, `sft`, and a `study` on
//! two envs) is SIGKILLed at seeded moments and restarted until it finishes, and every file it
//! leaves (weights, optimizer state, checkpoints, records, report tables) must be byte-identical
//! to an uninterrupted run's (per-step metrics compared without their wall-clock fields; the
//! study's `timings.jsonl` is wall-clock only and left out). Kill moments come from a ChaCha8
//! generator and the uninterrupted run's measured duration: most are at a uniform share of it,
//! some wait for a checkpoint or atomic write in progress (a `*.tmp` or `*.old` entry on disk)
//! and kill in the middle of it.
//!
//! Also corrupted files, written by the test: truncated or garbage checkpoint files (weights,
//! optimizer state, `state.json`, the `latest` pointer) stop a restart with an error naming the
//! file, and nothing is overwritten; a torn last record is dropped and its episode played again;
//! a garbage record line or a metrics file that lost a checkpointed step is an error naming the
//! file.
//!
//! The default tests land one kill in each command (a minute or two in the dev profile). The
//! long version lands 20 kills across the three commands:
//!
//! ```text
//! cargo test -p crossgym-study --test tests crash::twenty_seeded_kills -- --ignored --nocapture
//! ```

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crossgym_study::envs::registry_for;
use crossgym_study::plan::{EvalSpec, Plan, Run, RunKind, Stage, TaskPool};
use crossgym_study::small_base::build_small_base;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const BIN: &str = env!("CARGO_BIN_EXE_crossgym");

/// The folder all of this file's runs live in (one per test process).
fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let tmp = std::env::temp_dir();
        // The runs stay until the process ends (several tests share them); remove those of
        // earlier test processes that are gone.
        for entry in std::fs::read_dir(&tmp).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("crossgym-crash-")
                && !Path::new("/proc").join(pid).exists()
            {
                std::fs::remove_dir_all(entry.path()).ok();
            }
        }
        let dir = tmp.join(format!("crossgym-crash-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

/// The tiny base model every command starts from, and the config files they read.
fn model() -> &'static Path {
    static MODEL: OnceLock<PathBuf> = OnceLock::new();
    MODEL.get_or_init(|| {
        let envs = vec!["textcraft".to_owned()];
        let registry = registry_for(&envs).unwrap();
        let spec = crate::toy::tiny_base_spec(&envs, 2, 1);
        let base = root().join("base");
        build_small_base(&spec, &registry, &base, false).unwrap();
        write_inputs(root());
        base.join("final")
    })
}

/// The config, plan and settings files of the three commands.
fn write_inputs(root: &Path) {
    let rollout = "[rollout]\nmax_turns = 2\nmax_tokens_per_turn = 8\nconcurrency = 3\n";
    std::fs::write(
        root.join("grpo.toml"),
        format!(
            "seed = 3\nsteps = 8\ngroup_size = 2\ntasks_per_batch = 2\nmini_batch_tasks = 1\n\
             micro_batch_size = 2\ncheckpoint_every = 3\n[optimizer]\nlr = 1e-3\n{rollout}"
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("sft.toml"),
        "seed = 5\nsteps = 16\nbatch_size = 2\nmicro_batch_size = 1\ncheckpoint_every = 4\n\
         [optimizer]\nlr = 3e-3\n",
    )
    .unwrap();
    std::fs::write(
        root.join("settings.toml"),
        format!(
            "stage_steps = 3\nbootstrap = 20\n[eval_tokens]\nmax_tokens_per_turn = 8\n\
             max_total_tokens = 96\n[grpo]\ngroup_size = 2\ntasks_per_batch = 1\n\
             mini_batch_tasks = 1\nmicro_batch_size = 2\n[grpo.optimizer]\nlr = 1e-3\n\
             [grpo.{}",
            &rollout[1..]
        ),
    )
    .unwrap();
    // The base model on both envs (train and test tasks, then the difficulty split), and a
    // curriculum on textcraft (its easy half, then its hard half) evaluated after every step.
    let envs = vec!["textcraft".to_owned(), "babyai".to_owned()];
    let eval = |envs: &[String]| EvalSpec {
        envs: envs.to_vec(),
        k: 2,
        max_turns: 2,
        temperature: 1.0,
        every: Some(1),
        max_tasks: Some(3),
        final_only: false,
    };
    let mut plan = Plan::new("crash", "tiny");
    plan.runs.push(Run {
        id: "base".into(),
        kind: RunKind::Base,
        init_from: None,
        stages: Vec::new(),
        eval: eval(&envs),
        seed: 1,
    });
    plan.runs.push(Run {
        id: "difficulty/textcraft/easy_to_hard".into(),
        kind: RunKind::Difficulty {
            env: "textcraft".into(),
            regime: crossgym_study::plan::Regime::EasyToHard,
        },
        init_from: None,
        stages: vec![
            Stage::single("textcraft", TaskPool::Easy),
            Stage::single("textcraft", TaskPool::Hard),
        ],
        eval: eval(&envs[..1]),
        seed: 1,
    });
    plan.save(&root.join("plan.toml")).unwrap();
}

/// The three commands under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Cmd {
    Train,
    Sft,
    Study,
}

impl Cmd {
    fn name(self) -> &'static str {
        match self {
            Cmd::Train => "train",
            Cmd::Sft => "sft",
            Cmd::Study => "study",
        }
    }

    fn command(self, out: &Path) -> Command {
        let root = root();
        let model = model();
        let mut command = Command::new(BIN);
        command.arg(self.name());
        match self {
            Cmd::Train => command
                .args(["--envs", "textcraft", "--config"])
                .arg(root.join("grpo.toml")),
            Cmd::Sft => command
                .args(["--envs", "textcraft", "--demos", "3", "--config"])
                .arg(root.join("sft.toml")),
            Cmd::Study => command
                .arg("--plan")
                .arg(root.join("plan.toml"))
                .arg("--settings")
                .arg(root.join("settings.toml")),
        };
        command.arg("--model").arg(model).arg("--out").arg(out);
        command.arg("--quiet");
        command
    }

    /// Starts the command on `out`, its stdout and stderr appended to `out.log`.
    fn spawn(self, out: &Path) -> Child {
        let log = File::options()
            .create(true)
            .append(true)
            .open(out.with_extension("log"))
            .unwrap();
        self.command(out)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap()
    }
}

/// An uninterrupted run of a command: its folder, its files and how long it took.
struct Reference {
    out: PathBuf,
    seconds: f64,
    files: Files,
}

/// Every output file by path relative to the output folder, normalised for comparison.
pub(crate) type Files = BTreeMap<String, Vec<u8>>;

fn reference(cmd: Cmd) -> &'static Reference {
    static REFERENCES: [OnceLock<Reference>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    REFERENCES[cmd as usize].get_or_init(|| {
        let out = root().join(format!("{}-reference", cmd.name()));
        let start = Instant::now();
        let status = cmd.spawn(&out).wait().unwrap();
        let seconds = start.elapsed().as_secs_f64();
        assert!(status.success(), "{cmd:?}: {}", log_of(&out));
        let files = collect(&out);
        assert!(files.keys().any(|k| k.ends_with("model.safetensors")));
        eprintln!(
            "crash: uninterrupted {} took {seconds:.1} s, {} files",
            cmd.name(),
            files.len()
        );
        Reference {
            out,
            seconds,
            files,
        }
    })
}

fn log_of(out: &Path) -> String {
    std::fs::read_to_string(out.with_extension("log")).unwrap_or_default()
}

/// Wall-clock fields of a metrics line: they differ between any two runs.
const TIMING_FIELDS: [&str; 3] = ["rollout_seconds", "update_seconds", "seconds"];

/// Every file under `out` except wall-clock logs and leftovers of interrupted writes (a temporary
/// entry that a later write of the same file would replace); metrics lines without timings.
pub(crate) fn collect(out: &Path) -> Files {
    fn walk(dir: &Path, base: &Path, files: &mut Files) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if is_temporary(&name) {
                continue;
            }
            if path.is_dir() {
                walk(&path, base, files);
                continue;
            }
            let rel = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if name == "timings.jsonl" {
                continue;
            }
            let mut bytes = std::fs::read(&path).unwrap();
            if name == "metrics.jsonl" {
                bytes = without_timings(&bytes);
            }
            files.insert(rel, bytes);
        }
    }
    let mut files = Files::new();
    walk(out, out, &mut files);
    files
}

fn is_temporary(name: &str) -> bool {
    name.ends_with(".tmp") || name.ends_with(".old")
}

fn without_timings(bytes: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(bytes).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let mut value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("metrics line {line:?}: {e}"));
        let object = value.as_object_mut().unwrap();
        for field in TIMING_FIELDS {
            object.remove(field);
        }
        out.push_str(&value.to_string());
        out.push('\n');
    }
    out.into_bytes()
}

/// The first temporary entry (an atomic write in progress) under `dir`.
fn write_in_progress(dir: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        let path = entry.path();
        if is_temporary(&entry.file_name().to_string_lossy()) {
            return Some(path);
        }
        if path.is_dir()
            && let Some(found) = write_in_progress(&path)
        {
            return Some(found);
        }
    }
    None
}

/// When a kill lands.
#[derive(Clone, Copy, Debug)]
enum KillAt {
    /// This long after the process started.
    After(Duration),
    /// At the first write in progress seen this long after the start.
    WriteAfter(Duration),
}

/// What one kill did.
#[derive(Debug)]
struct Kill {
    at: KillAt,
    /// Seconds after the start.
    seconds: f64,
    /// The temporary entry on disk at the kill, if any.
    during: Option<String>,
}

/// Runs `cmd` on `out`, killing it at each of `kills` in turn (restarting after each), then lets
/// it finish. Returns the kills that landed (a process that finished first was not killed).
fn run_with_kills(cmd: Cmd, out: &Path, kills: &[KillAt], patience: Duration) -> Vec<Kill> {
    let mut landed = Vec::new();
    for &at in kills {
        let mut child = cmd.spawn(out);
        let start = Instant::now();
        let kill = loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "{cmd:?} failed: {}", log_of(out));
                break None;
            }
            let elapsed = start.elapsed();
            assert!(elapsed < patience, "{cmd:?} hangs: {}", log_of(out));
            let during = write_in_progress(out);
            let due = match at {
                KillAt::After(d) => elapsed >= d,
                KillAt::WriteAfter(d) => elapsed >= d && during.is_some(),
            };
            if due {
                child.kill().unwrap(); // SIGKILL
                break Some(Kill {
                    at,
                    seconds: elapsed.as_secs_f64(),
                    during: during.map(|p| p.strip_prefix(out).unwrap().display().to_string()),
                });
            }
            std::thread::sleep(Duration::from_micros(300));
        };
        let status = child.wait().unwrap();
        match kill {
            Some(kill) => {
                assert!(!status.success(), "{cmd:?} survived SIGKILL");
                landed.push(kill);
            }
            // It finished before the kill was due: nothing left to interrupt.
            None => return landed,
        }
    }
    let mut child = cmd.spawn(out);
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                status.success(),
                "{cmd:?} failed on restart: {}",
                log_of(out)
            );
            return landed;
        }
        if start.elapsed() > patience {
            child.kill().ok();
            panic!("{cmd:?} hangs on restart: {}", log_of(out));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The files of `got` that differ from `expected`'s, are missing or are extra, one line each.
pub(crate) fn differences(expected: &Files, got: &Files) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, bytes) in expected {
        match got.get(name) {
            None => problems.push(format!("{name}: missing")),
            Some(other) if other != bytes => {
                let first = bytes.iter().zip(other).position(|(a, b)| a != b);
                problems.push(format!(
                    "{name}: differs ({} vs {} bytes, first difference at byte {first:?})",
                    bytes.len(),
                    other.len()
                ));
            }
            Some(_) => {}
        }
    }
    for name in got.keys().filter(|n| !expected.contains_key(*n)) {
        problems.push(format!("{name}: not in the first run"));
    }
    problems
}

/// Asserts two file sets are equal, naming the files that differ.
fn assert_identical(cmd: Cmd, expected: &Files, got: &Files, context: &str) {
    let problems = differences(expected, got);
    assert!(
        problems.is_empty(),
        "{cmd:?} {context}: not byte-identical to the uninterrupted run:\n{}",
        problems.join("\n")
    );
}

/// One seeded trial: a fresh folder, `kills` kills at moments drawn from `seed`, restarts until
/// done, and the comparison. Returns the kills that landed.
fn trial(cmd: Cmd, seed: u64, kills: usize) -> Vec<Kill> {
    let reference = reference(cmd);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let plan: Vec<KillAt> = (0..kills)
        .map(|_| {
            let share = rng.random_range(0.03..0.97);
            let d = Duration::from_secs_f64(reference.seconds * share);
            if rng.random_bool(0.3) {
                KillAt::WriteAfter(d)
            } else {
                KillAt::After(d)
            }
        })
        .collect();
    let out = root().join(format!("{}-seed{seed}", cmd.name()));
    std::fs::remove_dir_all(&out).ok();
    let patience = Duration::from_secs_f64(reference.seconds * 10.0 + 120.0);
    let landed = run_with_kills(cmd, &out, &plan, patience);
    for kill in &landed {
        eprintln!(
            "crash: {} seed {seed}: {:?} landed at {:.2} s{}",
            cmd.name(),
            kill.at,
            kill.seconds,
            kill.during
                .as_ref()
                .map_or(String::new(), |p| format!(", during the write of {p}"))
        );
    }
    assert_identical(
        cmd,
        &reference.files,
        &collect(&out),
        &format!("seed {seed}, {} kills", landed.len()),
    );
    std::fs::remove_dir_all(&out).ok();
    std::fs::remove_file(out.with_extension("log")).ok();
    landed
}

/// Seeded trials of `cmd` until `target` kills have landed; returns (kills, identical trials).
fn kills_until(cmd: Cmd, first_seed: u64, target: usize, max_per_trial: usize) -> (usize, usize) {
    let mut landed = 0;
    let mut trials = 0;
    let mut seed = first_seed;
    while landed < target {
        assert!(
            seed < first_seed + 10 * target as u64,
            "{cmd:?}: kills keep missing"
        );
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6b69_6c6c);
        let kills = rng.random_range(1..=max_per_trial).min(target - landed);
        let got = trial(cmd, seed, kills);
        if !got.is_empty() {
            trials += 1;
        }
        landed += got.len();
        seed += 1;
    }
    (landed, trials)
}

#[test]
fn train_killed_once_resumes_byte_identical() {
    assert_eq!(kills_until(Cmd::Train, 100, 1, 1).0, 1);
}

#[test]
fn sft_killed_once_resumes_byte_identical() {
    assert_eq!(kills_until(Cmd::Sft, 200, 1, 1).0, 1);
}

#[test]
fn study_killed_once_resumes_byte_identical() {
    assert_eq!(kills_until(Cmd::Study, 300, 1, 1).0, 1);
}

/// The issue's number: 20 seeded kills across train, sft and study, 20 byte-identical results
/// (up to two kills per trial, so some land in a run that is itself resuming).
#[test]
#[ignore = "several minutes; run with --ignored --nocapture"]
fn twenty_seeded_kills() {
    let mut total = 0;
    for (cmd, seed, target) in [
        (Cmd::Train, 1000, 7),
        (Cmd::Sft, 2000, 7),
        (Cmd::Study, 3000, 6),
    ] {
        let (landed, trials) = kills_until(cmd, seed, target, 2);
        eprintln!(
            "crash: {}: {landed} kills in {trials} trials, all byte-identical",
            cmd.name()
        );
        total += landed;
    }
    assert_eq!(total, 20);
}

/// A copy of `from` under a new name, for a test that damages it.
fn copy_of(from: &Path, name: &str) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let target = to.join(path.file_name().unwrap());
            if path.is_dir() {
                copy(&path, &target);
            } else {
                std::fs::copy(&path, &target).unwrap();
            }
        }
    }
    let to = root().join(name);
    std::fs::remove_dir_all(&to).ok();
    copy(from, &to);
    to
}

/// Runs `cmd` to its end on `out` and returns (success, its log).
fn rerun(cmd: Cmd, out: &Path) -> (bool, String) {
    std::fs::remove_file(out.with_extension("log")).ok();
    let status = cmd.spawn(out).wait().unwrap();
    (status.success(), log_of(out))
}

#[test]
fn damaged_checkpoint_files_stop_the_restart_with_an_error_naming_the_file() {
    for cmd in [Cmd::Train, Cmd::Sft] {
        let reference = reference(cmd);
        let latest = std::fs::read_to_string(reference.out.join("checkpoints/latest")).unwrap();
        let step = format!("checkpoints/{}", latest.trim());
        type Damage = fn(&[u8]) -> Vec<u8>;
        let truncated: Damage = |b| b[..b.len() / 2].to_vec();
        let garbage: Damage = |b| {
            let mut rng = ChaCha8Rng::seed_from_u64(b.len() as u64);
            (0..b.len().max(16)).map(|_| rng.random()).collect()
        };
        let empty: Damage = |_| Vec::new();
        let cases: Vec<(String, &str, Damage)> = vec![
            (format!("{step}/model.safetensors"), "truncated", truncated),
            (format!("{step}/model.safetensors"), "garbage", garbage),
            (
                format!("{step}/optimizer.safetensors"),
                "truncated",
                truncated,
            ),
            (format!("{step}/optimizer.safetensors"), "garbage", garbage),
            (format!("{step}/state.json"), "truncated", truncated),
            (format!("{step}/state.json"), "empty", empty),
            ("checkpoints/latest".to_owned(), "garbage", garbage),
            ("checkpoints/latest".to_owned(), "empty", empty),
        ];
        for (file, how, damage) in cases {
            let out = copy_of(&reference.out, &format!("{}-damaged", cmd.name()));
            let path = out.join(&file);
            std::fs::write(&path, damage(&std::fs::read(&path).unwrap())).unwrap();
            let before = collect(&out);
            let (ok, log) = rerun(cmd, &out);
            assert!(!ok, "{cmd:?} restarted over a {how} {file}: {log}");
            let named = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                log.contains(&named) && log.contains(&*out.to_string_lossy()),
                "{cmd:?}, {how} {file}: the error does not name the file: {log}"
            );
            // Nothing was trained from scratch or overwritten.
            assert_identical(cmd, &before, &collect(&out), &format!("{how} {file}"));
            std::fs::remove_dir_all(&out).ok();
        }
    }
    // A lost `latest` pointer: the run resumes from its newest checkpoint, not from scratch.
    let reference = reference(Cmd::Train);
    let out = copy_of(&reference.out, "train-no-latest");
    std::fs::remove_file(out.join("checkpoints/latest")).unwrap();
    let (ok, log) = rerun(Cmd::Train, &out);
    assert!(ok && log.contains("resumed at step 8"), "{log}");
    let mut expected = reference.files.clone();
    expected.remove("checkpoints/latest"); // a finished run writes no checkpoint to repoint it
    assert_identical(Cmd::Train, &expected, &collect(&out), "no latest");
    std::fs::remove_dir_all(&out).ok();
}

/// Cuts the last line of a JSON Lines file in the middle (a write cut short).
fn tear_last_line(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let body = text.strip_suffix('\n').unwrap();
    let start = body.rfind('\n').map_or(0, |i| i + 1);
    std::fs::write(path, &text[..start + (body.len() - start) / 2]).unwrap();
}

#[test]
fn torn_records_are_played_again_and_garbage_records_are_named() {
    let reference = reference(Cmd::Study);
    let results = "results/base.jsonl";
    let metrics = "runs/difficulty_textcraft_easy_to_hard/metrics.jsonl";

    // A torn last record of a run in progress (not in the manifest yet): dropped, and its
    // episode played again, to the same bytes.
    let out = copy_of(&reference.out, "study-torn");
    std::fs::remove_file(out.join("manifest.json")).unwrap();
    tear_last_line(&out.join(results));
    let (ok, log) = rerun(Cmd::Study, &out);
    assert!(ok, "{log}");
    assert!(log.contains("dropped a torn last line"), "{log}");
    assert_identical(Cmd::Study, &reference.files, &collect(&out), "torn record");
    std::fs::remove_dir_all(&out).ok();

    // A garbage line inside a record file: an error naming the file and line.
    let out = copy_of(&reference.out, "study-garbage");
    std::fs::remove_file(out.join("manifest.json")).unwrap();
    let text = std::fs::read_to_string(out.join(results)).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(2, "{\"run\": \"base\", \"checkp");
    std::fs::write(out.join(results), lines.join("\n") + "\n").unwrap();
    let (ok, log) = rerun(Cmd::Study, &out);
    assert!(!ok && log.contains("base.jsonl:3"), "{log}");
    std::fs::remove_dir_all(&out).ok();

    // Metrics of a checkpointed step torn away (not a crash: the line is written before its
    // checkpoint): an error naming the file, not a silent gap.
    let out = copy_of(&reference.out, "study-metrics");
    std::fs::remove_file(out.join("manifest.json")).unwrap();
    tear_last_line(&out.join(metrics));
    let (ok, log) = rerun(Cmd::Study, &out);
    assert!(!ok && log.contains("metrics.jsonl"), "{log}");
    std::fs::remove_dir_all(&out).ok();
}

/// A base build killed after its model was saved but before `base.json` was written: the rerun
/// resumes the finished warm start and writes the same record (its losses come from the
/// metrics file, not from the steps this call ran, which are none).
#[test]
fn a_base_build_killed_before_its_record_rebuilds_the_same_record() {
    let envs = vec!["textcraft".to_owned()];
    let registry = registry_for(&envs).unwrap();
    let spec = crate::toy::tiny_base_spec(&envs, 2, 2);
    let dir = root().join("base-record");
    let (_, first) = build_small_base(&spec, &registry, &dir, false).unwrap();
    assert!(first.sft_loss.0.is_finite() && first.sft_loss.1.is_finite());
    std::fs::remove_file(dir.join("base.json")).unwrap();
    let (_, again) = build_small_base(&spec, &registry, &dir, false).unwrap();
    assert_eq!(again.sft_loss, first.sft_loss);
    assert_eq!(
        (again.demos, again.parameters),
        (first.demos, first.parameters)
    );
    std::fs::remove_dir_all(&dir).ok();
}
