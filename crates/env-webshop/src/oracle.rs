//! A scripted expert: search with the goal's query, find the goal product (up to five result
//! pages, then a search by its title), click its options, buy.

use crossgym_env_core::{Env, EnvError, Episode, Result, TaskId, run_episode};

use crate::WebShopEnv;

/// Plays `task` with the oracle and returns the episode.
pub fn play(env: &mut WebShopEnv, task: TaskId) -> Result<Episode> {
    env.check_task(task)?;
    let goal = env.catalogue().goals()[task.0].clone();
    let title = env
        .catalogue()
        .product(&goal.asin)
        .map(|p| p.title.to_lowercase())
        .ok_or_else(|| EnvError::task(crate::NAME, task, "goal product missing"))?;
    let target = goal.asin.to_lowercase();
    let mut pending_options: Vec<String> =
        goal.goal_options.0.iter().map(|(_, v)| v.clone()).collect();
    let mut searched_title = false;
    let mut pages_seen = 0;
    let mut first = true;
    run_episode(env, task, |observation| {
        if first {
            first = false;
            return format!("Thought: search for it.\nAction: search[{}]", goal.query);
        }
        let on_results = observation.contains("(Total results:");
        let on_item = observation.ends_with("[SEP] Buy Now");
        if on_results {
            if observation.contains(&format!("[SEP] {} [SEP]", goal.asin)) {
                return format!("Action: click[{target}]");
            }
            pages_seen += 1;
            if pages_seen < 5 {
                return "Action: click[next >]".to_owned();
            }
            if !searched_title {
                searched_title = true;
                pages_seen = 0;
                return format!("Action: search[{title}]");
            }
            return "Action: click[back to search]".to_owned();
        }
        if on_item {
            if let Some(value) = pending_options.first().cloned() {
                pending_options.remove(0);
                return format!("Action: click[{value}]");
            }
            return "Action: click[Buy Now]".to_owned();
        }
        format!("Action: search[{}]", goal.query)
    })
}
