//! Throughput of the ALFWorld engine: steps per second on a realistic command mix, and game
//! generation time.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crossgym_env_alfworld::{Engine, Generator, expert};
use crossgym_env_core::{Split, TaskId};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Commands as an agent sends them: mostly admissible (half navigation, half object actions),
/// some invalid, plus expert trajectories.
fn command_mix(
    generator: &Generator,
    tasks: &[TaskId],
) -> Vec<(Arc<crossgym_env_alfworld::Game>, Vec<String>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut episodes = Vec::new();
    for &task in tasks {
        let game = Arc::new(generator.game(task).expect("game"));
        let mut engine = Engine::new(game.clone());
        let mut commands = expert::solve(&game).unwrap_or_default();
        commands.truncate(commands.len().saturating_sub(1)); // do not end the episode
        for command in &commands {
            engine.execute(command);
        }
        for _ in 0..30 {
            let command = if rng.random_bool(0.15) {
                "go to the moon".to_owned()
            } else {
                let all: Vec<&str> = engine.admissible().collect();
                let non_nav: Vec<&str> = all
                    .iter()
                    .copied()
                    .filter(|c| !c.starts_with("go to"))
                    .collect();
                let pool = if rng.random_bool(0.5) && !non_nav.is_empty() {
                    &non_nav
                } else {
                    &all
                };
                pool.choose(&mut rng)
                    .map(|c| (*c).to_owned())
                    .unwrap_or_default()
            };
            engine.execute(&command);
            commands.push(command);
        }
        episodes.push((game, commands));
    }
    episodes
}

fn bench(c: &mut Criterion) {
    let generator = Generator::standard().expect("generator");
    let tasks: Vec<TaskId> = generator.split().expect("split").tasks(Split::Test)[..20].to_vec();
    let episodes = command_mix(&generator, &tasks);
    let steps: usize = episodes.iter().map(|(_, c)| c.len()).sum();
    let mut group = c.benchmark_group("alfworld");
    group.throughput(Throughput::Elements(steps as u64));
    group.bench_function("engine_steps", |b| {
        b.iter(|| {
            for (game, commands) in &episodes {
                let mut engine = Engine::new(game.clone());
                for command in commands {
                    black_box(engine.execute(command));
                    black_box(engine.won());
                }
            }
        })
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("generate_game", |b| {
        let mut next = 0usize;
        b.iter(|| {
            next = (next + 1) % generator.num_tasks();
            black_box(generator.game(TaskId(next)).expect("game"))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
