//! Group-relative advantages (GRPO's outcome-reward estimator).

/// Added to the group's standard deviation so a group of equal rewards gets advantage 0.
pub const ADVANTAGE_EPS: f64 = 1e-6;

/// The advantage of every trajectory of one group:
/// `A_i = (R_i − mean(R)) / (std(R) + 1e-6)` with the unbiased (n − 1) standard deviation.
///
/// A group of one has no spread to compare against; as in verl it uses mean 0 and std 1, so its
/// advantage is `R / (1 + 1e-6)`. A group of equal rewards gets exactly 0 (computing the mean in
/// floating point would leave a residue of about 1e-10 that the `1e-6` then magnifies). An
/// empty group gives an empty vector.
///
/// ```
/// let a = crossgym_grpo::group_advantages(&[1.0, 0.0]);
/// // mean 0.5, unbiased std sqrt(0.5)
/// assert!((a[0] - 0.5 / (0.5f64.sqrt() + 1e-6)).abs() < 1e-12);
/// assert_eq!(crossgym_grpo::group_advantages(&[0.3]), vec![0.3 / (1.0 + 1e-6)]);
/// ```
pub fn group_advantages(rewards: &[f64]) -> Vec<f64> {
    let n = rewards.len();
    if n >= 2 && rewards.iter().all(|&r| r == rewards[0]) {
        return vec![0.0; n];
    }
    let (mean, std) = if n < 2 {
        (0.0, 1.0)
    } else {
        let mean = rewards.iter().sum::<f64>() / n as f64;
        let var = rewards.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        (mean, var.sqrt())
    };
    rewards
        .iter()
        .map(|r| (r - mean) / (std + ADVANTAGE_EPS))
        .collect()
}

/// Advantages of a whole batch whose trajectories come in consecutive groups of `group_size`
/// (the last group may be shorter). Each group is normalised on its own.
pub fn batch_advantages(rewards: &[f64], group_size: usize) -> Vec<f64> {
    rewards
        .chunks(group_size.max(1))
        .flat_map(group_advantages)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_group() {
        // rewards 0, 0.5, 1, 1: mean 0.625; deviations -0.625, -0.125, 0.375, 0.375;
        // squares sum 0.390625 + 0.015625 + 0.140625 + 0.140625 = 0.6875; / 3 = 0.229166..
        let a = group_advantages(&[0.0, 0.5, 1.0, 1.0]);
        let std = (0.6875f64 / 3.0).sqrt();
        let expected = [-0.625, -0.125, 0.375, 0.375].map(|d| d / (std + 1e-6));
        for (got, want) in a.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        // Concretely: std = 0.478713.., so the first is about -1.305581.
        assert!((a[0] + 1.305_582).abs() < 1e-5, "{}", a[0]);
    }

    #[test]
    fn equal_rewards_give_zero_and_singletons_keep_reward() {
        assert_eq!(group_advantages(&[0.7, 0.7, 0.7]), vec![0.0; 3]);
        assert_eq!(group_advantages(&[0.25]), vec![0.25 / (1.0 + 1e-6)]);
        assert!(group_advantages(&[]).is_empty());
    }

    #[test]
    fn batches_normalise_each_group() {
        let a = batch_advantages(&[1.0, 0.0, 5.0, 5.0, 2.0], 2);
        assert_eq!(a.len(), 5);
        assert!(a[0] > 0.7 && a[1] < -0.7);
        assert_eq!(&a[2..4], &[0.0, 0.0]);
        assert_eq!(a[4], 2.0 / (1.0 + 1e-6));
    }
}
