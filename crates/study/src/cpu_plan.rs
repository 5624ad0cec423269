//! The `cpu` preset's plan: the smallest set of runs that still answers each of the paper's six
//! findings with evaluations of at least 30 test tasks × 4 samples per env, on a 2-core CPU.
//!
//! The full plan (`cpu-full`, the paper's: 5 envs × 5 regimes, 20 two-stage pairs, two
//! sequences, the joint mixture, each evaluated on all five envs at every stage end) holds up to
//! 26,400 evaluation episodes and 264 GRPO steps. This one keeps:
//! - the base, evaluated on all five envs (the base scores), and on the train tasks of the
//!   curriculum env only (its easy/hard split);
//! - the U run of each of three trained envs ([`TRAINED_ENVS`]: BabyAI, which the negative-
//!   transfer finding is about, and the two envs whose warm-started base scores furthest from
//!   0, TextCraft and SearchQA), each evaluated on all three: the 3 × 3 transfer matrix of the
//!   in-domain vs held-out and the held-in findings;
//! - easy→hard and hard→easy on [`CURRICULUM_ENV`] (evaluated at their end only);
//! - one two-stage pair ([`TWO_STAGE`], SearchQA then TextCraft: the upstream env with the most
//!   to forget), evaluated on both;
//! - the sequence over the three trained envs (evaluated at its end only) and their joint
//!   mixture. The sequence starts with the two-stage pair's envs, so it continues from that
//!   pair's final model and trains only its third stage: its first two stages are the U run
//!   and the pair's second stage (each stage a fresh optimizer from the previous stage's model,
//!   as separate training jobs do), 12 steps in all as before, 8 of them not recomputed.
//!
//! Dropped, and why: WebShop and ALFWorld as training envs and as held-out columns (the base
//! scores 2.7% and 0% there, and each column costs 120 episodes per trained model); U_easy and
//! U_hard (no finding reads them); the curricula on the other envs, 19 of the 20 two-stage
//! pairs and the reversed sequence (each finding is a mean over them: one suffices to decide
//! its direction, at wider intervals); evaluations at the ends of earlier stages (curves, not
//! findings).

use crate::plan::{EvalSpec, Plan, Regime, Run, RunKind};

/// The envs the `cpu` plan trains on (in the study's env order), and the columns of its
/// transfer matrix.
pub const TRAINED_ENVS: [&str; 3] = [
    crossgym_env_core::paper::SEARCHQA.name,
    crossgym_env_core::paper::TEXTCRAFT.name,
    crossgym_env_core::paper::BABYAI.name,
];

/// The env of the `cpu` plan's two curricula.
pub const CURRICULUM_ENV: &str = crossgym_env_core::paper::TEXTCRAFT.name;

/// The `cpu` plan's two-stage pair: (upstream, downstream).
pub const TWO_STAGE: (&str, &str) = (
    crossgym_env_core::paper::SEARCHQA.name,
    crossgym_env_core::paper::TEXTCRAFT.name,
);

/// The `cpu` plan on a base model called `model`: the base evaluated on `all_envs`, the rest as
/// the module documentation lists, every run with `seed`. Evaluation scale (k, tasks, turns) is
/// the paper's protocol here; the preset scales it down afterwards.
pub fn cpu_plan(model: &str, all_envs: &[String], seed: u64) -> Plan {
    let trained: Vec<String> = TRAINED_ENVS.iter().map(|e| (*e).to_owned()).collect();
    let mut plan = Plan::new("cpu", model);
    plan.push(Run::base(all_envs, seed));
    for env in &trained {
        plan.push(Run::regime(env, Regime::U, &trained, seed));
    }
    for regime in [Regime::EasyToHard, Regime::HardToEasy] {
        let mut run = Run::regime(CURRICULUM_ENV, regime, &[CURRICULUM_ENV.to_owned()], seed);
        run.eval.final_only = true;
        plan.push(run);
    }
    let (upstream, downstream) = TWO_STAGE;
    let pair_envs = [upstream.to_owned(), downstream.to_owned()];
    let pair = Run::two_stage(upstream, downstream, EvalSpec::paper(&pair_envs), seed);
    let pair_id = pair.id.clone();
    plan.push(pair);
    let mut plan = plan
        .with_sequences(std::slice::from_ref(&trained), None, seed)
        .with_joint(&trained, None, seed);
    for run in &mut plan.runs {
        if let RunKind::Sequence { order } = &run.kind {
            run.eval.final_only = true;
            if order.starts_with(&pair_envs) {
                run.init_from = Some(pair_id.clone());
                run.stages.drain(..pair_envs.len());
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::TaskPool;

    fn all_envs() -> Vec<String> {
        crate::envs::STUDY_ENVS
            .iter()
            .map(|e| (*e).to_owned())
            .collect()
    }

    #[test]
    fn the_cpu_plan_has_one_run_per_finding_input_and_validates() {
        let plan = cpu_plan("m", &all_envs(), 0);
        plan.validate().unwrap();
        let ids: Vec<&str> = plan.runs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "base",
                "difficulty/searchqa/u",
                "difficulty/textcraft/u",
                "difficulty/babyai/u",
                "difficulty/textcraft/easy_to_hard",
                "difficulty/textcraft/hard_to_easy",
                "two-stage/searchqa+textcraft",
                "sequence/searchqa+textcraft+babyai",
                "joint/searchqa+textcraft+babyai",
            ]
        );
        assert_eq!(plan.runs[0].eval.envs, all_envs());
        assert_eq!(plan.runs[1].eval.envs, TRAINED_ENVS);
        assert_eq!(plan.pool_envs(), [CURRICULUM_ENV]);
        let final_only: Vec<&str> = plan
            .runs
            .iter()
            .filter(|r| r.eval.final_only)
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(
            final_only,
            [
                "difficulty/textcraft/easy_to_hard",
                "difficulty/textcraft/hard_to_easy",
                "sequence/searchqa+textcraft+babyai",
            ]
        );
        let curriculum = &plan.runs[4];
        let pools: Vec<TaskPool> = curriculum
            .stages
            .iter()
            .map(|s| s.sources[0].pool)
            .collect();
        assert_eq!(pools, [TaskPool::Easy, TaskPool::Hard]);
        assert_eq!(
            plan.runs[6].init_from.as_deref(),
            Some("difficulty/searchqa/u")
        );
        // The sequence continues the two-stage pair with its last env.
        let sequence = &plan.runs[7];
        assert_eq!(
            sequence.init_from.as_deref(),
            Some("two-stage/searchqa+textcraft")
        );
        let envs: Vec<&str> = sequence
            .stages
            .iter()
            .map(|s| s.sources[0].env.as_str())
            .collect();
        assert_eq!(envs, [crossgym_env_core::paper::BABYAI.name]);
    }
}
