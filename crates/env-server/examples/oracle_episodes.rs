//! Prints oracle episodes of one env as JSON, played on crossgym's in-process env: the task each
//! episode resets to, the whole replies (oracle replies with one invalid reply as the second
//! turn), and the env's first observation and every step's observation, reward and done.
//!
//! `tests/agentgym_clients.py` replays the same replies through AgentGym's own clients against
//! `crossgym serve` and checks that the observations and rewards are identical.
//!
//! Usage: `cargo run -p crossgym-env-server --example oracle_episodes -- ENV [EPISODES]`

use std::sync::Arc;

use crossgym_env_core::{Env, EnvError, Split, TaskId};
use crossgym_env_server::{EnvName, registry};
use serde_json::{Value, json};

/// Most turns per episode.
const MAX_TURNS: usize = 40;

/// Plays `replies` (computed turn by turn by `next`) on `env` from `task`.
fn play<E: Env + ?Sized>(
    env: &mut E,
    task: TaskId,
    invalid: &str,
    mut next: impl FnMut(&E, usize) -> Option<String>,
) -> Result<Value, EnvError> {
    let first = env.reset(task)?;
    let mut turns = Vec::new();
    for turn in 0..MAX_TURNS {
        let reply = if turn == 1 {
            invalid.to_owned()
        } else {
            match next(env, turn) {
                Some(reply) => reply,
                None => break,
            }
        };
        let step = env.step(&reply)?;
        let done = step.done;
        turns.push(json!({
            "reply": reply,
            "observation": step.observation,
            "reward": step.reward,
            "done": step.done,
        }));
        if done {
            break;
        }
    }
    Ok(json!({ "task": task.0, "first_observation": first, "turns": turns }))
}

/// The first `n` test tasks of `env`.
fn test_tasks<E: Env + ?Sized>(env: &E, n: usize) -> Vec<TaskId> {
    env.tasks(Split::Test).iter().take(n).copied().collect()
}

/// Plays the first `n` test tasks of `env`, each with the replies `script` writes for it, until
/// they run out (the invalid reply goes in as turn 1, the script's second reply after it).
fn scripted_episodes<E: Env>(
    env: &mut E,
    n: usize,
    invalid: &str,
    mut script: impl FnMut(&mut E, TaskId) -> Result<Vec<String>, EnvError>,
) -> Result<Vec<Value>, EnvError> {
    let mut out = Vec::new();
    for task in test_tasks(env, n) {
        let mut replies = script(env, task)?.into_iter();
        out.push(play(env, task, invalid, |_, _| replies.next())?);
    }
    Ok(out)
}

fn episodes(env: EnvName, n: usize) -> Result<Vec<Value>, EnvError> {
    match env {
        EnvName::BabyAi => {
            let data = registry::babyai_data()?;
            let mut env = registry::babyai(&data)?;
            let mut out = Vec::new();
            for task in test_tasks(&env, n) {
                out.push(play(
                    &mut env,
                    task,
                    "Thought:\nHmm.\n\nAction:\nfly to the moon",
                    |env, _| {
                        let session = env.session()?;
                        let action = crossgym_env_babyai::oracle::next_action(session)?;
                        Some(format!("Thought:\nI know the way.\n\nAction:\n{action}"))
                    },
                )?);
            }
            Ok(out)
        }
        EnvName::TextCraft => {
            let data = registry::textcraft_data()?;
            let invalid = "Thought:\nMaybe.\n\nAction:\nget 1 unobtainium";
            scripted_episodes(&mut registry::textcraft(&data), n, invalid, |env, task| {
                let plan = crossgym_env_textcraft::oracle::plan(env.book(), env.goal(task)?)?;
                Ok(plan
                    .iter()
                    .map(|a| crossgym_env_textcraft::oracle::reply(a))
                    .collect())
            })
        }
        EnvName::AlfWorld => {
            let data = registry::alfworld_data()?;
            let invalid = "Thought: let me dance.\nAction: dance with the lamp";
            scripted_episodes(&mut registry::alfworld(&data)?, n, invalid, |env, task| {
                let game: Arc<_> = env.game(task)?;
                let plan = crossgym_env_alfworld::expert::solve(&game).unwrap_or_default();
                Ok(plan
                    .iter()
                    .map(|c| format!("Thought: next.\nAction: {c}"))
                    .collect())
            })
        }
        EnvName::WebShop => {
            let data = registry::webshop_data()?;
            let invalid = "Thought: x\nAction: click[no such button]";
            scripted_episodes(&mut registry::webshop(&data)?, n, invalid, |env, task| {
                let oracle = crossgym_env_webshop::oracle::play(env, task)?;
                // The invalid reply is turn 1; the oracle's turn 1 and later follow it.
                Ok(oracle.turns.iter().map(|t| t.reply.clone()).collect())
            })
        }
        EnvName::SearchQa => {
            let data = registry::searchqa_data()?;
            let invalid = "<think>I am not sure yet.</think>";
            scripted_episodes(&mut registry::searchqa(&data), n, invalid, |env, task| {
                let question = env.question(task)?.question.clone();
                let query = crossgym_env_searchqa::oracle::query_of(&question).to_owned();
                let answer = crossgym_env_searchqa::oracle::best_title(env.index(), &query)?
                    .unwrap_or_default();
                Ok(vec![
                    format!("<think>I will search.</think>\n<search>{query}</search>"),
                    format!("<think>The passages point to it.</think>\n<answer>{answer}</answer>"),
                ])
            })
        }
    }
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(env) = args.first().and_then(|a| a.parse::<EnvName>().ok()) else {
        eprintln!(
            "usage: oracle_episodes ENV [EPISODES]  (ENV: webshop, searchqa, textcraft, alfworld, babyai)"
        );
        return std::process::ExitCode::FAILURE;
    };
    let n = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    match episodes(env, n) {
        Ok(episodes) => {
            println!("{}", json!({ "env": env.as_str(), "episodes": episodes }));
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("oracle_episodes: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
