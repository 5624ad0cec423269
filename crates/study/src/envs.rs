//! The five environments of the study, built once and registered by name.
//!
//! Each env has heavy shared data (WebShop's catalogue and BM25 index, SearchQA's corpus index
//! and questions, TextCraft's recipe book, ALFWorld's task generator); [`StudyEnv::build`] makes
//! it once, and every further env is a cheap copy sharing it through `Arc`
//! ([`StudyEnv::share`]). [`registry`] registers such copies as factories, so
//! `registry.make(name)` costs microseconds however many envs a trainer or an evaluation asks
//! for.
//!
//! Build times (release, 2-core machine shared with parallel builds; measured with a scratch
//! program timing [`StudyEnv::build`] twice and `Registry::make` 1,000 times):
//!
//! | env | first build | later builds | `make` |
//! |---|---|---|---|
//! | webshop | 75 ms (1,000-product synthetic catalogue, 6,000+ goals, BM25 index) | 85 ms | 0.4 µs |
//! | searchqa | 360 ms (10,033-passage tantivy index, 4,400 questions) | 1 µs (process-wide) | 0.1 µs |
//! | textcraft | 1 ms (613 recipes) | 10 µs (process-wide book) | 0.2 µs |
//! | alfworld | 0.6 ms (vocabulary; games are generated at `reset`) | 0.5 ms | 0.7 µs |
//! | babyai | 0.5 ms (levels are generated at `reset`) | 13 µs | 11 µs (split shuffle) |
//!
//! SearchQA's and TextCraft's default data are built once per process by their crates and then
//! shared by every later build too; WebShop's catalogue is rebuilt by every [`StudyEnv::build`],
//! so build once and [`StudyEnv::share`] (or use the registry).
//!
//! # Example
//!
//! ```
//! use crossgym_env_core::{Env, Split};
//! use crossgym_study::envs;
//!
//! let registry = envs::registry_for(&["textcraft".to_owned(), "babyai".to_owned()])?;
//! let mut env = registry.make("textcraft")?;
//! let task = env.tasks(Split::Train)[0];
//! let first = env.reset(task)?;
//! assert!(first.contains("Goal: craft"));
//! # Ok::<(), crossgym_study::StudyError>(())
//! ```

use crossgym_env_alfworld::AlfWorldEnv;
use crossgym_env_babyai::BabyAiEnv;
use crossgym_env_core::{Env, EnvInfo, Registry, Step, TaskId, TaskSplit};
use crossgym_env_searchqa::SearchQaEnv;
use crossgym_env_textcraft::TextCraftEnv;
use crossgym_env_webshop::WebShopEnv;

use crate::{Result, StudyError};

/// The study's envs, in the paper's order (Tables 2 and 3).
pub const STUDY_ENVS: [&str; 5] = ["webshop", "searchqa", "textcraft", "alfworld", "babyai"];

/// One of the five envs, concrete (so the oracles can reach its internals), sharing its heavy
/// data with every copy made by [`StudyEnv::share`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum StudyEnv {
    /// WebShop over the default catalogue (synthetic, or `$CROSSGYM_WEBSHOP_DATA`).
    WebShop(Box<WebShopEnv>),
    /// SearchQA over the embedded Wikipedia-summaries index and its generated questions.
    SearchQa(SearchQaEnv),
    /// TextCraft over the embedded recipe book.
    TextCraft(TextCraftEnv),
    /// ALFWorld over the procedural task set.
    AlfWorld(AlfWorldEnv),
    /// BabyAI (40 levels × seeds).
    BabyAi(Box<BabyAiEnv>),
}

impl StudyEnv {
    /// Builds the env called `name` (one of [`STUDY_ENVS`]) with its default data.
    ///
    /// Fails with [`StudyError::Invalid`] for an unknown name and [`StudyError::Env`] when the
    /// env's data cannot be built.
    pub fn build(name: &str) -> Result<StudyEnv> {
        Ok(match name {
            "webshop" => StudyEnv::WebShop(Box::new(WebShopEnv::new()?)),
            "searchqa" => StudyEnv::SearchQa(SearchQaEnv::new()?),
            "textcraft" => StudyEnv::TextCraft(TextCraftEnv::new()?),
            "alfworld" => StudyEnv::AlfWorld(AlfWorldEnv::new()?),
            "babyai" => StudyEnv::BabyAi(Box::new(BabyAiEnv::new()?)),
            other => return Err(unknown_env(other)),
        })
    }

    /// A copy sharing this env's data (cheap: `Arc`s and small per-env tables).
    ///
    /// The copy also carries this env's running episode, if any, so copy an env that was never
    /// reset — as the [`registry`] does with its prototypes — or reset the copy before stepping it.
    pub fn share(&self) -> StudyEnv {
        self.clone()
    }

    /// The env as a trait object.
    pub fn as_env(&self) -> &dyn Env {
        match self {
            StudyEnv::WebShop(env) => &**env,
            StudyEnv::SearchQa(env) => env,
            StudyEnv::TextCraft(env) => env,
            StudyEnv::AlfWorld(env) => env,
            StudyEnv::BabyAi(env) => &**env,
        }
    }

    /// The env as a mutable trait object.
    pub fn as_env_mut(&mut self) -> &mut dyn Env {
        match self {
            StudyEnv::WebShop(env) => &mut **env,
            StudyEnv::SearchQa(env) => env,
            StudyEnv::TextCraft(env) => env,
            StudyEnv::AlfWorld(env) => env,
            StudyEnv::BabyAi(env) => &mut **env,
        }
    }
}

impl Env for StudyEnv {
    fn info(&self) -> &EnvInfo {
        self.as_env().info()
    }
    fn num_tasks(&self) -> usize {
        self.as_env().num_tasks()
    }
    fn split(&self) -> &TaskSplit {
        self.as_env().split()
    }
    fn reset(&mut self, task: TaskId) -> crossgym_env_core::Result<String> {
        self.as_env_mut().reset(task)
    }
    fn step(&mut self, reply: &str) -> crossgym_env_core::Result<Step> {
        self.as_env_mut().step(reply)
    }
}

/// The error for a name that is not one of [`STUDY_ENVS`].
pub(crate) fn unknown_env(name: &str) -> StudyError {
    StudyError::invalid(
        "env registry",
        format!(
            "unknown env {name:?}; the study's envs are {}",
            STUDY_ENVS.join(", ")
        ),
    )
}

/// A registry of all five envs ([`STUDY_ENVS`]), each built once (see the module docs for the
/// times); `make(name)` then returns a cheap copy sharing the data.
pub fn registry() -> Result<Registry> {
    let names: Vec<String> = STUDY_ENVS.iter().map(|name| (*name).to_owned()).collect();
    registry_for(&names)
}

/// A registry of only the named envs (each built once; a name given twice is built once).
///
/// Fails with [`StudyError::Invalid`] naming the study's envs when a name is not one of
/// [`STUDY_ENVS`], before anything is built.
pub fn registry_for(names: &[String]) -> Result<Registry> {
    if let Some(bad) = names.iter().find(|n| !STUDY_ENVS.contains(&n.as_str())) {
        return Err(unknown_env(bad));
    }
    let mut registry = Registry::new();
    for name in names {
        if registry.contains(name) {
            continue;
        }
        let prototype = StudyEnv::build(name)?;
        registry.register(
            name,
            move || Ok(Box::new(prototype.share()) as Box<dyn Env>),
        )?;
    }
    Ok(registry)
}
