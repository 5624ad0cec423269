//! Rollout speed: episodes of BabyAI and TextCraft played by SmolLM2-135M-Instruct, on the
//! rollout engine with episodes in flight across tasks (`EpisodeStream`) and on the group
//! rollout path (`LocalAgent` + `rollout_group`, one task's samples batched), same episodes,
//! same seeds, in one process.
//!
//! Not a criterion bench: one measurement of the group path takes minutes, and criterion's
//! minimum of ten samples would take an hour; each path is timed `--reps` times instead and the
//! best run is reported. Run with
//! `cargo bench -p crossgym-policy --bench rollout -- [--episodes 32] [--turns 10]
//! [--reply-tokens 48] [--concurrency 32] [--paths stream,group] [--envs babyai,textcraft]
//! [--matmul f32|bf16] [--reps 1]`.

use std::path::PathBuf;
use std::time::Instant;

use candle_core::{DType, Device};
use crossgym_env_babyai::BabyAiEnv;
use crossgym_env_core::{Env, Registry, Split, TaskId};
use crossgym_env_textcraft::TextCraftEnv;
use crossgym_policy::matmul::MatmulBackend;
use crossgym_policy::{
    EpisodeFeed, EpisodeJob, EpisodeStream, FinishedEpisode, LocalAgent, PackedModel, Pretrained,
    RolloutLimits, SamplingParams, StreamSettings, Trajectory, conversation_start, fetch,
    rollout_group,
};

struct Options {
    episodes: usize,
    turns: usize,
    reply_tokens: usize,
    concurrency: usize,
    paths: Vec<String>,
    envs: Vec<String>,
    matmul: MatmulBackend,
    reps: usize,
}

fn options() -> Options {
    let mut o = Options {
        episodes: 32,
        turns: 10,
        reply_tokens: 48,
        concurrency: 32,
        paths: vec!["stream".into(), "group".into()],
        envs: vec!["babyai".into(), "textcraft".into()],
        matmul: MatmulBackend::F32,
        reps: 1,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        let number = || value.parse::<usize>().expect("a number");
        match args[i].as_str() {
            "--episodes" => o.episodes = number(),
            "--turns" => o.turns = number(),
            "--reply-tokens" => o.reply_tokens = number(),
            "--concurrency" => o.concurrency = number(),
            "--reps" => o.reps = number().max(1),
            "--paths" => o.paths = value.split(',').map(str::to_owned).collect(),
            "--envs" => o.envs = value.split(',').map(str::to_owned).collect(),
            "--matmul" => {
                o.matmul = match value.as_str() {
                    "bf16" => MatmulBackend::Bf16Amx,
                    _ => MatmulBackend::F32,
                }
            }
            // cargo bench passes --bench; ignore flags we do not know.
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

/// The env named `name`: one of the two this bench plays.
fn make_env(name: &str) -> Box<dyn Env> {
    let mut registry = Registry::new();
    let registered = registry
        .register(crossgym_env_babyai::NAME, || {
            Ok(Box::new(BabyAiEnv::new()?) as Box<dyn Env>)
        })
        .and_then(|()| {
            registry.register(crossgym_env_textcraft::NAME, || {
                Ok(Box::new(TextCraftEnv::new()?) as Box<dyn Env>)
            })
        });
    registered
        .and_then(|()| registry.make(name))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Sample `s` of task `t`: 4 samples per task over the first test tasks.
fn episodes(env: &dyn Env, n: usize) -> Vec<(TaskId, usize)> {
    let tasks = env.tasks(Split::Test);
    (0..n)
        .map(|i| (tasks[(i / 4) % tasks.len()], i % 4))
        .collect()
}

fn seed(task: TaskId) -> u64 {
    0x5eed ^ (task.0 as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

struct Feed {
    env: String,
    jobs: std::vec::IntoIter<(TaskId, usize)>,
    done: Vec<Trajectory>,
}

impl EpisodeFeed<Box<dyn Env>> for Feed {
    fn next_job(&mut self) -> crossgym_policy::Result<Option<EpisodeJob<Box<dyn Env>>>> {
        Ok(self.jobs.next().map(|(task, sample)| EpisodeJob {
            id: 0,
            env: make_env(&self.env),
            task,
            sample,
            seed: seed(task),
            limits: None,
        }))
    }
    fn finished(&mut self, episode: FinishedEpisode<Box<dyn Env>>) -> crossgym_policy::Result<()> {
        self.done.push(episode.trajectory);
        Ok(())
    }
}

/// How many episodes two paths recorded identically (matched by task and sample), and where the
/// first that differs parts ways.
fn compare_records(first: &mut [Trajectory], second: &mut [Trajectory]) -> String {
    let key = |t: &Trajectory| (t.task.0, t.sample);
    first.sort_by_key(key);
    second.sort_by_key(key);
    let pairs: Vec<(&Trajectory, &Trajectory)> = first
        .iter()
        .zip(second.iter())
        .filter(|(a, b)| key(a) == key(b))
        .collect();
    let same = pairs.iter().filter(|(a, b)| a == b).count();
    let mut line = format!(
        "records identical on both paths: {same} of {} episodes",
        first.len().max(second.len())
    );
    if let Some((a, b)) = pairs.iter().find(|(a, b)| a != b) {
        let token = a
            .tokens
            .iter()
            .zip(&b.tokens)
            .take_while(|(x, y)| x == y)
            .count();
        let logprob = a
            .logprobs
            .iter()
            .zip(&b.logprobs)
            .take_while(|(x, y)| x.to_bits() == y.to_bits())
            .count();
        line += &format!(
            " (first difference: task {} sample {}, token {token} of {} / {}, log-prob bits from token {logprob})",
            a.task.0,
            a.sample,
            a.tokens.len(),
            b.tokens.len()
        );
    }
    line
}

fn main() {
    let o = options();
    let cache = match std::env::var_os("CROSSGYM_CACHE").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/crossgym-cache"
        )),
    };
    let path = match fetch::smollm2_gguf(&cache) {
        Ok(path) => path,
        Err(e) => {
            eprintln!("SKIPPED: the rollout bench needs the SmolLM2 GGUF: {e}");
            return;
        }
    };
    let p = Pretrained::load_gguf(path, DType::F32, &Device::Cpu).expect("load GGUF");
    let decoder = p.model.inference().with_matmul_backend(o.matmul);
    let limits = RolloutLimits {
        max_turns: o.turns,
        max_tokens_per_turn: o.reply_tokens,
        max_total_tokens: 4096,
    };
    let sampling = SamplingParams::with_temperature(1.0, 0);
    println!(
        "env        path    episodes  gen_tokens  seconds  tok/s    episodes/min  (matmul {:?}, {} turns, {} tokens a reply)",
        decoder.matmul_backend(),
        o.turns,
        o.reply_tokens
    );
    for env_name in &o.envs {
        let jobs = episodes(make_env(env_name).as_ref(), o.episodes);
        // The prompt every episode of this env opens with (what the stream runs once and copies).
        let start = conversation_start(make_env(env_name).as_ref(), None);
        let shared = p
            .tokenizer
            .encode(&p.template.render(&start, false))
            .expect("encode the conversation start")
            .len();
        let mut rates = Vec::new();
        let mut records: Vec<Vec<Trajectory>> = Vec::new();
        for path in &o.paths {
            let mut best: Option<(f64, usize, usize, Vec<usize>)> = None;
            for _ in 0..o.reps {
                let start = Instant::now();
                let trajectories = match path.as_str() {
                    "stream" => {
                        let engine = PackedModel::new(&decoder).expect("pack");
                        let settings = StreamSettings {
                            concurrency: o.concurrency,
                            limits,
                            sampling,
                            system: None,
                        };
                        let stream =
                            EpisodeStream::new(&engine, &p.tokenizer, &p.template, settings)
                                .expect("stream");
                        let mut feed = Feed {
                            env: env_name.clone(),
                            jobs: jobs.clone().into_iter(),
                            done: Vec::new(),
                        };
                        stream.run(&mut feed).expect("stream run");
                        feed.done
                    }
                    "group" => {
                        let mut out = Vec::new();
                        for group in jobs.chunks(4) {
                            let task = group[0].0;
                            let params = SamplingParams {
                                seed: seed(task),
                                ..sampling
                            };
                            let mut agent = LocalAgent::new(
                                &decoder,
                                p.tokenizer.clone(),
                                p.template.clone(),
                                params,
                            )
                            .expect("agent");
                            let mut envs: Vec<Box<dyn Env>> =
                                group.iter().map(|_| make_env(env_name)).collect();
                            out.extend(
                                rollout_group(&mut envs, task, &mut agent, None, &limits)
                                    .expect("group rollout"),
                            );
                        }
                        out
                    }
                    other => panic!("unknown path {other}"),
                };
                let seconds = start.elapsed().as_secs_f64();
                let tokens = trajectories.iter().map(|t| t.generated_tokens).sum();
                let contexts: Vec<usize> = trajectories.iter().map(|t| t.tokens.len()).collect();
                if best.as_ref().is_none_or(|b| seconds < b.0) {
                    best = Some((seconds, tokens, trajectories.len(), contexts));
                }
                if records.len() < rates.len() + 1 {
                    records.push(trajectories);
                }
            }
            let (seconds, tokens, n, contexts) = best.expect("one rep");
            let rate = tokens as f64 / seconds;
            rates.push((path.clone(), rate));
            println!(
                "{env_name:<10} {path:<7} {n:>8}  {tokens:>10}  {seconds:>7.1}  {rate:>7.1}  {:>12.1}",
                n as f64 * 60.0 / seconds
            );
            let mean = contexts.iter().sum::<usize>() as f64 / contexts.len().max(1) as f64;
            println!(
                "{env_name:<10} {path:<7} final contexts: mean {mean:.0}, max {} tokens; shared conversation start {shared} tokens",
                contexts.iter().max().copied().unwrap_or(0)
            );
        }
        if let [(a, ra), (b, rb)] = rates.as_slice() {
            println!("{env_name:<10} {a}/{b} generated tok/s: {:.2}×", ra / rb);
        }
        if let [first, second] = records.as_mut_slice() {
            println!("{env_name:<10} {}", compare_records(first, second));
        }
    }
}
