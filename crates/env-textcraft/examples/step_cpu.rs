//! Steps per CPU-second of the `benches/step.rs` mix, measured with the process's CPU time
//! (Linux `/proc/self/stat`), so the number holds on a machine shared with other jobs where
//! wall-clock benchmarks are noisy.
//!
//! ```text
//! cargo run --release -p crossgym-env-textcraft --example step_cpu -- [steps]
//! ```

use std::hint::black_box;
use std::time::Instant;

use crossgym_env_core::{Env, TaskId};
use crossgym_env_textcraft::TextCraftEnv;

const ACTIONS: [&str; 4] = [
    "get 1 oak logs",
    "craft 4 oak planks using 1 oak logs",
    "craft 4 stick using 2 oak planks",
    "inventory",
];

/// User + system CPU time of this process in clock ticks (usually 1/100 s).
fn cpu_ticks() -> Result<u64, Box<dyn std::error::Error>> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').ok_or("malformed /proc/self/stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let steps: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 20_000_000,
    };
    let replies: Vec<String> = ACTIONS
        .iter()
        .map(|a| format!("Thought:\nI need materials for the goal.\n\nAction:\n{a}"))
        .collect();
    let mut env = TextCraftEnv::new()?;
    env.reset(TaskId(543))?;
    let (ticks, wall) = (cpu_ticks()?, Instant::now());
    for _ in 0..steps / ACTIONS.len() {
        for reply in &replies {
            black_box(env.step(black_box(reply))?);
        }
    }
    let cpu = (cpu_ticks()? - ticks) as f64 / 100.0;
    let wall = wall.elapsed().as_secs_f64();
    let done = (steps / ACTIONS.len() * ACTIONS.len()) as f64;
    println!(
        "{done} steps: {:.0} steps per CPU-second ({cpu:.2} s CPU), {:.0} steps/s wall ({wall:.2} s)",
        done / cpu,
        done / wall
    );
    Ok(())
}
