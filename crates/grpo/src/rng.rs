//! The exact, portable state of the run's ChaCha8 generators, as checkpoints store it.
//!
//! Its own module because both the checkpoint (the trainer's generator) and the task sampler
//! (the sampler's generator) hold one.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::{GrpoError, Result};

/// The exact state of a ChaCha8 generator (seed, stream, position), portable across machines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RngState {
    /// The 32-byte key, hex.
    pub seed: String,
    /// The stream number.
    pub stream: u64,
    /// The position in the stream, in 32-bit words (decimal: JSON numbers cannot hold u128).
    pub word_pos: String,
}

impl RngState {
    /// Captures `rng`'s state.
    pub fn capture(rng: &ChaCha8Rng) -> Self {
        Self {
            seed: rng.get_seed().iter().map(|b| format!("{b:02x}")).collect(),
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos().to_string(),
        }
    }

    /// Rebuilds the generator, continuing exactly where the captured one was.
    pub fn restore(&self) -> Result<ChaCha8Rng> {
        use rand::SeedableRng;
        let bad = |what: &str| GrpoError::Input(format!("rng state: {what}"));
        if self.seed.len() != 64 {
            return Err(bad("seed must be 64 hex digits"));
        }
        let mut seed = [0u8; 32];
        for (i, byte) in seed.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&self.seed[2 * i..2 * i + 2], 16)
                .map_err(|_| bad("seed is not hex"))?;
        }
        let word_pos: u128 = self
            .word_pos
            .parse()
            .map_err(|_| bad("word_pos is not a number"))?;
        let mut rng = ChaCha8Rng::from_seed(seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(word_pos);
        Ok(rng)
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;

    #[test]
    fn rng_state_continues_exactly() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        rng.set_stream(3);
        let _: u64 = rng.random();
        let _: u32 = rng.random();
        let state = RngState::capture(&rng);
        let json = serde_json::to_string(&state).unwrap();
        let mut back = serde_json::from_str::<RngState>(&json)
            .unwrap()
            .restore()
            .unwrap();
        for _ in 0..10 {
            assert_eq!(rng.random::<u64>(), back.random::<u64>());
        }
    }
}
