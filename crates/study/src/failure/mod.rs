//! Failure modes: the paper's eight classes of failed trajectories (§7, Appendix F), two
//! classifiers behind one trait, and their distribution per (train env, test env).
//!
//! The paper names the eight modes and used an LLM judge (GPT-5-mini) to assign them; the study
//! spec gives their names but not their definitions, so the definitions in
//! [`FailureMode::definition`] are ours, written from the names and from the trajectory signals
//! the rule-based classifier reads. [`RuleClassifier`] works offline on env-core's
//! [`Episode`]; [`JudgeClassifier`] asks any OpenAI-compatible chat-completions endpoint.

mod judge;
mod rules;

use std::collections::BTreeMap;
use std::fmt;

use crossgym_env_core::Episode;
use serde::{Deserialize, Serialize};

pub use judge::{JudgeClassifier, JudgeConfig, judge_prompt, parse_judge_reply};
pub use rules::{RuleClassifier, Signals};

use crate::Result;

/// The paper's eight failure modes, in its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureMode {
    /// Instruction misinterpretation.
    InstructionMisinterpretation,
    /// Guessing or fabrication.
    GuessingOrFabrication,
    /// Action execution failure.
    ActionExecutionFailure,
    /// Constraint prioritization failure.
    ConstraintPrioritizationFailure,
    /// Confirmation bias.
    ConfirmationBias,
    /// State or memory inconsistency.
    StateOrMemoryInconsistency,
    /// Logic or numerical deficit.
    LogicOrNumericalDeficit,
    /// Termination protocol failure.
    TerminationProtocolFailure,
}

impl FailureMode {
    /// All eight, in the paper's order.
    pub const ALL: [FailureMode; 8] = [
        FailureMode::InstructionMisinterpretation,
        FailureMode::GuessingOrFabrication,
        FailureMode::ActionExecutionFailure,
        FailureMode::ConstraintPrioritizationFailure,
        FailureMode::ConfirmationBias,
        FailureMode::StateOrMemoryInconsistency,
        FailureMode::LogicOrNumericalDeficit,
        FailureMode::TerminationProtocolFailure,
    ];

    /// The paper's name.
    pub fn name(self) -> &'static str {
        match self {
            FailureMode::InstructionMisinterpretation => "instruction misinterpretation",
            FailureMode::GuessingOrFabrication => "guessing or fabrication",
            FailureMode::ActionExecutionFailure => "action execution failure",
            FailureMode::ConstraintPrioritizationFailure => "constraint prioritization failure",
            FailureMode::ConfirmationBias => "confirmation bias",
            FailureMode::StateOrMemoryInconsistency => "state or memory inconsistency",
            FailureMode::LogicOrNumericalDeficit => "logic or numerical deficit",
            FailureMode::TerminationProtocolFailure => "termination protocol failure",
        }
    }

    /// The snake-case id used in files and in the judge's answer.
    pub fn id(self) -> &'static str {
        match self {
            FailureMode::InstructionMisinterpretation => "instruction_misinterpretation",
            FailureMode::GuessingOrFabrication => "guessing_or_fabrication",
            FailureMode::ActionExecutionFailure => "action_execution_failure",
            FailureMode::ConstraintPrioritizationFailure => "constraint_prioritization_failure",
            FailureMode::ConfirmationBias => "confirmation_bias",
            FailureMode::StateOrMemoryInconsistency => "state_or_memory_inconsistency",
            FailureMode::LogicOrNumericalDeficit => "logic_or_numerical_deficit",
            FailureMode::TerminationProtocolFailure => "termination_protocol_failure",
        }
    }

    /// Our working definition (shown to the LLM judge and in reports).
    pub fn definition(self) -> &'static str {
        match self {
            FailureMode::InstructionMisinterpretation => {
                "The agent misreads the task or the required interaction protocol: it pursues a \
                 different goal or does not produce actions in the required format at all."
            }
            FailureMode::GuessingOrFabrication => {
                "The agent commits to an answer or a final choice without gathering the information \
                 it needs (e.g. answers without searching, buys without looking), or invents facts."
            }
            FailureMode::ActionExecutionFailure => {
                "The agent's actions are rejected by the environment: invalid syntax, actions that \
                 are not available, or failed preconditions, so the plan cannot be carried out."
            }
            FailureMode::ConstraintPrioritizationFailure => {
                "The agent finishes with a result that violates some of the task's constraints \
                 (attributes, options, price, counts), satisfying only part of them."
            }
            FailureMode::ConfirmationBias => {
                "The agent sticks to its first hypothesis: it repeats the same query or check and \
                 does not revise its belief when the evidence disagrees."
            }
            FailureMode::StateOrMemoryInconsistency => {
                "The agent loses track of the state or of its own history: it repeats actions it \
                 already took, loops, or acts on a state that no longer holds."
            }
            FailureMode::LogicOrNumericalDeficit => {
                "The agent follows the protocol and terminates, but its reasoning is wrong: wrong \
                 inference, wrong arithmetic or quantities, wrong final answer."
            }
            FailureMode::TerminationProtocolFailure => {
                "The agent does not end the episode properly: it runs out of turns or budget without \
                 issuing the terminating action, or stops without one."
            }
        }
    }

    /// Parses an id or the paper's name (case-insensitive, `_`, `-` and spaces alike).
    pub fn parse(text: &str) -> Option<Self> {
        let norm = |s: &str| {
            s.trim()
                .to_ascii_lowercase()
                .chars()
                .map(|c| if c == '-' || c == ' ' { '_' } else { c })
                .collect::<String>()
        };
        let wanted = norm(text);
        Self::ALL.into_iter().find(|mode| mode.id() == wanted)
    }
}

impl fmt::Display for FailureMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A classifier's verdict on one failed episode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// The mode.
    pub mode: FailureMode,
    /// Why: the rule that fired, or the judge's reason.
    pub reason: String,
}

/// Assigns one of the eight modes to a failed episode.
pub trait FailureClassifier {
    /// A short name for reports (`rules`, `judge:<model>`).
    fn name(&self) -> String;

    /// Classifies `episode`, which is assumed to have failed (not solved).
    fn classify(&self, episode: &Episode) -> Result<Classification>;
}

/// Counts of failure modes for one (train env, test env) cell.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModeCounts {
    /// Failures per mode.
    pub counts: BTreeMap<FailureMode, usize>,
}

impl ModeCounts {
    /// Total failures.
    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }

    /// Share of `mode` among the failures (0 when there are none).
    pub fn share(&self, mode: FailureMode) -> f64 {
        let total = self.total();
        if total == 0 {
            0.0
        } else {
            self.counts.get(&mode).copied().unwrap_or(0) as f64 / total as f64
        }
    }

    /// Adds another cell's counts.
    pub fn add(&mut self, other: &ModeCounts) {
        for (mode, count) in &other.counts {
            *self.counts.entry(*mode).or_default() += count;
        }
    }
}

/// The train-env label of the untrained base model's cells.
pub const BASE: &str = "base";

/// Failure-mode distributions per (train env, test env), with held-in and held-out totals.
///
/// Not serde: JSON has no tuple keys. Reports write it through [`crate::report::tables::failures`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FailureDistribution {
    /// Counts by (train env, test env).
    pub cells: BTreeMap<(String, String), ModeCounts>,
}

impl FailureDistribution {
    /// Counts one classified failure.
    pub fn add(&mut self, train_env: &str, test_env: &str, mode: FailureMode) {
        *self
            .cells
            .entry((train_env.to_owned(), test_env.to_owned()))
            .or_default()
            .counts
            .entry(mode)
            .or_default() += 1;
    }

    /// Failures on the env each model was trained on.
    pub fn held_in(&self) -> ModeCounts {
        self.total_where(|train, test| train == test)
    }

    /// Failures on envs the model was not trained on (the untrained [`BASE`] model's cells are
    /// neither held-in nor held-out).
    pub fn held_out(&self) -> ModeCounts {
        self.total_where(|train, test| train != test && train != BASE)
    }

    fn total_where(&self, keep: impl Fn(&str, &str) -> bool) -> ModeCounts {
        let mut total = ModeCounts::default();
        for ((train, test), counts) in &self.cells {
            if keep(train, test) {
                total.add(counts);
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_from_ids_and_names() {
        for mode in FailureMode::ALL {
            assert_eq!(FailureMode::parse(mode.id()), Some(mode));
            assert_eq!(FailureMode::parse(&mode.name().to_uppercase()), Some(mode));
        }
        assert_eq!(FailureMode::parse("bad luck"), None);
    }

    #[test]
    fn distribution_separates_held_in_and_held_out() {
        let mut d = FailureDistribution::default();
        d.add(
            "webshop",
            "webshop",
            FailureMode::ConstraintPrioritizationFailure,
        );
        d.add("webshop", "babyai", FailureMode::ActionExecutionFailure);
        d.add("webshop", "babyai", FailureMode::ActionExecutionFailure);
        d.add("babyai", "webshop", FailureMode::GuessingOrFabrication);
        assert_eq!(d.held_in().total(), 1);
        let out = d.held_out();
        assert_eq!(out.total(), 3);
        assert!((out.share(FailureMode::ActionExecutionFailure) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            ModeCounts::default().share(FailureMode::ConfirmationBias),
            0.0
        );
    }
}
