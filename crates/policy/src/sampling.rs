//! Choosing the next token: greedy, temperature and top-p, from a seeded ChaCha8 stream.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::vec_softmax::shifted_exponentials;

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
///
/// One pass over the row's logits per token, vectorised (`vec_softmax::shifted_exponentials`): the
/// unnormalised probabilities `e^(l/T − max)` in f32 and their sum; the token is found by
/// walking them against one uniform draw (f64) scaled by the sum; its log-probability is
/// `l/T − max − ln sum` (about 1e-7 from the f64 value). The buffer is kept between tokens.
#[derive(Clone, Debug)]
pub struct Sampler {
    params: SamplingParams,
    rng: ChaCha8Rng,
    weights: Vec<f32>,
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
        Self::with_rng(params, ChaCha8Rng::seed_from_u64(params.seed))
    }

    /// A sampler for row `row` of a batch: the same seed, ChaCha8 stream `row`, so rows draw
    /// independent tokens and each row's draws do not depend on the batch size.
    pub fn for_row(params: SamplingParams, row: usize) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
        rng.set_stream(row as u64);
        Self::with_rng(params, rng)
    }

    fn with_rng(params: SamplingParams, rng: ChaCha8Rng) -> Self {
        Self {
            params,
            rng,
            weights: Vec::new(),
        }
    }

    /// The parameters.
    pub fn params(&self) -> &SamplingParams {
        &self.params
    }

    /// Picks a token from one row of logits.
    pub fn choose(&mut self, logits: &[f32]) -> Choice {
        let greedy = self.params.temperature <= 0.0;
        let scale = if greedy {
            1.0
        } else {
            (1.0 / self.params.temperature) as f32
        };
        self.weights.clear();
        self.weights.extend_from_slice(logits);
        let (max, total) = shifted_exponentials(&mut self.weights, scale);
        let id = if greedy {
            argmax(logits)
        } else {
            self.draw(total)
        };
        Choice {
            id: id as u32,
            logprob: logits.get(id).map_or(f64::NEG_INFINITY, |&l| {
                f64::from(l * scale - max) - total.ln()
            }),
        }
    }

    /// A token drawn in proportion to `self.weights` (whose sum is `total`), among the
    /// smallest set of largest ones that holds `top_p` of the mass when `top_p < 1`.
    fn draw(&mut self, total: f64) -> usize {
        let weights = &self.weights;
        let top_p = self.params.top_p;
        if top_p >= 1.0 {
            let u = self.rng.random::<f64>() * total;
            return pick(weights.iter().copied().enumerate(), u);
        }
        let mut order: Vec<usize> = (0..weights.len()).collect();
        order.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]).then(a.cmp(&b)));
        let goal = top_p * total;
        let mut mass = 0.0;
        let mut keep = order.len();
        for (rank, &i) in order.iter().enumerate() {
            mass += f64::from(weights[i]);
            if mass >= goal {
                keep = rank + 1;
                break;
            }
        }
        let kept = &order[..keep];
        let kept_total: f64 = kept.iter().map(|&i| f64::from(weights[i])).sum();
        let u = self.rng.random::<f64>() * kept_total;
        pick(kept.iter().map(|&i| (i, weights[i])), u)
    }
}

/// The first candidate whose weight the running remainder of `u` falls below; the last one with
/// a positive weight when rounding leaves `u` past them all (the first candidate when none has).
fn pick(candidates: impl Iterator<Item = (usize, f32)>, mut u: f64) -> usize {
    let mut last = None;
    let mut first = None;
    for (i, weight) in candidates {
        first.get_or_insert(i);
        let weight = f64::from(weight);
        if u < weight {
            return i;
        }
        u -= weight;
        if weight > 0.0 {
            last = Some(i);
        }
    }
    last.or(first).unwrap_or(0)
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
