//! Speed of the metrics: avg@k and a 1000-resample bootstrap summary over one env's test set
//! (400 tasks × 8 samples, SearchQA's size), seeded data.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crossgym_env_core::{Split, TaskId};
use crossgym_study::metrics::{Bootstrap, avg_at_k, summarize};
use crossgym_study::records::EpisodeRecord;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn records(tasks: usize, k: u32) -> Vec<EpisodeRecord> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    (0..tasks)
        .flat_map(|task| (0..k).map(move |sample| (task, sample)))
        .map(|(task, sample)| {
            let reward = if rng.random::<f64>() < 0.4 { 1.0 } else { 0.0 };
            let record = EpisodeRecord::scored(
                "bench",
                "searchqa",
                TaskId(task),
                Split::Test,
                sample,
                reward,
            );
            EpisodeRecord {
                turns: rng.random_range(1..20),
                generated_tokens: rng.random_range(10..2000),
                ..record
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let data = records(400, 8);
    let mut group = c.benchmark_group("metrics");
    group.throughput(Throughput::Elements(data.len() as u64));
    group.bench_function("avg_at_k 400x8", |b| b.iter(|| avg_at_k(&data)));
    group.bench_function("summarize 400x8, 1000 resamples", |b| {
        b.iter(|| summarize("bench", &data, &Bootstrap::default()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
