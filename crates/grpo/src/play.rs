//! Playing groups of rollouts with the current weights: on the CPU rollout engine with the
//! episodes of every group in flight together ([`EpisodeStream`]), or group by group through
//! [`LocalAgent`] where the engine does not apply (GPU, f64). Both give the same trajectories.

use crossgym_env_core::{Env, TaskId};
use crossgym_policy::{
    ChatTemplate, Decoder, EpisodeFeed, EpisodeJob, EpisodeStream, FinishedEpisode, LocalAgent,
    PackedModel, RolloutLimits, SamplingParams, StreamSettings, Tokenizer, Trajectory,
    rollout_group,
};

use crate::Result;

/// Builds a fresh env; called `group_size` times per env so a group's rollouts run side by side.
pub type EnvMaker = Box<dyn Fn() -> crossgym_env_core::Result<Box<dyn Env>>>;

/// One group to play: `samples` episodes of `task` in env `env`, sampled from `seed` (sample
/// `s` from ChaCha8 stream `s`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct GroupDraw {
    pub(crate) env: usize,
    pub(crate) task: TaskId,
    pub(crate) seed: u64,
}

/// What playing needs from the trainer.
pub(crate) struct Players<'a> {
    pub(crate) decoder: Decoder,
    pub(crate) tokenizer: &'a Tokenizer,
    pub(crate) template: &'a ChatTemplate,
    pub(crate) system: Option<&'a str>,
    /// Envs kept per env index (at least one each); more are made with `makers` when needed.
    pub(crate) envs: &'a mut [Vec<Box<dyn Env>>],
    pub(crate) makers: &'a [EnvMaker],
    pub(crate) concurrency: usize,
    /// Episodes per draw.
    pub(crate) samples: usize,
    /// Sampling settings (each draw's seed replaces the seed).
    pub(crate) sampling: SamplingParams,
    /// Limits per env index.
    pub(crate) limits: &'a [RolloutLimits],
}

impl Players<'_> {
    /// Plays `samples` episodes of every draw; trajectories in draw order, samples in order.
    pub(crate) fn play(&mut self, draws: &[GroupDraw]) -> Result<Vec<Trajectory>> {
        if !PackedModel::supports(&self.decoder) {
            return self.play_in_groups(draws);
        }
        let (samples, sampling, limits) = (self.samples, self.sampling, self.limits);
        let engine = PackedModel::new(&self.decoder)?;
        let settings = StreamSettings {
            concurrency: self.concurrency,
            limits: limits[draws.first().map_or(0, |d| d.env)],
            sampling,
            system: self.system.map(str::to_owned),
        };
        let stream = EpisodeStream::new(&engine, self.tokenizer, self.template, settings)?;
        let mut feed = DrawFeed {
            draws,
            samples,
            limits,
            next: 0,
            envs: self.envs,
            makers: self.makers,
            out: vec![None; draws.len() * samples],
        };
        stream.run(&mut feed)?;
        Ok(feed.out.into_iter().flatten().collect())
    }

    fn play_in_groups(&mut self, draws: &[GroupDraw]) -> Result<Vec<Trajectory>> {
        let (samples, sampling, limits) = (self.samples, self.sampling, self.limits);
        let mut agent = LocalAgent::new(
            &self.decoder,
            self.tokenizer.clone(),
            self.template.clone(),
            sampling,
        )?;
        let mut out = Vec::with_capacity(draws.len() * samples);
        for draw in draws {
            agent.set_params(SamplingParams {
                seed: draw.seed,
                ..sampling
            });
            let envs = &mut self.envs[draw.env];
            while envs.len() < samples {
                envs.push((self.makers[draw.env])()?);
            }
            out.extend(rollout_group(
                &mut envs[..samples],
                draw.task,
                &mut agent,
                self.system,
                &limits[draw.env],
            )?);
        }
        Ok(out)
    }
}

/// The episodes of a list of draws, for an [`EpisodeStream`].
struct DrawFeed<'a, 'b> {
    draws: &'a [GroupDraw],
    samples: usize,
    limits: &'a [RolloutLimits],
    next: usize,
    envs: &'a mut [Vec<Box<dyn Env>>],
    makers: &'b [EnvMaker],
    out: Vec<Option<Trajectory>>,
}

impl EpisodeFeed<Box<dyn Env>> for DrawFeed<'_, '_> {
    fn next_job(&mut self) -> crossgym_policy::Result<Option<EpisodeJob<Box<dyn Env>>>> {
        let id = self.next;
        let Some(draw) = self.draws.get(id / self.samples) else {
            return Ok(None);
        };
        self.next += 1;
        let env = match self.envs[draw.env].pop() {
            Some(env) => env,
            None => (self.makers[draw.env])()?,
        };
        Ok(Some(EpisodeJob {
            id,
            env,
            task: draw.task,
            sample: id % self.samples,
            seed: draw.seed,
            limits: Some(self.limits[draw.env]),
        }))
    }

    fn finished(&mut self, episode: FinishedEpisode<Box<dyn Env>>) -> crossgym_policy::Result<()> {
        self.envs[self.draws[episode.id / self.samples].env].push(episode.env);
        self.out[episode.id] = Some(episode.trajectory);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};
    use crossgym_policy::{CausalLm, ModelConfig};

    use super::*;
    use crate::games::{echo_game, echo_tokenizer};

    #[test]
    fn streamed_groups_equal_groups_played_one_by_one() {
        let tokenizer = echo_tokenizer(200).unwrap();
        let config = ModelConfig::tiny_llama(tokenizer.vocab_size(), 16, 1, 2, 1);
        let model = CausalLm::random(&config, 4, DType::F32, &Device::Cpu).unwrap();
        let template = ChatTemplate::chatml(None);
        let makers: Vec<EnvMaker> = (0..2)
            .map(|i| {
                Box::new(move || Ok(Box::new(echo_game(2 + i, 20, i as u64)?) as Box<dyn Env>))
                    as EnvMaker
            })
            .collect();
        let limits: Vec<RolloutLimits> = (0..2)
            .map(|i| RolloutLimits {
                max_turns: 2 + i,
                max_tokens_per_turn: 5,
                max_total_tokens: 40,
            })
            .collect();
        let draws: Vec<GroupDraw> = (0..5)
            .map(|i| GroupDraw {
                env: i % 2,
                task: TaskId(i),
                seed: 100 + i as u64,
            })
            .collect();
        let sampling = SamplingParams::with_temperature(1.0, 0);
        let play = |streamed: bool| {
            let mut envs: Vec<Vec<Box<dyn Env>>> =
                makers.iter().map(|m| vec![m().unwrap()]).collect();
            let mut players = Players {
                decoder: model.inference(),
                tokenizer: &tokenizer,
                template: &template,
                system: Some("sys"),
                envs: &mut envs,
                makers: &makers,
                concurrency: 4,
                samples: 3,
                sampling,
                limits: &limits,
            };
            let out = if streamed {
                players.play(&draws).unwrap()
            } else {
                players.play_in_groups(&draws).unwrap()
            };
            assert!(
                envs.iter().all(|e| e.len() >= 3),
                "envs come back to the pool"
            );
            out
        };
        let (streamed, grouped) = (play(true), play(false));
        assert_eq!(streamed.len(), 15);
        for (i, (a, b)) in streamed.iter().zip(&grouped).enumerate() {
            assert_eq!((a.task, a.sample), (draws[i / 3].task, i % 3));
            assert_eq!(a.tokens, b.tokens, "trajectory {i}");
            assert_eq!(a.steps, b.steps, "trajectory {i}");
            assert_eq!(a.finish, b.finish, "trajectory {i}");
        }
    }
}
