//! The env contract, the expert on the generated test games, hostile replies and bad game files.

use std::sync::Arc;

use crossgym_env_alfworld::{AlfWorldEnv, Game, Generator, expert};
use crossgym_env_core::check::check_env;
use crossgym_env_core::{Env, EnvError, Split, TaskId};
use proptest::prelude::*;

#[test]
fn env_contract_holds() {
    let env = AlfWorldEnv::new().unwrap();
    let mut tasks = env.tasks(Split::Train)[..3].to_vec();
    tasks.extend_from_slice(&env.tasks(Split::Test)[..2]);
    if let Err(problems) = check_env(|| AlfWorldEnv::new().unwrap(), &tasks) {
        panic!("{}", problems.join("\n"));
    }
    assert_eq!(env.info().name, "alfworld");
    assert_eq!(env.split().train().len(), 2420);
    assert_eq!(env.split().test().len(), 200);
}

#[test]
fn expert_solves_every_generated_test_game_within_50_steps() {
    let generator = Generator::standard().unwrap();
    let split = generator.split().unwrap();
    let mut solved = 0;
    let mut env = AlfWorldEnv::new().unwrap();
    for &task in split.test() {
        let game = Arc::new(generator.game(task).unwrap());
        let plan =
            expert::solve(&game).unwrap_or_else(|| panic!("expert fails on test task {task}"));
        assert!(plan.len() <= 50);
        // Replay through the env: reward 1 and done exactly on the last command.
        env.reset(task).unwrap();
        for (index, command) in plan.iter().enumerate() {
            let step = env
                .step(&format!("Thought: go on.\nAction: {command}"))
                .unwrap();
            assert_eq!(
                step.done,
                index + 1 == plan.len(),
                "task {task} step {index}"
            );
        }
        solved += 1;
    }
    assert_eq!(solved, 200);
}

#[test]
#[ignore = "long: all 2,620 generated games"]
fn expert_solves_every_generated_game() {
    let generator = Generator::standard().unwrap();
    for task in 0..generator.num_tasks() {
        let game = Arc::new(generator.game(TaskId(task)).unwrap());
        assert!(expert::solve(&game).is_some(), "task {task}");
    }
}

#[test]
fn expert_solves_the_fixture_games() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/games");
    for id in [
        "k1_heat_egg",
        "k2_cool_lettuce",
        "k5_clean_knife",
        "k10_put_mug_cabinet",
        "l201_two_remote_sofa",
        "r301_look_alarmclock_desklamp",
        "tw_test_alfred",
    ] {
        let game = Arc::new(Game::load(format!("{dir}/{id}/game.tw-pddl")).unwrap());
        assert!(expert::solve(&game).is_some(), "{id}");
    }
}

#[test]
fn the_step_limit_ends_the_episode_after_50_steps() {
    let mut env = AlfWorldEnv::new().unwrap();
    env.reset(TaskId(0)).unwrap();
    for index in 0..50 {
        let step = env.step("Action: look").unwrap();
        assert_eq!(step.done, index == 49);
        assert_eq!(step.reward, 0.0);
    }
    assert!(matches!(
        env.step("look"),
        Err(EnvError::EpisodeFinished { .. })
    ));
}

fn game_file(problem: &str) -> String {
    let valid = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/games/k1_heat_egg/game.tw-pddl"
    ))
    .unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&valid).unwrap();
    json["pddl_problem"] = serde_json::Value::String(problem.to_owned());
    json.to_string()
}

#[test]
fn malformed_game_files_name_the_file_and_the_form() {
    let cases = [
        (
            "(define (problem p) (:domain alfred) (:objects a - agent) (:init (atLocation a nowhere)) (:goal (and)))",
            "(atlocation a nowhere)",
        ),
        (
            "(define (problem p) (:domain alfred) (:objects a - agent x - gizmo) (:init) (:goal (and)))",
            "gizmo",
        ),
        (
            "(define (problem p) (:domain alfred) (:objects a - agent) (:init) (:goal (exists (?x - object) (holds a ?y))))",
            "?y",
        ),
        (
            "(define (problem p) (:domain alfred) (:objects a - agent l - location) (:init (atLocation l a)) (:goal (and)))",
            "(atlocation l a)",
        ),
        (
            "(define (problem p) (:objects a - agent) (:init) (:goal (and))",
            "never closed",
        ),
    ];
    for (problem, form) in cases {
        let err = Game::from_tw_pddl("games/bad/game.tw-pddl", &game_file(problem)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("games/bad/game.tw-pddl"), "{text}");
        assert!(text.contains(form), "{text} should name {form}");
    }
    let err = Game::from_tw_pddl("x.tw-pddl", "{}")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("x.tw-pddl") && err.contains("pddl_domain"),
        "{err}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_replies_never_panic(replies in proptest::collection::vec(any::<String>(), 1..20)) {
        let mut env = AlfWorldEnv::new().unwrap();
        env.reset(TaskId(3)).unwrap();
        for reply in &replies {
            let step = env.step(reply).unwrap();
            prop_assert!(!step.observation.is_empty());
            if step.done {
                break;
            }
        }
    }

    #[test]
    fn arbitrary_problem_text_gives_an_error_or_a_game(text in "\\PC{0,200}") {
        let _ = Game::from_problem(&text, "Your task is to: x.".into());
    }
}
