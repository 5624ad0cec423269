//! `step` throughput on a typical get / craft / inventory mix (whole replies, parsing included),
//! and the same mix at the action level (`Crafting::act`) and `reset`.
//!
//! ```text
//! cargo bench -p crossgym-env-textcraft --bench step -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crossgym_env_core::{Env, TaskId};
use crossgym_env_textcraft::TextCraftEnv;

/// One round of the mix: a get, two crafts (one through a tag ingredient), an inventory.
const ACTIONS: [&str; 4] = [
    "get 1 oak logs",
    "craft 4 oak planks using 1 oak logs",
    "craft 4 stick using 2 oak planks",
    "inventory",
];

fn replies() -> Vec<String> {
    ACTIONS
        .iter()
        .map(|action| format!("Thought:\nI need materials for the goal.\n\nAction:\n{action}"))
        .collect()
}

/// A task whose goal the mix never crafts (so the episode never ends).
const TASK: TaskId = TaskId(543);

fn bench_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("step");
    group.throughput(Throughput::Elements(ACTIONS.len() as u64));
    let replies = replies();
    let mut env = TextCraftEnv::new().expect("embedded data loads");
    env.reset(TASK).expect("task exists");
    group.bench_function("reply_mix", |b| {
        b.iter(|| {
            for reply in &replies {
                let step = env.step(black_box(reply)).expect("never done");
                black_box(step);
            }
        })
    });
    env.reset(TASK).expect("task exists");
    let mut crafting = env.crafting().expect("reset").clone();
    group.bench_function("action_mix", |b| {
        b.iter(|| {
            for action in ACTIONS {
                black_box(crafting.act(black_box(action)));
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("reset");
    group.throughput(Throughput::Elements(1));
    let mut task = 0;
    group.bench_function("reset", |b| {
        b.iter(|| {
            task = (task + 1) % 544;
            black_box(env.reset(TaskId(task)).expect("task exists"))
        })
    });
    group.finish();
}

criterion_group!(benches, bench_step);
criterion_main!(benches);
