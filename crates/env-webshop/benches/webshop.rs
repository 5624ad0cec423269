//! Criterion benchmarks: search latency (1k and 100k products), env steps/s on a realistic
//! search/click mix, and catalogue build + index time.
//!
//! Run: `cargo bench -p crossgym-env-webshop -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crossgym_env_core::{Env, Split};
use crossgym_env_webshop::{Catalogue, WebShopConfig, WebShopEnv, synth};

fn catalogue(num_products: usize) -> Catalogue {
    WebShopConfig::Synthetic {
        num_products,
        seed: synth::DEFAULT_SEED,
    }
    .catalogue()
    .expect("synthetic catalogue builds")
}

fn queries(catalogue: &Catalogue) -> Vec<String> {
    catalogue
        .goals()
        .iter()
        .step_by(37)
        .take(64)
        .map(|g| g.instruction_text.to_lowercase())
        .collect()
}

fn search(c: &mut Criterion) {
    let mut group = c.benchmark_group("search");
    group.throughput(Throughput::Elements(1));
    for n in [1_000usize, 100_000] {
        let catalogue = catalogue(n);
        let queries = queries(&catalogue);
        let mut i = 0;
        group.bench_function(format!("instruction_query_{n}_products"), |b| {
            b.iter(|| {
                i = (i + 1) % queries.len();
                black_box(catalogue.index().search(&queries[i], 50))
            })
        });
    }
    group.finish();
}

fn steps(c: &mut Criterion) {
    let catalogue = Arc::new(catalogue(1_000));
    let mut env = WebShopEnv::from_catalogue(catalogue).expect("env");
    let tasks: Vec<_> = env.tasks(Split::Test).to_vec();
    let mut group = c.benchmark_group("env");
    // One episode: search, click a result, two options, description, back, buy = 7 steps.
    group.throughput(Throughput::Elements(7));
    let mut t = 0;
    group.bench_function("episode_7_steps", |b| {
        b.iter(|| {
            t = (t + 1) % tasks.len();
            let goal = env.catalogue().goals()[tasks[t].0].clone();
            env.reset(tasks[t]).expect("reset");
            let results = env
                .step(&format!("Action: search[{}]", goal.query))
                .expect("step");
            let asin = goal.asin.to_lowercase();
            let click = if results.observation.to_lowercase().contains(&asin) {
                asin
            } else {
                "next >".to_owned()
            };
            env.step(&format!("Action: click[{click}]")).expect("step");
            for (_, value) in goal.goal_options.0.iter().take(2) {
                env.step(&format!("Action: click[{value}]")).expect("step");
            }
            env.step("Action: click[Description]").expect("step");
            env.step("Action: click[< Prev]").expect("step");
            black_box(env.step("Action: click[Buy Now]").expect("step"))
        })
    });
    group.finish();
}

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    for n in [1_000usize, 100_000] {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("catalogue_and_index_{n}_products"), |b| {
            b.iter(|| black_box(catalogue(n)))
        });
    }
    group.finish();
}

criterion_group!(benches, search, steps, build);
criterion_main!(benches);
