//! A toy env and seeded scripted agents, to drive the harness end to end without a model.
//!
//! The env: task `t` hides the number `t % 4`; `Action: pick N` ends the episode with reward 1
//! when right and 0.5 when off by one (partial credit), `Action: look` gives a hint-free
//! observation, anything else is rejected. The agents are only test drivers; nothing they
//! produce is presented as a result of the study.

use crossgym_env_core::{
    Characteristics, EnvInfo, FnEnv, ParserFamily, Step, TaskId, TaskSplit, parse,
};
use crossgym_study::small_base::SmallBaseSpec;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The toy env: its state is the hidden number.
pub type Toy = FnEnv<usize>;

/// A toy env named `name` (40 tasks: 24 train, 16 test).
pub fn toy(name: &str) -> Toy {
    let info = EnvInfo {
        name: name.to_owned(),
        version: 0,
        instruction: "Pick the hidden number with `Action: pick N`.".to_owned(),
        acknowledgement: "Ok.".to_owned(),
        parser: ParserFamily::ReactSingleLine,
        max_turns_train: 4,
        max_turns_eval: 4,
        characteristics: Characteristics {
            dense_reward: true,
            strict_validation: true,
            ..Characteristics::NONE
        },
    };
    let split = TaskSplit::seeded(name, 40, 24, 16, 1).unwrap();
    let start = |task: TaskId| (task.0 % 4, format!("Task {task}: the number is in 0..4."));
    FnEnv::new(info, 40, split, start, pick)
}

fn pick(target: &mut usize, reply: &str) -> Step {
    let target = *target;
    let Ok(action) = parse::react_single_line(reply) else {
        return Step::new("Error: one action only.", 0.0, false).invalid();
    };
    if action == "look" {
        return Step::new("You see nothing new.", 0.0, false).with_action(action);
    }
    match action
        .strip_prefix("pick ")
        .and_then(|n| n.trim().parse::<usize>().ok())
    {
        Some(n) => {
            let reward = if n == target {
                1.0
            } else if n.abs_diff(target) == 1 {
                0.5
            } else {
                0.0
            };
            Step::new(format!("You picked {n}."), reward, true)
                .with_action(action)
                .with_success(n == target)
        }
        None => Step::new("Unknown action.", 0.0, false)
            .with_action(action)
            .invalid(),
    }
}

/// A scripted agent of a given skill: right with probability `skill`, else a look, a wrong pick
/// or gibberish. Returns the reply and a token count (words).
pub fn agent(skill: f64, seed: u64) -> impl FnMut(&str) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    move |observation: &str| {
        let target = observation
            .strip_prefix("Task ")
            .and_then(|rest| rest.split(':').next())
            .and_then(|t| t.parse::<usize>().ok())
            .map(|t| t % 4);
        let roll: f64 = rng.random();
        match target {
            Some(t) if roll < skill => format!("Thought: it is {t}.\nAction: pick {t}"),
            _ if roll < skill + (1.0 - skill) / 3.0 => {
                "Thought: look first.\nAction: look".to_owned()
            }
            _ if roll < skill + 2.0 * (1.0 - skill) / 3.0 => {
                format!("Action: pick {}", rng.random_range(0..4))
            }
            _ => "I am not sure what to do.".to_owned(),
        }
    }
}

/// The smallest real base model a test builds: a 300-token BPE vocabulary, one layer of width
/// 16, trained with `sft_steps` SFT steps on `demos` demonstrations per env.
pub fn tiny_base_spec(envs: &[String], demos: usize, sft_steps: usize) -> SmallBaseSpec {
    let mut spec = SmallBaseSpec::one_layer(envs, demos, sft_steps, (300, 16));
    spec.sft.batch_size = 2;
    spec
}
