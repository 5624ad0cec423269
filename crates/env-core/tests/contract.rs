//! Integration tests of the env contract helpers against a tiny env: the checker, the episode
//! runner, the conformance replay (passing and failing), the registry, and the fixture directory.

use crossgym_env_core::check::check_env;
use crossgym_env_core::conformance::{self, RecordedStep, Report};
use crossgym_env_core::{
    Characteristics, Env, EnvInfo, FnEnv, ParserFamily, Registry, Result, Step, TaskId, TaskSplit,
    parse, run_episode, run_episode_capped,
};

/// Count up: task N asks the agent to say the numbers 1..=N+1, one per turn; the state is the
/// target and how far the agent got.
type CountUp = FnEnv<(u32, u32)>;

fn count_up() -> CountUp {
    let info = EnvInfo {
        name: "countup".into(),
        version: 0,
        instruction: "Count up, one number per turn, as `Action: N`.".into(),
        acknowledgement: "Ok.".into(),
        parser: ParserFamily::ReactSingleLine,
        max_turns_train: 5,
        max_turns_eval: 20,
        characteristics: Characteristics {
            dense_reward: true,
            strict_validation: true,
            ..Characteristics::NONE
        },
    };
    let split = TaskSplit::seeded("countup", 10, 8, 2, 1).expect("valid split");
    let start = |task: TaskId| {
        let target = task.0 as u32 + 1;
        ((target, 0), format!("Count to {target}."))
    };
    FnEnv::new(info, 10, split, start, count)
}

fn count((target, said): &mut (u32, u32), reply: &str) -> Step {
    let action = match parse::react_single_line(reply) {
        Ok(action) => action,
        Err(error) => return Step::new(error.to_string(), 0.0, false).invalid(),
    };
    if action == (*said + 1).to_string() {
        *said += 1;
        let done = *said == *target;
        let reward = f64::from(*said) / f64::from(*target);
        Step::new(format!("Said {said}."), reward, done)
            .with_action(action)
            .with_success(done)
    } else {
        Step::new(format!("Expected {}.", *said + 1), 0.0, false)
            .with_action(action)
            .invalid()
    }
}

/// A count-up env that forgets to refuse a step before the first reset (for the checker).
struct Sloppy {
    env: CountUp,
    reset: bool,
}

impl Env for Sloppy {
    fn info(&self) -> &EnvInfo {
        self.env.info()
    }
    fn num_tasks(&self) -> usize {
        self.env.num_tasks()
    }
    fn split(&self) -> &TaskSplit {
        self.env.split()
    }
    fn reset(&mut self, task: TaskId) -> Result<String> {
        self.reset = true;
        self.env.reset(task)
    }
    fn step(&mut self, reply: &str) -> Result<Step> {
        if self.reset {
            self.env.step(reply)
        } else {
            Ok(Step::new("", 0.0, false))
        }
    }
}

fn counting_agent() -> impl FnMut(&str) -> String {
    let mut n = 0;
    move |_observation| {
        n += 1;
        format!("Thought: next.\nAction: {n}")
    }
}

#[test]
fn check_env_passes_a_correct_env() {
    let tasks = [TaskId(0), TaskId(3), TaskId(9)];
    check_env(count_up, &tasks).unwrap_or_else(|problems| panic!("{problems:#?}"));
}

#[test]
fn check_env_catches_a_sloppy_env() {
    let sloppy = || Sloppy {
        env: count_up(),
        reset: false,
    };
    let problems = check_env(sloppy, &[TaskId(0)]).unwrap_err();
    assert!(
        problems.iter().any(|p| p.contains("NotReset")),
        "{problems:#?}"
    );
}

#[test]
fn run_episode_plays_to_done_and_scores_last_reward() {
    let mut env = count_up();
    let episode = run_episode(&mut env, TaskId(2), counting_agent()).unwrap();
    assert_eq!(episode.first_observation, "Count to 3.");
    assert_eq!(episode.num_turns(), 3);
    assert!(episode.done() && episode.success());
    assert_eq!(episode.turns[0].step.info.action.as_deref(), Some("1"));

    // The turn cap stops an agent that never finishes; the score is the last reward.
    let stuck = run_episode_capped(&mut env, TaskId(2), 4, |_| "Action: 1".to_owned()).unwrap();
    assert_eq!(stuck.num_turns(), 4);
    assert!(!stuck.done());
    assert_eq!(stuck.score(), 0.0);
    assert!(stuck.turns[1].step.info.invalid);
}

#[test]
fn unknown_task_error_names_env_and_task() {
    let mut env: Box<dyn Env> = Box::new(count_up());
    let error = env.reset(TaskId(10)).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("countup") && message.contains("10"),
        "{message}"
    );
}

fn recording() -> Vec<RecordedStep> {
    let step = |reply: &str, observation: &str, reward: f64, done: bool| RecordedStep {
        reply: reply.into(),
        observation: observation.into(),
        reward,
        done,
    };
    vec![
        step("Action: 1", "Said 1.", 0.5, false),
        step(
            "Action: 1\nAction: 2",
            parse::MULTIPLE_ACTIONS_ERROR,
            0.0,
            false,
        ),
        step("Action: 2!", "Said 2.", 1.0, true),
    ]
}

#[test]
fn conformance_replay_accepts_a_matching_recording() {
    let mut env = count_up();
    let mut report = Report::new("countup recording");
    report.record(conformance::replay_task(
        &mut env,
        TaskId(1),
        "task 1",
        "Count to 2.",
        &recording(),
    ));
    assert_eq!(report.assert_ok(), 1);
}

#[test]
fn conformance_replay_reports_the_first_difference_readably() {
    let mut env = count_up();
    let mut steps = recording();
    steps[2].observation = "Said two.".into();
    let mismatch =
        conformance::replay_task(&mut env, TaskId(1), "task 1", "Count to 2.", &steps).unwrap_err();
    assert_eq!(mismatch.step, Some(2));
    assert_eq!(mismatch.field, "observation");
    let text = mismatch.to_string();
    assert!(text.contains("first difference at byte 5"), "{text}");

    let mut steps = recording();
    steps[0].reward = 0.25;
    let mismatch =
        conformance::replay_task(&mut env, TaskId(1), "task 1", "Count to 2.", &steps).unwrap_err();
    assert_eq!(
        (mismatch.field.as_str(), mismatch.step),
        ("reward", Some(0))
    );

    let mut steps = recording();
    steps[2].done = false;
    let mismatch =
        conformance::replay_task(&mut env, TaskId(1), "task 1", "Count to 2.", &steps).unwrap_err();
    assert_eq!(mismatch.field, "done");

    let mismatch =
        conformance::replay_task(&mut env, TaskId(1), "task 1", "Count to 3.", &recording())
            .unwrap_err();
    assert_eq!(
        (mismatch.field.as_str(), mismatch.step),
        ("first observation", None)
    );

    let mut report = Report::new("countup");
    report.record(Err(mismatch));
    report.record(Ok(()));
    let message = report.finish().unwrap_err();
    assert!(message.contains("1 of 2 records differ"), "{message}");
}

#[test]
fn multi_line_diffs_show_the_lines() {
    let diff = conformance::text_diff("a\nb\nc", "a\nB\nc");
    assert!(diff.contains("-b") && diff.contains("+B"), "{diff}");
    // Multi-byte characters around the difference do not break the context window.
    let diff = conformance::text_diff(&"é".repeat(50), &format!("{}x", "é".repeat(49)));
    assert!(diff.contains("byte 98"), "{diff}");
}

#[test]
fn an_empty_report_fails() {
    assert!(Report::new("nothing").finish().is_err());
}

#[test]
fn registry_builds_envs_by_name() {
    let mut registry = Registry::new();
    registry
        .register("countup", || Ok(Box::new(count_up()) as Box<dyn Env>))
        .unwrap();
    assert!(
        registry
            .register("countup", || Ok(Box::new(count_up()) as Box<dyn Env>))
            .is_err()
    );
    let mut env = registry.make("countup").unwrap();
    let episode = run_episode(&mut env, TaskId(0), counting_agent()).unwrap();
    assert!(episode.success());
    let Err(error) = registry.make("nope") else {
        panic!("an unknown name must fail");
    };
    let error = error.to_string();
    assert!(
        error.contains("nope") && error.contains("countup"),
        "{error}"
    );
    assert_eq!(registry.names().collect::<Vec<_>>(), ["countup"]);
}
