//! Regenerates the default task set, `data/questions.jsonl.gz`, and prints the generation
//! statistics (kept/generated per form).
//!
//! ```text
//! cargo run --release -p crossgym-env-searchqa --example generate_questions
//! ```

use std::io::Write;
use std::time::Instant;

use crossgym_env_searchqa::defaults::build_corpus_index;
use crossgym_env_searchqa::generate::{GeneratorConfig, generate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let (corpus, index) = build_corpus_index()?;
    println!(
        "corpus: {} articles, {} passages, index built in {:.2} s",
        corpus.articles.len(),
        corpus.passages.len(),
        start.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    let (questions, stats) = generate(&corpus, &index, GeneratorConfig::default())?;
    println!("generated in {:.2} s", start.elapsed().as_secs_f64());
    println!("{}", serde_json::to_string_pretty(&stats)?);
    println!("kept/generated: {:.3}", stats.kept_ratio());

    let mut text = String::new();
    for question in &questions {
        text.push_str(&serde_json::to_string(question)?);
        text.push('\n');
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/questions.jsonl.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(text.as_bytes())?;
    std::fs::write(path, encoder.finish()?)?;
    println!(
        "wrote {} questions to data/questions.jsonl.gz",
        questions.len()
    );
    Ok(())
}
