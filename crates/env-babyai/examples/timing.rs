//! Steps per CPU-second of the text env, measured with the process's own CPU time (Linux
//! `/proc/self/stat`), so that other load on a shared machine does not count:
//! `cargo run --release -p crossgym-env-babyai --example timing`.

use crossgym_env_babyai::BabyAiEnv;

#[path = "../benches/common/player.rs"]
mod player;
use player::Player;

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
    let mut player = Player::new(0);
    let steps = 200_000;
    let start = cpu_seconds();
    let wall = std::time::Instant::now();
    for _ in 0..steps {
        player.step(&mut env);
    }
    let cpu = cpu_seconds() - start;
    println!(
        "{steps} steps: {:.0} steps per CPU-second ({cpu:.2} s CPU, {:.2} s wall)",
        steps as f64 / cpu,
        wall.elapsed().as_secs_f64()
    );
}
