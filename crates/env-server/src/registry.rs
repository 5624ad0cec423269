//! The five envs: their names, and the one place that constructs them and their shared data.
//!
//! Every other module reaches the env crates through this one (plus the per-env route modules,
//! which use the session-level types the data here hands them), so renaming an env type touches
//! this file. The in-process constructors ([`babyai`], [`textcraft`], …) build the same envs over
//! the same data, for the oracle helper and for tests that compare the server with the env.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crossgym_env_alfworld::{AlfWorldEnv, Generator};
use crossgym_env_babyai::BabyAiEnv;
use crossgym_env_core::EnvError;
use crossgym_env_searchqa::{SearchIndex, SearchQaEnv, TaskSet};
use crossgym_env_textcraft::TextCraftEnv;
use crossgym_env_webshop::{Catalogue, WebShopConfig, WebShopEnv};

/// One of the five envs a server can serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EnvName {
    /// WebShop (`env_idx` ids, `state` observations).
    WebShop,
    /// SearchQA (`env_idx` ids, whole replies).
    SearchQa,
    /// TextCraft (`id` ids).
    TextCraft,
    /// ALFWorld (`id` ids, `game` + `world_type` resets).
    AlfWorld,
    /// BabyAI (`id` ids, `score` as the client's reward).
    BabyAi,
}

impl EnvName {
    /// All five, in the paper's order.
    pub const ALL: [EnvName; 5] = [
        EnvName::WebShop,
        EnvName::SearchQa,
        EnvName::TextCraft,
        EnvName::AlfWorld,
        EnvName::BabyAi,
    ];

    /// The registry name (`webshop`, `searchqa`, `textcraft`, `alfworld`, `babyai`).
    pub fn as_str(self) -> &'static str {
        match self {
            EnvName::WebShop => crossgym_env_webshop::NAME,
            EnvName::SearchQa => crossgym_env_searchqa::NAME,
            EnvName::TextCraft => crossgym_env_textcraft::NAME,
            EnvName::AlfWorld => crossgym_env_alfworld::NAME,
            EnvName::BabyAi => crossgym_env_babyai::NAME,
        }
    }
}

impl fmt::Display for EnvName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An env name that is not one of the five.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown env {0:?} (known: {known})", known = EnvName::ALL.map(EnvName::as_str).join(", "))]
pub struct UnknownEnvName(pub String);

impl FromStr for EnvName {
    type Err = UnknownEnvName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EnvName::ALL
            .into_iter()
            .find(|name| name.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownEnvName(s.to_owned()))
    }
}

/// BabyAI's shared data: none (levels are generated per reset from the task id).
#[derive(Debug, Default)]
pub struct BabyAiData;

/// TextCraft's shared data: the env over the embedded recipe book, used read-only for goals and
/// command lists.
#[derive(Debug)]
pub struct TextCraftData {
    /// The env (its recipe book is an `Arc` shared with every session's crafting state).
    pub env: TextCraftEnv,
}

/// ALFWorld's shared data: the default task generator (games are generated per reset).
#[derive(Debug)]
pub struct AlfWorldData {
    /// The 2,620-game generator.
    pub generator: Generator,
}

/// WebShop's shared data: the catalogue and its search index.
#[derive(Debug)]
pub struct WebShopData {
    /// Products, goals and the BM25 index.
    pub catalogue: Arc<Catalogue>,
}

/// SearchQA's shared data: the passage index and the questions.
#[derive(Debug)]
pub struct SearchQaData {
    /// The BM25 passage index.
    pub index: Arc<SearchIndex>,
    /// The questions (task ids index them).
    pub tasks: Arc<TaskSet>,
}

/// BabyAI's data.
pub fn babyai_data() -> Result<BabyAiData, EnvError> {
    Ok(BabyAiData)
}

/// TextCraft's data (the embedded recipe book, built once per process by its crate).
pub fn textcraft_data() -> Result<TextCraftData, EnvError> {
    Ok(TextCraftData {
        env: TextCraftEnv::new()?,
    })
}

/// ALFWorld's data (the standard generator).
pub fn alfworld_data() -> Result<AlfWorldData, EnvError> {
    Ok(AlfWorldData {
        generator: Generator::standard()?,
    })
}

/// WebShop's data: the default catalogue (synthetic, or `$CROSSGYM_WEBSHOP_DATA`).
pub fn webshop_data() -> Result<WebShopData, EnvError> {
    Ok(WebShopData {
        catalogue: Arc::new(WebShopConfig::default().catalogue()?),
    })
}

/// SearchQA's data: the embedded default index and questions (built once per process).
pub fn searchqa_data() -> Result<SearchQaData, EnvError> {
    let data = crossgym_env_searchqa::defaults::default_data()?;
    Ok(SearchQaData {
        index: Arc::clone(&data.index),
        tasks: Arc::clone(&data.tasks),
    })
}

/// The in-process BabyAI env.
pub fn babyai(_data: &BabyAiData) -> Result<BabyAiEnv, EnvError> {
    BabyAiEnv::new()
}

/// The in-process TextCraft env over the same recipe book.
pub fn textcraft(data: &TextCraftData) -> TextCraftEnv {
    data.env.clone()
}

/// The in-process ALFWorld env over the same generator.
pub fn alfworld(data: &AlfWorldData) -> Result<AlfWorldEnv, EnvError> {
    AlfWorldEnv::generated(data.generator.clone())
}

/// The in-process WebShop env over the same catalogue.
pub fn webshop(data: &WebShopData) -> Result<WebShopEnv, EnvError> {
    WebShopEnv::from_catalogue(Arc::clone(&data.catalogue))
}

/// The in-process SearchQA env over the same index and questions.
pub fn searchqa(data: &SearchQaData) -> SearchQaEnv {
    SearchQaEnv::with_data(Arc::clone(&data.index), Arc::clone(&data.tasks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in EnvName::ALL {
            assert_eq!(name.as_str().parse::<EnvName>(), Ok(name));
        }
        assert_eq!(" BabyAI ".parse::<EnvName>(), Ok(EnvName::BabyAi));
        assert!("minecraft".parse::<EnvName>().is_err());
    }
}
