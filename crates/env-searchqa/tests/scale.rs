//! Scale check: an on-disk index over one million synthetic passages (run with `--ignored`).

use std::io::Write;
use std::time::Instant;

use crossgym_env_searchqa::SearchIndex;
use crossgym_env_searchqa::index::scratch_dir;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A synthetic word: a deterministic letter string for each rank.
fn word(rank: usize) -> String {
    let letters = b"abcdefghijklmnopqrstuvwxyz";
    let mut n = rank + 26;
    let mut out = String::new();
    while n > 0 {
        out.push(letters[n % 26] as char);
        n /= 26;
    }
    out
}

/// Zipf-like rank: small ranks are frequent, like words in text.
fn zipf(rng: &mut ChaCha8Rng, vocabulary: usize) -> usize {
    let u: f64 = rng.random_range(0.0..1.0);
    ((vocabulary as f64).powf(u) as usize)
        .saturating_sub(1)
        .min(vocabulary - 1)
}

#[test]
#[ignore = "builds a 1M-passage index (minutes); run with --release -- --ignored --nocapture"]
fn one_million_synthetic_passages() {
    const PASSAGES: usize = 1_000_000;
    const VOCABULARY: usize = 200_000;
    let dir = scratch_dir("searchqa-1m");
    std::fs::create_dir_all(&dir).unwrap();
    let corpus_path = dir.join("corpus.jsonl");
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&corpus_path).unwrap());
    for id in 0..PASSAGES {
        let words: Vec<String> = (0..100).map(|_| word(zipf(&mut rng, VOCABULARY))).collect();
        let contents = format!(
            "\"{} {}\"\n{}",
            word(zipf(&mut rng, VOCABULARY)),
            word(id),
            words.join(" ")
        );
        writeln!(
            out,
            "{}",
            serde_json::json!({"id": id.to_string(), "contents": contents})
        )
        .unwrap();
    }
    out.flush().unwrap();
    drop(out);

    let start = Instant::now();
    let index = SearchIndex::open_or_build(&corpus_path, &dir.join("index")).unwrap();
    let build = start.elapsed();
    assert_eq!(index.len(), PASSAGES);

    let mut timings = Vec::new();
    for _ in 0..1000 {
        let query: Vec<String> = (0..8).map(|_| word(zipf(&mut rng, VOCABULARY))).collect();
        let query = query.join(" ");
        let start = Instant::now();
        let hits = index.search(&query, 3).unwrap();
        timings.push(start.elapsed());
        assert!(hits.len() <= 3);
    }
    timings.sort();
    println!(
        "1M passages: build {:.1} s, search top-3 p50 {:.3} ms, p90 {:.3} ms",
        build.as_secs_f64(),
        timings[500].as_secs_f64() * 1e3,
        timings[900].as_secs_f64() * 1e3
    );
    drop(index);
    std::fs::remove_dir_all(&dir).unwrap();
}
