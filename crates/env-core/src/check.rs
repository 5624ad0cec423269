//! A contract checker every env crate runs in its tests (in the spirit of Gymnasium's
//! `check_env`): misuse gives the documented errors, resets and steps are deterministic, and
//! hostile replies never panic.

use crate::{Env, EnvError, Split, TaskId};

/// Replies that have broken parsers before: empty, whitespace, control characters, unicode,
/// several markers, markers without content, and a very long reply.
pub fn hostile_replies() -> Vec<String> {
    vec![
        String::new(),
        " ".to_owned(),
        "\n\n\t".to_owned(),
        "Action:".to_owned(),
        "Action:\n".to_owned(),
        "Action: Action: Action:".to_owned(),
        "Action: a\nAction: b".to_owned(),
        "Thought: hmm\n\nAction:\n".to_owned(),
        "\u{0}\u{1}\u{7f}\u{1b}[31m".to_owned(),
        "Action: \u{1f600}\u{200b}\u{202e}\u{fffd}".to_owned(),
        "日本語のテキスト Action: 行動".to_owned(),
        "search[".to_owned(),
        "click[]".to_owned(),
        "search[]]]][[[".to_owned(),
        "<search></search>".to_owned(),
        "<answer>".to_owned(),
        "<answer></answer><search>".to_owned(),
        "</s>".to_owned(),
        "Action: craft using".to_owned(),
        "Action: get 99999999999999999999999 stick".to_owned(),
        "Action: get -1 stick".to_owned(),
        "Action: go to".to_owned(),
        "Action: put in/on".to_owned(),
        "Action: check".to_owned(),
        format!("Action: {}", "x".repeat(200_000)),
        "Action: click[".repeat(1_000),
    ]
}

/// Checks the env contract on `tasks` (a handful of ids; use a few train and test ids).
///
/// `make` builds a fresh env each time it is called. Returns every problem found, or `Ok`.
pub fn check_env<E, F>(make: F, tasks: &[TaskId]) -> Result<(), Vec<String>>
where
    E: Env,
    F: Fn() -> E,
{
    let mut problems = Vec::new();
    let mut env = make();
    let info = env.info().clone();
    let name = info.name.clone();

    if name.is_empty() || name != name.to_lowercase() || name.contains(char::is_whitespace) {
        problems.push(format!(
            "env name {name:?} must be short, lower-case, without spaces"
        ));
    }
    if info.instruction.trim().is_empty() {
        problems.push(format!("{name}: empty instruction"));
    }
    if info.max_turns_train == 0 || info.max_turns_eval == 0 {
        problems.push(format!("{name}: max turns must be positive"));
    }
    let num_tasks = env.num_tasks();
    let split = env.split().clone();
    if split.train().is_empty() || split.test().is_empty() {
        problems.push(format!(
            "{name}: both halves of the split must be non-empty"
        ));
    }
    if split.train().len() + split.test().len() > num_tasks {
        problems.push(format!("{name}: split larger than the task list"));
    }
    if env.tasks(Split::Test) != split.test() {
        problems.push(format!("{name}: tasks(Test) disagrees with split()"));
    }

    match env.step("Action: look") {
        Err(EnvError::NotReset { .. }) => {}
        other => problems.push(format!(
            "{name}: step before reset gave {other:?}, expected NotReset"
        )),
    }
    match env.reset(TaskId(num_tasks)) {
        Err(EnvError::UnknownTask { .. }) => {}
        other => problems.push(format!(
            "{name}: reset({num_tasks}) gave {other:?}, expected UnknownTask"
        )),
    }

    let hostile = hostile_replies();
    for &task in tasks {
        let first = match env.reset(task) {
            Ok(observation) => observation,
            Err(error) => {
                problems.push(format!("{name}: reset({task}) failed: {error}"));
                continue;
            }
        };
        match env.reset(task) {
            Ok(again) if again == first => {}
            Ok(_) => problems.push(format!(
                "{name}: reset({task}) twice gave different observations"
            )),
            Err(error) => problems.push(format!("{name}: second reset({task}) failed: {error}")),
        }
        let mut twin = make();
        match twin.reset(task) {
            Ok(other) if other == first => {}
            Ok(_) => problems.push(format!(
                "{name}: reset({task}) differs between two fresh envs"
            )),
            Err(error) => problems.push(format!(
                "{name}: reset({task}) on a fresh env failed: {error}"
            )),
        }

        // The same replies give the same steps in both envs, and no reply panics or errors.
        let mut done = false;
        for reply in &hostile {
            let (a, b) = (env.step(reply), twin.step(reply));
            match (a, b) {
                (Ok(a), Ok(b)) => {
                    if a != b {
                        problems.push(format!(
                            "{name}: task {task}: the same reply gave different steps"
                        ));
                        break;
                    }
                    if a.done {
                        done = true;
                        break;
                    }
                }
                (a, b) => {
                    problems.push(format!(
                        "{name}: task {task}: reply {:?} gave an error: {a:?} / {b:?}",
                        truncate(reply)
                    ));
                    break;
                }
            }
        }
        if done {
            match env.step("Action: look") {
                Err(EnvError::EpisodeFinished { .. }) => {}
                other => problems.push(format!(
                    "{name}: task {task}: step after done gave {other:?}, expected EpisodeFinished"
                )),
            }
        }
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn truncate(reply: &str) -> String {
    reply.chars().take(40).collect()
}
