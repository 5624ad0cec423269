//! The BM25 search engine: a tantivy index over passages, in memory or on disk.
//!
//! Analysis (the same for passages and queries): tantivy's simple tokenizer (runs of Unicode
//! letters and digits), tokens over 40 bytes dropped, lower-casing, ASCII folding, Lucene's
//! English stop words, and the Snowball English stemmer. Ranking is tantivy's BM25 (k1 = 1.2,
//! b = 0.75). Documents are added by one indexing thread, so doc ids, and with them the order of
//! equal scores, follow corpus order.
//!
//! A query is the bag of its analysed terms (any may match, like Pyserini's default BM25 search);
//! it never fails to parse. Like the reference's dense retriever, which truncates queries to 256
//! tokens, only the first [`MAX_QUERY_TERMS`] terms count.

use std::path::{Path, PathBuf};

use crossgym_env_core::EnvError;
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer,
};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::corpus::{self, Passage};
use crate::{NAME, Result};

/// The name the analyzer is registered under in every index this crate builds.
pub const ANALYZER: &str = "crossgym_en_bm25";

/// Query terms beyond this many are ignored (the reference's retriever truncates queries to 256
/// tokens).
pub const MAX_QUERY_TERMS: usize = 256;

/// The file beside an on-disk index that says which corpus it was built from.
pub const MARKER_FILE: &str = "crossgym-searchqa-index.json";

/// Bumped whenever the schema or analysis changes, so old on-disk indexes are rebuilt.
const INDEX_FORMAT: u32 = 1;

/// Memory for the single indexing thread.
const WRITER_MEMORY: usize = 200_000_000;

/// The text analysis used for passages and queries.
pub fn analyzer() -> TextAnalyzer {
    let stop_words = StopWordFilter::new(Language::English)
        .unwrap_or_else(|| StopWordFilter::remove(Vec::new()));
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(stop_words)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// How a [`SearchIndex`] came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexOrigin {
    /// Built in memory.
    Memory,
    /// Built on disk by this call.
    Built,
    /// An on-disk index built earlier from the same corpus file, opened again.
    Reused,
}

/// One search result.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// BM25 score.
    pub score: f32,
    /// The passage's corpus id.
    pub id: String,
    /// The passage's `contents` (`"Title"\ntext`).
    pub contents: String,
}

impl Hit {
    /// The title without the wiki-18 quotes.
    pub fn title(&self) -> &str {
        corpus::bare_title(&self.contents)
    }
}

/// What an on-disk index records about its corpus, to decide whether it can be reused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Marker {
    format: u32,
    corpus: String,
    corpus_bytes: u64,
    corpus_modified_ns: u128,
    passages: u64,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    contents: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let id = builder.add_text_field("id", STORED);
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(ANALYZER)
        .set_index_option(IndexRecordOption::WithFreqs);
    let contents = builder.add_text_field(
        "contents",
        TextOptions::default()
            .set_indexing_options(indexing)
            .set_stored(),
    );
    (builder.build(), Fields { id, contents })
}

fn engine_error(source: &str, error: impl std::fmt::Display) -> EnvError {
    EnvError::data(NAME, source, format!("search index: {error}"))
}

/// A BM25 index over passages.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// Built once; cloned per query (its stop-word set is shared).
    analyzer: TextAnalyzer,
    source: String,
    origin: IndexOrigin,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("source", &self.source)
            .field("origin", &self.origin)
            .field("passages", &self.len())
            .finish()
    }
}

impl SearchIndex {
    /// Builds an index in memory over `passages` (named `source` in errors).
    pub fn in_memory<'a>(
        source: &str,
        passages: impl IntoIterator<Item = &'a Passage>,
    ) -> Result<Self> {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        index.tokenizers().register(ANALYZER, analyzer());
        let mut writer = new_writer(&index, source)?;
        for passage in passages {
            add(&mut writer, fields, passage, source)?;
        }
        finish(writer, source)?;
        Self::from_index(index, fields, source, IndexOrigin::Memory)
    }

    /// Opens the index in `index_dir` if it was built from this very `corpus_path` (same size and
    /// modification time), otherwise builds it there from the corpus (JSON lines
    /// `{"id", "contents"}`). An existing directory that holds anything but an index of this crate
    /// is refused rather than overwritten.
    pub fn open_or_build(corpus_path: &Path, index_dir: &Path) -> Result<Self> {
        let source = corpus_path.display().to_string();
        let metadata =
            std::fs::metadata(corpus_path).map_err(|error| EnvError::io(NAME, &source, error))?;
        let modified = metadata
            .modified()
            .ok()
            .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |elapsed| elapsed.as_nanos());
        let marker_path = index_dir.join(MARKER_FILE);
        let wanted = |passages: u64| Marker {
            format: INDEX_FORMAT,
            corpus: source.clone(),
            corpus_bytes: metadata.len(),
            corpus_modified_ns: modified,
            passages,
        };
        if let Ok(text) = std::fs::read_to_string(&marker_path)
            && let Ok(marker) = serde_json::from_str::<Marker>(&text)
        {
            if marker == wanted(marker.passages) {
                let index = open_dir(index_dir)?;
                let (_, fields) = schema();
                return Self::from_index(index, fields, &source, IndexOrigin::Reused);
            }
            // Built by this crate from another corpus or format: rebuild.
            std::fs::remove_dir_all(index_dir)
                .map_err(|error| EnvError::io(NAME, index_dir.display().to_string(), error))?;
        } else if index_dir.is_dir()
            && std::fs::read_dir(index_dir)
                .map_err(|error| EnvError::io(NAME, index_dir.display().to_string(), error))?
                .next()
                .is_some()
        {
            return Err(EnvError::Config {
                env: NAME.to_owned(),
                message: format!(
                    "{} is not empty and holds no index built by this crate; choose an empty or new directory",
                    index_dir.display()
                ),
            });
        }
        std::fs::create_dir_all(index_dir)
            .map_err(|error| EnvError::io(NAME, index_dir.display().to_string(), error))?;
        let (schema, fields) = schema();
        let index = Index::create_in_dir(index_dir, schema)
            .map_err(|error| engine_error(&index_dir.display().to_string(), error))?;
        index.tokenizers().register(ANALYZER, analyzer());
        let mut writer = new_writer(&index, &source)?;
        let file =
            std::fs::File::open(corpus_path).map_err(|error| EnvError::io(NAME, &source, error))?;
        let passages = corpus::read_jsonl(std::io::BufReader::new(file), &source, |passage| {
            add(&mut writer, fields, &passage, &source)
        })?;
        finish(writer, &source)?;
        let marker = serde_json::to_string_pretty(&wanted(passages as u64))
            .map_err(|error| engine_error(&source, error))?;
        std::fs::write(&marker_path, marker)
            .map_err(|error| EnvError::io(NAME, marker_path.display().to_string(), error))?;
        Self::from_index(index, fields, &source, IndexOrigin::Built)
    }

    fn from_index(index: Index, fields: Fields, source: &str, origin: IndexOrigin) -> Result<Self> {
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|error| engine_error(source, error))?;
        Ok(Self {
            index,
            reader,
            fields,
            analyzer: analyzer(),
            source: source.to_owned(),
            origin,
        })
    }

    /// How the index came to be.
    pub fn origin(&self) -> IndexOrigin {
        self.origin
    }

    /// The corpus the index was built from (a path, or a name for in-memory corpora).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// How many passages the index holds.
    pub fn len(&self) -> usize {
        usize::try_from(self.reader.searcher().num_docs()).unwrap_or(usize::MAX)
    }

    /// Whether the index holds no passage.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The analysed terms of `query`, at most [`MAX_QUERY_TERMS`].
    pub fn query_terms(&self, query: &str) -> Vec<String> {
        let mut analyzer = self.analyzer.clone();
        let mut stream = analyzer.token_stream(query);
        let mut terms = Vec::new();
        while terms.len() < MAX_QUERY_TERMS && stream.advance() {
            terms.push(stream.token().text.clone());
        }
        terms
    }

    /// The addresses and scores of the best `k` passages for `query`, best first (ties in
    /// corpus order). A query without any indexed term finds nothing.
    pub fn search_addresses(&self, query: &str, k: usize) -> Result<Vec<(f32, DocAddress)>> {
        let terms = self.query_terms(query);
        if terms.is_empty() || k == 0 {
            return Ok(Vec::new());
        }
        let clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .iter()
            .map(|text| {
                let term = Term::from_field_text(self.fields.contents, text);
                let query: Box<dyn Query> =
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
                (Occur::Should, query)
            })
            .collect();
        let query = BooleanQuery::new(clauses);
        self.reader
            .searcher()
            .search(&query, &TopDocs::with_limit(k).order_by_score())
            .map_err(|error| engine_error(&self.source, error))
    }

    /// The best `k` passages for `query`, best first.
    pub fn search(&self, query: &str, k: usize) -> Result<Vec<Hit>> {
        let searcher = self.reader.searcher();
        self.search_addresses(query, k)?
            .into_iter()
            .map(|(score, address)| {
                let document: TantivyDocument = searcher
                    .doc(address)
                    .map_err(|error| engine_error(&self.source, error))?;
                let text = |field: Field| {
                    document
                        .get_first(field)
                        .and_then(|value| value.as_str())
                        .unwrap_or_default()
                        .to_owned()
                };
                Ok(Hit {
                    score,
                    id: text(self.fields.id),
                    contents: text(self.fields.contents),
                })
            })
            .collect()
    }

    /// The tantivy index, for inspection.
    pub fn tantivy(&self) -> &Index {
        &self.index
    }
}

fn open_dir(index_dir: &Path) -> Result<Index> {
    let index = Index::open_in_dir(index_dir)
        .map_err(|error| engine_error(&index_dir.display().to_string(), error))?;
    index.tokenizers().register(ANALYZER, analyzer());
    Ok(index)
}

fn new_writer(index: &Index, source: &str) -> Result<IndexWriter> {
    index
        .writer_with_num_threads(1, WRITER_MEMORY)
        .map_err(|error| engine_error(source, error))
}

fn add(writer: &mut IndexWriter, fields: Fields, passage: &Passage, source: &str) -> Result<()> {
    let mut document = TantivyDocument::default();
    document.add_text(fields.id, &passage.id);
    document.add_text(fields.contents, &passage.contents);
    writer
        .add_document(document)
        .map(|_| ())
        .map_err(|error| engine_error(source, error))
}

fn finish(mut writer: IndexWriter, source: &str) -> Result<()> {
    writer
        .commit()
        .map_err(|error| engine_error(source, error))?;
    writer
        .wait_merging_threads()
        .map_err(|error| engine_error(source, error))
}

/// A fresh directory under the system's temporary directory (for tests and benches).
pub fn scratch_dir(name: &str) -> PathBuf {
    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    std::env::temp_dir().join(format!("{name}-{}-{unique}", std::process::id()))
}
