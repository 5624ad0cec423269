//! Hardening of the trainer's inputs and files.
//!
//! - Bad configuration: every numeric field of [`GrpoConfig`] (with its `[loss]`, `[optimizer]`
//!   and `[rollout]` tables) and of [`SftConfig`] set out of range gives an error that names the
//!   field (dotted path) and the allowed range; a misspelt key is an error naming it.
//! - The metrics file of a resumed run: [`MetricsLog::truncate_to_step`] keeps the lines of the
//!   checkpointed steps, drops later ones and a torn last line, and refuses a file that lost a
//!   checkpointed step's line.
//! - A checkpoint root whose `latest` file is missing resumes from its newest checkpoint, not
//!   from scratch.

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use crossgym_grpo::checkpoint::{self, CHECKPOINT_FORMAT, Checkpoint, CheckpointState, RngState};
use crossgym_grpo::{GrpoConfig, MetricsLog, SftConfig, StepMetrics};
use rand::SeedableRng;

/// The key of the total-token cap of `[rollout]`.
const TOTAL_TOKENS: &str = "max_response_tokens";

/// Parses `toml` with `parse` and asserts the error names `field` and says `allowed`.
fn assert_refused<T: std::fmt::Debug>(
    parse: fn(&str) -> crossgym_grpo::Result<T>,
    toml: &str,
    field: &str,
    allowed: &str,
) {
    let err = parse(toml)
        .map(|c| format!("accepted: {c:?}"))
        .map_or_else(|e| e.to_string(), |ok| panic!("{toml:?} was {ok}"));
    assert!(
        err.contains(field) && err.contains(allowed),
        "{toml:?}: the error should name {field:?} and {allowed:?}: {err}"
    );
}

/// Asserts `parse` refuses each of `cases` and of [`SHARED_CASES`] naming the field and the
/// range, and accepts `edges` (every range's edge values).
fn assert_ranges<T: std::fmt::Debug>(
    parse: fn(&str) -> crossgym_grpo::Result<T>,
    cases: &[(&str, &str, &str)],
    edges: &str,
) {
    for &(toml, field, allowed) in cases.iter().chain(&SHARED_CASES) {
        assert_refused(parse, toml, field, allowed);
    }
    parse(edges).unwrap();
}

/// Out-of-range fields that GRPO and SFT configs share (the `[optimizer]` table, the seed, the
/// checkpoint interval), refused alike by both: (TOML, field, allowed range).
#[rustfmt::skip]
const SHARED_CASES: [(&str, &str, &str); 15] = [
        ("[optimizer]\nlr = -1e-5", "optimizer.lr", "finite number >= 0"),
        ("[optimizer]\nbeta1 = 1.0", "optimizer.beta1", "[0, 1)"),
        ("[optimizer]\nbeta2 = -0.5", "optimizer.beta2", "[0, 1)"),
        ("[optimizer]\neps = 0.0", "optimizer.eps", "finite number > 0"),
        ("[optimizer]\nweight_decay = -0.01", "optimizer.weight_decay", "finite number >= 0"),
        ("[optimizer]\nmax_grad_norm = inf", "optimizer.max_grad_norm", "finite number >= 0"),
        ("[optimizer]\nlr = nan", "optimizer.lr", "finite number >= 0"),
        ("[optimizer]\nbeta1 = -0.1", "optimizer.beta1", "[0, 1)"),
        ("[optimizer]\nbeta2 = 2.0", "optimizer.beta2", "[0, 1)"),
        ("[optimizer]\neps = -1e-8", "optimizer.eps", "finite number > 0"),
        ("[optimizer]\nweight_decay = inf", "optimizer.weight_decay", "finite number >= 0"),
        ("[optimizer]\nmax_grad_norm = -1.0", "optimizer.max_grad_norm", "finite number >= 0"),
        // Fields of any value still have a type: the parser names them and the type.
        ("seed = -1", "seed", "u64"),
        ("checkpoint_every = -2", "checkpoint_every", "usize"),
        ("checkpoint_every = -1", "checkpoint_every", "usize"),
];

#[test]
fn every_grpo_field_out_of_range_names_the_field_and_the_range() {
    let total = format!("[rollout]\n{TOTAL_TOKENS} = 0\n");
    let total_field = format!("rollout.{TOTAL_TOKENS}");
    #[rustfmt::skip]
    let cases: Vec<(&str, &str, &str)> = vec![
        // (TOML, field, allowed range)
        ("steps = 0", "steps", "1 or more"),
        ("group_size = 0", "group_size", "1 or more"),
        ("tasks_per_batch = 0", "tasks_per_batch", "1 or more"),
        ("micro_batch_size = 0", "micro_batch_size", "1 or more"),
        ("mini_batch_tasks = 0", "mini_batch_tasks", "divisor of tasks_per_batch = 16"),
        ("tasks_per_batch = 6\nmini_batch_tasks = 4", "mini_batch_tasks", "1, 2, 3, 6"),
        ("[loss]\nclip_eps = -0.1", "loss.clip_eps", "finite number >= 0"),
        ("[loss]\nkl_coef = -1.0", "loss.kl_coef", "finite number >= 0"),
        ("[loss]\nkl_clamp = nan", "loss.kl_clamp", "finite number >= 0"),
        ("[loss]\nentropy_coef = inf", "loss.entropy_coef", "finite number >= 0"),
        ("[rollout]\nmax_turns = 0", "rollout.max_turns", "1 or more"),
        ("[rollout]\nmax_tokens_per_turn = 0", "rollout.max_tokens_per_turn", "1 or more"),
        (&total, &total_field, "1 or more"),
        ("[rollout]\ntemperature = 0.0", "rollout.temperature", "finite number > 0"),
        ("[rollout]\ntemperature = inf", "rollout.temperature", "finite number > 0"),
        ("[rollout]\ntop_p = 0.0", "rollout.top_p", "(0, 1]"),
        ("[rollout]\ntop_p = 1.5", "rollout.top_p", "(0, 1]"),
        ("[rollout]\nconcurrency = 0", "rollout.concurrency", "1 or more"),
    ];
    // The edges of each range are accepted.
    assert_ranges(
        GrpoConfig::from_toml_str,
        &cases,
        "steps = 1\ngroup_size = 1\ntasks_per_batch = 1\nmini_batch_tasks = 1\n\
         micro_batch_size = 1\n[loss]\nclip_eps = 0.0\nkl_coef = 0.0\nkl_clamp = 0.0\n\
         entropy_coef = 0.0\n[optimizer]\nlr = 0.0\nbeta1 = 0.0\nbeta2 = 0.0\neps = 1e-30\n\
         weight_decay = 0.0\nmax_grad_norm = 0.0\n[rollout]\nmax_turns = 1\n\
         max_tokens_per_turn = 1\ntemperature = 1e-6\ntop_p = 1.0\nconcurrency = 1\n",
    );
}

#[test]
fn every_sft_field_out_of_range_names_the_field_and_the_range() {
    #[rustfmt::skip]
    let cases = [
        ("steps = 0", "steps", "1 or more"),
        ("batch_size = 0", "batch_size", "1 or more"),
        ("micro_batch_size = 0", "micro_batch_size", "1 or more"),
        ("observation_loss = 3", "observation_loss", "bool"),
    ];
    assert_ranges(
        SftConfig::from_toml_str,
        &cases,
        "steps = 1\nbatch_size = 1\nmicro_batch_size = 1\n",
    );
}

#[test]
fn misspelt_keys_are_errors_naming_the_key() {
    for (toml, key) in [
        ("step = 3", "step"),
        ("[loss]\nclip_epsilon = 0.2", "clip_epsilon"),
        ("[optimizer]\nlearning_rate = 1e-5", "learning_rate"),
        ("[rollout]\ntemprature = 1.0", "temprature"),
        ("[rollouts]\nconcurrency = 2", "rollouts"),
    ] {
        assert_refused(GrpoConfig::from_toml_str, toml, key, "unknown field");
    }
    for (toml, key) in [
        ("batchsize = 3", "batchsize"),
        ("[optimizer]\nbeta_1 = 0.9", "beta_1"),
    ] {
        assert_refused(SftConfig::from_toml_str, toml, key, "unknown field");
    }
}

fn line(step: u64) -> String {
    let metrics = StepMetrics {
        phase: "grpo".into(),
        step,
        loss: step as f64 / 4.0,
        ..StepMetrics::default()
    };
    serde_json::to_string(&metrics).unwrap() + "\n"
}

#[test]
fn metrics_of_steps_after_the_checkpoint_and_a_torn_line_are_cut() {
    let dir = std::env::temp_dir().join(format!("crossgym-grpo-hardening-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("metrics.jsonl");
    assert_eq!(
        MetricsLog::truncate_to_step(&path, 3).unwrap(),
        0,
        "no file"
    );

    // Steps 1-4 written, then a kill mid-line of step 5; the checkpoint is at step 2.
    let kept = line(1) + &line(2);
    let five = line(5);
    let torn = &five[..20];
    std::fs::write(&path, kept.clone() + &line(3) + &line(4) + torn).unwrap();
    // A log opened before the cut (as the trainer opens it) appends where the kept lines end.
    let mut log = MetricsLog::append(&path).unwrap();
    let cut = MetricsLog::truncate_to_step(&path, 2).unwrap();
    assert_eq!(cut as usize, line(3).len() + line(4).len() + torn.len());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), kept);
    log.write(&serde_json::from_str::<StepMetrics>(&line(3)).unwrap())
        .unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), kept + &line(3));
    assert_eq!(
        MetricsLog::truncate_to_step(&path, 3).unwrap(),
        0,
        "nothing to cut"
    );

    // The line of a checkpointed step lost: an error naming the file, nothing cut.
    std::fs::write(&path, line(1) + &line(2)[..10]).unwrap();
    let err = MetricsLog::truncate_to_step(&path, 2)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("metrics.jsonl") && err.contains("up to 1"),
        "{err}"
    );
    std::fs::write(&path, line(1) + &line(3)).unwrap();
    let err = MetricsLog::truncate_to_step(&path, 3)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("metrics.jsonl:2") && err.contains("step 2"),
        "{err}"
    );
    // A complete line that is not metrics: an error naming the file and line.
    std::fs::write(&path, line(1) + "garbage\n" + &line(2)).unwrap();
    let err = MetricsLog::truncate_to_step(&path, 2)
        .unwrap_err()
        .to_string();
    assert!(err.contains("metrics.jsonl:2"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_root_without_latest_resumes_from_its_newest_checkpoint() {
    let run = std::env::temp_dir().join(format!("crossgym-grpo-latest-{}", std::process::id()));
    std::fs::remove_dir_all(&run).ok();
    assert_eq!(checkpoint::resumable_in(&run), None);
    let root = checkpoint::root_in(&run);
    let weights = Tensor::new(&[1.0f32, 2.0], &Device::Cpu).unwrap();
    for step in [2, 10, 4] {
        let ckpt = Checkpoint {
            weights: HashMap::from([("w".to_owned(), (&weights * step as f64).unwrap())]),
            optimizer: HashMap::from([("exp_avg.w".to_owned(), weights.clone())]),
            state: CheckpointState {
                format: CHECKPOINT_FORMAT,
                phase: "grpo".into(),
                step,
                optimizer_step: step,
                rng: RngState::capture(&rand_chacha::ChaCha8Rng::seed_from_u64(step)),
                sampler: None,
            },
        };
        checkpoint::save(&root, &ckpt).unwrap();
    }
    // `latest` names the last one saved (step 4); without it, the highest step is the truth.
    assert_eq!(checkpoint::load(&root, &Device::Cpu).unwrap().state.step, 4);
    std::fs::remove_file(root.join(checkpoint::LATEST_FILE)).unwrap();
    std::fs::create_dir_all(root.join(".step-00000011.tmp")).unwrap(); // an unfinished save
    std::fs::create_dir_all(root.join("step-00000012")).unwrap(); // no state.json: not one
    assert_eq!(checkpoint::resumable_in(&run), Some(root.clone()));
    let back = checkpoint::load(&root, &Device::Cpu).unwrap();
    assert_eq!(back.state.step, 10);
    let w: Vec<f32> = back.weights["w"].to_vec1().unwrap();
    assert_eq!(w, vec![10.0, 20.0]);
    std::fs::remove_dir_all(&run).ok();
}
