//! Episodes in flight across tasks: [`EpisodeStream`] keeps up to `concurrency` episodes of any
//! envs, tasks and samples decoding together on the [`PackedModel`] engine, and starts the next
//! episode in a row as soon as one ends.
//!
//! Each engine step runs, for every episode in flight, whatever it has queued: a turn's
//! observation (prefilled in one pass over its own cache) or the token it sampled last. Rows are
//! never padded and a finished reply is stepped through its env at once, so no episode waits for
//! the longest reply of a round. The conversation start that every episode of an env shares
//! (system prompt, instruction, acknowledgement) is run once and its cache copied (or, for bf16
//! caches, shared: [`SeqCache::share`]).
//!
//! An episode's tokens, records and sampling stream are those of [`crate::rollout_group`] with
//! [`crate::LocalAgent`]: the conversation is rendered the same way and sample `s` of a job draws
//! from ChaCha8 stream `s` of the job's seed. Its bytes do not depend on the concurrency or on
//! which episodes share its steps (see [`crate::PackedModel`]).

use crossgym_env_core::{Env, TaskId};
use rayon::prelude::*;

use crate::agent::{TokenRecord, reply_closing};
use crate::rollout::{FinishReason, RolloutLimits, StepRecord, Trajectory, conversation_start};
use crate::sampling::{Sampler, SamplingParams};
use crate::{ChatTemplate, Message, PackedModel, Result, Role, SeqCache, Tokenizer};

/// One episode to play.
#[derive(Debug)]
pub struct EpisodeJob<E> {
    /// The caller's name for this job, handed back with its trajectory.
    pub id: usize,
    /// The env it runs in (reset to `task` when the episode starts).
    pub env: E,
    /// The task.
    pub task: TaskId,
    /// Sample index within the task: the ChaCha8 stream the episode samples from.
    pub sample: usize,
    /// Seed of the sampling stream (e.g. per (run seed, env, task)).
    pub seed: u64,
    /// Limits of this episode, when they differ from the stream's.
    pub limits: Option<RolloutLimits>,
}

/// One episode played to its end.
#[derive(Debug)]
pub struct FinishedEpisode<E> {
    /// The id of its [`EpisodeJob`].
    pub id: usize,
    /// What happened.
    pub trajectory: Trajectory,
    /// The job's env, handed back to reuse for a later job.
    pub env: E,
}

/// Where a stream's episodes come from and where they go.
pub trait EpisodeFeed<E> {
    /// The next episode to start, or `None` when there is none left.
    fn next_job(&mut self) -> Result<Option<EpisodeJob<E>>>;
    /// Receives a finished episode with its env.
    fn finished(&mut self, episode: FinishedEpisode<E>) -> Result<()>;
}

/// How a stream runs.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamSettings {
    /// Most episodes in flight at once.
    pub concurrency: usize,
    /// Turn and token caps of every episode (unless its job has its own).
    pub limits: RolloutLimits,
    /// Temperature and top-p (the seed comes from each job).
    pub sampling: SamplingParams,
    /// System prompt of every conversation.
    pub system: Option<String>,
}

/// What a stream did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Episodes finished.
    pub episodes: usize,
    /// Tokens the policy generated.
    pub generated_tokens: usize,
    /// Engine steps run.
    pub steps: usize,
    /// Tokens run through the model (prompts, observations and sampled tokens).
    pub processed_tokens: usize,
}

/// The token texts every conversation uses.
struct Vocabulary {
    im_end: u32,
    newline: Vec<u32>,
    generation_prompt: Vec<u32>,
}

/// Caches of the conversation starts seen so far: every episode of an env opens with the same
/// prompt (system, instruction, acknowledgement), which is run through the model once and copied
/// (shared instead of copied for bf16 caches: [`SeqCache::share`]).
#[derive(Default)]
struct Prefixes {
    caches: Vec<(Vec<u32>, SeqCache)>,
}

impl Prefixes {
    /// Conversation starts kept at once (one per env of a mixed run is typical).
    const KEEP: usize = 16;

    fn cache_of(
        &mut self,
        engine: &PackedModel,
        prompt: &[u32],
        stats: &mut StreamStats,
    ) -> Result<SeqCache> {
        if let Some((_, cache)) = self.caches.iter().find(|(p, _)| p == prompt) {
            return Ok(cache.clone());
        }
        let mut cache = engine.new_cache();
        engine.forward(&mut [&mut cache], &[prompt])?;
        // Episodes read one copy of the start's keys and values (bf16 caches; f32 caches are
        // copied, which keeps their bits).
        let cache = cache.share();
        stats.steps += 1;
        stats.processed_tokens += prompt.len();
        if self.caches.len() == Self::KEEP {
            self.caches.remove(0);
        }
        self.caches.push((prompt.to_vec(), cache.clone()));
        Ok(cache)
    }
}

/// One episode in flight.
struct Episode<E> {
    id: usize,
    limits: RolloutLimits,
    env: E,
    task: TaskId,
    sample: usize,
    messages: Vec<Message>,
    steps: Vec<StepRecord>,
    record: TokenRecord,
    sampler: Sampler,
    cache: SeqCache,
    /// Tokens to run through the model at the next engine step.
    queued: Vec<u32>,
    /// Turns finished.
    turns: usize,
    /// The reply being generated: its tokens, their log-probs and its token cap.
    reply: Vec<u32>,
    reply_logprobs: Vec<f64>,
    cap: usize,
    logits: Option<Vec<f32>>,
}

impl<E: Env> Episode<E> {
    fn response_tokens(&self) -> usize {
        if self.record.prompt_len == 0 {
            0
        } else {
            self.record.tokens.len() - self.record.prompt_len
        }
    }
}

/// Plays episodes from an [`EpisodeFeed`] on a packed model; see the module docs.
#[derive(Debug)]
pub struct EpisodeStream<'a> {
    engine: &'a PackedModel,
    tokenizer: &'a Tokenizer,
    template: &'a ChatTemplate,
    settings: StreamSettings,
}

impl<'a> EpisodeStream<'a> {
    /// A stream over `engine` with its tokenizer and chat template.
    pub fn new(
        engine: &'a PackedModel,
        tokenizer: &'a Tokenizer,
        template: &'a ChatTemplate,
        settings: StreamSettings,
    ) -> Result<Self> {
        if settings.concurrency == 0 {
            return Err(crate::PolicyError::Config(
                "stream concurrency must be at least 1".into(),
            ));
        }
        Ok(Self {
            engine,
            tokenizer,
            template,
            settings,
        })
    }

    /// Plays every job of `feed`, handing each episode back as it ends.
    pub fn run<E: Env + Send>(&self, feed: &mut dyn EpisodeFeed<E>) -> Result<StreamStats> {
        let vocabulary = Vocabulary {
            im_end: self.tokenizer.im_end_id()?,
            newline: self.tokenizer.encode("\n")?,
            generation_prompt: self.tokenizer.encode(&ChatTemplate::generation_prompt())?,
        };
        let mut stats = StreamStats::default();
        let mut prefixes = Prefixes::default();
        let mut live: Vec<Episode<E>> = Vec::new();
        let mut exhausted = false;
        loop {
            while !exhausted && live.len() < self.settings.concurrency {
                match feed.next_job()? {
                    Some(job) => {
                        let mut episode = self.start(job, &mut prefixes, &mut stats)?;
                        if self.begin_turn(&mut episode, &vocabulary)? {
                            live.push(episode);
                        } else {
                            self.finish(episode, &mut stats, feed)?;
                        }
                    }
                    None => exhausted = true,
                }
            }
            if live.is_empty() {
                return Ok(stats);
            }
            self.step(&mut live, &mut stats)?;
            let mut i = 0;
            while i < live.len() {
                if self.advance(&mut live[i], &vocabulary)? {
                    i += 1;
                } else {
                    let episode = live.swap_remove(i);
                    self.finish(episode, &mut stats, feed)?;
                }
            }
        }
    }

    /// Opens `job`'s conversation (its prompt's cache from `prefixes`) and queues its first
    /// observation.
    fn start<E: Env>(
        &self,
        job: EpisodeJob<E>,
        prefixes: &mut Prefixes,
        stats: &mut StreamStats,
    ) -> Result<Episode<E>> {
        let EpisodeJob {
            id,
            mut env,
            task,
            sample,
            seed,
            limits,
        } = job;
        let mut messages = conversation_start(&env, self.settings.system.as_deref());
        let prompt = self
            .tokenizer
            .encode(&self.template.render(&messages, false))?;
        let params = SamplingParams {
            seed,
            ..self.settings.sampling
        };
        let mut record = TokenRecord::default();
        record.push(&prompt, 0, None);
        let observation = env.reset(task)?;
        let turn = self
            .tokenizer
            .encode(&ChatTemplate::turn(Role::User, &observation))?;
        record.push(&turn, 0, None);
        messages.push(Message::user(observation));
        let cache = prefixes.cache_of(self.engine, &prompt, stats)?;
        Ok(Episode {
            id,
            limits: limits.unwrap_or(self.settings.limits),
            env,
            task,
            sample,
            messages,
            steps: Vec::new(),
            record,
            sampler: Sampler::for_row(params, sample),
            cache,
            queued: turn,
            turns: 0,
            reply: Vec::new(),
            reply_logprobs: Vec::new(),
            cap: 0,
            logits: None,
        })
    }

    /// Starts the next reply of `episode`; `false` when the episode is over instead (turn or
    /// token budget spent).
    fn begin_turn<E: Env>(
        &self,
        episode: &mut Episode<E>,
        vocabulary: &Vocabulary,
    ) -> Result<bool> {
        let limits = &self.settings.limits;
        if episode.turns >= limits.max_turns {
            return Ok(false);
        }
        let left = limits
            .max_total_tokens
            .saturating_sub(episode.response_tokens());
        episode.cap = limits.max_tokens_per_turn.min(left);
        if episode.cap == 0 {
            return Ok(false);
        }
        episode
            .queued
            .extend_from_slice(&vocabulary.generation_prompt);
        episode.record.push(&vocabulary.generation_prompt, 0, None);
        if episode.record.prompt_len == 0 {
            episode.record.prompt_len = episode.record.tokens.len();
        }
        episode.reply.clear();
        episode.reply_logprobs.clear();
        Ok(true)
    }

    /// One engine step over every live episode's queued tokens, then one sampled token each.
    fn step<E: Env + Send>(&self, live: &mut [Episode<E>], stats: &mut StreamStats) -> Result<()> {
        let chunks: Vec<Vec<u32>> = live
            .iter_mut()
            .map(|e| std::mem::take(&mut e.queued))
            .collect();
        let slices: Vec<&[u32]> = chunks.iter().map(Vec::as_slice).collect();
        let mut caches: Vec<&mut SeqCache> = live.iter_mut().map(|e| &mut e.cache).collect();
        let logits = self.engine.forward(&mut caches, &slices)?;
        stats.steps += 1;
        stats.processed_tokens += chunks.iter().map(Vec::len).sum::<usize>();
        for (episode, logits) in live.iter_mut().zip(logits) {
            episode.logits = logits;
        }
        // Sampling (a pass over the vocabulary per row) runs on every core.
        live.par_iter_mut().for_each(|episode| {
            if let Some(logits) = episode.logits.take() {
                let choice = episode.sampler.choose(&logits);
                episode.reply.push(choice.id);
                episode.reply_logprobs.push(choice.logprob);
                episode.queued.push(choice.id);
            }
        });
        Ok(())
    }

    /// After a sampled token: keeps generating, or ends the reply, steps the env and starts the
    /// next turn. `false` when the episode is over.
    fn advance<E: Env>(&self, episode: &mut Episode<E>, vocabulary: &Vocabulary) -> Result<bool> {
        let stopped = episode.reply.last() == Some(&vocabulary.im_end);
        if !stopped && episode.reply.len() < episode.cap {
            return Ok(true);
        }
        let tokens = std::mem::take(&mut episode.reply);
        let logprobs = std::mem::take(&mut episode.reply_logprobs);
        episode.record.push(&tokens, 1, Some(&logprobs));
        let (text, closing) = reply_closing(
            self.tokenizer,
            &tokens,
            stopped,
            vocabulary.im_end,
            &vocabulary.newline,
        )?;
        episode.queued.extend_from_slice(&closing);
        episode.record.push(&closing, 0, None);
        let step = episode.env.step(&text)?;
        episode.messages.push(Message::assistant(text.clone()));
        episode.turns += 1;
        let done = step.done;
        episode.steps.push(StepRecord {
            reply: text,
            generated_tokens: tokens.len(),
            reply_truncated: !stopped,
            observation: step.observation.clone(),
            reward: step.reward,
            done,
            info: step.info,
        });
        let limits = episode.limits;
        if done || episode.turns >= limits.max_turns {
            return Ok(false);
        }
        let turn = self
            .tokenizer
            .encode(&ChatTemplate::turn(Role::User, &step.observation))?;
        episode.queued.extend_from_slice(&turn);
        episode.record.push(&turn, 0, None);
        episode.messages.push(Message::user(step.observation));
        if episode.response_tokens() >= limits.max_total_tokens {
            return Ok(false);
        }
        self.begin_turn(episode, vocabulary)
    }

    /// Hands a finished episode to the feed.
    fn finish<E: Env>(
        &self,
        episode: Episode<E>,
        stats: &mut StreamStats,
        feed: &mut dyn EpisodeFeed<E>,
    ) -> Result<()> {
        let limits = episode.limits;
        let finish = match episode.steps.last() {
            Some(step) if step.done => FinishReason::Done,
            _ if episode.turns >= limits.max_turns => FinishReason::MaxTurns,
            _ => FinishReason::TokenBudget,
        };
        let generated_tokens = episode.steps.iter().map(|s| s.generated_tokens).sum();
        stats.episodes += 1;
        stats.generated_tokens += generated_tokens;
        let trajectory = Trajectory {
            env: episode.env.info().name.clone(),
            task: episode.task,
            sample: episode.sample,
            messages: episode.messages,
            tokens: episode.record.tokens,
            loss_mask: episode.record.loss_mask,
            logprobs: episode.record.logprobs,
            prompt_len: episode.record.prompt_len,
            steps: episode.steps,
            generated_tokens,
            finish,
        };
        feed.finished(FinishedEpisode {
            id: episode.id,
            trajectory,
            env: episode.env,
        })
    }
}
