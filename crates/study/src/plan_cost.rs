//! What a plan costs before it runs: the evaluation episodes and GRPO steps it holds, and its
//! time at measured per-episode and per-step costs (how `summary.md` sizes the `cpu-full`
//! plan from a `cpu` run).

use crossgym_env_core::Split;

use crate::plan::{Plan, Run, RunKind};
use crate::records::Checkpoint;
use crate::runner::{PhaseTiming, eval_point, evaluated_at};

/// The work a plan holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlanCost {
    /// Episodes its evaluations play (the base's test and pool-env train tasks, and every
    /// evaluated checkpoint of every run; starting points copied from the run they start from
    /// are not counted).
    pub eval_episodes: usize,
    /// GRPO steps of all its runs.
    pub train_steps: usize,
}

impl PlanCost {
    /// Seconds at `per_episode` seconds an evaluation episode and `per_step` a GRPO step.
    pub fn seconds(&self, per_episode: f64, per_step: f64) -> f64 {
        self.eval_episodes as f64 * per_episode + self.train_steps as f64 * per_step
    }
}

/// The cost of `plan` with stages of `stage_steps` steps (where a stage leaves it open);
/// `tasks(env, split)` gives how many tasks of a split an evaluation covers.
pub fn plan_cost(
    plan: &Plan,
    stage_steps: usize,
    tasks: impl Fn(&str, Split) -> usize,
) -> PlanCost {
    let episodes = |envs: &[String], k: usize, split: Split| -> usize {
        envs.iter().map(|env| tasks(env, split) * k).sum()
    };
    let mut cost = PlanCost::default();
    for run in &plan.runs {
        let k = run.eval.k;
        if run.stages.is_empty() {
            cost.eval_episodes += episodes(&run.eval.envs, k, Split::Test)
                + episodes(&plan.train_eval_envs(run), k, Split::Train);
            continue;
        }
        let lengths: Vec<usize> = run
            .stages
            .iter()
            .map(|s| s.steps.unwrap_or(stage_steps))
            .collect();
        let total: usize = lengths.iter().sum();
        let points = (1..=total)
            .filter_map(|step| eval_point(&lengths, step, run.eval.every))
            .filter(|at| evaluated_at(run, &lengths, *at))
            .count();
        let at_start = evaluated_at(run, &lengths, Checkpoint::START);
        let uncopied: Vec<String> = run
            .eval
            .envs
            .iter()
            .filter(|env| at_start && !starting_point_copied(plan, run, env))
            .cloned()
            .collect();
        cost.eval_episodes +=
            points * episodes(&run.eval.envs, k, Split::Test) + episodes(&uncopied, k, Split::Test);
        cost.train_steps += total;
    }
    cost
}

/// Whether `run`'s starting-point records of `env` are copied from the run it starts from (the
/// base run, or its `init_from` run, which evaluates `env` at its end).
fn starting_point_copied(plan: &Plan, run: &Run, env: &String) -> bool {
    let source_id = run.init_from.clone().unwrap_or_else(|| RunKind::Base.id());
    let source = plan.runs.iter().find(|r| r.id == source_id);
    source.is_some_and(|s| s.eval.envs.contains(env) && s.eval.k >= run.eval.k)
}

/// Measured seconds per evaluation episode and per GRPO step over `timings`, leaving out the
/// runs in `skip` (e.g. the zero-shot evaluation, whose prose episodes cost more); `None`
/// where nothing was measured.
pub fn measured_rates(timings: &[PhaseTiming], skip: &[&str]) -> (Option<f64>, Option<f64>) {
    let rate = |phase: &str| {
        let (seconds, units) = timings
            .iter()
            .filter(|t| t.phase == phase && !skip.contains(&t.run.as_str()))
            .fold((0.0, 0), |(s, u), t| (s + t.seconds, u + t.units));
        (units > 0).then(|| seconds / units as f64)
    };
    (rate("eval"), rate("train"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reproduce::Preset;

    fn thirty(_: &str, _: Split) -> usize {
        30
    }

    #[test]
    fn the_cpu_plan_holds_its_listed_episodes_and_steps() {
        let cpu = plan_cost(&Preset::Cpu.plan("m", &[1, 2, 3]), 4, thirty);
        // Base: 5 envs × 120 test + textcraft's 120 train; U: 3 × 360; curricula: 2 × 120 at
        // their end; two-stage: 240; sequence and joint: 360 each.
        assert_eq!(cpu.eval_episodes, 720 + 1080 + 240 + 240 + 720);
        // The sequence trains its third stage only (it continues the two-stage pair).
        assert_eq!(cpu.train_steps, 3 * 4 + 2 * 8 + 4 + 4 + 4);
        assert_eq!(cpu.seconds(2.0, 60.0), 3000.0 * 2.0 + 40.0 * 60.0);
        let full = plan_cost(&Preset::CpuFull.plan("m", &[1, 2, 3]), 4, thirty);
        assert!(full.eval_episodes > 5 * cpu.eval_episodes, "{full:?}");
        assert!(full.train_steps > 4 * cpu.train_steps, "{full:?}");
    }

    #[test]
    fn rates_leave_out_the_skipped_runs() {
        let timing = |run: &str, phase: &str, seconds, units| PhaseTiming {
            run: run.into(),
            phase: phase.into(),
            seconds,
            units,
        };
        let timings = [
            timing("zero-shot", "eval", 100.0, 10),
            timing("base", "eval", 30.0, 20),
            timing("u", "eval", 10.0, 20),
            timing("u", "train", 120.0, 4),
        ];
        assert_eq!(
            measured_rates(&timings, &["zero-shot"]),
            (Some(1.0), Some(30.0))
        );
        assert_eq!(measured_rates(&timings[..1], &["zero-shot"]), (None, None));
    }
}
