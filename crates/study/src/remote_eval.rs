//! Evaluation episodes against an OpenAI-compatible server with many requests in flight: each of
//! `concurrency` workers plays one episode at a time (its own env and client), so a server that
//! batches (vLLM, SGLang, llama.cpp's server with parallel slots) always has work queued.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use crossgym_env_core::{Env, Episode, Registry};
use crossgym_policy::{OpenAiAgent, RequestPolicy, RolloutLimits, SamplingParams, rollout_group};

use crate::Result;
use crate::episodes::{episode_of, task_seed};
use crate::eval::{EpisodeSink, EvalJob};

/// A model served over the OpenAI chat-completions API.
#[derive(Clone, Debug)]
pub(crate) struct RemoteModel {
    /// Base URL (`http://host:8000/v1`).
    pub url: String,
    /// Model name on the server.
    pub model: String,
    /// Bearer token, if the server wants one.
    pub api_key: Option<String>,
    /// Timeout and retries of each request.
    pub policy: RequestPolicy,
}

impl RemoteModel {
    /// A client for one group of conversations sampled with `params`.
    pub fn agent(&self, params: SamplingParams) -> OpenAiAgent {
        let agent =
            OpenAiAgent::new(&self.url, &self.model, params).with_request_policy(self.policy);
        match &self.api_key {
            Some(key) => agent.with_api_key(key.clone()),
            None => agent,
        }
    }
}

/// How one remote evaluation samples.
#[derive(Clone, Debug)]
pub(crate) struct RemoteEval<'a> {
    /// The served model.
    pub remote: &'a RemoteModel,
    /// System message of every conversation.
    pub system: Option<&'a str>,
    /// Turn and token caps.
    pub limits: RolloutLimits,
    /// Sampling temperature.
    pub temperature: f64,
    /// The evaluation's seed (mixed with env, task and sample per episode).
    pub seed: u64,
}

impl RemoteEval<'_> {
    /// Plays every job with up to `concurrency` episodes in flight and hands each to `done` as
    /// it ends. Sample `s` of a task asks for seed `task_seed + s` (as row `s` of a group does),
    /// so the requests do not depend on `concurrency` or on which jobs a resumed run still has.
    /// The first error stops new episodes; those in flight finish and are dropped.
    pub fn play_jobs(
        &self,
        registry: &Registry,
        jobs: &[EvalJob],
        concurrency: usize,
        done: &mut EpisodeSink<'_>,
    ) -> Result<()> {
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let (sender, finished) = mpsc::channel();
        std::thread::scope(|scope| {
            for _ in 0..concurrency.clamp(1, jobs.len().max(1)) {
                let sender = sender.clone();
                let (next, stop) = (&next, &stop);
                scope.spawn(move || {
                    let mut envs: HashMap<&str, Box<dyn Env>> = HashMap::new();
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else { break };
                        let played = self.play_one(registry, &mut envs, job);
                        if sender.send((i, played)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(sender);
            let mut failed = None;
            for (i, played) in finished {
                if failed.is_some() {
                    continue;
                }
                if let Err(e) = played.and_then(|(episode, tokens)| done(i, episode, tokens)) {
                    stop.store(true, Ordering::Relaxed);
                    failed = Some(e);
                }
            }
            failed.map_or(Ok(()), Err)
        })
    }

    /// One episode of `job` on a worker's env of that name (made on first use).
    fn play_one<'j>(
        &self,
        registry: &Registry,
        envs: &mut HashMap<&'j str, Box<dyn Env>>,
        job: &'j EvalJob,
    ) -> Result<(Episode, usize)> {
        let env = match envs.entry(job.env.as_str()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(registry.make(&job.env)?),
        };
        let seed = task_seed(self.seed, &job.env, job.task).wrapping_add(u64::from(job.sample));
        let mut agent = self.remote.agent(SamplingParams {
            temperature: self.temperature,
            top_p: 1.0,
            seed,
        });
        let trajectory = rollout_group(
            std::slice::from_mut(env),
            job.task,
            &mut agent,
            self.system,
            &self.limits,
        )?
        .pop()
        .ok_or_else(|| crate::StudyError::Invalid {
            context: format!("{} task {}", job.env, job.task),
            message: "the rollout returned no episode".into(),
        })?;
        Ok((episode_of(&trajectory), trajectory.generated_tokens))
    }
}
