//! The study's files: plans and settings (TOML), difficulty files and episode records (JSON).
//! Their public entry points take paths, so each input is written to a scratch file first; what
//! loads is then used the way the study uses it (pending runs, fingerprints, difficulty look-ups,
//! summaries).

use std::sync::OnceLock;

use crossgym_env_core::{Oracle, Split, TaskId};
use crossgym_study::difficulty::DifficultyFile;
use crossgym_study::metrics::{Bootstrap, summarize};
use crossgym_study::plan::{Manifest, Plan};
use crossgym_study::records::{self, Checkpoint, EpisodeRecord};
use crossgym_study::runner::StudySettings;

use crate::harness::{scratch_dir, scratch_file};

/// The scratch folder of this process's study targets.
fn dir() -> &'static std::path::Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| scratch_dir("study"))
}

/// Reads a file the study wrote (for seeds).
fn written(save: impl FnOnce(&std::path::Path), name: &str) -> Vec<u8> {
    let path = dir().join(name);
    // Records are appended: start from no file.
    let _ = std::fs::remove_file(&path);
    save(&path);
    std::fs::read(&path).expect("the seed was written")
}

/// Fuzzes `Plan::load` (a study plan, TOML), then lists its pending runs and fingerprints.
pub fn study_plan(data: &[u8]) {
    let path = scratch_file(dir(), "plan.toml", data);
    if let Ok(plan) = Plan::load(&path) {
        for run in plan.pending(&Manifest::default()) {
            let _ = (run.kind.id(), run.fingerprint());
        }
    }
}

/// Seeds of [`study_plan`]: the paper's plan over the five envs and a one-axis plan.
pub fn study_plan_seeds() -> Vec<Vec<u8>> {
    let envs: Vec<String> = ["webshop", "searchqa", "textcraft", "alfworld", "babyai"]
        .map(str::to_owned)
        .to_vec();
    let paper = Plan::paper("SmolLM2-135M-Instruct", &envs, Some(4), 7);
    let small = Plan::new("small", "tiny").with_difficulty(&envs[2..3], 1);
    vec![
        written(|p| paper.save(p).expect("saves"), "seed-plan.toml"),
        written(|p| small.save(p).expect("saves"), "seed-small.toml"),
    ]
}

/// Fuzzes `StudySettings::load` (the study's settings, TOML, with range checks).
pub fn study_settings(data: &[u8]) {
    let path = scratch_file(dir(), "settings.toml", data);
    let _ = StudySettings::load(&path);
}

/// Seeds of [`study_settings`]: the default settings as the study writes them.
pub fn study_settings_seeds() -> Vec<Vec<u8>> {
    let settings = StudySettings::default();
    vec![written(
        |p| settings.save(p).expect("saves"),
        "seed-settings.toml",
    )]
}

/// Fuzzes `DifficultyFile::load` (a study's easy/hard split, JSON), then looks tasks up in it.
pub fn study_difficulty(data: &[u8]) {
    let path = scratch_file(dir(), "difficulty.json", data);
    if let Ok(file) = DifficultyFile::load(&path) {
        for env in file.envs.keys() {
            for task in [0, 1, 7] {
                let _ = file.difficulty(env, TaskId(task));
            }
        }
    }
}

/// Seeds of [`study_difficulty`]: the split of the records seeds.
pub fn study_difficulty_seeds() -> Vec<Vec<u8>> {
    let file = DifficultyFile::from_records("tiny", 1, 3, &seed_records()).expect("records");
    vec![written(
        |p| file.save(p).expect("saves"),
        "seed-difficulty.json",
    )]
}

/// Fuzzes `records::read_jsonl` (episode records, JSON Lines), then summarises the records and
/// splits them by difficulty as the study does.
pub fn study_records(data: &[u8]) {
    let path = scratch_file(dir(), "records.jsonl", data);
    let Ok(records) = records::read_jsonl(&path) else {
        return;
    };
    let bootstrap = Bootstrap {
        resamples: 8,
        confidence: 0.9,
        seed: 0,
    };
    let _ = summarize("fuzz", &records, &bootstrap);
    let _ = DifficultyFile::from_records("fuzz", 1, 0, &records);
}

/// Seeds of [`study_records`]: records of BabyAI oracle episodes, with and without turns.
pub fn study_records_seeds() -> Vec<Vec<u8>> {
    let records = seed_records();
    vec![written(
        |p| records::append_jsonl(p, &records).expect("writes"),
        "seed-records.jsonl",
    )]
}

/// Records of a few BabyAI oracle episodes (train and test, one with its turns).
fn seed_records() -> Vec<EpisodeRecord> {
    let mut env = crossgym_env_babyai::BabyAiEnv::new().expect("BabyAI builds");
    (0..4)
        .filter_map(|task| {
            let episode = env.demonstration(TaskId(task), 16).ok().flatten()?;
            let split = if task % 2 == 0 {
                Split::Train
            } else {
                Split::Test
            };
            let mut record =
                EpisodeRecord::from_episode("seed", Checkpoint::START, split, 0, &episode, 40);
            if task == 0 {
                record.episode = Some(episode);
            }
            Some(record)
        })
        .collect()
}
