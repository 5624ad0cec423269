//! The oracle crafts every goal from an empty inventory.

use crossgym_env_core::{Env, TaskId, run_episode_capped};
use crossgym_env_textcraft::{TextCraftEnv, oracle};

#[test]
fn oracle_solves_all_544_goals() {
    let mut env = TextCraftEnv::new().unwrap();
    let mut longest = 0;
    for task in 0..env.num_tasks() {
        let goal = env.goal(TaskId(task)).unwrap();
        let actions = oracle::plan(env.book(), goal).unwrap();
        longest = longest.max(actions.len());
        let mut next = actions.iter();
        let episode = run_episode_capped(&mut env, TaskId(task), actions.len(), |_| {
            oracle::reply(next.next().map_or("inventory", String::as_str))
        })
        .unwrap();
        assert!(
            episode.success(),
            "task {task} ({}): {:?}",
            env.book().name(goal),
            episode
                .turns
                .iter()
                .map(|t| &t.step.observation)
                .collect::<Vec<_>>()
        );
        // Every action before the last is a get or craft that succeeded.
        for turn in &episode.turns {
            assert!(
                !turn.step.info.invalid,
                "task {task}: {}",
                turn.step.observation
            );
        }
    }
    assert!(longest < 200, "plans stay short: {longest}");
}
