//! Helpers shared by the tests.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use crossgym_env_searchqa::{SearchIndex, corpus};

/// A file of `tests/data/`.
pub fn data_path(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data")).join(name)
}

/// An in-memory index over the 1,000-passage wiki-18 sample, built once.
pub fn sample_index() -> Arc<SearchIndex> {
    static INDEX: OnceLock<Arc<SearchIndex>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            let passages = corpus::load_jsonl(&data_path("wiki18_sample_1000.jsonl"))
                .expect("the wiki-18 sample loads");
            Arc::new(SearchIndex::in_memory("wiki18 sample", &passages).expect("index builds"))
        })
        .clone()
}
