//! The offline, rule-based failure classifier: trajectory signals → one of the eight modes.

use std::collections::BTreeMap;

use crossgym_env_core::{Episode, Turn};
use serde::{Deserialize, Serialize};

use super::{Classification, FailureClassifier, FailureMode};
use crate::Result;

/// Trajectory signals the rules read, computed from an [`Episode`]'s replies and
/// [`crossgym_env_core::StepInfo`]s.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Signals {
    /// Turns taken.
    pub turns: usize,
    /// Replies from which the env parsed no action (or an empty one).
    pub unparsed: usize,
    /// Parsed actions the env rejected (invalid, unavailable, failed precondition).
    pub rejected: usize,
    /// Information-gathering actions (`search…`, `<search>…`).
    pub queries: usize,
    /// Queries or final answers that repeat an earlier one word for word.
    pub repeated_queries: usize,
    /// Whether a committing action (`answer…`, `<answer>…`, `click[buy now]`) came before any query,
    /// in an episode that has one.
    pub committed_without_query: bool,
    /// The most times one (action, observation) pair occurred: the agent redid an action in a
    /// state it had already seen with the same outcome.
    pub max_state_action_repeats: usize,
    /// An env-reported constraint mismatch (`details` key containing `mismatch` or
    /// `constraint`, with a value other than empty, `0`, `false` or `none`), as `key=value`.
    pub constraint_mismatch: Option<String>,
    /// The final reward.
    pub final_reward: f64,
    /// Whether the env ended the episode.
    pub done: bool,
    /// Whether the env's own step limit ended it.
    pub truncated: bool,
}

fn normalized(action: &str) -> String {
    action
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn is_query(action: &str) -> bool {
    action.starts_with("search") || action.starts_with("<search>")
}

fn is_commit(action: &str) -> bool {
    action.starts_with("answer") || action.starts_with("<answer>") || action == "click[buy now]"
}

fn mismatch(turn: &Turn) -> Option<String> {
    turn.step.info.details.iter().find_map(|(key, value)| {
        let key_l = key.to_lowercase();
        let value_l = value.trim().to_lowercase();
        let flagged = (key_l.contains("mismatch") || key_l.contains("constraint"))
            && !matches!(value_l.as_str(), "" | "0" | "false" | "none" | "[]");
        flagged.then(|| format!("{key}={value}"))
    })
}

impl Signals {
    /// Computes the signals of `episode`.
    pub fn of(episode: &Episode) -> Self {
        let mut signals = Signals {
            turns: episode.turns.len(),
            final_reward: episode.score(),
            done: episode.done(),
            truncated: episode.turns.last().is_some_and(|t| t.step.info.truncated),
            ..Signals::default()
        };
        let mut seen_queries: Vec<String> = Vec::new();
        let mut pairs: BTreeMap<(String, &str), usize> = BTreeMap::new();
        for turn in &episode.turns {
            let action = turn
                .step
                .info
                .action
                .as_deref()
                .map(normalized)
                .unwrap_or_default();
            if signals.constraint_mismatch.is_none() {
                signals.constraint_mismatch = mismatch(turn);
            }
            if action.is_empty() {
                signals.unparsed += 1;
                continue;
            }
            if turn.step.info.invalid {
                signals.rejected += 1;
            }
            if is_query(&action) || is_commit(&action) {
                if seen_queries.contains(&action) {
                    signals.repeated_queries += 1;
                } else {
                    seen_queries.push(action.clone());
                }
            }
            if is_query(&action) {
                signals.queries += 1;
            } else if is_commit(&action) && signals.queries == 0 {
                signals.committed_without_query = true;
            }
            *pairs
                .entry((action, turn.step.observation.as_str()))
                .or_default() += 1;
        }
        signals.max_state_action_repeats = pairs.values().copied().max().unwrap_or(0);
        signals
    }
}

/// The rule-based classifier. Rules, first match wins:
///
/// 1. no turn at all → termination protocol failure;
/// 2. at least half the replies have no parsable action → instruction misinterpretation;
/// 3. at least half the replies' actions are rejected → action execution failure;
/// 4. an answer or purchase before any search → guessing or fabrication;
/// 5. a query or answer repeated word for word → confirmation bias;
/// 6. the same action in the same observed state with the same outcome 3+ times → state or
///    memory inconsistency;
/// 7. the env reports a constraint mismatch, or the episode ended with partial credit
///    (0 < reward < 1) → constraint prioritization failure;
/// 8. the turn cap or the env's step limit ended it → termination protocol failure;
/// 9. otherwise (valid actions, terminated, wrong outcome) → logic or numerical deficit.
///
/// It classifies whatever episode it gets; callers pass failed ones.
#[derive(Clone, Copy, Debug, Default)]
pub struct RuleClassifier;

impl RuleClassifier {
    /// Classifies from precomputed signals.
    pub fn classify_signals(&self, s: &Signals) -> Classification {
        let verdict = |mode: FailureMode, reason: String| Classification { mode, reason };
        let half = |count: usize| s.turns > 0 && 2 * count >= s.turns;
        if s.turns == 0 {
            return verdict(
                FailureMode::TerminationProtocolFailure,
                "no turn was taken".into(),
            );
        }
        let half_the_turns = [
            (
                s.unparsed,
                FailureMode::InstructionMisinterpretation,
                "replies had no parsable action",
            ),
            (
                s.rejected,
                FailureMode::ActionExecutionFailure,
                "actions were rejected by the env",
            ),
        ];
        for (count, mode, what) in half_the_turns {
            if half(count) {
                return verdict(mode, format!("{count} of {} {what}", s.turns));
            }
        }
        if s.committed_without_query {
            return verdict(
                FailureMode::GuessingOrFabrication,
                "answered or bought before any search".into(),
            );
        }
        if s.repeated_queries > 0 {
            return verdict(
                FailureMode::ConfirmationBias,
                format!(
                    "{} queries or answers repeated an earlier one",
                    s.repeated_queries
                ),
            );
        }
        if s.max_state_action_repeats >= 3 {
            return verdict(
                FailureMode::StateOrMemoryInconsistency,
                format!(
                    "one action was repeated {} times with the same outcome",
                    s.max_state_action_repeats
                ),
            );
        }
        if let Some(detail) = &s.constraint_mismatch {
            return verdict(
                FailureMode::ConstraintPrioritizationFailure,
                format!("env reports {detail}"),
            );
        }
        if s.done && s.final_reward > 0.0 && s.final_reward < 1.0 {
            return verdict(
                FailureMode::ConstraintPrioritizationFailure,
                format!("ended with partial credit {}", s.final_reward),
            );
        }
        if !s.done || s.truncated {
            return verdict(
                FailureMode::TerminationProtocolFailure,
                format!("no terminating action within {} turns", s.turns),
            );
        }
        verdict(
            FailureMode::LogicOrNumericalDeficit,
            "valid actions and a terminated episode, but a wrong outcome".into(),
        )
    }
}

impl FailureClassifier for RuleClassifier {
    fn name(&self) -> String {
        "rules".to_owned()
    }

    fn classify(&self, episode: &Episode) -> Result<Classification> {
        Ok(self.classify_signals(&Signals::of(episode)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossgym_env_core::{Step, TaskId};

    fn ep(turns: Vec<(Option<&str>, &str, bool, f64, bool)>) -> Episode {
        Episode {
            env: "e".into(),
            task: TaskId(0),
            first_observation: "start".into(),
            turns: turns
                .into_iter()
                .map(|(action, obs, invalid, reward, done)| {
                    let mut step = Step::new(obs, reward, done);
                    if let Some(a) = action {
                        step = step.with_action(a);
                    }
                    if invalid {
                        step = step.invalid();
                    }
                    Turn {
                        reply: format!("Action: {}", action.unwrap_or("")),
                        step,
                    }
                })
                .collect(),
        }
    }

    fn mode(episode: &Episode) -> FailureMode {
        RuleClassifier.classify(episode).unwrap().mode
    }

    #[test]
    fn each_rule_fires_on_its_signal() {
        use FailureMode::*;
        // (turns: action, observation, invalid, reward, done; the mode they show)
        #[rustfmt::skip]
        let cases = vec![
            (vec![], TerminationProtocolFailure),
            (vec![(None, "err", true, 0.0, false), (Some("look"), "ok", false, 0.0, true)],
             InstructionMisinterpretation),
            (vec![(Some("fly"), "bad", true, 0.0, false), (Some("look"), "ok", false, 0.0, true)],
             ActionExecutionFailure),
            (vec![(Some("<answer>Paris</answer>"), "Sorry", false, 0.0, true)],
             GuessingOrFabrication),
            (vec![
                (Some("<search>capital</search>"), "docs", false, 0.0, false),
                (Some("<search>Capital</search>"), "docs", false, 0.0, false),
                (Some("<answer>Rome</answer>"), "Sorry", false, 0.0, true),
            ], ConfirmationBias),
            (vec![(Some("turn left"), "same view", false, 0.0, false); 4],
             StateOrMemoryInconsistency),
            (vec![
                (Some("search[red shoes]"), "results", false, 0.0, false),
                (Some("click[buy now]"), "done", false, 0.5, true),
            ], ConstraintPrioritizationFailure),
            (vec![(Some("go north"), "a", false, 0.0, false), (Some("go south"), "b", false, 0.0, false)],
             TerminationProtocolFailure),
            (vec![
                (Some("go north"), "a", false, 0.0, false),
                (Some("put 3 apples"), "Done.", false, 0.0, true),
            ], LogicOrNumericalDeficit),
        ];
        for (i, (turns, want)) in cases.into_iter().enumerate() {
            assert_eq!(mode(&ep(turns)), want, "case {i}");
        }
        let mut with_detail = ep(vec![(Some("craft 1 stick"), "Crafted", false, 0.0, true)]);
        with_detail.turns[0]
            .step
            .info
            .details
            .insert("constraint_mismatch".into(), "count".into());
        assert_eq!(mode(&with_detail), ConstraintPrioritizationFailure);
    }

    #[test]
    fn moving_through_changing_states_is_not_a_loop() {
        let turns = ["a", "b", "c", "d"]
            .into_iter()
            .map(|obs| (Some("move forward"), obs, false, 0.0, false))
            .collect();
        let s = Signals::of(&ep(turns));
        assert_eq!(s.max_state_action_repeats, 1);
        assert_eq!(
            RuleClassifier.classify_signals(&s).mode,
            FailureMode::TerminationProtocolFailure
        );
    }
}
