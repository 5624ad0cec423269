//! Oracle demonstrations of every env succeed and parse back: replaying a demonstration's
//! replies into a fresh env from the study's registry gives the same observations, rewards and
//! `done` flags, turn by turn.

use std::sync::OnceLock;

use crossgym_env_core::{Env, Episode, Registry, Split};
use crossgym_study::demos::{Demonstrator, solved};
use crossgym_study::envs::{self, STUDY_ENVS};

/// How many train tasks each env demonstrates.
const TASKS_PER_ENV: usize = 4;

/// All five envs, built once for the whole test binary.
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| envs::registry().expect("the study's envs build"))
}

/// Replays `episode`'s replies into a fresh env of the registry and checks every answer.
fn replay(episode: &Episode) {
    let mut env = registry().make(&episode.env).expect("registered");
    let first = env.reset(episode.task).expect("reset");
    assert_eq!(
        first, episode.first_observation,
        "{} task {}",
        episode.env, episode.task
    );
    for (index, turn) in episode.turns.iter().enumerate() {
        let step = env.step(&turn.reply).expect("step");
        let at = format!("{} task {} turn {index}", episode.env, episode.task);
        assert_eq!(step.observation, turn.step.observation, "{at}");
        assert_eq!(step.reward, turn.step.reward, "{at}");
        assert_eq!(step.done, turn.step.done, "{at}");
        assert!(
            !step.info.invalid,
            "{at}: the env rejected {:?}",
            turn.reply
        );
    }
    assert!(
        episode.turns.last().is_some_and(|t| t.step.done),
        "{} task {}: not done",
        episode.env,
        episode.task
    );
}

/// The first train tasks of `name` are demonstrated, solved, in the env's reply format, and
/// replay exactly.
fn demonstrations_succeed_and_replay(name: &str) -> Vec<Episode> {
    let mut demos = Demonstrator::new(&[name.to_owned()]).expect("builds");
    let tasks = demos.env(name).unwrap().tasks(Split::Train)[..TASKS_PER_ENV].to_vec();
    let episodes = demos.episodes(name, &tasks, false).expect("demonstrations");
    assert_eq!(
        episodes.len(),
        TASKS_PER_ENV,
        "{name}: the oracle failed a task"
    );
    for (episode, task) in episodes.iter().zip(&tasks) {
        assert_eq!((episode.env.as_str(), episode.task), (name, *task));
        assert!(solved(episode), "{name} task {task}");
        assert!(episode.success(), "{name} task {task}");
        for turn in &episode.turns {
            if name == "searchqa" {
                assert!(turn.reply.starts_with("<think>"), "{:?}", turn.reply);
            } else {
                assert!(turn.reply.starts_with("Thought:\n"), "{:?}", turn.reply);
                assert_eq!(turn.reply.matches("Action:").count(), 1, "{:?}", turn.reply);
            }
        }
        replay(episode);
    }
    episodes
}

#[test]
fn webshop_demonstrations() {
    let episodes = demonstrations_succeed_and_replay("webshop");
    let first = &episodes[0].turns[0].reply;
    assert!(
        first.starts_with("Thought:\nI think I should search for "),
        "{first}"
    );
    assert!(first.contains("\n\nAction:\nsearch["), "{first}");
    assert!(
        episodes
            .iter()
            .all(|e| e.turns.last().unwrap().reply.ends_with("click[Buy Now]"))
    );
}

#[test]
fn searchqa_demonstrations() {
    let episodes = demonstrations_succeed_and_replay("searchqa");
    for episode in &episodes {
        let [search, answer] = episode.turns.as_slice() else {
            panic!("two turns expected: {episode:?}");
        };
        assert!(
            search.reply.contains("</think>\n<search>"),
            "{}",
            search.reply
        );
        assert!(
            answer.reply.contains("</think>\n<answer>"),
            "{}",
            answer.reply
        );
    }
}

#[test]
fn textcraft_demonstrations() {
    let episodes = demonstrations_succeed_and_replay("textcraft");
    for episode in &episodes {
        assert!(episode.turns[0].reply.contains("\n\nAction:\nget "));
        assert!(
            episode
                .turns
                .last()
                .unwrap()
                .reply
                .contains("which is the goal.")
        );
    }
}

/// Every episode's first reply starts with `prefix`.
fn assert_first_replies_start_with(episodes: &[Episode], prefix: &str) {
    for episode in episodes {
        let first = &episode.turns[0].reply;
        assert!(first.starts_with(prefix), "{first}");
    }
}

#[test]
fn alfworld_demonstrations() {
    let episodes = demonstrations_succeed_and_replay("alfworld");
    assert_first_replies_start_with(&episodes, "Thought:\nMy task is to ");
}

#[test]
fn babyai_demonstrations() {
    let episodes = demonstrations_succeed_and_replay("babyai");
    assert_first_replies_start_with(&episodes, "Thought:\nMy goal is to ");
    for episode in &episodes {
        // BabyAI rewards success with 1 - 0.9 * steps / max_steps: done, positive, below 1.
        assert!(
            episode.score() > 0.5 && episode.score() < 1.0,
            "{}",
            episode.score()
        );
    }
}

#[test]
fn demonstrations_are_deterministic() {
    let names = ["textcraft".to_owned(), "babyai".to_owned()];
    let mut a = Demonstrator::new(&names).unwrap();
    let mut b = Demonstrator::new(&names).unwrap();
    for name in &names {
        let task = a.env(name).unwrap().tasks(Split::Train)[TASKS_PER_ENV];
        assert_eq!(
            a.episode(name, task).unwrap(),
            b.episode(name, task).unwrap()
        );
    }
}

#[test]
fn registry_holds_the_five_envs_in_paper_order() {
    assert_eq!(
        STUDY_ENVS,
        ["webshop", "searchqa", "textcraft", "alfworld", "babyai"]
    );
    for name in STUDY_ENVS {
        let env = registry().make(name).unwrap();
        assert_eq!(env.info().name, name);
    }
    let only = envs::registry_for(&["babyai".to_owned()]).unwrap();
    assert_eq!(only.names().collect::<Vec<_>>(), ["babyai"]);
}

#[test]
fn unknown_envs_are_clear_errors() {
    let error = envs::registry_for(&["nope".to_owned()]).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("\"nope\""), "{message}");
    assert!(
        message.contains("webshop, searchqa, textcraft, alfworld, babyai"),
        "{message}"
    );
    assert!(Demonstrator::new(&["nope".to_owned()]).is_err());

    let mut demos = Demonstrator::new(&["babyai".to_owned()]).unwrap();
    let error = demos
        .episode("textcraft", 0.into())
        .unwrap_err()
        .to_string();
    assert!(error.contains("not built"), "{error}");
    let error = demos
        .episode("babyai", 100_000.into())
        .unwrap_err()
        .to_string();
    assert!(error.contains("unknown task"), "{error}");
}
