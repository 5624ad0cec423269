//! Driving an env without an LLM: a scripted agent is any `FnMut(&str) -> String`.

use serde::{Deserialize, Serialize};

use crate::{Env, Result, Step, TaskId};

/// One turn of an episode: the agent's reply and what the env answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// The agent's whole reply.
    pub reply: String,
    /// The env's answer.
    pub step: Step,
}

/// A finished (or turn-capped) episode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    /// Env name.
    pub env: String,
    /// The task played.
    pub task: TaskId,
    /// The observation `reset` returned.
    pub first_observation: String,
    /// Every turn, in order.
    pub turns: Vec<Turn>,
}

impl Episode {
    /// The trajectory's score: the reward of the last step (AgentGym-RL), 0 with no steps.
    pub fn score(&self) -> f64 {
        self.turns.last().map_or(0.0, |turn| turn.step.reward)
    }

    /// Whether the episode solved its task: one of its steps says so
    /// ([`crate::StepInfo::success`], which each env sets as its reference counts success).
    pub fn success(&self) -> bool {
        self.turns.iter().any(|turn| turn.step.info.success)
    }

    /// Whether the env ended the episode (as opposed to the turn cap).
    pub fn done(&self) -> bool {
        self.turns.last().is_some_and(|turn| turn.step.done)
    }

    /// How many turns the agent took.
    pub fn num_turns(&self) -> usize {
        self.turns.len()
    }
}

/// Plays `task` with a scripted agent for at most the env's evaluation turn limit
/// ([`crate::EnvInfo::max_turns_eval`]).
///
/// The agent gets each observation (the first one from `reset`) and returns its reply.
pub fn run_episode<E, A>(env: &mut E, task: TaskId, agent: A) -> Result<Episode>
where
    E: Env + ?Sized,
    A: FnMut(&str) -> String,
{
    let max_turns = env.info().max_turns_eval;
    run_episode_capped(env, task, max_turns, agent)
}

/// [`run_episode`] with an explicit turn cap.
pub fn run_episode_capped<E, A>(
    env: &mut E,
    task: TaskId,
    max_turns: usize,
    mut agent: A,
) -> Result<Episode>
where
    E: Env + ?Sized,
    A: FnMut(&str) -> String,
{
    let first_observation = env.reset(task)?;
    let mut turns: Vec<Turn> = Vec::new();
    while turns.len() < max_turns {
        let observation = turns.last().map_or(first_observation.as_str(), |turn| {
            turn.step.observation.as_str()
        });
        let reply = agent(observation);
        let step = env.step(&reply)?;
        let done = step.done;
        turns.push(Turn { reply, step });
        if done {
            break;
        }
    }
    Ok(Episode {
        env: env.info().name.clone(),
        task,
        first_observation,
        turns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn episode(steps: Vec<Step>) -> Episode {
        Episode {
            env: "test".into(),
            task: TaskId(0),
            first_observation: String::new(),
            turns: steps
                .into_iter()
                .map(|step| Turn {
                    reply: String::new(),
                    step,
                })
                .collect(),
        }
    }

    #[test]
    fn success_is_the_env_flag_not_the_reward() {
        // A discounted success (BabyAI-style reward below 1) is a success.
        let discounted = episode(vec![Step::new("done", 0.82, true).with_success(true)]);
        assert!(discounted.success());
        assert_eq!(discounted.score(), 0.82);
        // Partial credit of 1.0 without the env's flag is not.
        assert!(!episode(vec![Step::new("bought", 1.0, true)]).success());
        // A success followed by further steps still counts.
        let later = episode(vec![
            Step::new("achieved", 0.3, false).with_success(true),
            Step::new("more", 0.3, true),
        ]);
        assert!(later.success());
        assert!(!episode(Vec::new()).success());
    }
}
