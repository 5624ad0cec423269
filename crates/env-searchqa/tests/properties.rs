//! Property tests: arbitrary replies never panic or fail, parsing and scoring are total.

use std::sync::Arc;

use crossgym_env_core::{Env, TaskId};
use crossgym_env_searchqa::action::{Action, last_answer, parse_action};
use crossgym_env_searchqa::scoring::normalize_answer;
use crossgym_env_searchqa::{Question, SearchQaEnv, TaskSet, messages};
use proptest::prelude::*;

use crate::common::sample_index;

/// Replies built from tag fragments, text and unicode, so tags actually occur.
fn reply() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<search>".to_owned()),
        Just("</search>".to_owned()),
        Just("<answer>".to_owned()),
        Just("</answer>".to_owned()),
        Just("<think>".to_owned()),
        Just("<information>".to_owned()),
        Just("the".to_owned()),
        Just("Paris".to_owned()),
        "\\PC{0,12}",
        "[ \\t\\n]{0,3}",
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

fn env() -> SearchQaEnv {
    let question = Question::new("what is it", vec!["Paris".into(), "the U.S.A.".into()]);
    let tasks = TaskSet::from_halves(vec![question.clone()], vec![question]).unwrap();
    SearchQaEnv::with_data(sample_index(), Arc::new(tasks))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_replies_never_fail(replies in prop::collection::vec(prop_oneof![reply(), any::<String>()], 1..4)) {
        let mut env = env();
        env.reset(TaskId(0)).unwrap();
        for reply in &replies {
            let step = env.step(reply).unwrap();
            match parse_action(reply) {
                Action::Search(_) => prop_assert!(step.observation.starts_with("<information>")),
                Action::Answer(_) => {
                    prop_assert!(step.observation == messages::CORRECT || step.observation == messages::INCORRECT);
                    prop_assert!(last_answer(reply).is_some());
                }
                Action::Invalid => prop_assert_eq!(&step.observation, messages::INVALID),
            }
            if step.done {
                prop_assert_eq!(step.reward, 1.0);
                break;
            }
        }
    }

    #[test]
    fn normalisation_is_idempotent(text in prop_oneof![reply(), any::<String>()]) {
        let once = normalize_answer(&text);
        prop_assert_eq!(normalize_answer(&once), once.clone());
        prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
    }
}
