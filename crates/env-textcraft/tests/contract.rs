//! The env contract: check_env, determinism, the split, and replies that never panic.

use crossgym_env_core::check::check_env;
use crossgym_env_core::parse::MULTIPLE_ACTIONS_ERROR;
use crossgym_env_core::{Env, EnvError, Split, TaskId};
use crossgym_env_textcraft::{ACKNOWLEDGEMENT, TextCraftEnv};
use proptest::prelude::*;

#[test]
fn check_env_passes() {
    let env = TextCraftEnv::new().unwrap();
    let mut tasks: Vec<TaskId> = env.tasks(Split::Train).iter().take(3).copied().collect();
    tasks.extend(env.tasks(Split::Test).iter().take(2));
    tasks.push(TaskId(543));
    check_env(|| TextCraftEnv::new().unwrap(), &tasks).unwrap_or_else(|p| panic!("{p:#?}"));
}

#[test]
fn info_is_the_reference_conversation_start() {
    let env = TextCraftEnv::new().unwrap();
    let info = env.info();
    assert_eq!(info.id(), "textcraft-v0");
    assert!(
        info.instruction
            .starts_with("You are given few useful crafting recipes")
    );
    assert!(
        info.instruction
            .ends_with("\"dark oak planks\" in the command instead.\n\n")
    );
    assert_eq!(info.acknowledgement, ACKNOWLEDGEMENT);
    assert_eq!((info.max_turns_train, info.max_turns_eval), (15, 20));
}

#[test]
fn split_is_444_100_disjoint_deterministic_and_covers_every_depth() {
    let a = TextCraftEnv::new().unwrap();
    let b = TextCraftEnv::new().unwrap();
    assert_eq!(a.split(), b.split());
    assert_eq!(a.split().train().len(), 444);
    assert_eq!(a.split().test().len(), 100);
    assert!(
        a.split()
            .train()
            .iter()
            .all(|t| a.split().split_of(*t) == Some(Split::Train))
    );
    let book = a.book();
    let mut depths: Vec<u32> = a
        .split()
        .test()
        .iter()
        .map(|t| book.min_depth(book.goals()[t.0]))
        .collect();
    depths.sort_unstable();
    let per_depth: Vec<usize> = (1..=4)
        .map(|d| depths.iter().filter(|x| **x == d).count())
        .collect();
    assert_eq!(
        per_depth,
        [23, 53, 22, 2],
        "test tasks per depth, in proportion"
    );
}

#[test]
fn misuse_and_multiple_actions() {
    let mut env = TextCraftEnv::new().unwrap();
    assert!(matches!(
        env.step("Action: inventory"),
        Err(EnvError::NotReset { .. })
    ));
    assert!(matches!(
        env.reset(TaskId(544)),
        Err(EnvError::UnknownTask { .. })
    ));
    env.reset(TaskId(0)).unwrap();
    let step = env
        .step("Action: get 1 acacia logs\nAction: inventory")
        .unwrap();
    assert_eq!(step.observation, MULTIPLE_ACTIONS_ERROR);
    assert!(step.info.invalid && !step.done && step.reward == 0.0);
    let step = env.step("no action here").unwrap();
    assert_eq!(step.observation, "Could not execute ");
    let step = env.step("Action: get 1 acacia logs").unwrap();
    assert_eq!(step.observation, "Got 1 acacia logs");
    let step = env
        .step("Action: craft acacia planks using 1 acacia logs")
        .unwrap();
    assert!(step.done);
    assert!(matches!(
        env.step("Action: inventory"),
        Err(EnvError::EpisodeFinished { .. })
    ));
    // A reset starts over with an empty inventory.
    env.reset(TaskId(0)).unwrap();
    assert_eq!(
        env.step("Action: inventory").unwrap().observation,
        "Inventory: You are not carrying anything."
    );
}

#[test]
fn quirks_of_the_reference() {
    let mut env = TextCraftEnv::new().unwrap();
    env.reset(TaskId(0)).unwrap();
    let mut act = |action: &str| env.step(&format!("Action: {action}")).unwrap().observation;
    assert_eq!(act("get 0 oak logs"), "Got 0 oak logs");
    assert_eq!(act("get 007 oak logs"), "Got 7 oak logs");
    assert_eq!(act("inventory please"), "Inventory: [oak logs] (7) ");
    assert_eq!(
        act("get 99999999999999999999999 stick"),
        "Could not find stick"
    );
    assert_eq!(
        act("get 99999999999999999999999 oak logs"),
        "Got 99999999999999999999999 oak logs"
    );
    assert_eq!(
        act("inventory"),
        "Inventory: [oak logs] (100000000000000000000006) "
    );
    assert_eq!(act("get 2 planks"), "Could not find planks");
    assert_eq!(
        act("craft 4 oak planks using oak logs"),
        "Wrong item format: oak logs"
    );
    assert_eq!(
        act("craft 4 oak planks using 1 oak logs,"),
        "Wrong item format: "
    );
    assert_eq!(
        act("craft 4 planks using 1 oak logs"),
        "Could not find a valid recipe for ItemTagWithCount(item_tag=ItemTag(tag='minecraft:planks', item_id=None), count=4)"
    );
    assert_eq!(
        act("craft 1 stick using 2 planks"),
        "Could not find enough items to craft minecraft:stick"
    );
    assert_eq!(
        act("craft planks using 9 dirt"),
        "Could not find enough items to craft None"
    );
    assert_eq!(
        act("craft 9 oak planks using 1 oak logs"),
        "Crafted 4 minecraft:oak_planks"
    );
    assert_eq!(act("Inventory"), "Could not execute Inventory");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_replies_never_panic(replies in proptest::collection::vec(any::<String>(), 1..8), task in 0usize..544) {
        let mut env = TextCraftEnv::new().unwrap();
        env.reset(TaskId(task)).unwrap();
        for reply in &replies {
            match env.step(reply) {
                Ok(step) => prop_assert!(step.reward == 0.0 || step.reward == 1.0),
                Err(EnvError::EpisodeFinished { .. }) => break,
                Err(other) => prop_assert!(false, "reply {reply:?} gave {other}"),
            }
        }
    }

    #[test]
    fn command_shaped_replies_never_panic(
        verb in prop_oneof!["craft ", "get ", "inventory", "craft 1 "],
        body in "[a-z0-9 ,]{0,40}( using [a-z0-9 ,]{0,40})?",
        task in 0usize..544,
    ) {
        let mut env = TextCraftEnv::new().unwrap();
        env.reset(TaskId(task)).unwrap();
        let step = env.step(&format!("Action: {verb}{body}")).unwrap();
        prop_assert!(!step.observation.is_empty());
    }
}
