//! A scripted expert: search with the goal's query, find the goal product (up to five result
//! pages, then a search by its title), click its options, buy.

use crossgym_env_core::parse::react_reply;
use crossgym_env_core::{Env, EnvError, Episode, Oracle, Result, TaskId, run_episode};

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

impl Oracle for WebShopEnv {
    /// [`play`]'s actions (learned by playing the task once: they depend only on the task), each
    /// voiced with a short thought about the page and the goal.
    fn demonstrate(&mut self, task: TaskId, max_turns: usize) -> Result<Option<Vec<String>>> {
        let scout = play(self, task)?;
        if !scout.success() || scout.turns.len() > max_turns {
            return Ok(None);
        }
        let goal = self.catalogue().goals()[task.0].clone();
        let mut searches = 0;
        let mut observation = scout.first_observation.as_str();
        let mut replies = Vec::with_capacity(scout.turns.len());
        for turn in &scout.turns {
            let action = turn.step.info.action.clone().unwrap_or_default();
            let thought = if let Some(query) = bracket(&action, "search") {
                searches += 1;
                if searches == 1 {
                    format!("I think I should search for {query}, which describes what I need.")
                } else {
                    "I think I should search for the product's full name to find it directly."
                        .to_owned()
                }
            } else if let Some(value) = bracket(&action, "click") {
                let value_lower = value.to_lowercase();
                if value_lower == "buy now" {
                    if goal.goal_options.is_empty() {
                        "I think this item matches the instruction, so I can buy it now.".to_owned()
                    } else {
                        "I think the item matches and the required options are selected, so I can buy it now."
                            .to_owned()
                    }
                } else if value_lower == "next >" {
                    "I think none of the results on this page is what I want, so I should check the next page."
                        .to_owned()
                } else if value_lower == "< prev" || value_lower == "back to search" {
                    format!("I think I should go {value} and try again.")
                } else if value_lower == goal.asin.to_lowercase()
                    && observation.contains("(Total results:")
                {
                    format!("I think {value} matches the instruction, so I should open it.")
                } else if let Some((name, _)) = goal
                    .goal_options
                    .0
                    .iter()
                    .find(|(_, v)| v.to_lowercase() == value_lower)
                {
                    format!(
                        "I think I should select {value} as the {name}, as the instruction asks."
                    )
                } else {
                    format!("I think I should click {value}.")
                }
            } else {
                "I think I should act on this page.".to_owned()
            };
            replies.push(react_reply(&thought, &action));
            observation = &turn.step.observation;
        }
        Ok(Some(replies))
    }
}

/// The argument of `verb[argument]`.
fn bracket<'a>(action: &'a str, verb: &str) -> Option<&'a str> {
    action
        .strip_prefix(verb)?
        .strip_prefix('[')?
        .strip_suffix(']')
}
