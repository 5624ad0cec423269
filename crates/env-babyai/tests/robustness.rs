//! Robustness: arbitrary replies (unicode, control characters, huge, several `Action:` lines)
//! never make `step` panic or fail, and every reply gets exactly the reference's answer class:
//! the client's multiple-action error, `No change in state.`, the action listing, the known
//! error text of an infeasible action, or — for anything else that is not a listed action —
//! `The action is not recognized. Please check valid actions.` with the world unchanged.

use crossgym_env_babyai::{BabyAiEnv, NUM_TASKS};
use crossgym_env_core::parse::{MULTIPLE_ACTIONS_ERROR, react_single_line};
use crossgym_env_core::py;
use crossgym_env_core::{Env, TaskId};
use proptest::prelude::*;

const UNKNOWN: &str = "The action is not recognized. Please check valid actions.";

/// Text made of any characters, control characters and `Action:` markers favoured.
fn wild_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<char>().prop_map(String::from),
            2 => "[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{2028}\\u{2029}\\u{feff}]".prop_map(String::from),
            1 => Just("Action:".to_owned()),
            1 => Just("\n".to_owned()),
            1 => "(turn|move|go|pickup|drop|toggle|check)[ a-z0-9]{0,12}".prop_map(String::from),
        ],
        0..max,
    )
    .prop_map(|parts| parts.concat())
}

/// A reply: wild text, a wild action after a marker, or a huge one.
fn reply() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => wild_text(60),
        3 => (wild_text(10), wild_text(30)).prop_map(|(t, a)| format!("Thought: {t}\nAction: {a}")),
        1 => (wild_text(8), 1usize..40_000)
            .prop_map(|(unit, n)| format!("Action: {}", unit.repeat(n % (200_000 / unit.len().max(1)).max(1)))),
    ]
}

/// Checks one step against the reference's rules; returns whether the episode ended.
fn check_step(env: &mut BabyAiEnv, reply: &str) -> Result<bool, TestCaseError> {
    let session = env.session().expect("reset");
    let before = session.world().clone();
    let parsed = react_single_line(reply);
    let action = parsed
        .as_ref()
        .map(|a| py::strip(&a.to_lowercase()).to_owned())
        .ok();
    let listed = action
        .as_deref()
        .is_some_and(|a| session.rendering().plan(a).is_some());
    let known_error = action
        .as_deref()
        .and_then(|a| session.rendering().error(a))
        .map(str::to_owned);
    let step = env.step(reply).expect("a reply never errors");
    let obs = &step.observation;
    let Some(action) = action else {
        prop_assert_eq!(obs.as_str(), MULTIPLE_ACTIONS_ERROR);
        prop_assert_eq!(env.session().expect("reset").world(), &before);
        return Ok(false);
    };
    prop_assert!(
        obs.contains("\nAvailable actions: [\""),
        "no action list: {obs:?}"
    );
    if action.contains("check") {
        prop_assert!(obs.starts_with("You can take the following actions: turn left, "));
    } else if action.is_empty() {
        prop_assert!(obs.starts_with("No change in state."));
    } else if !listed {
        let expected = known_error.as_deref().unwrap_or(UNKNOWN);
        prop_assert!(
            obs.starts_with(expected),
            "action {action:?}: expected {expected:?}, got {obs:?}"
        );
        prop_assert!(step.info.invalid, "an unlisted action is invalid");
        prop_assert_eq!(env.session().expect("reset").world(), &before);
    }
    Ok(step.done)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Up to eight arbitrary replies on any task: no panic, no `Err`, the reference's answers.
    #[test]
    fn arbitrary_replies_get_the_reference_answers(
        task in 0usize..NUM_TASKS,
        replies in prop::collection::vec(reply(), 1..8),
    ) {
        let mut env = BabyAiEnv::new().expect("env");
        env.reset(TaskId(task)).expect("reset");
        for reply in &replies {
            if check_step(&mut env, reply)? {
                break;
            }
        }
    }

    /// Listed actions wrapped in arbitrary noise outside the action line still act, and their
    /// decorated forms that clean to something unlisted get the error text.
    #[test]
    fn listed_actions_survive_noise(
        task in 0usize..NUM_TASKS,
        pick in any::<usize>(),
        noise in wild_text(20),
        tail in "[!?.*\"'`]{0,3}",
    ) {
        let mut env = BabyAiEnv::new().expect("env");
        env.reset(TaskId(task)).expect("reset");
        let names: Vec<String> = env
            .session()
            .expect("reset")
            .rendering()
            .actions
            .iter()
            .map(|a| a.name.clone())
            .collect();
        let name = &names[pick % names.len()];
        let noise = noise.replace("Action:", "");
        let reply = format!("Thought: {noise}\n\nAction:\n{}{tail}", name.to_uppercase());
        check_step(&mut env, &reply)?;
    }
}
