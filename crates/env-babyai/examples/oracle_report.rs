//! Runs the oracle on a range of tasks and prints the success rate per level.
//!
//! `cargo run --release -p crossgym-env-babyai --example oracle_report -- 0 900`

use crossgym_env_babyai::levels::LEVELS;
use crossgym_env_babyai::oracle;
use crossgym_env_babyai::session::TextSession;
use crossgym_env_babyai::task_world;
use crossgym_env_core::TaskId;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (start, end) = (
        args.first().copied().unwrap_or(0),
        args.get(1).copied().unwrap_or(400),
    );
    let mut per_level = vec![(0usize, 0usize, 0usize); LEVELS.len()];
    for task in start..end {
        let world = match task_world(TaskId(task)) {
            Ok(world) => world,
            Err(e) => {
                println!("task {task}: {e}");
                continue;
            }
        };
        let mut session = TextSession::new(world);
        let out = oracle::solve(&mut session);
        let slot = &mut per_level[task % LEVELS.len()];
        slot.0 += 1;
        slot.1 += usize::from(out.success);
        slot.2 += usize::from(out.done);
        if !out.success {
            println!(
                "task {task} ({}) failed: {:?} mission {:?}",
                LEVELS[task % 40].name,
                out,
                session.world().mission
            );
        }
    }
    let (mut n, mut s, mut d) = (0, 0, 0);
    for (level, (count, success, done)) in LEVELS.iter().zip(&per_level) {
        println!("{:24} {success}/{count} success, {done} done", level.name);
        n += count;
        s += success;
        d += done;
    }
    println!("total {s}/{n} success, {d} done");
}
