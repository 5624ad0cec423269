//! End-to-end checks of the trainer on the echo game with a tiny random model.

use std::path::PathBuf;

use candle_core::Tensor;
use candle_core::{DType, Device};
use crossgym_env_core::{Env, TaskId, run_episode};
use crossgym_grpo::batch::Sequence;
use crossgym_grpo::games::{echo_colors, echo_game, echo_tokenizer};
use crossgym_grpo::update::{UpdateSettings, grpo_update};
use crossgym_grpo::{
    AdamW, AdamWConfig, Demonstration, GrpoConfig, LossConfig, RolloutConfig, SftConfig,
    SftTrainer, TrainerBuilder,
};
use crossgym_policy::{CausalLm, ChatTemplate, ModelConfig, Tokenizer, token_logprobs};

fn tiny_model(tokenizer: &Tokenizer, seed: u64) -> CausalLm {
    let config = ModelConfig::tiny_llama(tokenizer.vocab_size(), 16, 1, 2, 1);
    CausalLm::random(&config, seed, DType::F32, &Device::Cpu).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crossgym-grpo-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config(steps: usize) -> GrpoConfig {
    GrpoConfig {
        seed: 11,
        steps,
        group_size: 3,
        tasks_per_batch: 2,
        mini_batch_tasks: 1,
        micro_batch_size: 2, // groups of 3 split 2 + 1: gradient accumulation is exercised
        optimizer: AdamWConfig {
            lr: 1e-2,
            ..AdamWConfig::default()
        },
        rollout: RolloutConfig {
            max_tokens_per_turn: 6,
            ..RolloutConfig::default()
        },
        ..GrpoConfig::default()
    }
}

fn trainer(
    model: CausalLm,
    tokenizer: &Tokenizer,
    steps: usize,
    dir: &PathBuf,
) -> crossgym_grpo::Trainer {
    TrainerBuilder::new(model, tokenizer.clone(), config(steps))
        .env(|| Ok(Box::new(echo_game(2, 20, 0)?) as Box<dyn Env>))
        .checkpoint_dir(dir)
        .metrics_file(dir.join("metrics.jsonl"))
        .build()
        .unwrap()
}

fn weights(model: &CausalLm) -> Vec<(String, Vec<u32>)> {
    let mut out: Vec<(String, Vec<u32>)> = model
        .named_tensors()
        .unwrap()
        .into_iter()
        .map(|(name, t)| {
            let bits = t
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
                .into_iter()
                .map(f32::to_bits)
                .collect();
            (name, bits)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn resume_continues_bit_identically() {
    let tokenizer = echo_tokenizer(300).unwrap();

    let straight_dir = scratch("straight");
    let mut straight = trainer(tiny_model(&tokenizer, 3), &tokenizer, 4, &straight_dir);
    let straight_metrics = straight.train().unwrap();
    assert_eq!(straight_metrics.len(), 4);
    assert!(
        straight_metrics
            .iter()
            .all(|m| m.updates == 2 && m.skipped_updates == 0)
    );

    let split_dir = scratch("split");
    let mut first = trainer(tiny_model(&tokenizer, 3), &tokenizer, 2, &split_dir);
    first.train().unwrap();
    drop(first);
    let mut second = trainer(tiny_model(&tokenizer, 3), &tokenizer, 4, &split_dir);
    second.resume(&split_dir).unwrap();
    assert_eq!(second.step(), 2);
    let resumed_metrics = second.train().unwrap();

    assert_eq!(weights(straight.model()), weights(second.model()));
    assert_eq!(
        straight.optimizer().step_count(),
        second.optimizer().step_count()
    );
    let rewards =
        |m: &[crossgym_grpo::StepMetrics]| m.iter().map(|s| s.reward_mean).collect::<Vec<_>>();
    assert_eq!(rewards(&straight_metrics[2..]), rewards(&resumed_metrics));
    // The weights did move: the comparison is not vacuous.
    assert_ne!(
        weights(straight.model()),
        weights(&tiny_model(&tokenizer, 3))
    );

    let lines = std::fs::read_to_string(split_dir.join("metrics.jsonl")).unwrap();
    assert_eq!(
        lines.lines().count(),
        4,
        "one JSON line per step, across the resume"
    );
    for dir in [straight_dir, split_dir] {
        std::fs::remove_dir_all(dir).unwrap();
    }
}

/// The echo game's first `n` tasks played perfectly, as demonstrations.
fn demonstrations(n: usize) -> Vec<Demonstration> {
    let mut game = echo_game(2, 20, 0).unwrap();
    (0..n)
        .map(|task| {
            let colors = echo_colors(2, 0, TaskId(task));
            let mut turn = 0;
            let episode = run_episode(&mut game, TaskId(task), |_| {
                turn += 1;
                format!("Action: {}", colors[turn - 1])
            })
            .unwrap();
            Demonstration::from_episode(&game, None, &episode)
        })
        .collect()
}

/// Three token sequences of the echo game's format.
fn sequences(tokenizer: &Tokenizer) -> Vec<(Vec<u32>, Vec<u8>)> {
    let template = ChatTemplate::chatml(None);
    demonstrations(3)
        .iter()
        .map(|demo| demo.tokenize(tokenizer, &template).unwrap())
        .collect()
}

/// The model's log-probability of each token after the first.
fn next_token_logprobs(model: &CausalLm, tokens: &[u32]) -> Vec<f32> {
    let ids = Tensor::new(tokens, &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let n = tokens.len() - 1;
    let logits = model.forward(&ids.narrow(1, 0, n).unwrap()).unwrap();
    token_logprobs(&logits, &ids.narrow(1, 1, n).unwrap())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

fn sequence_logprob(model: &CausalLm, tokens: &[u32], mask: &[u8]) -> f64 {
    next_token_logprobs(model, tokens)
        .iter()
        .zip(&mask[1..])
        .filter(|(_, m)| **m != 0)
        .map(|(l, _)| f64::from(*l))
        .sum()
}

fn recorded_logprobs(model: &CausalLm, tokens: &[u32], mask: &[u8]) -> Vec<f32> {
    let lp = next_token_logprobs(model, tokens);
    std::iter::once(0.0)
        .chain(
            lp.into_iter()
                .zip(&mask[1..])
                .map(|(l, m)| if *m != 0 { l } else { 0.0 }),
        )
        .collect()
}

/// Sequences paired with their recorded log-probabilities.
fn views<'a>(seqs: &'a [(Vec<u32>, Vec<u8>)], old: &'a [Vec<f32>]) -> Vec<Sequence<'a>> {
    seqs.iter()
        .zip(old)
        .map(|((t, m), o)| Sequence {
            tokens: t,
            loss_mask: m,
            logprobs: o,
        })
        .collect()
}

fn adamw(model: &CausalLm, lr: f64) -> AdamW {
    AdamW::new(
        model.named_vars().unwrap(),
        AdamWConfig {
            lr,
            ..AdamWConfig::default()
        },
    )
    .unwrap()
}

/// Update settings with clipping at 1 and temperature 1.
fn settings(micro_batch_size: usize) -> UpdateSettings {
    UpdateSettings {
        micro_batch_size,
        max_grad_norm: 1.0,
        temperature: 1.0,
        recompute: crossgym_policy::Recompute::Auto,
    }
}

#[test]
fn update_moves_probability_with_the_advantage_sign() {
    let tokenizer = echo_tokenizer(300).unwrap();
    let seqs = sequences(&tokenizer);
    let (tokens, mask) = &seqs[0];
    for advantage in [1.0, -1.0] {
        let model = tiny_model(&tokenizer, 5);
        let old = recorded_logprobs(&model, tokens, mask);
        let view = Sequence {
            tokens,
            loss_mask: mask,
            logprobs: &old,
        };
        let before = sequence_logprob(&model, tokens, mask);
        let mut optimizer = adamw(&model, 1e-3);
        let settings = settings(2);
        let loss = LossConfig {
            entropy_coef: 0.0,
            ..LossConfig::default()
        };
        let stats = grpo_update(
            &model,
            None,
            &mut optimizer,
            &[view],
            &[advantage],
            &loss,
            &settings,
        )
        .unwrap();
        assert!(stats.applied && !stats.skipped_nonfinite);
        // First update: π = π_old, so every ratio is 1 and nothing is clipped.
        assert!((stats.sums.ratio / stats.sums.tokens - 1.0).abs() < 1e-5);
        assert_eq!(stats.sums.clipped, 0.0);
        let after = sequence_logprob(&model, tokens, mask);
        assert_eq!(
            (after - before).signum(),
            advantage,
            "A = {advantage}: log-prob {before} -> {after}"
        );
    }
}

#[test]
fn non_finite_loss_skips_the_update() {
    let tokenizer = echo_tokenizer(300).unwrap();
    let model = tiny_model(&tokenizer, 6);
    let seqs = sequences(&tokenizer);
    let bad: Vec<Vec<f32>> = seqs.iter().map(|(t, _)| vec![f32::NAN; t.len()]).collect();
    let views = views(&seqs, &bad);
    let before = weights(&model);
    let mut optimizer = AdamW::new(model.named_vars().unwrap(), AdamWConfig::default()).unwrap();
    let stats = grpo_update(
        &model,
        None,
        &mut optimizer,
        &views,
        &[1.0, -1.0, 0.5],
        &LossConfig::default(),
        &settings(4),
    )
    .unwrap();
    assert!(stats.skipped_nonfinite && !stats.applied);
    assert_eq!(optimizer.step_count(), 0);
    assert_eq!(weights(&model), before);
}

#[test]
fn warm_start_learns_the_demonstrations_and_resumes() {
    let tokenizer = echo_tokenizer(300).unwrap();
    let template = ChatTemplate::chatml(None);
    let demos = demonstrations(4);
    let sft = SftConfig {
        steps: 6,
        batch_size: 3,
        micro_batch_size: 2,
        optimizer: AdamWConfig {
            lr: 1e-2,
            ..AdamWConfig::default()
        },
        ..SftConfig::default()
    };
    let model = tiny_model(&tokenizer, 8);
    let mut trainer = SftTrainer::new(&model, &tokenizer, &template, &demos, sft.clone()).unwrap();
    let metrics = trainer.train().unwrap();
    assert!(
        metrics[5].loss < metrics[0].loss,
        "loss {} -> {}",
        metrics[0].loss,
        metrics[5].loss
    );

    let dir = scratch("sft");
    let model_b = tiny_model(&tokenizer, 8);
    let mut half = SftTrainer::new(
        &model_b,
        &tokenizer,
        &template,
        &demos,
        SftConfig {
            steps: 3,
            ..sft.clone()
        },
    )
    .unwrap();
    half.set_checkpoint_dir(&dir);
    half.train().unwrap();
    let model_c = tiny_model(&tokenizer, 8);
    let mut rest = SftTrainer::new(&model_c, &tokenizer, &template, &demos, sft).unwrap();
    rest.resume(&dir).unwrap();
    rest.train().unwrap();
    assert_eq!(weights(&model), weights(&model_c));
    std::fs::remove_dir_all(dir).unwrap();

    // With the observation loss every token after the first is a target, so each step learns
    // from all `total_tokens - batch_size` predictions instead of the assistant's alone.
    let whole = SftConfig {
        steps: 1,
        observation_loss: true,
        ..SftConfig::default()
    };
    let model_d = tiny_model(&tokenizer, 8);
    let mut trainer = SftTrainer::new(&model_d, &tokenizer, &template, &demos, whole).unwrap();
    let step = trainer.train_step().unwrap();
    assert_eq!(step.loss_tokens, step.total_tokens - 16);
    let replies_only = SftConfig {
        steps: 1,
        ..SftConfig::default()
    };
    let mut trainer =
        SftTrainer::new(&model_d, &tokenizer, &template, &demos, replies_only).unwrap();
    let step = trainer.train_step().unwrap();
    assert!(step.loss_tokens * 2 < step.total_tokens, "{step:?}");
}

/// The bf16 (AMX) matrix products give the GRPO update of a fixed batch — its loss and its mean
/// ratio π/π_old after one step — within 1e-2 of the f32 path. Where the CPU lacks AMX-BF16 this
/// says so on stderr (and fails with `CROSSGYM_REQUIRE_AMX=1`).
#[test]
fn bf16_update_matches_the_f32_update_within_1e2() {
    use crossgym_policy::matmul::{MatmulBackend, amx_available};
    if !amx_available() {
        assert!(
            std::env::var_os("CROSSGYM_REQUIRE_AMX").is_none_or(|v| v != "1"),
            "CROSSGYM_REQUIRE_AMX=1 but this CPU/OS cannot run AMX-BF16"
        );
        eprintln!("SKIPPED: bf16 GRPO update: no AMX-BF16 on this CPU");
        return;
    }
    let tokenizer = echo_tokenizer(300).unwrap();
    let seqs = sequences(&tokenizer);
    let config = ModelConfig::tiny_llama(tokenizer.vocab_size(), 64, 2, 4, 2);
    let run = |backend: MatmulBackend| {
        let mut model = CausalLm::random(&config, 9, DType::F32, &Device::Cpu).unwrap();
        model.set_matmul_backend(MatmulBackend::F32);
        let old: Vec<Vec<f32>> = seqs
            .iter()
            .map(|(t, m)| recorded_logprobs(&model, t, m))
            .collect();
        model.set_matmul_backend(backend);
        let views = views(&seqs, &old);
        let mut optimizer = adamw(&model, 1e-3);
        let settings = settings(2);
        let advantages: Vec<f64> = (0..views.len())
            .map(|i| if i % 2 == 0 { 1.0 } else { -0.5 })
            .collect();
        let mut update = || {
            grpo_update(
                &model,
                None,
                &mut optimizer,
                &views,
                &advantages,
                &LossConfig::default(),
                &settings,
            )
            .unwrap()
        };
        let first = update();
        let second = update();
        (
            first.loss,
            second.loss,
            second.sums.ratio / second.sums.tokens,
        )
    };
    let f32_run = run(MatmulBackend::F32);
    let bf16_run = run(MatmulBackend::Bf16Amx);
    eprintln!("GRPO f32 (loss, loss after a step, mean ratio) {f32_run:?} vs bf16 {bf16_run:?}");
    let pairs = [
        (f32_run.0, bf16_run.0),
        (f32_run.1, bf16_run.1),
        (f32_run.2, bf16_run.2),
    ];
    for (f32_value, bf16_value) in pairs {
        assert!(
            (f32_value - bf16_value).abs() <= 1e-2,
            "{f32_run:?} vs {bf16_run:?}"
        );
    }
}
