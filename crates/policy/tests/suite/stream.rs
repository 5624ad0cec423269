//! Episodes in flight across tasks (`EpisodeStream`) give the group rollout's trajectories.

use std::collections::BTreeMap;

use candle_core::DType;
use crossgym_env_core::TaskId;
use crossgym_policy::{
    ChatTemplate, EpisodeFeed, EpisodeJob, EpisodeStream, FinishedEpisode, LocalAgent, PackedModel,
    Result, RolloutLimits, SamplingParams, StreamSettings, Trajectory, rollout_group,
};

use crate::common::tiny;
use crate::rollout::{LetterEnv, letter_env, tokenizer};

/// Jobs from a list; finished trajectories by (task, sample).
struct ListFeed {
    jobs: std::vec::IntoIter<EpisodeJob<LetterEnv>>,
    done: BTreeMap<(usize, usize), Trajectory>,
    order: Vec<(usize, usize)>,
}

impl ListFeed {
    fn new(jobs: Vec<EpisodeJob<LetterEnv>>) -> Self {
        Self {
            jobs: jobs.into_iter(),
            done: BTreeMap::new(),
            order: Vec::new(),
        }
    }
}

impl EpisodeFeed<LetterEnv> for ListFeed {
    fn next_job(&mut self) -> Result<Option<EpisodeJob<LetterEnv>>> {
        Ok(self.jobs.next())
    }
    fn finished(&mut self, episode: FinishedEpisode<LetterEnv>) -> Result<()> {
        let trajectory = episode.trajectory;
        let key = (trajectory.task.0, trajectory.sample);
        self.order.push(key);
        self.done.insert(key, trajectory);
        Ok(())
    }
}

fn seed_of(task: usize) -> u64 {
    1000 + task as u64 * 77
}

fn jobs(tasks: usize, samples: usize) -> Vec<EpisodeJob<LetterEnv>> {
    (0..tasks)
        .flat_map(|task| {
            (0..samples).map(move |sample| EpisodeJob {
                id: task * samples + sample,
                env: letter_env(),
                task: TaskId(task),
                sample,
                seed: seed_of(task),
                limits: None,
            })
        })
        .collect()
}

fn limit_cases() -> [RolloutLimits; 3] {
    [
        RolloutLimits {
            max_turns: 3,
            max_tokens_per_turn: 6,
            max_total_tokens: 400,
        },
        // The token budget ends episodes mid-way.
        RolloutLimits {
            max_turns: 4,
            max_tokens_per_turn: 9,
            max_total_tokens: 30,
        },
        RolloutLimits {
            max_turns: 0,
            max_tokens_per_turn: 5,
            max_total_tokens: 100,
        },
    ]
}

fn stream(
    model: &crossgym_policy::CausalLm,
    limits: RolloutLimits,
    concurrency: usize,
    tasks: usize,
    samples: usize,
) -> ListFeed {
    let engine = PackedModel::new(&model.inference()).unwrap();
    let tokenizer = tokenizer();
    let template = ChatTemplate::chatml(Some("You are an agent.".into()));
    let settings = StreamSettings {
        concurrency,
        limits,
        sampling: SamplingParams::with_temperature(1.0, 0),
        system: None,
    };
    let stream = EpisodeStream::new(&engine, &tokenizer, &template, settings).unwrap();
    let mut feed = ListFeed::new(jobs(tasks, samples));
    let stats = stream.run(&mut feed).unwrap();
    assert_eq!(stats.episodes, tasks * samples);
    assert_eq!(
        stats.generated_tokens,
        feed.done
            .values()
            .map(|t| t.generated_tokens)
            .sum::<usize>()
    );
    feed
}

#[test]
fn streamed_episodes_equal_group_rollouts_of_each_task() {
    let model = tiny(false, DType::F32, 21);
    let template = ChatTemplate::chatml(Some("You are an agent.".into()));
    for limits in limit_cases() {
        let feed = stream(&model, limits, 5, 4, 3);
        for task in 0..4 {
            let params = SamplingParams::with_temperature(1.0, seed_of(task));
            let mut agent =
                LocalAgent::new(&model.inference(), tokenizer(), template.clone(), params).unwrap();
            let mut envs: Vec<LetterEnv> = (0..3).map(|_| letter_env()).collect();
            let group = rollout_group(&mut envs, TaskId(task), &mut agent, None, &limits).unwrap();
            for (sample, want) in group.iter().enumerate() {
                let got = &feed.done[&(task, sample)];
                assert_eq!(
                    got.tokens, want.tokens,
                    "{limits:?} task {task} sample {sample}"
                );
                assert_eq!(got.loss_mask, want.loss_mask);
                assert_eq!(got.messages, want.messages);
                assert_eq!(got.steps, want.steps);
                assert_eq!(got.finish, want.finish);
                assert_eq!(got.prompt_len, want.prompt_len);
                assert_eq!(got.generated_tokens, want.generated_tokens);
                let d = got
                    .logprobs
                    .iter()
                    .zip(&want.logprobs)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f32::max);
                assert!(d < 1e-4, "log-probs differ by {d}");
            }
        }
    }
}

#[test]
fn concurrency_changes_the_order_of_episodes_never_their_bytes() {
    let model = tiny(true, DType::F32, 8);
    let limits = limit_cases()[0];
    let one = stream(&model, limits, 1, 3, 4);
    let many = stream(&model, limits, 7, 3, 4);
    assert_eq!(one.done, many.done);
    assert_eq!(one.order.len(), 12);
    let again = stream(&model, limits, 7, 3, 4);
    assert_eq!(
        many.order, again.order,
        "the same run finishes in the same order"
    );
}

#[test]
fn zero_concurrency_is_an_error() {
    let model = tiny(false, DType::F32, 1);
    let engine = PackedModel::new(&model.inference()).unwrap();
    let tokenizer = tokenizer();
    let template = ChatTemplate::chatml(None);
    let settings = StreamSettings {
        concurrency: 0,
        limits: limit_cases()[0],
        sampling: SamplingParams::default(),
        system: None,
    };
    assert!(EpisodeStream::new(&engine, &tokenizer, &template, settings).is_err());
}
