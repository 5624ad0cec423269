//! The offline default task set, built once per process: the embedded corpus, its in-memory
//! BM25 index, and the committed generated questions.

use std::io::Read;
use std::sync::{Arc, OnceLock};

use crossgym_env_core::{EnvError, Split, TaskId};

use crate::generate::GeneratedQuestion;
use crate::index::SearchIndex;
use crate::questions::{Question, TaskSet};
use crate::wiki::WikiCorpus;
use crate::{NAME, Result};

/// The generated questions (JSON lines of [`GeneratedQuestion`], gzip), written by
/// `cargo run --release --example generate_questions`.
pub const QUESTIONS_GZ: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/questions.jsonl.gz"
));

/// How the embedded questions are named in errors.
pub const QUESTIONS_SOURCE: &str = "data/questions.jsonl.gz";

/// Everything the default env needs, shared by every env of the process.
#[derive(Debug)]
pub struct DefaultData {
    /// The articles and passages.
    pub corpus: WikiCorpus,
    /// The BM25 index over the passages.
    pub index: Arc<SearchIndex>,
    /// The generated questions with their form and answer article.
    pub generated: Vec<GeneratedQuestion>,
    /// The task set made of them.
    pub tasks: Arc<TaskSet>,
}

/// Builds the default corpus and its in-memory index (no questions).
pub fn build_corpus_index() -> Result<(WikiCorpus, SearchIndex)> {
    let corpus = WikiCorpus::embedded()?;
    let index = SearchIndex::in_memory("wikipedia summaries (embedded)", &corpus.passages)?;
    Ok((corpus, index))
}

/// Parses the committed questions file.
pub fn parse_generated(text: &str, source: &str) -> Result<Vec<GeneratedQuestion>> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line).map_err(|error| {
                EnvError::data(NAME, source, format!("line {}: {error}", index + 1))
            })
        })
        .collect()
}

/// The task set of generated questions: task `i` is the question with `id` `i`.
pub fn task_set(generated: &[GeneratedQuestion], source: &str) -> Result<TaskSet> {
    let mut questions = Vec::with_capacity(generated.len());
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (position, item) in generated.iter().enumerate() {
        if item.id != position {
            return Err(EnvError::data(
                NAME,
                source,
                format!("line {}: id {} out of order", position + 1, item.id),
            ));
        }
        questions.push(Question {
            question: item.question.clone(),
            golden_answers: item.golden_answers.clone(),
        });
        match item.split {
            Split::Train => train.push(TaskId(position)),
            Split::Test => test.push(TaskId(position)),
        }
    }
    if questions.is_empty() {
        return Err(EnvError::data(
            NAME,
            source,
            "no questions; run `cargo run --release --example generate_questions`",
        ));
    }
    TaskSet::new(questions, train, test)
}

fn build() -> Result<DefaultData> {
    let (corpus, index) = build_corpus_index()?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(QUESTIONS_GZ)
        .read_to_string(&mut text)
        .map_err(|error| EnvError::data(NAME, QUESTIONS_SOURCE, error.to_string()))?;
    let generated = parse_generated(&text, QUESTIONS_SOURCE)?;
    let tasks = task_set(&generated, QUESTIONS_SOURCE)?;
    Ok(DefaultData {
        corpus,
        index: Arc::new(index),
        generated,
        tasks: Arc::new(tasks),
    })
}

/// The default data, built on first use and shared by the whole process.
pub fn default_data() -> Result<&'static DefaultData> {
    static DATA: OnceLock<std::result::Result<DefaultData, String>> = OnceLock::new();
    DATA.get_or_init(|| build().map_err(|error| error.to_string()))
        .as_ref()
        .map_err(|message| EnvError::data(NAME, "default data", message.clone()))
}
