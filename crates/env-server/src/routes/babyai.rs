//! BabyAI (`agentenv_babyai`): `id` ids; `/reset` takes `data_idx` (level `data_idx % 40`, seed
//! `data_idx / 40`); payloads carry `reward` (the env's last reward) and `score` (their sum,
//! which the client reports as the reward).

use crossgym_env_babyai::session::TextSession;
use crossgym_env_babyai::task_world;
use crossgym_env_core::TaskId;
use serde_json::json;

use super::{Answer, EnvSession, Fields};
use crate::registry::BabyAiData;

/// One client's BabyAI session.
#[derive(Debug, Default)]
pub struct BabySession {
    episode: Option<Episode>,
}

#[derive(Debug)]
struct Episode {
    text: TextSession,
    /// The last observation without the action-list suffix (the reference's `_get_obs()`).
    last_text: String,
}

impl EnvSession<BabyAiData> for BabySession {
    type ResetArgs = i64;

    fn reset_args(fields: &mut Fields) -> i64 {
        fields.int("data_idx")
    }

    fn reset(&mut self, _: &BabyAiData, _: i64, data_idx: i64) -> Answer {
        let task = usize::try_from(data_idx)
            .map(TaskId)
            .map_err(|_| format!("data_idx must be a non-negative integer, got {data_idx}"))?;
        let world = task_world(task).map_err(|e| e.to_string())?;
        let text = TextSession::new(world);
        let observation = text.reset_observation();
        let last_text = text.rendering().description.clone();
        let done = text.done();
        self.episode = Some(Episode { text, last_text });
        Ok(json!({
            "observation": observation,
            "reward": 0.0,
            "score": 0.0,
            "deleted": false,
            "done": done,
        }))
    }

    fn step(&mut self, _: &BabyAiData, id: i64, action: String) -> Answer {
        let Some(episode) = self.episode.as_mut() else {
            return Err(not_reset(id as u64));
        };
        if episode.text.done() {
            return Err(format!("The task with environment {id} has finished."));
        }
        let out = episode.text.step(&action);
        let suffix = episode.text.rendering().available_suffix();
        episode.last_text = out
            .observation
            .strip_suffix(suffix.as_str())
            .unwrap_or(&out.observation)
            .to_owned();
        Ok(json!({
            "observation": out.observation,
            "reward": out.reward,
            "score": out.score,
            "done": out.done,
        }))
    }
}

/// `GET /observation`: the goal and the last observation, or the reference's answer for a
/// session not reset yet.
pub(crate) fn observation(_: &BabyAiData, s: &BabySession, _: i64) -> Answer {
    Ok(match &s.episode {
        Some(episode) => json!({
            "observation": format!(
                "Your goal: {}\n{}{}",
                episode.text.goal(),
                episode.last_text,
                episode.text.rendering().available_suffix()
            ),
            "reward": episode.text.reward(),
            "score": episode.text.score(),
            "done": episode.text.done(),
            "deleted": false,
        }),
        None => json!({
            "observation": "Environment not initialized",
            "reward": 0,
            "score": 0,
            "done": false,
            "deleted": false,
        }),
    })
}

/// The reference's text for a session that has no episode yet.
fn not_reset(id: u64) -> String {
    format!("The environment {id} has not been reset: call /reset with a data_idx first.")
}
