//! `eval::evaluate` plays every missing (env, task, sample) and resumes from the records on disk.

use crossgym_env_core::{Env, Episode, Registry, Split, run_episode_capped};
use crossgym_study::Result;
use crossgym_study::eval::{Attempt, EpisodeSource, EvalOptions, evaluate};
use crossgym_study::plan::Plan;
use crossgym_study::records::{Checkpoint, read_jsonl};

use crate::toy::{agent, toy};

struct Scripted {
    calls: usize,
}

impl EpisodeSource for Scripted {
    fn play(&mut self, env: &mut dyn Env, attempt: Attempt) -> Result<(Episode, usize)> {
        self.calls += 1;
        let Attempt { task, sample, .. } = attempt;
        let episode = run_episode_capped(
            env,
            task,
            attempt.settings.max_turns,
            agent(0.5, u64::from(sample) << 16 | task.0 as u64),
        )?;
        let tokens = episode.turns.iter().map(|t| t.reply.len()).sum();
        Ok((episode, tokens))
    }
}

#[test]
fn evaluate_plays_each_missing_episode_once() {
    let mut registry = Registry::new();
    for name in ["textcraft", "babyai"] {
        registry
            .register(name, move || Ok(Box::new(toy(name)) as Box<dyn Env>))
            .unwrap();
    }
    let envs = vec!["textcraft".to_owned(), "babyai".to_owned()];
    let mut plan = Plan::paper("toy", &envs, None, 0);
    plan.runs[0].eval.k = 3;
    let run = &plan.runs[0];
    let path =
        std::env::temp_dir().join(format!("crossgym-eval-{}/base.jsonl", std::process::id()));
    std::fs::remove_file(&path).ok();
    let mut source = Scripted { calls: 0 };
    let options = EvalOptions {
        splits: vec![Split::Test, Split::Train],
        ..EvalOptions::default()
    };
    let evaluate_base = |source: &mut Scripted| {
        evaluate(
            run,
            Checkpoint::START,
            &registry,
            source,
            None,
            &path,
            &options,
        )
        .unwrap()
    };
    let played = evaluate_base(&mut source);
    // Toy envs: 16 test + 24 train tasks, 3 samples, 2 envs.
    assert_eq!(played, 2 * 40 * 3);
    // Lose the last few lines (an interrupted run): only those are played again.
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text.lines().take(200).collect();
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    let again = evaluate_base(&mut source);
    assert_eq!(again, 40);
    assert_eq!(source.calls, 280);
    let records = read_jsonl(&path).unwrap();
    assert_eq!(records.len(), 240);
    assert!(
        records
            .iter()
            .all(|r| r.episode.is_some() && r.run == "base")
    );
    assert!(
        evaluate(
            &plan.runs[1],
            Checkpoint::START,
            &Registry::new(),
            &mut source,
            None,
            &path,
            &options
        )
        .is_err()
    );
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
}
