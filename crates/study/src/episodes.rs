//! What every episode source shares: the per-task sampling seed and the env-core episode of a
//! policy trajectory.

use crossgym_env_core::{Episode, Step, TaskId, Turn};
use crossgym_policy::Trajectory;

/// The sampling seed of one task of one env: FNV-1a over the env name and task, mixed with `seed`.
pub fn task_seed(seed: u64, env: &str, task: TaskId) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for byte in env.bytes().chain((task.0 as u64).to_le_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The env-core episode of a trajectory (its turns, rewards and diagnostics).
pub fn episode_of(trajectory: &Trajectory) -> Episode {
    let first_observation = trajectory
        .messages
        .iter()
        .filter(|m| m.role == crossgym_policy::Role::User)
        .nth(1)
        .map(|m| m.content.clone())
        .unwrap_or_default();
    Episode {
        env: trajectory.env.clone(),
        task: trajectory.task,
        first_observation,
        turns: trajectory
            .steps
            .iter()
            .map(|s| Turn {
                reply: s.reply.clone(),
                step: Step {
                    observation: s.observation.clone(),
                    reward: s.reward,
                    done: s.done,
                    info: s.info.clone(),
                },
            })
            .collect(),
    }
}
