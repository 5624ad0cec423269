//! The embedded default corpus: 10,033 English Wikipedia article summaries (Level-4 vital
//! articles; text CC BY-SA 4.0, Wikipedia contributors — see `data/README.md`), split into
//! wiki-18-style passages.

use std::collections::BTreeMap;
use std::io::Read;

use crossgym_env_core::EnvError;
use serde::Deserialize;

use crate::corpus::{Passage, split_article};
use crate::{NAME, Result};

/// The gzip-compressed summaries, `{title: {title, extract, description, topic}}`.
pub const SUMMARIES_GZ: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/wikipedia_summaries_en.json.gz"
));

/// How the embedded summaries are named in errors.
pub const SUMMARIES_SOURCE: &str = "data/wikipedia_summaries_en.json.gz";

/// One Wikipedia article summary.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Article {
    /// The article title.
    pub title: String,
    /// The summary (lead section) text.
    pub extract: String,
    /// Wikidata's short description (may be empty).
    #[serde(default)]
    pub description: String,
    /// The vital-articles topic.
    #[serde(default)]
    pub topic: String,
}

/// The articles and their passages.
#[derive(Clone, Debug)]
pub struct WikiCorpus {
    /// Articles sorted by title (byte order), so the corpus does not depend on JSON map order.
    pub articles: Vec<Article>,
    /// Passages in article order; ids are their positions (`"0"`, `"1"`, …).
    pub passages: Vec<Passage>,
    /// For each passage, the index of its article.
    pub article_of_passage: Vec<usize>,
}

impl WikiCorpus {
    /// Decompresses and splits the embedded summaries.
    pub fn embedded() -> Result<Self> {
        let mut json = String::new();
        flate2::read::GzDecoder::new(SUMMARIES_GZ)
            .read_to_string(&mut json)
            .map_err(|error| EnvError::data(NAME, SUMMARIES_SOURCE, error.to_string()))?;
        Self::from_json(&json, SUMMARIES_SOURCE)
    }

    /// Parses summaries in the embedded layout and splits them into passages.
    pub fn from_json(json: &str, source: &str) -> Result<Self> {
        let by_title: BTreeMap<String, Article> = serde_json::from_str(json).map_err(|error| {
            EnvError::data(
                NAME,
                source,
                format!("not a map of {{title, extract, description, topic}}: {error}"),
            )
        })?;
        let articles: Vec<Article> = by_title.into_values().collect();
        let mut passages = Vec::new();
        let mut article_of_passage = Vec::new();
        for (index, article) in articles.iter().enumerate() {
            for contents in split_article(&article.title, &article.extract) {
                passages.push(Passage {
                    id: passages.len().to_string(),
                    contents,
                });
                article_of_passage.push(index);
            }
        }
        Ok(Self {
            articles,
            passages,
            article_of_passage,
        })
    }
}
