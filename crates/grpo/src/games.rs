//! A tiny few-turn word game with a dense reward, for tests, examples and benchmarks of the
//! trainer (it is not one of the paper's environments).
//!
//! Each task is a fixed sequence of colours. Every turn the env shows one (`Color: red`) and the
//! agent must answer with it (`Action: red`; the whole reply counts when it has no `Action:`).
//! The reward after each step is the share of the episode's turns answered correctly so far, so
//! the final reward is the share of hits: graded credit, the paper's "dense reward". A wrong or
//! unparsable answer still ends the turn; the episode always lasts exactly `turns` turns.

use crossgym_env_core::{
    Characteristics, Env, EnvError, EnvInfo, FnEnv, ParserFamily, Step, TaskId, TaskSplit, parse,
};
use crossgym_policy::{ChatTemplate, IM_END, IM_START, Message, Tokenizer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The colours the game uses.
pub const COLORS: [&str; 6] = ["red", "green", "blue", "yellow", "black", "white"];

/// The echo game: repeat the colour you are shown, for a few turns.
///
/// ```
/// use crossgym_env_core::{run_episode, Env, TaskId};
/// use crossgym_grpo::games::echo_game;
///
/// let mut game = echo_game(3, 100, 0)?;
/// let episode = run_episode(&mut game, TaskId(5), |obs| {
///     format!("Action: {}", obs.strip_prefix("Color: ").unwrap_or(""))
/// })?;
/// assert_eq!(episode.score(), 1.0);
/// assert_eq!(episode.num_turns(), 3);
/// # Ok::<(), crossgym_env_core::EnvError>(())
/// ```
pub type EchoGame = FnEnv<EchoEpisode>;

/// A running episode of the echo game: its colours and how far the agent got.
#[derive(Clone, Debug)]
pub struct EchoEpisode {
    colors: Vec<&'static str>,
    turn: usize,
    hits: usize,
}

/// A game of `turns` turns per episode over `num_tasks` tasks (90 % train, 10 % test); `seed`
/// picks the colour sequences ([`echo_colors`]) and the split.
pub fn echo_game(turns: usize, num_tasks: usize, seed: u64) -> crossgym_env_core::Result<EchoGame> {
    if turns == 0 || num_tasks < 2 {
        return Err(EnvError::Config {
            env: "echo".into(),
            message: format!("needs turns >= 1 and num_tasks >= 2 (got {turns}, {num_tasks})"),
        });
    }
    let n_test = (num_tasks / 10).max(1);
    let split = TaskSplit::seeded("echo", num_tasks, num_tasks - n_test, n_test, seed)?;
    let info = EnvInfo {
        name: "echo".into(),
        version: 0,
        instruction: "Repeat each color you see. Answer with Action: followed by the color.".into(),
        acknowledgement: "Ok.".into(),
        parser: ParserFamily::ReactLast,
        max_turns_train: turns,
        max_turns_eval: turns,
        characteristics: Characteristics {
            dense_reward: true,
            ..Characteristics::NONE
        },
    };
    let start = move |task: TaskId| {
        let colors = echo_colors(turns, seed, task);
        let first = prompt(colors[0]);
        let episode = EchoEpisode {
            colors,
            turn: 0,
            hits: 0,
        };
        (episode, first)
    };
    Ok(FnEnv::new(info, num_tasks, split, start, echo))
}

/// The colour sequence of `task` in the game of `turns` turns seeded with `seed`.
pub fn echo_colors(turns: usize, seed: u64, task: TaskId) -> Vec<&'static str> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6563_686f);
    rng.set_stream(task.0 as u64);
    (0..turns)
        .map(|_| COLORS[rng.random_range(0..COLORS.len())])
        .collect()
}

fn prompt(color: &str) -> String {
    format!("Color: {color}")
}

/// One turn: the reply's action against the colour shown.
fn echo(episode: &mut EchoEpisode, reply: &str) -> Step {
    let turns = episode.colors.len();
    let action = parse::react_last_or_whole(reply).to_owned();
    let hit = action == episode.colors[episode.turn];
    episode.hits += usize::from(hit);
    episode.turn += 1;
    let reward = episode.hits as f64 / turns as f64;
    let done = episode.turn == turns;
    let observation = if done {
        "Game over.".to_owned()
    } else {
        prompt(episode.colors[episode.turn])
    };
    // Every colour answered right is the game's success.
    let step = Step::new(observation, reward, done)
        .with_action(action)
        .with_success(done && episode.hits == turns);
    if hit { step } else { step.invalid() }
}

/// A small byte-level BPE tokenizer (at most `vocab_size` tokens, ChatML specials included)
/// trained on the game's conversations, for tiny models that play it.
pub fn echo_tokenizer(vocab_size: usize) -> crate::Result<Tokenizer> {
    let game = echo_game(1, 2, 0)?;
    let info = game.info();
    let template = ChatTemplate::chatml(None);
    let texts: Vec<String> = COLORS
        .iter()
        .map(|color| {
            template.render(
                &[
                    Message::user(info.instruction.clone()),
                    Message::assistant(info.acknowledgement.clone()),
                    Message::user(prompt(color)),
                    Message::assistant(format!("Action: {color}")),
                    Message::user("Game over."),
                ],
                true,
            )
        })
        .collect();
    Ok(Tokenizer::train_bpe(
        texts.iter(),
        vocab_size,
        &[IM_START, IM_END],
    )?)
}

#[cfg(test)]
mod tests {
    use crossgym_env_core::run_episode;

    use super::*;

    #[test]
    fn reward_is_the_share_of_hits() {
        let mut game = echo_game(4, 20, 1).unwrap();
        let colors = echo_colors(4, 1, TaskId(2));
        let mut turn = 0;
        let episode = run_episode(&mut game, TaskId(2), |_| {
            turn += 1;
            if turn % 2 == 1 {
                format!("Thought: easy\nAction: {}", colors[turn - 1])
            } else {
                "Action: purple".into()
            }
        })
        .unwrap();
        assert_eq!(episode.score(), 0.5);
        let rewards: Vec<f64> = episode.turns.iter().map(|t| t.step.reward).collect();
        assert_eq!(rewards, vec![0.25, 0.25, 0.5, 0.5]);
    }

    #[test]
    fn contract_holds() {
        let mut game = echo_game(2, 10, 0).unwrap();
        assert!(matches!(game.step("x"), Err(EnvError::NotReset { .. })));
        game.reset(TaskId(0)).unwrap();
        game.step("").unwrap();
        game.step("\u{0}Action:Action:").unwrap();
        assert!(matches!(
            game.step("x"),
            Err(EnvError::EpisodeFinished { .. })
        ));
        assert!(game.reset(TaskId(10)).is_err());
        let first = echo_game(2, 10, 0).unwrap().reset(TaskId(3)).unwrap();
        assert_eq!(first, prompt(echo_colors(2, 0, TaskId(3))[0]));
        let tokenizer = echo_tokenizer(300).unwrap();
        assert!(tokenizer.vocab_size() <= 300);
        let ids = tokenizer.encode("Action: yellow").unwrap();
        assert_eq!(tokenizer.decode(&ids, false).unwrap(), "Action: yellow");
        crossgym_env_core::check::check_env(
            || echo_game(3, 20, 0).unwrap(),
            &[TaskId(0), TaskId(7)],
        )
        .unwrap();
    }
}
