//! The play loop that the step benchmark and the timing example share.

use crossgym_env_babyai::BabyAiEnv;
use crossgym_env_core::{Env, Step, TaskId};

/// Steps an env with its listed actions, chosen by a fixed pattern, and resets to the next level
/// after 25 steps or when an episode ends.
pub struct Player {
    /// The next level to reset to (modulo 400).
    pub task: usize,
    in_episode: usize,
    k: usize,
}

impl Player {
    /// A player whose first reset goes to `task`.
    pub fn new(task: usize) -> Self {
        Self {
            task,
            in_episode: 0,
            k: 0,
        }
    }

    /// One step (after a reset when one is due).
    pub fn step(&mut self, env: &mut BabyAiEnv) -> Step {
        if self.in_episode == 0 {
            env.reset(TaskId(self.task % 400)).expect("reset");
            self.task += 1;
        }
        let action = {
            let actions = &env.session().expect("running").rendering().actions;
            self.k = self.k.wrapping_mul(31).wrapping_add(17);
            actions[self.k % actions.len()].name.clone()
        };
        let step = env
            .step(&format!("Thought:\nGo.\n\nAction:\n{action}"))
            .expect("step");
        self.in_episode = if step.done || self.in_episode == 24 {
            0
        } else {
            self.in_episode + 1
        };
        step
    }
}
