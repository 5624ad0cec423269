//! Cross-environment transfer (axis 2): ΔHeld-In, ΔHeld-Out and ΔOverall, as the paper defines
//! them (§5, Table 3).
//!
//! With `base[i]` and `trained[i]` the scores on env `i` before and after training on env `t`:
//! ΔHeld-In = `trained[t] − base[t]`; ΔHeld-Out = the mean of `trained[i] − base[i]` over the
//! other envs; ΔOverall = the mean over all envs (held-in included).

use serde::{Deserialize, Serialize};

use crate::{Result, StudyError};

/// The three deltas of one Table 3 row.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deltas {
    /// Change on the training env.
    pub held_in: f64,
    /// Mean change on the other envs.
    pub held_out: f64,
    /// Mean change on all envs.
    pub overall: f64,
}

/// The deltas of a model trained on env `trained_on` (an index into both slices).
///
/// Fails when the slices differ in length, have fewer than two envs, or `trained_on` is out of
/// range.
pub fn deltas(base: &[f64], trained: &[f64], trained_on: usize) -> Result<Deltas> {
    if base.len() != trained.len() || base.len() < 2 || trained_on >= base.len() {
        return Err(StudyError::invalid(
            "transfer deltas",
            format!(
                "need equal-length score rows of at least two envs and a training env among them \
                 (base {}, trained {}, training env index {trained_on})",
                base.len(),
                trained.len()
            ),
        ));
    }
    let changes: Vec<f64> = trained.iter().zip(base).map(|(t, b)| t - b).collect();
    let total: f64 = changes.iter().sum();
    let held_in = changes[trained_on];
    Ok(Deltas {
        held_in,
        held_out: (total - held_in) / (changes.len() - 1) as f64,
        overall: total / changes.len() as f64,
    })
}

/// Change of one env's score between two checkpoints (after − before): negative on the upstream
/// env of a two-stage run is forgetting, positive on a not-yet-trained env is transfer.
pub fn change(before: f64, after: f64) -> f64 {
    after - before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_mismatched_rows() {
        assert!(deltas(&[1.0, 2.0], &[1.0], 0).is_err());
        assert!(deltas(&[1.0, 2.0], &[1.0, 2.0], 2).is_err());
        assert!(deltas(&[1.0], &[1.0], 0).is_err());
        assert_eq!(change(10.0, 7.5), -2.5);
    }
}
