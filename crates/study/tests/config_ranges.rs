//! Bad configuration of a study: every numeric field of [`StudySettings`] and of a [`Plan`]
//! (`Run`, `Stage`, `Source`, `EvalSpec`) set out of range gives an error naming the field and
//! the allowed range; a misspelt key is an error naming it.

use std::path::PathBuf;

use crossgym_study::plan::{Plan, Run, Source, TaskPool};
use crossgym_study::runner::StudySettings;

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crossgym-ranges-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Loads settings written as `toml` and returns the error text (panics when accepted).
fn settings_error(toml: &str, file: &str) -> String {
    let path = scratch().join(file);
    std::fs::write(&path, toml).unwrap();
    match StudySettings::load(&path) {
        Ok(s) => panic!("{toml:?} was accepted: {s:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_settings_field_out_of_range_names_the_field_and_the_range() {
    #[rustfmt::skip]
    let cases = [
        ("stage_steps = 0", "stage_steps", "1 or more"),
        ("[eval_tokens]\nmax_tokens_per_turn = 0\nmax_total_tokens = 10", "eval_tokens.max_tokens_per_turn", "1 or more"),
        ("[eval_tokens]\nmax_tokens_per_turn = 10\nmax_total_tokens = 0", "eval_tokens.max_total_tokens", "1 or more"),
        ("[grpo]\ngroup_size = 0", "grpo.group_size", "1 or more"),
        ("[grpo.optimizer]\nlr = -1.0", "grpo.optimizer.lr", "finite number >= 0"),
        ("[grpo.loss]\nkl_coef = nan", "grpo.loss.kl_coef", "finite number >= 0"),
        ("[grpo.rollout]\ntop_p = 2.0", "grpo.rollout.top_p", "(0, 1]"),
        ("eval_seed = -1", "eval_seed", "u64"),
        ("bootstrap = -1", "bootstrap", "usize"),
    ];
    for (i, (toml, field, allowed)) in cases.into_iter().enumerate() {
        let err = settings_error(toml, &format!("settings-{i}.toml"));
        assert!(
            err.contains(field) && err.contains(allowed),
            "{toml:?}: the error should name {field:?} and {allowed:?}: {err}"
        );
    }
    // `grpo.steps` and `grpo.seed` are each run's own; 0 is not an error here.
    let path = scratch().join("settings-ok.toml");
    std::fs::write(&path, "[grpo]\nsteps = 0\n").unwrap();
    StudySettings::load(&path).unwrap();
}

#[test]
fn misspelt_settings_and_plan_keys_are_errors_naming_the_key() {
    for (i, (toml, key)) in [
        ("stage_step = 3", "stage_step"),
        ("[eval_tokens]\nmax_tokens = 3", "max_tokens"),
        ("[grpo]\ngroupsize = 3", "groupsize"),
    ]
    .into_iter()
    .enumerate()
    {
        let err = settings_error(toml, &format!("typo-{i}.toml"));
        assert!(err.contains(key) && err.contains("unknown field"), "{err}");
    }
    let plan = Plan::paper("m", &["babyai".to_owned(), "textcraft".to_owned()], None, 0);
    let text = toml::to_string_pretty(&plan).unwrap();
    for (from, to, key) in [
        ("name = \"paper\"", "name = \"paper\"\nnmae = 1", "nmae"),
        ("seed = 0", "seed = 0\nseeds = 1", "seeds"),
        ("max_turns = 20", "max_turns = 20\nmax_turn = 3", "max_turn"),
        ("weight = 1.0", "weight = 1.0\nweigth = 2.0", "weigth"),
        ("pool = \"easy\"", "pool = \"easy\"\npools = 1", "pools"),
        (
            "regime = \"u_easy\"",
            "regime = \"u_easy\"\nregim = 1",
            "regim",
        ),
    ] {
        assert!(text.contains(from), "{from}");
        let path = scratch().join(format!("plan-{key}.toml"));
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        let err = Plan::load(&path).unwrap_err().to_string();
        assert!(err.contains(key) && err.contains("unknown field"), "{err}");
    }
}

#[test]
fn every_plan_field_out_of_range_names_the_run_the_field_and_the_range() {
    let base = Plan::paper("m", &["babyai".to_owned(), "textcraft".to_owned()], None, 0);
    base.validate().unwrap();
    type Edit = fn(&mut Run);
    #[rustfmt::skip]
    let cases: Vec<(Edit, &str, &str)> = vec![
        (|r| r.id = " ".into(), "id", "a non-empty name"),
        (|r| r.stages[0].steps = Some(0), "stages[0].steps", "1 or more"),
        (|r| r.stages[0].sources.clear(), "stages[0].sources", "one or more sources"),
        (|r| r.stages[0].sources[0].weight = 0.0, "stages[0].sources[0].weight", "finite number > 0"),
        (|r| r.stages[0].sources[0].weight = f64::INFINITY, "stages[0].sources[0].weight", "finite number > 0"),
        (|r| { r.stages[0].sources.push(Source { env: String::new(), pool: TaskPool::All, weight: 1.0, }) }, "stages[0].sources[1].env", "an env name"),
        (|r| r.eval.envs.clear(), "eval.envs", "one or more env names"),
        (|r| r.eval.k = 0, "eval.k", "1 or more"),
        (|r| r.eval.max_turns = 0, "eval.max_turns", "1 or more"),
        (|r| r.eval.temperature = -0.5, "eval.temperature", "finite number >= 0"),
        (|r| r.eval.temperature = f64::NAN, "eval.temperature", "finite number >= 0"),
        (|r| r.eval.every = Some(0), "eval.every", "1 or more"),
        (|r| r.eval.max_tasks = Some(0), "eval.max_tasks", "1 or more"),
        (|r| r.init_from = Some("later".into()), "init_from", "not an earlier run"),
    ];
    // Run 1 is `difficulty/babyai/u_easy`: one stage on one source.
    for (edit, field, allowed) in cases {
        let mut plan = base.clone();
        edit(&mut plan.runs[1]);
        let err = plan.validate().unwrap_err().to_string();
        assert!(
            err.contains("runs[1]") || err.contains("difficulty/babyai/u_easy"),
            "{field}: the error should name the run: {err}"
        );
        assert!(
            err.contains(field) && err.contains(allowed),
            "the error should name {field:?} and {allowed:?}: {err}"
        );
    }
    // Enum fields: an unknown value is a parse error naming the value and the allowed ones.
    let text = toml::to_string_pretty(&base).unwrap();
    for (from, to, allowed) in [
        (
            "pool = \"easy\"",
            "pool = \"medium\"",
            "`all`, `easy`, `hard`",
        ),
        ("regime = \"u_easy\"", "regime = \"u_medium\"", "`u_easy`"),
        ("kind = \"base\"", "kind = \"baseline\"", "`base`"),
    ] {
        let path = scratch().join("plan-enum.toml");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        let err = Plan::load(&path).unwrap_err().to_string();
        assert!(err.contains(allowed), "{to}: {err}");
    }
}
