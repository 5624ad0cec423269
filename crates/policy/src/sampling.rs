//! Choosing the next token: greedy, temperature and top-p, from a seeded ChaCha8 stream.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// How tokens are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SamplingParams {
    /// Softmax temperature; `0` is greedy (argmax, lowest id on ties).
    pub temperature: f64,
    /// Nucleus mass: only the smallest set of most likely tokens whose probability reaches
    /// `top_p` is sampled from (`1` disables it).
    pub top_p: f64,
    /// Seed of the sampler's ChaCha8 stream.
    pub seed: u64,
}

impl SamplingParams {
    /// Greedy decoding.
    pub fn greedy() -> Self {
        Self {
            temperature: 0.0,
            top_p: 1.0,
            seed: 0,
        }
    }

    /// Sampling at `temperature` with top-p 1 and `seed`.
    pub fn with_temperature(temperature: f64, seed: u64) -> Self {
        Self {
            temperature,
            top_p: 1.0,
            seed,
        }
    }
}

impl Default for SamplingParams {
    /// Temperature 1, top-p 1 (the paper's evaluation setting), seed 0.
    fn default() -> Self {
        Self::with_temperature(1.0, 0)
    }
}

/// A seeded token sampler.
#[derive(Clone, Debug)]
pub struct Sampler {
    params: SamplingParams,
    rng: ChaCha8Rng,
}

/// One chosen token.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Choice {
    /// The token id.
    pub id: u32,
    /// Its log-probability under `softmax(logits / temperature)` before top-p truncation
    /// (temperature 1 when greedy): the sampling policy's log-prob as GRPO/PPO recompute it.
    pub logprob: f64,
}

impl Sampler {
    /// A sampler with its own stream seeded from `params.seed`.
    pub fn new(params: SamplingParams) -> Self {
        Self {
            params,
            rng: ChaCha8Rng::seed_from_u64(params.seed),
        }
    }

    /// A sampler for row `row` of a batch: the same seed, ChaCha8 stream `row`, so rows draw
    /// independent tokens and each row's draws do not depend on the batch size.
    pub fn for_row(params: SamplingParams, row: usize) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
        rng.set_stream(row as u64);
        Self { params, rng }
    }

    /// The parameters.
    pub fn params(&self) -> &SamplingParams {
        &self.params
    }

    /// Picks a token from one row of logits.
    pub fn choose(&mut self, logits: &[f32]) -> Choice {
        let temperature = if self.params.temperature > 0.0 {
            self.params.temperature
        } else {
            1.0
        };
        let scaled: Vec<f64> = logits.iter().map(|&l| l as f64 / temperature).collect();
        let max = scaled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let log_z = max + scaled.iter().map(|l| (l - max).exp()).sum::<f64>().ln();
        let id = if self.params.temperature <= 0.0 {
            argmax(logits)
        } else {
            self.draw(&scaled, log_z)
        };
        Choice {
            id: id as u32,
            logprob: scaled.get(id).map_or(f64::NEG_INFINITY, |l| l - log_z),
        }
    }

    fn draw(&mut self, scaled: &[f64], log_z: f64) -> usize {
        let mut order: Vec<(usize, f64)> = scaled
            .iter()
            .enumerate()
            .map(|(i, l)| (i, (l - log_z).exp()))
            .collect();
        let top_p = self.params.top_p;
        let candidates: &[(usize, f64)] = if top_p < 1.0 {
            order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut mass = 0.0;
            let mut keep = order.len();
            for (i, (_, p)) in order.iter().enumerate() {
                mass += p;
                if mass >= top_p {
                    keep = i + 1;
                    break;
                }
            }
            &order[..keep]
        } else {
            &order
        };
        let total: f64 = candidates.iter().map(|c| c.1).sum();
        let mut u = self.rng.random::<f64>() * total;
        for (i, p) in candidates {
            if u < *p {
                return *i;
            }
            u -= p;
        }
        candidates.last().map_or(0, |c| c.0)
    }
}

/// The index of the largest value (the first one on ties).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}
