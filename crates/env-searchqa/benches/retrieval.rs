//! Retrieval speed over the default corpus: top-3 BM25 search per query on one thread, the
//! whole search step (search + passages fetched + observation rendered), and the index build.
//!
//! ```text
//! cargo bench -p crossgym-env-searchqa --bench retrieval -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crossgym_env_searchqa::defaults::default_data;
use crossgym_env_searchqa::oracle::query_of;
use crossgym_env_searchqa::wiki::WikiCorpus;
use crossgym_env_searchqa::{SearchIndex, TOP_K, respond};

fn retrieval(c: &mut Criterion) {
    let data = default_data().expect("default data");
    let queries: Vec<String> = data
        .generated
        .iter()
        .map(|q| query_of(&q.question).to_owned())
        .collect();
    let mut group = c.benchmark_group("retrieval");
    group.throughput(Throughput::Elements(1));
    let mut next = 0;
    group.bench_function("bm25_top3_ids", |b| {
        b.iter(|| {
            next = (next + 1) % queries.len();
            black_box(
                data.index
                    .search_addresses(&queries[next], TOP_K)
                    .expect("search"),
            )
        })
    });
    group.bench_function("search_step", |b| {
        let golden = vec!["x".to_owned()];
        b.iter(|| {
            next = (next + 1) % queries.len();
            let reply = format!("<search>{}</search>", queries[next]);
            black_box(respond(&data.index, &golden, &reply).expect("step"))
        })
    });
    group.finish();

    let corpus = WikiCorpus::embedded().expect("corpus");
    let mut build = c.benchmark_group("index_build");
    build.sample_size(10);
    build.throughput(Throughput::Elements(corpus.passages.len() as u64));
    build.bench_function("default_corpus_in_memory", |b| {
        b.iter(|| black_box(SearchIndex::in_memory("bench", &corpus.passages).expect("index")))
    });
    build.finish();
}

criterion_group!(benches, retrieval);
criterion_main!(benches);
