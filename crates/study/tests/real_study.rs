//! A whole plan for one env pair with a real (tiny) model, on CPU: the base model built here from
//! oracle demonstrations, GRPO runs of all three axes, evaluations at checkpoints, every table,
//! plot and the HTML report — and a rerun that finds everything done.

use std::sync::Arc;

use crossgym_study::envs::registry_for;
use crossgym_study::plan::{Manifest, Plan};
use crossgym_study::records::read_jsonl;
use crossgym_study::runner::{StudyRunner, StudySettings};
use crossgym_study::small_base::build_small_base;

#[test]
fn a_pair_study_with_a_real_model_runs_end_to_end_and_resumes() {
    let envs = vec!["textcraft".to_owned(), "babyai".to_owned()];
    let registry = Arc::new(registry_for(&envs).unwrap());
    let root = crate::common::scratch("real-study");

    let mut spec = crate::toy::tiny_base_spec(&envs, 2, 2);
    spec.sft.micro_batch_size = 1;
    let (base, record) = build_small_base(&spec, &registry, &root.join("base"), false).unwrap();
    assert_eq!(
        record.demos,
        vec![("textcraft".into(), 2), ("babyai".into(), 2)]
    );
    assert!(record.sft_loss.0.is_finite() && record.sft_loss.1.is_finite());
    // Cached: the same spec loads the built model.
    let (_, again) = build_small_base(&spec, &registry, &root.join("base"), false).unwrap();
    assert_eq!(again, record);

    let mut plan = Plan::paper("tiny", &envs, Some(1), 3);
    for run in &mut plan.runs {
        run.eval.k = 2;
        run.eval.max_turns = 2;
        run.eval.max_tasks = Some(2);
    }
    let mut settings = StudySettings {
        stage_steps: 1,
        bootstrap: 20,
        ..StudySettings::default()
    };
    settings.grpo.group_size = 2;
    settings.grpo.tasks_per_batch = 1;
    settings.grpo.mini_batch_tasks = 1;
    settings.grpo.micro_batch_size = 2;
    settings.grpo.rollout.max_turns = Some(2);
    settings.grpo.rollout.max_tokens_per_turn = 6;
    settings.grpo.rollout.max_total_tokens = 128;
    settings.eval_tokens.max_tokens_per_turn = 6;
    settings.eval_tokens.max_total_tokens = 128;

    let study = root.join("study");
    let runner_with = |settings: StudySettings| {
        StudyRunner::new(
            plan.clone(),
            &study,
            base.clone(),
            Arc::clone(&registry),
            settings,
        )
    };
    let runner = runner_with(settings.clone()).unwrap();
    let written = runner.run_all().unwrap();
    assert!(written.iter().any(|p| p.ends_with("report.html")));
    for name in [
        "table2-qwen2.5-3b-instruct",
        "table3-qwen2.5-3b-instruct",
        "table6",
        "failure-modes",
    ] {
        assert!(
            study
                .join("report/tables")
                .join(format!("{name}.md"))
                .exists(),
            "{name}"
        );
    }
    assert!(study.join("report/plots/figure3-upstream.svg").exists());
    assert!(study.join("difficulty.json").exists());
    let manifest = Manifest::load_or_default(&study.join("manifest.json")).unwrap();
    assert!(plan.pending(&manifest).is_empty());

    // Two-stage runs start from their upstream U run's final model and are evaluated at the
    // start, after each step and at the end of their stage.
    let pair = read_jsonl(&runner.results_file("two-stage/textcraft+babyai")).unwrap();
    let checkpoints: std::collections::BTreeSet<_> = pair
        .iter()
        .map(|r| (r.checkpoint.stage, r.checkpoint.step))
        .collect();
    assert_eq!(
        checkpoints.into_iter().collect::<Vec<_>>(),
        vec![(0, 0), (1, 1)]
    );
    assert!(pair.iter().all(|r| r.episode.is_some()));

    // A rerun finds every run finished and plays nothing.
    let before = runner.records().unwrap().len();
    let rerun = runner_with(settings.clone()).unwrap();
    rerun.run_all().unwrap();
    assert_eq!(rerun.records().unwrap().len(), before);

    // Other settings in the same folder would mix runs: refused, and nothing is touched.
    let longer = StudySettings {
        stage_steps: settings.stage_steps + 1,
        ..settings
    };
    let refused = runner_with(longer).unwrap_err();
    assert!(refused.to_string().contains("other settings"), "{refused}");
    assert_eq!(runner.records().unwrap().len(), before);
    std::fs::remove_dir_all(&root).ok();
}
