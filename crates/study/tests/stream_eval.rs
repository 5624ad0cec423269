//! An evaluation with episodes in flight across tasks writes the same record file as one that
//! plays each task's samples as a group.

use std::path::Path;

use crossgym_env_core::{Env, Episode, Registry, Split};
use crossgym_policy::Pretrained;
use crossgym_study::Result;
use crossgym_study::envs::registry_for;
use crossgym_study::eval::{Attempt, EpisodeSink, EpisodeSource, EvalOptions, Jobs, evaluate};
use crossgym_study::plan::Plan;
use crossgym_study::policy_source::{PolicySource, TokenLimits};
use crossgym_study::records::Checkpoint;
use crossgym_study::small_base::build_small_base;

/// A source that forces the grouped path of [`EpisodeSource::play_jobs`].
pub struct Grouped(pub PolicySource);

impl EpisodeSource for Grouped {
    fn play(&mut self, env: &mut dyn Env, attempt: Attempt) -> Result<(Episode, usize)> {
        self.0.play(env, attempt)
    }

    fn play_group(
        &mut self,
        envs: &mut [Box<dyn Env>],
        attempts: &[Attempt],
    ) -> Result<Vec<(Episode, usize)>> {
        self.0.play_group(envs, attempts)
    }

    fn play_jobs(&mut self, jobs: Jobs<'_>, done: &mut EpisodeSink<'_>) -> Result<()> {
        crossgym_study::eval::play_jobs_in_groups(self, jobs, done)
    }
}

/// Evaluates the first 3 test tasks of each of `envs`, k = 3, 3 turns, into `out` (replaced).
pub fn run_eval(source: &mut dyn EpisodeSource, registry: &Registry, envs: &[String], out: &Path) {
    let mut plan = Plan::paper("stream", envs, None, 0);
    plan.runs[0].eval.k = 3;
    plan.runs[0].eval.max_turns = 3;
    plan.runs[0].eval.max_tasks = Some(3);
    std::fs::remove_file(out).ok();
    let played = evaluate(
        &plan.runs[0],
        Checkpoint::START,
        registry,
        source,
        None,
        out,
        &EvalOptions {
            splits: vec![Split::Test],
            ..EvalOptions::default()
        },
    )
    .unwrap();
    assert_eq!(played, envs.len() * 3 * 3);
}

#[test]
fn streamed_and_grouped_evaluations_write_the_same_records() {
    let root = crate::common::scratch("stream-eval");
    let envs = vec!["textcraft".to_owned(), "babyai".to_owned()];
    let registry = registry_for(&envs).unwrap();
    let spec = crate::toy::tiny_base_spec(&envs, 2, 1);
    build_small_base(&spec, &registry, &root.join("base"), false).unwrap();
    let bundle = Pretrained::load_dir(
        root.join("base/final"),
        candle_core::DType::F32,
        &candle_core::Device::Cpu,
    )
    .unwrap();
    let source = || {
        PolicySource::new(
            &bundle.model.inference(),
            bundle.tokenizer.clone(),
            bundle.template.clone(),
            None,
            TokenLimits {
                max_tokens_per_turn: 8,
                max_total_tokens: 60,
            },
            7,
        )
        .unwrap()
    };
    let streamed = root.join("streamed.jsonl");
    run_eval(
        &mut source().with_concurrency(4),
        &registry,
        &envs,
        &streamed,
    );
    let grouped = root.join("grouped.jsonl");
    run_eval(&mut Grouped(source()), &registry, &envs, &grouped);
    let (a, b) = (
        std::fs::read_to_string(&streamed).unwrap(),
        std::fs::read_to_string(&grouped).unwrap(),
    );
    assert_eq!(a.lines().count(), 18);
    assert_eq!(a, b, "streamed and grouped record files differ");
    std::fs::remove_dir_all(&root).ok();
}
