//! An oracle that crafts any goal from an empty inventory.
//!
//! It plans the goal's tree (for each item a recipe of minimum depth; for a tag ingredient the
//! member item of minimum depth, first in load order on ties), simulates the crafts to learn how
//! many of each base item are needed (leftovers of earlier crafts are reused), then emits the
//! `get`s followed by the crafts bottom-up, one command per craft.

use std::collections::HashMap;

use crossgym_env_core::parse::react_reply;
use crossgym_env_core::{EnvError, Oracle, Result, TaskId};

use crate::book::{NameId, RecipeBook, RecipeId};
use crate::{NAME, TextCraftEnv};

/// How deep the planner follows a recipe chain before giving up (the data's deepest is 4).
const MAX_PLAN_DEPTH: usize = 64;

/// The actions that craft `goal` from an empty inventory: gets first, then crafts.
pub fn plan(book: &RecipeBook, goal: NameId) -> Result<Vec<String>> {
    let mut planner = Planner {
        book,
        stock: HashMap::new(),
        gets: Vec::new(),
        crafts: Vec::new(),
    };
    planner.obtain(goal, 1, 0)?;
    let mut actions: Vec<String> = planner
        .gets
        .iter()
        .map(|(item, count)| format!("get {count} {}", book.display(*item)))
        .collect();
    actions.extend(planner.crafts);
    Ok(actions)
}

/// The reply an agent would send for `action`, in the format the instruction asks for.
pub fn reply(action: &str) -> String {
    format!("Thought:\nI follow the plan.\n\nAction:\n{action}")
}

impl Oracle for TextCraftEnv {
    /// [`plan`]'s commands, each with a short thought about what it gets or crafts and why.
    fn demonstrate(&mut self, task: TaskId, max_turns: usize) -> Result<Option<Vec<String>>> {
        let goal = self.goal(task)?;
        let goal_name = self.book().display(goal).to_owned();
        let actions = plan(self.book(), goal)?;
        if actions.len() > max_turns {
            return Ok(None);
        }
        let total = actions.len();
        let replies = actions
            .iter()
            .enumerate()
            .map(|(index, action)| {
                let mut thought = if let Some(rest) = action.strip_prefix("get ") {
                    format!("To craft {goal_name}, I need {rest} from the environment, so I get it.")
                } else if let Some((output, inputs)) = action
                    .strip_prefix("craft ")
                    .and_then(|a| a.split_once(" using "))
                {
                    if index + 1 == total {
                        format!("I have {inputs}, so I can craft {output}, which is the goal.")
                    } else {
                        format!("I have {inputs}, so I can craft {output} for the next step.")
                    }
                } else {
                    "I follow the plan.".to_owned()
                };
                if index == 0 {
                    thought = format!(
                        "The goal is {goal_name}. I will get the base items first, then craft. {thought}"
                    );
                }
                react_reply(&thought, action)
            })
            .collect();
        Ok(Some(replies))
    }
}

struct Planner<'a> {
    book: &'a RecipeBook,
    /// What the simulated inventory holds.
    stock: HashMap<NameId, u64>,
    /// Base items to get, in first-need order.
    gets: Vec<(NameId, u64)>,
    crafts: Vec<String>,
}

impl Planner<'_> {
    /// Makes sure the simulated inventory holds `count` of `item`.
    fn obtain(&mut self, item: NameId, count: u64, depth: usize) -> Result<()> {
        if depth > MAX_PLAN_DEPTH {
            return Err(self.error(item, "the recipe chain is too deep (a cycle?)"));
        }
        let have = self.stock.get(&item).copied().unwrap_or(0);
        if have >= count {
            return Ok(());
        }
        let missing = count - have;
        if self.book.is_base_item(item) {
            match self.gets.iter_mut().find(|(name, _)| *name == item) {
                Some((_, total)) => *total += missing,
                None => self.gets.push((item, missing)),
            }
            *self.stock.entry(item).or_insert(0) += missing;
            return Ok(());
        }
        let recipe_id = self
            .best_recipe(item)
            .ok_or_else(|| self.error(item, "it is neither gettable nor craftable"))?;
        let recipe = self.book.recipe(recipe_id);
        let per_craft = u64::from(recipe.output_count.max(1));
        let crafts = missing.div_ceil(per_craft);
        // Concrete items for tag ingredients.
        let inputs: Vec<(NameId, u64)> = recipe
            .inputs
            .iter()
            .map(|input| {
                let name = if input.is_tag {
                    self.best_member(input.name)
                        .ok_or_else(|| self.error(input.name, "the tag has no member"))?
                } else {
                    input.name
                };
                Ok((name, u64::from(input.count)))
            })
            .collect::<Result<_>>()?;
        for _ in 0..crafts {
            // Obtaining one input may use up another (B's recipe eats A): repeat until all
            // inputs are there together.
            let mut rounds = 0;
            while !inputs
                .iter()
                .all(|(name, needed)| self.stock.get(name).copied().unwrap_or(0) >= *needed)
            {
                rounds += 1;
                if rounds > inputs.len() + 1 {
                    return Err(self.error(item, "its ingredients keep consuming each other"));
                }
                for &(name, needed) in &inputs {
                    self.obtain(name, needed, depth + 1)?;
                }
            }
            for &(name, needed) in &inputs {
                if let Some(have) = self.stock.get_mut(&name) {
                    *have = have.saturating_sub(needed);
                }
            }
            *self.stock.entry(item).or_insert(0) += u64::from(recipe.output_count);
            self.crafts.push(self.command(recipe_id, &inputs));
        }
        Ok(())
    }

    /// The item's recipe of minimum depth (first on ties).
    fn best_recipe(&self, item: NameId) -> Option<RecipeId> {
        let book = self.book;
        book.item_recipes(item).iter().copied().min_by_key(|id| {
            book.recipe(*id)
                .inputs
                .iter()
                .map(|input| {
                    if input.is_tag {
                        self.best_member(input.name)
                            .map_or(u32::MAX - 1, |m| book.min_depth(m))
                    } else {
                        book.min_depth(input.name)
                    }
                })
                .max()
                .unwrap_or(0)
        })
    }

    /// The obtainable member of `tag` with minimum depth (first in load order on ties).
    fn best_member(&self, tag: NameId) -> Option<NameId> {
        let book = self.book;
        book.members(tag)
            .filter(|m| book.is_base_item(*m) || !book.item_recipes(*m).is_empty())
            .min_by_key(|m| book.min_depth(*m))
    }

    fn command(&self, recipe: RecipeId, inputs: &[(NameId, u64)]) -> String {
        let book = self.book;
        let recipe = book.recipe(recipe);
        let inputs: Vec<String> = inputs
            .iter()
            .map(|(name, count)| format!("{count} {}", book.display(*name)))
            .collect();
        format!(
            "craft {} {} using {}",
            recipe.output_count,
            book.display(recipe.output),
            inputs.join(", ")
        )
    }

    fn error(&self, item: NameId, why: &str) -> EnvError {
        EnvError::data(
            NAME,
            "recipes",
            format!("oracle cannot obtain {}: {why}", self.book.name(item)),
        )
    }
}
