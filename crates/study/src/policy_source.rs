//! [`PolicySource`]: the candle policy as an [`EpisodeSource`], so [`crate::eval::evaluate`]
//! plays episodes with a real model through the policy crate's batched rollout loop.

use std::collections::HashMap;

use crossgym_env_core::{Env, Episode, Registry, Step, TaskId};
use crossgym_policy::{
    ChatTemplate, Decoder, EpisodeFeed, EpisodeJob, EpisodeStream, FinishedEpisode, LocalAgent,
    PackedModel, RequestPolicy, RolloutLimits, SamplingParams, StreamSettings, Tokenizer,
    rollout_group,
};

use crate::Result;
pub use crate::episodes::{episode_of, task_seed};
use crate::eval::{Attempt, EpisodeSink, EpisodeSource, EvalJob, Jobs, PlaySettings};
use crate::remote_eval::{RemoteEval, RemoteModel};

/// Episodes kept in flight by default, on a local model or as requests to a server (see
/// [`PolicySource::with_concurrency`]).
pub const DEFAULT_CONCURRENCY: usize = 32;

/// Token limits of evaluation episodes (the turn cap comes from the plan's eval spec).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct TokenLimits {
    /// Most tokens of one reply.
    #[arg(long, default_value_t = TokenLimits::default().max_tokens_per_turn)]
    pub max_tokens_per_turn: usize,
    /// Most tokens after the prompt (replies and observations).
    #[arg(long, default_value_t = TokenLimits::default().max_total_tokens)]
    pub max_total_tokens: usize,
}

impl Default for TokenLimits {
    /// The GRPO crate's rollout defaults: 200 per turn, 4096 in all.
    fn default() -> Self {
        let rollout = crossgym_grpo::RolloutConfig::default();
        Self {
            max_tokens_per_turn: rollout.max_tokens_per_turn,
            max_total_tokens: rollout.max_total_tokens,
        }
    }
}

impl TokenLimits {
    /// Training rollouts under these caps and `max_turns`, the other settings at the GRPO
    /// crate's defaults (a preset trains and evaluates with the same caps).
    pub fn rollout(self, max_turns: Option<usize>) -> crossgym_grpo::RolloutConfig {
        crossgym_grpo::RolloutConfig {
            max_turns,
            max_tokens_per_turn: self.max_tokens_per_turn,
            max_total_tokens: self.max_total_tokens,
            ..crossgym_grpo::RolloutConfig::default()
        }
    }
}

/// A candle model in this process: the packed rollout engine where the model allows it (CPU,
/// f32), else the group rollout agent.
#[derive(Debug)]
struct LocalModel {
    agent: LocalAgent,
    engine: Option<PackedModel>,
    tokenizer: Tokenizer,
    template: ChatTemplate,
}

/// Where replies come from.
#[derive(Debug)]
enum Backend {
    /// A candle model in this process.
    Local(Box<LocalModel>),
    /// An OpenAI-compatible chat-completions server.
    Remote(RemoteModel),
}

/// Plays evaluation episodes with a model. A local CPU model keeps up to `concurrency` episodes
/// of any tasks in flight on the rollout engine ([`EpisodeStream`]), a served model as many
/// requests; other models run the k samples of a task as one batch.
///
/// Sampling is seeded by `(seed, env, task)` only, and sample `i` of a task draws from stream
/// `i` of that seed, so the same model gives the same episodes in every run that evaluates it
/// (the study reuses the base model's records for the starting point of runs that begin from it).
#[derive(Debug)]
pub struct PolicySource {
    backend: Backend,
    system: Option<String>,
    limits: TokenLimits,
    seed: u64,
    concurrency: usize,
}

impl PolicySource {
    /// A source over `decoder` (a detached view is taken; pass [`crossgym_policy::CausalLm::inference`]).
    pub fn new(
        decoder: &Decoder,
        tokenizer: Tokenizer,
        template: ChatTemplate,
        system: Option<String>,
        limits: TokenLimits,
        seed: u64,
    ) -> Result<Self> {
        let agent = LocalAgent::new(
            decoder,
            tokenizer.clone(),
            template.clone(),
            SamplingParams::greedy(),
        )?;
        let engine = if PackedModel::supports(decoder) {
            Some(PackedModel::new(decoder)?)
        } else {
            None
        };
        Ok(Self {
            backend: Backend::Local(Box::new(LocalModel {
                agent,
                engine,
                tokenizer,
                template,
            })),
            system,
            limits,
            seed,
            concurrency: DEFAULT_CONCURRENCY,
        })
    }

    /// Keeps up to `concurrency` episodes in flight (at least 1; local CPU and served models).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// A source that asks an OpenAI-compatible server at `url` (e.g. `http://host:8000/v1`)
    /// for `model`'s replies (evaluation only: no token records). The server's own tokenizer
    /// counts tokens, so `limits.max_total_tokens` is enforced from its usage reports.
    pub fn remote(
        url: &str,
        model: &str,
        api_key: Option<String>,
        system: Option<String>,
        limits: TokenLimits,
        seed: u64,
    ) -> Self {
        Self {
            backend: Backend::Remote(RemoteModel {
                url: url.to_owned(),
                model: model.to_owned(),
                api_key,
                policy: RequestPolicy::default(),
            }),
            system,
            limits,
            seed,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    /// Times out and retries each request to a server as `policy` says (no effect on local
    /// models).
    pub fn with_request_policy(mut self, policy: RequestPolicy) -> Self {
        if let Backend::Remote(remote) = &mut self.backend {
            remote.policy = policy;
        }
        self
    }

    fn rollout_limits(&self, max_turns: usize) -> RolloutLimits {
        RolloutLimits {
            max_turns,
            max_tokens_per_turn: self.limits.max_tokens_per_turn,
            max_total_tokens: self.limits.max_total_tokens,
        }
    }
}

impl EpisodeSource for PolicySource {
    fn play(&mut self, env: &mut dyn Env, attempt: Attempt) -> Result<(Episode, usize)> {
        let mut envs = [EnvRef(env)];
        let Attempt {
            task,
            sample,
            settings,
        } = attempt;
        let seed =
            task_seed(self.seed, &envs[0].info().name, task).wrapping_add(u64::from(sample) << 32);
        self.play_rows(&mut envs, task, seed, settings)
            .map(|mut v| v.remove(0))
    }

    fn play_group(
        &mut self,
        envs: &mut [Box<dyn Env>],
        attempts: &[Attempt],
    ) -> Result<Vec<(Episode, usize)>> {
        let (Some(first), Some(attempt)) = (envs.first(), attempts.first()) else {
            return Ok(Vec::new());
        };
        // Sample i of the group draws from stream i: offset the seed when a resumed group
        // starts past sample 0.
        let task = attempt.task;
        let seed = task_seed(self.seed, &first.info().name, task)
            .wrapping_add(u64::from(attempt.sample) << 32);
        let n = attempts.len().min(envs.len());
        self.play_rows(&mut envs[..n], task, seed, attempt.settings)
    }

    fn play_jobs(&mut self, jobs: Jobs<'_>, done: &mut EpisodeSink<'_>) -> Result<()> {
        let PlaySettings {
            max_turns,
            temperature,
        } = jobs.settings;
        let limits = self.rollout_limits(max_turns);
        let local = match &self.backend {
            Backend::Local(local) => local,
            Backend::Remote(remote) => {
                let eval = RemoteEval {
                    remote,
                    system: self.system.as_deref(),
                    limits,
                    temperature,
                    seed: self.seed,
                };
                return eval.play_jobs(jobs.registry, jobs.list, self.concurrency, done);
            }
        };
        let LocalModel {
            engine: Some(engine),
            tokenizer,
            template,
            ..
        } = local.as_ref()
        else {
            return crate::eval::play_jobs_in_groups(self, jobs, done);
        };
        let settings = StreamSettings {
            concurrency: self.concurrency,
            limits,
            sampling: SamplingParams::with_temperature(temperature, 0),
            system: self.system.clone(),
        };
        let stream = EpisodeStream::new(engine, tokenizer, template, settings)?;
        let mut feed = JobFeed {
            registry: jobs.registry,
            jobs: jobs.list,
            seed: self.seed,
            next: 0,
            spare: HashMap::new(),
            done,
            failed: None,
        };
        match stream.run(&mut feed) {
            Ok(_) => Ok(()),
            Err(e) => Err(feed.failed.take().unwrap_or_else(|| e.into())),
        }
    }
}

/// Feeds evaluation jobs to an [`EpisodeStream`], reusing envs, and hands episodes back by job.
struct JobFeed<'a, 'b> {
    registry: &'a Registry,
    jobs: &'a [EvalJob],
    seed: u64,
    next: usize,
    spare: HashMap<String, Vec<Box<dyn Env>>>,
    done: &'a mut EpisodeSink<'b>,
    /// The first error of `done` (the stream only carries policy errors).
    failed: Option<crate::StudyError>,
}

impl EpisodeFeed<Box<dyn Env>> for JobFeed<'_, '_> {
    fn next_job(&mut self) -> crossgym_policy::Result<Option<EpisodeJob<Box<dyn Env>>>> {
        let Some(job) = self.jobs.get(self.next) else {
            return Ok(None);
        };
        let id = self.next;
        self.next += 1;
        let env = match self.spare.get_mut(&job.env).and_then(Vec::pop) {
            Some(env) => env,
            None => self.registry.make(&job.env)?,
        };
        Ok(Some(EpisodeJob {
            id,
            env,
            task: job.task,
            sample: job.sample as usize,
            seed: task_seed(self.seed, &job.env, job.task),
            limits: None,
        }))
    }

    fn finished(&mut self, episode: FinishedEpisode<Box<dyn Env>>) -> crossgym_policy::Result<()> {
        let FinishedEpisode {
            id,
            trajectory,
            env,
        } = episode;
        self.spare
            .entry(self.jobs[id].env.clone())
            .or_default()
            .push(env);
        if let Err(e) = (self.done)(id, episode_of(&trajectory), trajectory.generated_tokens) {
            let message = e.to_string();
            self.failed = Some(e);
            return Err(crossgym_policy::PolicyError::Config(message));
        }
        Ok(())
    }
}

impl PolicySource {
    fn play_rows<E: Env>(
        &mut self,
        envs: &mut [E],
        task: TaskId,
        seed: u64,
        settings: PlaySettings,
    ) -> Result<Vec<(Episode, usize)>> {
        let params = SamplingParams {
            temperature: settings.temperature,
            top_p: 1.0,
            seed,
        };
        let limits = self.rollout_limits(settings.max_turns);
        let system = self.system.as_deref();
        let trajectories = match &mut self.backend {
            Backend::Local(local) => {
                local.agent.set_params(params);
                rollout_group(envs, task, &mut local.agent, system, &limits)?
            }
            Backend::Remote(remote) => {
                rollout_group(envs, task, &mut remote.agent(params), system, &limits)?
            }
        };
        Ok(trajectories
            .iter()
            .map(|t| (episode_of(t), t.generated_tokens))
            .collect())
    }
}

/// A borrowed env as a sized [`Env`] (the rollout loop takes a slice of envs).
struct EnvRef<'a>(&'a mut dyn Env);

impl Env for EnvRef<'_> {
    fn info(&self) -> &crossgym_env_core::EnvInfo {
        self.0.info()
    }
    fn num_tasks(&self) -> usize {
        self.0.num_tasks()
    }
    fn split(&self) -> &crossgym_env_core::TaskSplit {
        self.0.split()
    }
    fn reset(&mut self, task: TaskId) -> crossgym_env_core::Result<String> {
        self.0.reset(task)
    }
    fn step(&mut self, reply: &str) -> crossgym_env_core::Result<Step> {
        self.0.step(reply)
    }
}
