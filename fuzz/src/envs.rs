//! The env targets: `step` with arbitrary replies after an arbitrary prefix of oracle play.
//!
//! An input is `task (u16 LE) · prefix (u8) · reply 0xFF reply 0xFF …`: the env is reset on task
//! `task mod num_tasks`, the first `prefix mod (n + 1)` of the oracle's `n` replies are played,
//! then each reply (lossy UTF-8, at most [`MAX_REPLIES`]) is stepped. The contract checked is
//! env-core's: `step` never fails because of a reply before `done`, fails after it, rewards are
//! finite, and nothing panics. Each env is built once per process (the fuzzer forks after the
//! warm-up) over the same default data the env server uses, and oracle demonstrations are cached
//! per task.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crossgym_env_core::{Env, Oracle, TaskId};
use crossgym_env_server::registry;

use crate::harness::{REPLY_SEPARATOR, Reader};

/// Replies stepped per input at most (every env's turn limit is below this).
pub const MAX_REPLIES: usize = 64;

/// An env and the oracle replies of the tasks seen so far.
struct Played<E> {
    env: E,
    demos: HashMap<TaskId, Vec<String>>,
}

impl<E: Env + Oracle> Played<E> {
    fn new(env: E) -> Self {
        Self {
            env,
            demos: HashMap::new(),
        }
    }

    /// The oracle's replies for `task` (empty when it has none).
    fn demo(&mut self, task: TaskId) -> Vec<String> {
        let env = &mut self.env;
        self.demos
            .entry(task)
            .or_insert_with(|| {
                let turns = env.info().max_turns_eval;
                env.demonstrate(task, turns)
                    .ok()
                    .flatten()
                    .unwrap_or_default()
            })
            .clone()
    }

    fn task(&self, raw: u16) -> TaskId {
        TaskId(usize::from(raw) % self.env.num_tasks())
    }

    fn play(&mut self, data: &[u8]) {
        let mut input = Reader::new(data);
        let task = self.task(input.u16());
        let prefix = usize::from(input.u8());
        let demo = self.demo(task);
        let name = self.env.info().name.clone();
        self.env
            .reset(task)
            .unwrap_or_else(|e| panic!("{name}: reset({task:?}) failed: {e}"));
        let mut done = false;
        for reply in &demo[..prefix % (demo.len() + 1)] {
            let step = self
                .env
                .step(reply)
                .unwrap_or_else(|e| panic!("{name}: the oracle's reply {reply:?} failed: {e}"));
            done = step.done;
        }
        for raw in input
            .rest()
            .split(|&b| b == REPLY_SEPARATOR)
            .take(MAX_REPLIES)
        {
            let reply = String::from_utf8_lossy(raw);
            match self.env.step(&reply) {
                Ok(step) => {
                    assert!(!done, "{name}: a step after done succeeded");
                    assert!(
                        step.reward.is_finite(),
                        "{name}: reward {} for {reply:?}",
                        step.reward
                    );
                    done = step.done;
                }
                Err(e) => assert!(done, "{name}: step({reply:?}) failed before done: {e}"),
            }
        }
    }

    /// Seeds: for a few tasks, oracle prefixes of 0 and half its length, followed by the rest
    /// of the oracle's replies and one reply that is not an action.
    fn seeds(&mut self) -> Vec<Vec<u8>> {
        let n = self.env.num_tasks();
        let mut seeds = Vec::new();
        for task in [0, 1, n / 2, n - 1] {
            let raw = u16::try_from(task % 65_536).unwrap_or(0);
            let demo = self.demo(self.task(raw));
            for prefix in [0, demo.len() / 2] {
                let mut seed = raw.to_le_bytes().to_vec();
                seed.push(u8::try_from(prefix.min(255)).unwrap_or(0));
                let mut replies: Vec<&[u8]> = vec![b"Thought: hmm\nAction: look around"];
                replies.extend(demo[prefix..].iter().map(|r| r.as_bytes()));
                seed.extend(replies.join(&[REPLY_SEPARATOR][..]));
                seeds.push(seed);
            }
        }
        seeds
    }
}

fn locked<E: Env + Oracle>(
    cell: &'static OnceLock<Mutex<Played<E>>>,
    make: fn() -> E,
) -> std::sync::MutexGuard<'static, Played<E>> {
    cell.get_or_init(|| Mutex::new(Played::new(make())))
        .lock()
        // A finding in another test thread poisons the lock; the env itself is reset per input.
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

macro_rules! env_target {
    ($step:ident, $seeds:ident, $cell:ident, $env:ty, $make:expr) => {
        static $cell: OnceLock<Mutex<Played<$env>>> = OnceLock::new();

        #[doc = concat!("Fuzzes `", stringify!($env), "::step` (see the module docs).")]
        pub fn $step(data: &[u8]) {
            locked(&$cell, $make).play(data);
        }

        #[doc = concat!("Seeds of [`", stringify!($step), "`]: oracle play of a few tasks.")]
        pub fn $seeds() -> Vec<Vec<u8>> {
            locked(&$cell, $make).seeds()
        }
    };
}

env_target!(
    babyai_step,
    babyai_seeds,
    BABYAI,
    crossgym_env_babyai::BabyAiEnv,
    || { registry::babyai(&registry::BabyAiData).expect("BabyAI builds") }
);
env_target!(
    textcraft_step,
    textcraft_seeds,
    TEXTCRAFT,
    crossgym_env_textcraft::TextCraftEnv,
    || registry::textcraft(&registry::textcraft_data().expect("TextCraft's recipes load"))
);
env_target!(
    alfworld_step,
    alfworld_seeds,
    ALFWORLD,
    crossgym_env_alfworld::AlfWorldEnv,
    || registry::alfworld(&registry::alfworld_data().expect("ALFWorld's generator builds"))
        .expect("ALFWorld builds")
);
env_target!(
    webshop_step,
    webshop_seeds,
    WEBSHOP,
    crossgym_env_webshop::WebShopEnv,
    || registry::webshop(&registry::webshop_data().expect("WebShop's catalogue builds"))
        .expect("WebShop builds")
);
env_target!(
    searchqa_step,
    searchqa_seeds,
    SEARCHQA,
    crossgym_env_searchqa::SearchQaEnv,
    || registry::searchqa(&registry::searchqa_data().expect("SearchQA's index builds"))
);
