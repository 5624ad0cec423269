//! An inverted index scored exactly like Lucene 8.11's `BM25Similarity(k1 = 0.9, b = 0.4)` as
//! Anserini 0.14.3 runs it: f32 arithmetic in Lucene's order, SmallFloat-encoded (lossy) document
//! lengths, bag-of-words queries with repeated terms as boosts, and ties broken by id.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use super::analyzer::analyze;

/// Anserini's default `k1`.
pub const K1: f32 = 0.9;
/// Anserini's default `b`.
pub const B: f32 = 0.4;

/// Lucene's `SmallFloat.intToByte4`: the one-byte length norm.
pub fn int_to_byte4(i: u32) -> u8 {
    fn long_to_int4(i: u32) -> u32 {
        let bits = u32::BITS - i.leading_zeros();
        if bits < 4 {
            i
        } else {
            let shift = bits - 4;
            ((i >> shift) & 7) | ((shift + 1) << 3)
        }
    }
    if i < 24 {
        i as u8
    } else {
        (24 + long_to_int4(i - 24)).min(255) as u8
    }
}

/// Lucene's `SmallFloat.byte4ToInt`: the length a norm byte stands for.
pub fn byte4_to_int(b: u8) -> u32 {
    let b = u32::from(b);
    if b < 24 {
        return b;
    }
    let b = b - 24;
    let bits = b & 7;
    let shift = (b >> 3) as i32 - 1;
    if shift == -1 {
        24 + bits
    } else {
        24 + ((bits | 8) << shift)
    }
}

/// One scored hit.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// The document id (asin).
    pub id: String,
    /// The f32 score.
    pub score: f32,
}

/// Index-wide statistics of the `contents` field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IndexStats {
    /// Documents with a non-empty field.
    pub doc_count: u32,
    /// Total number of indexed tokens.
    pub sum_total_term_freq: u64,
    /// `(f32)(sumTotalTermFreq / docCount)`.
    pub avgdl: f32,
}

/// A BM25 index over `(id, contents)` documents.
#[derive(Clone, Debug)]
pub struct Bm25Index {
    ids: Vec<String>,
    /// term → postings `(doc, term frequency)`, ascending doc.
    postings: HashMap<String, Vec<(u32, u32)>>,
    /// Per document: `1 / (k1 * ((1 - b) + b * L / avgdl))` for its decoded length L.
    norm_inverse: Vec<f32>,
    /// Per document: the norm byte.
    norm_bytes: Vec<u8>,
    stats: IndexStats,
}

impl Bm25Index {
    /// Indexes the documents; those whose contents are empty after Java's `trim()` are skipped
    /// (as `IndexCollection` does).
    pub fn build<'a>(documents: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut ids = Vec::new();
        let mut postings: HashMap<String, Vec<(u32, u32)>> = HashMap::new();
        let mut lengths: Vec<u32> = Vec::new();
        let mut sum_total_term_freq = 0u64;
        let mut counts: HashMap<String, u32> = HashMap::new();
        for (id, contents) in documents {
            if contents.trim_matches(|c: char| c <= ' ').is_empty() {
                continue;
            }
            let doc = ids.len() as u32;
            ids.push(id.to_owned());
            let terms = analyze(contents);
            sum_total_term_freq += terms.len() as u64;
            lengths.push(terms.len() as u32);
            counts.clear();
            for term in terms {
                *counts.entry(term).or_default() += 1;
            }
            for (term, tf) in counts.drain() {
                postings.entry(term).or_default().push((doc, tf));
            }
        }
        let doc_count = ids.len() as u32;
        let avgdl = if doc_count == 0 {
            1.0
        } else {
            (sum_total_term_freq as f64 / f64::from(doc_count)) as f32
        };
        let norm_bytes: Vec<u8> = lengths.iter().map(|&l| int_to_byte4(l)).collect();
        let norm_inverse = norm_bytes
            .iter()
            .map(|&byte| {
                let length = byte4_to_int(byte) as f32;
                1.0f32 / (K1 * ((1.0 - B) + B * length / avgdl))
            })
            .collect();
        Self {
            ids,
            postings,
            norm_inverse,
            norm_bytes,
            stats: IndexStats {
                doc_count,
                sum_total_term_freq,
                avgdl,
            },
        }
    }

    /// Index statistics.
    pub fn stats(&self) -> IndexStats {
        self.stats
    }

    /// Number of indexed documents.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether nothing was indexed.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The norm byte of document `id`, if indexed.
    pub fn norm_byte(&self, id: &str) -> Option<u8> {
        self.ids
            .iter()
            .position(|i| i == id)
            .map(|doc| self.norm_bytes[doc])
    }

    /// `idf = (f32) ln(1 + (N - df + 0.5) / (df + 0.5))`.
    fn idf(&self, df: usize) -> f32 {
        let n = f64::from(self.stats.doc_count);
        let df = df as f64;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln() as f32
    }

    /// The top `k` documents for `query`: score descending, then id ascending.
    pub fn search(&self, query: &str, k: usize) -> Vec<Hit> {
        let mut boosts: Vec<(String, f32)> = Vec::new();
        for term in analyze(query) {
            match boosts.iter_mut().find(|(t, _)| *t == term) {
                Some(entry) => entry.1 += 1.0,
                None => boosts.push((term, 1.0)),
            }
        }
        // Dense accumulators: a query touches few postings lists, but those can be long.
        let mut sums = vec![0f64; self.ids.len()];
        let mut touched: Vec<u32> = Vec::new();
        for (term, boost) in &boosts {
            let Some(list) = self.postings.get(term) else {
                continue;
            };
            let weight = boost * self.idf(list.len());
            for &(doc, tf) in list {
                let cache = self.norm_inverse[doc as usize];
                let score = weight - weight / (1.0f32 + tf as f32 * cache);
                let slot = &mut sums[doc as usize];
                if *slot == 0.0 {
                    touched.push(doc);
                }
                *slot += f64::from(score);
            }
        }
        self.top_k(touched.into_iter().map(|doc| (doc, sums[doc as usize])), k)
    }

    fn top_k(&self, scores: impl Iterator<Item = (u32, f64)>, k: usize) -> Vec<Hit> {
        /// Heap entry ordered so that the heap's maximum is the worst kept hit.
        struct Entry<'a> {
            score: f32,
            id: &'a str,
        }
        impl Entry<'_> {
            /// Better hits compare Less.
            fn rank(&self, other: &Self) -> Ordering {
                other
                    .score
                    .total_cmp(&self.score)
                    .then_with(|| self.id.cmp(other.id))
            }
        }
        impl PartialEq for Entry<'_> {
            fn eq(&self, other: &Self) -> bool {
                self.rank(other) == Ordering::Equal
            }
        }
        impl Eq for Entry<'_> {}
        impl PartialOrd for Entry<'_> {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for Entry<'_> {
            fn cmp(&self, other: &Self) -> Ordering {
                self.rank(other)
            }
        }
        if k == 0 {
            return Vec::new();
        }
        let mut heap: BinaryHeap<Entry<'_>> = BinaryHeap::with_capacity(k + 1);
        for (doc, sum) in scores {
            let entry = Entry {
                score: sum as f32,
                id: &self.ids[doc as usize],
            };
            if heap.len() < k {
                heap.push(entry);
            } else if let Some(worst) = heap.peek()
                && entry < *worst
            {
                heap.pop();
                heap.push(entry);
            }
        }
        heap.into_sorted_vec()
            .into_iter()
            .map(|entry| Hit {
                id: entry.id.to_owned(),
                score: entry.score,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_float_round_trips_like_lucene() {
        for i in 0..=40 {
            assert_eq!(byte4_to_int(int_to_byte4(i)), i);
        }
        assert_eq!(byte4_to_int(int_to_byte4(95)), 88);
        assert_eq!(byte4_to_int(int_to_byte4(241)), 232);
    }

    #[test]
    fn ranks_by_score_then_id() {
        let index = Bm25Index::build([
            ("b", "red shoes"),
            ("a", "red shoes"),
            ("c", "blue hat"),
            ("d", "   "),
        ]);
        assert_eq!(index.len(), 3);
        let hits = index.search("red", 10);
        let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert!(index.search("the", 10).is_empty());
    }
}
