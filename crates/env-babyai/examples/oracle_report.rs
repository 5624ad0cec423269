//! Runs the oracle on a range of tasks and prints the success rate per level, overall and over
//! the tasks not proven text-unsolvable (`unsolvable::text_unsolvable`), with the reason of
//! every failure:
//!
//! `cargo run --release -p crossgym-env-babyai --example oracle_report -- 0 900`
//!
//! Task ids past 900 use the same generators with later seeds (not part of the task set).

use crossgym_env_babyai::levels::LEVELS;
use crossgym_env_babyai::session::TextSession;
use crossgym_env_babyai::unsolvable::text_unsolvable;
use crossgym_env_babyai::{oracle, task_level_seed, task_world};
use crossgym_env_core::TaskId;

#[derive(Default, Clone, Copy)]
struct Count {
    tasks: usize,
    solved: usize,
    unsolvable: usize,
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (start, end) = (
        args.first().copied().unwrap_or(0),
        args.get(1).copied().unwrap_or(900),
    );
    let mut per_level = vec![Count::default(); LEVELS.len()];
    for task in start..end {
        let world = match task_world(TaskId(task)) {
            Ok(world) => world,
            Err(e) => {
                println!("task {task}: {e}");
                continue;
            }
        };
        let proof = text_unsolvable(&world);
        let mission = world.mission.clone();
        let mut session = TextSession::new(world);
        let out = oracle::solve(&mut session);
        let (level, seed) = task_level_seed(TaskId(task));
        let slot = &mut per_level[level];
        slot.tasks += 1;
        slot.solved += usize::from(out.success);
        slot.unsolvable += usize::from(proof.is_some());
        if out.success && proof.is_some() {
            println!("task {task}: SOLVED although proven unsolvable: {proof:?}");
        }
        if !out.success {
            let why = proof.map_or_else(
                || "oracle failure (no unsolvability proof)".to_owned(),
                |p| format!("text-unsolvable: {p}"),
            );
            println!(
                "task {task} ({} seed {seed}) failed after {} primitives: {mission:?}: {why}",
                LEVELS[level].name, out.primitives
            );
        }
    }
    let mut total = Count::default();
    for (level, count) in LEVELS.iter().zip(&per_level) {
        println!(
            "{:24} {}/{} solved, {} proven text-unsolvable",
            level.name, count.solved, count.tasks, count.unsolvable
        );
        total.tasks += count.tasks;
        total.solved += count.solved;
        total.unsolvable += count.unsolvable;
    }
    let solvable = total.tasks - total.unsolvable;
    println!(
        "all tasks: {}/{} solved ({:.1}%); not proven unsolvable: {}/{} solved ({:.1}%)",
        total.solved,
        total.tasks,
        100.0 * total.solved as f64 / total.tasks.max(1) as f64,
        total.solved,
        solvable,
        100.0 * total.solved as f64 / solvable.max(1) as f64
    );
}
