//! Steps per CPU-second of the text env, measured with the process's own CPU time (Linux
//! `/proc/self/stat`), so that other load on a shared machine does not count:
//! `cargo run --release -p crossgym-env-babyai --example timing`.

use crossgym_env_babyai::BabyAiEnv;
use crossgym_env_core::{Env, TaskId};

/// User + system CPU time of this process in seconds (clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let mut env = BabyAiEnv::new().expect("env");
    let (mut task, mut in_episode, mut k) = (0usize, 0, 0usize);
    let steps = 200_000;
    let start = cpu_seconds();
    let wall = std::time::Instant::now();
    for _ in 0..steps {
        if in_episode == 0 {
            env.reset(TaskId(task % 400)).expect("reset");
            task += 1;
        }
        let action = {
            let actions = &env.session().expect("running").rendering().actions;
            k = k.wrapping_mul(31).wrapping_add(17);
            actions[k % actions.len()].name.clone()
        };
        let step = env
            .step(&format!("Thought:\nGo.\n\nAction:\n{action}"))
            .expect("step");
        in_episode = if step.done || in_episode == 24 {
            0
        } else {
            in_episode + 1
        };
    }
    let cpu = cpu_seconds() - start;
    println!(
        "{steps} steps: {:.0} steps per CPU-second ({cpu:.2} s CPU, {:.2} s wall)",
        steps as f64 / cpu,
        wall.elapsed().as_secs_f64()
    );
}
