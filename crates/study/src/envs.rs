//! The five environments of the study, built once and registered by name.
//!
//! This module is the one place that knows which envs the study runs and how each is built
//! ([`build`]); everything else asks for an env by name and gets a [`StudyEnv`] (the env contract
//! plus its [`Oracle`]) or a [`Registry`] factory.
//!
//! Each env has heavy shared data (WebShop's catalogue and BM25 index, SearchQA's corpus index
//! and questions, TextCraft's recipe book, ALFWorld's task generator); [`build`] makes it once,
//! and every further env is a cheap clone sharing it through `Arc` ([`StudyEnv::share`]).
//! [`registry`] registers such copies as factories, so `registry.make(name)` costs microseconds
//! however many envs a trainer or an evaluation asks for.
//!
//! Build times (release, 2-core machine shared with parallel builds; measured with a scratch
//! program timing [`build`] twice and `Registry::make` 1,000 times):
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
//! shared by every later build too; WebShop's catalogue is rebuilt by every [`build`], so build
//! once and [`StudyEnv::share`] (or use the registry).
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
use crossgym_env_core::{Env, Oracle, Registry, paper};
use crossgym_env_searchqa::SearchQaEnv;
use crossgym_env_textcraft::TextCraftEnv;
use crossgym_env_webshop::WebShopEnv;

use crate::{Result, StudyError};

/// The study's envs, in the paper's order (Tables 2 and 3).
pub const STUDY_ENVS: [&str; 5] = [
    paper::WEBSHOP.name,
    paper::SEARCHQA.name,
    paper::TEXTCRAFT.name,
    paper::ALFWORLD.name,
    paper::BABYAI.name,
];

/// One of the study's envs: the env contract, its oracle, and cheap copies sharing its data.
pub trait StudyEnv: Oracle + Sync + std::fmt::Debug {
    /// A copy sharing this env's data (cheap: `Arc`s and small per-env tables).
    ///
    /// The copy also carries this env's running episode, if any, so copy an env that was never
    /// reset — as the [`registry`] does with its prototypes — or reset the copy before stepping it.
    fn share(&self) -> Box<dyn StudyEnv>;
}

impl<E: Oracle + Clone + Sync + std::fmt::Debug + 'static> StudyEnv for E {
    fn share(&self) -> Box<dyn StudyEnv> {
        Box::new(self.clone())
    }
}

/// Builds the env called `name` (one of [`STUDY_ENVS`]) with its default data: WebShop over the
/// default catalogue (synthetic, or `$CROSSGYM_WEBSHOP_DATA`), SearchQA over the embedded
/// Wikipedia-summaries index and its questions, TextCraft over the embedded recipe book, ALFWorld
/// over the procedural task set, BabyAI's 40 levels × seeds.
///
/// Fails with [`StudyError::Invalid`] for an unknown name and [`StudyError::Env`] when the env's
/// data cannot be built.
pub fn build(name: &str) -> Result<Box<dyn StudyEnv>> {
    Ok(match name {
        crossgym_env_webshop::NAME => Box::new(WebShopEnv::new()?),
        crossgym_env_searchqa::NAME => Box::new(SearchQaEnv::new()?),
        crossgym_env_textcraft::NAME => Box::new(TextCraftEnv::new()?),
        crossgym_env_alfworld::NAME => Box::new(AlfWorldEnv::new()?),
        crossgym_env_babyai::NAME => Box::new(BabyAiEnv::new()?),
        other => return Err(unknown_env(other)),
    })
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

/// Fails with [`StudyError::Invalid`] naming the study's envs when a name is not one of
/// [`STUDY_ENVS`].
pub(crate) fn check_names(names: &[String]) -> Result<()> {
    match names.iter().find(|n| !STUDY_ENVS.contains(&n.as_str())) {
        Some(bad) => Err(unknown_env(bad)),
        None => Ok(()),
    }
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
    check_names(names)?;
    let mut registry = Registry::new();
    for name in names {
        if registry.contains(name) {
            continue;
        }
        let prototype = build(name)?;
        registry.register(name, move || {
            let env: Box<dyn Env> = prototype.share();
            Ok(env)
        })?;
    }
    Ok(registry)
}
