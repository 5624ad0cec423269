//! High-level text steps per second (rendering and action listing included), over all 40 levels.
//!
//! `cargo bench -p crossgym-env-babyai --bench step -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crossgym_env_babyai::BabyAiEnv;

#[path = "common/player.rs"]
mod player;
use player::Player;

const STEPS: u64 = 1_000;

/// Plays `STEPS` steps, starting at level `task` (advanced past the levels played).
fn play(env: &mut BabyAiEnv, task: &mut usize) {
    let mut player = Player::new(*task);
    for _ in 0..STEPS {
        black_box(&player.step(env).observation);
    }
    *task = player.task;
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
