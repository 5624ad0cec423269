//! High-level text steps per second (rendering and action listing included), over all 40 levels.
//!
//! `cargo bench -p crossgym-env-babyai --bench step -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crossgym_env_babyai::BabyAiEnv;
use crossgym_env_core::{Env, TaskId};

const STEPS: u64 = 1_000;

/// Plays `STEPS` steps, choosing listed actions with a fixed pattern and resetting to the next
/// level after 25 steps or when an episode ends.
fn play(env: &mut BabyAiEnv, task: &mut usize) {
    let mut in_episode = 0;
    let mut k = 0usize;
    for _ in 0..STEPS {
        if in_episode == 0 {
            env.reset(TaskId(*task % 400)).expect("reset");
            *task += 1;
        }
        let action = {
            let actions = &env.session().expect("running").rendering().actions;
            k = k.wrapping_mul(31).wrapping_add(17);
            actions[k % actions.len()].name.clone()
        };
        let step = env
            .step(&format!("Thought:\nGo.\n\nAction:\n{action}"))
            .expect("step");
        black_box(&step.observation);
        in_episode = if step.done || in_episode == 24 {
            0
        } else {
            in_episode + 1
        };
    }
}

fn bench_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("babyai");
    group.throughput(Throughput::Elements(STEPS));
    let mut env = BabyAiEnv::new().expect("env");
    let mut task = 0usize;
    group.bench_function("step", |b| b.iter(|| play(&mut env, &mut task)));
    group.finish();
}

criterion_group!(benches, bench_step);
criterion_main!(benches);
