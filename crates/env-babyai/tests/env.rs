//! The env contract, task generation, the split, and hostile replies.

use crossgym_env_babyai::levels::LEVELS;
use crossgym_env_babyai::{BabyAiEnv, NUM_TASKS, task_level_seed, task_world};
use crossgym_env_core::check::check_env;
use crossgym_env_core::parse::MULTIPLE_ACTIONS_ERROR;
use crossgym_env_core::{Env, EnvError, Oracle, Split, TaskId};
use proptest::prelude::*;

const UNKNOWN: &str = "The action is not recognized. Please check valid actions.";

fn env() -> BabyAiEnv {
    BabyAiEnv::new().expect("env builds")
}

#[test]
fn contract_holds() {
    let e = env();
    let mut tasks: Vec<TaskId> = e.tasks(Split::Train)[..4].to_vec();
    tasks.extend_from_slice(&e.tasks(Split::Test)[..3]);
    check_env(env, &tasks).unwrap_or_else(|problems| panic!("{problems:#?}"));
}

#[test]
fn split_is_810_train_90_test_and_disjoint() {
    let e = env();
    assert_eq!(e.num_tasks(), NUM_TASKS);
    let (train, test) = (e.tasks(Split::Train), e.tasks(Split::Test));
    assert_eq!((train.len(), test.len()), (810, 90));
    assert!(train.iter().all(|t| !test.contains(t)));
    assert_eq!(env().split(), e.split(), "the split is deterministic");
}

#[test]
fn task_maps_to_level_and_seed() {
    assert_eq!(task_level_seed(TaskId(0)), (0, 0));
    assert_eq!(task_level_seed(TaskId(41)), (1, 1));
    assert_eq!(task_level_seed(TaskId(899)), (19, 22));
    assert_eq!(LEVELS[3].gym_id(), "BabyAI-GoToObjS6-v0");
}

#[test]
fn every_task_generates_deterministically() {
    for task in 0..NUM_TASKS {
        let a = task_world(TaskId(task)).unwrap_or_else(|e| panic!("{e}"));
        let b = task_world(TaskId(task)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a, b, "task {task} is not deterministic");
        assert!(!a.mission.is_empty());
        assert!(
            a.grid.get(a.agent_pos).is_none_or(|c| c.can_overlap()),
            "task {task}: agent on an object"
        );
    }
}

#[test]
fn fixed_and_computed_step_budgets_follow_minigrid() {
    // (level, budget) pairs of single-navigation levels from the spec's table.
    let expected = [
        ("GoToRedBallGrey", 64),
        ("GoToObjS6", 16),
        ("GoToObjMazeS7", 441),
        ("GoToDoor", 441),
        ("Open", 576),
        ("OpenRedDoor", 50),
        ("OpenRedBlueDoorsDebug", 720),
        ("PickupDistDebug", 49),
        ("PickupAbove", 288),
        ("PutNextLocalS6N4", 72),
        ("PutNextS7N4Carrying", 392),
        ("UnlockPickupDist", 72),
        ("UnlockToUnlock", 1080),
        ("FindObjS7", 980),
        ("OneRoomS20", 400),
        ("MoveTwoAcrossS8N9", 1024),
    ];
    for (name, budget) in expected {
        let index = LEVELS
            .iter()
            .position(|l| l.name == name)
            .expect("level exists");
        for seed in 0..3 {
            let world = task_world(TaskId(index + 40 * seed)).expect("generates");
            assert_eq!(world.max_steps, budget, "{name} seed {seed}");
        }
    }
}

#[test]
fn reset_observation_has_goal_description_and_actions() {
    let mut e = env();
    let first = e.reset(TaskId(7)).expect("reset");
    assert!(first.starts_with("Your goal: "));
    assert!(
        !first.contains(", then "),
        "then is replaced by and: {first}"
    );
    assert!(first.ends_with("\"check available actions\"]"));
    let step = e
        .step("Thought:\nhm\n\nAction:\ncheck available actions")
        .expect("step");
    assert!(
        step.observation
            .starts_with("You can take the following actions: turn left, turn right")
    );
    let two = e
        .step("Action: turn left\nAction: turn right")
        .expect("step");
    assert_eq!(two.observation, MULTIPLE_ACTIONS_ERROR);
    assert_eq!(two.reward, 0.0);
}

#[test]
fn the_mission_step_is_a_success_whatever_its_discounted_reward() {
    let mut e = env();
    let task = TaskId(1);
    let episode = e
        .demonstration(task, 20)
        .expect("plays")
        .expect("the oracle solves GoToRedBall");
    let (last, earlier) = episode.turns.split_last().expect("turns");
    assert!(last.step.info.success && last.step.done);
    assert!(
        last.step.reward > 0.0 && last.step.reward < 1.0,
        "{}",
        last.step.reward
    );
    assert!(earlier.iter().all(|turn| !turn.step.info.success));
    assert!(episode.success());
    // Replies that never act reach no success.
    e.reset(task).unwrap();
    let idle = e.step("Thought: I wait.").unwrap();
    assert!(!idle.info.success && !idle.done);
}

#[test]
fn misuse_gives_errors() {
    let mut e = env();
    assert!(matches!(
        e.step("Action: turn left"),
        Err(EnvError::NotReset { .. })
    ));
    assert!(matches!(
        e.reset(TaskId(NUM_TASKS)),
        Err(EnvError::UnknownTask { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_replies_never_panic(reply in any::<String>(), task in 0usize..NUM_TASKS) {
        let mut e = env();
        e.reset(TaskId(task)).expect("reset");
        let step = e.step(&reply).expect("a reply never errors");
        prop_assert!(step.observation.contains("Available actions: [") || step.observation == MULTIPLE_ACTIONS_ERROR);
    }

    #[test]
    fn unknown_actions_get_the_error_text(word in "[a-z]{3,12}( [a-z]{3,12}){0,3}", noise in "[\\x00-\\x1f\\u{80}-\\u{10ffff}]{0,20}") {
        prop_assume!(!word.contains("check"));
        let known = ["turn", "move", "pickup", "drop", "go ", "toggle"];
        prop_assume!(!known.iter().any(|k| word.starts_with(k)));
        let mut e = env();
        e.reset(TaskId(5)).expect("reset");
        let step = e.step(&format!("Thought: {noise}\nAction: {word}{noise}")).expect("step");
        prop_assert!(step.observation.starts_with(UNKNOWN), "{}", step.observation);
    }

    #[test]
    fn huge_replies_are_handled(n in 1usize..200_000) {
        let mut e = env();
        e.reset(TaskId(1)).expect("reset");
        let step = e.step(&format!("Action: {}", "x".repeat(n))).expect("step");
        prop_assert!(step.observation.starts_with(UNKNOWN));
    }
}
