//! Search: the reference's Lucene/Anserini BM25 ranking, reimplemented exactly.
//!
//! tantivy was not used: it hard-codes BM25 k1 = 1.2 and b = 0.75 and encodes lengths
//! differently, while the reference ranks with Lucene 8's k1 = 0.9, b = 0.4 and one-byte
//! SmallFloat lengths. [`Bm25Index`] reproduces the scores bit for bit (see the crate README for
//! the measured agreement with the recorded Anserini rankings).

pub mod analyzer;
mod bm25;
pub mod porter;

pub use analyzer::analyze;
pub use bm25::{B, Bm25Index, Hit, IndexStats, K1, byte4_to_int, int_to_byte4};

/// How many hits the engine asks for (`SEARCH_RETURN_N`).
pub const SEARCH_RETURN_N: usize = 50;

/// Function words the noun fallback ([`crate::catalogue::fallback_nouns`]) leaves out.
pub const STOP_WORDS_FOR_NOUNS: [&str; 24] = [
    "a", "an", "and", "are", "as", "at", "by", "for", "from", "in", "into", "is", "it", "of", "on",
    "or", "the", "to", "with", "without", "x", "up", "per", "&",
];
