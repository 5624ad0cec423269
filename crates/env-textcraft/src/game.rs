//! One crafting session: an inventory, a goal, and the reference's action interpreter
//! (`TextCraftEnv.step`), byte-exact in its observations.

use std::fmt::Write as _;
use std::sync::Arc;

use crossgym_env_core::py;

use crate::amount::Amount;
use crate::book::{NameId, RecipeBook};

/// What an action did, for analysis (the agent sees only the observation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActionKind {
    /// `get N item` of a base item.
    Got,
    /// A craft that matched a recipe.
    Crafted,
    /// `inventory`.
    Inventory,
    /// `get` of a craftable item, a tag or an unknown name: `Could not find …`.
    GetFailed,
    /// A craft whose ingredients are not all in the inventory in the typed amounts.
    NotEnoughItems,
    /// A craft that matches no recipe of its output: `Could not find a valid recipe for …`.
    NoValidRecipe,
    /// An ingredient without a count: `Wrong item format: …`.
    WrongItemFormat,
    /// Nothing matched: `Could not execute …`.
    NotExecuted,
}

impl ActionKind {
    /// Whether the action changed nothing because it failed.
    pub fn is_failure(self) -> bool {
        !matches!(
            self,
            ActionKind::Got | ActionKind::Crafted | ActionKind::Inventory
        )
    }

    /// A short snake_case label (for step details and failure-mode tables).
    pub fn label(self) -> &'static str {
        match self {
            ActionKind::Got => "got",
            ActionKind::Crafted => "crafted",
            ActionKind::Inventory => "inventory",
            ActionKind::GetFailed => "get_failed",
            ActionKind::NotEnoughItems => "not_enough_items",
            ActionKind::NoValidRecipe => "no_valid_recipe",
            ActionKind::WrongItemFormat => "wrong_item_format",
            ActionKind::NotExecuted => "not_executed",
        }
    }
}

/// The result of one action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The reference's observation text.
    pub observation: String,
    /// 1 when this action crafted the goal, else 0 (an int in the reference).
    pub reward: u8,
    /// Whether this action crafted the goal.
    pub done: bool,
    /// What happened.
    pub kind: ActionKind,
}

/// A typed name resolved the reference's way (`item_str_to_obj`): `minecraft:` + the name with
/// spaces as underscores, a tag if that is in the tag set, else an item id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Typed {
    Tag(NameId),
    /// An item id, known to the book or not.
    Item(Option<NameId>),
}

/// One typed ingredient of a craft command.
#[derive(Clone, Debug)]
struct TypedInput {
    name: Typed,
    count: Amount,
}

/// An inventory: item counts in the order items were first added (Python dict order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inventory {
    entries: Vec<(NameId, Amount)>,
}

impl Inventory {
    /// The entries in display order.
    pub fn entries(&self) -> &[(NameId, Amount)] {
        &self.entries
    }

    /// How many of `item` there are, if it has an entry (a `get 0` leaves a zero entry).
    pub fn get(&self, item: NameId) -> Option<&Amount> {
        self.entries
            .iter()
            .find(|(name, _)| *name == item)
            .map(|(_, amount)| amount)
    }

    fn add(&mut self, item: NameId, amount: &Amount) {
        match self.entries.iter_mut().find(|(name, _)| *name == item) {
            Some((_, have)) => *have = have.add(amount),
            None => self.entries.push((item, amount.clone())),
        }
    }

    /// Removes `amount` of `item`; the entry goes when it reaches zero. The caller checked that
    /// there is enough; a missing entry (the reference raises `KeyError` there) is ignored.
    fn remove(&mut self, item: NameId, amount: &Amount) {
        if let Some(at) = self.entries.iter().position(|(name, _)| *name == item) {
            let left = self.entries[at]
                .1
                .checked_sub(amount)
                .unwrap_or(Amount::ZERO);
            if left.is_zero() {
                self.entries.remove(at);
            } else {
                self.entries[at].1 = left;
            }
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
    }
}

/// A crafting session for one goal.
#[derive(Clone, Debug)]
pub struct Crafting {
    book: Arc<RecipeBook>,
    goal: NameId,
    inventory: Inventory,
    /// Reused buffer for `minecraft:` + typed name, so lookups do not allocate.
    scratch: String,
    /// Reused buffer for a craft command's typed ingredients.
    typed_inputs: Vec<TypedInput>,
}

impl Crafting {
    /// A session with an empty inventory.
    pub fn new(book: Arc<RecipeBook>, goal: NameId) -> Self {
        Self {
            book,
            goal,
            inventory: Inventory::default(),
            scratch: String::with_capacity(64),
            typed_inputs: Vec::new(),
        }
    }

    /// Empties the inventory and sets a new goal.
    pub fn restart(&mut self, goal: NameId) {
        self.goal = goal;
        self.inventory.clear();
    }

    /// The goal item.
    pub fn goal(&self) -> NameId {
        self.goal
    }

    /// The inventory.
    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// The recipe book.
    pub fn book(&self) -> &Arc<RecipeBook> {
        &self.book
    }

    /// Applies one action string (already cleaned by the client) exactly as the reference's
    /// `TextCraftEnv.step` does. Never panics.
    pub fn act(&mut self, action: &str) -> Outcome {
        // Python's `.` does not match a newline, so every regex sees only the first line.
        let line = action.split('\n').next().unwrap_or("");
        let result = if let Some(rest) = line.strip_prefix("craft ") {
            rest.rfind(" using ")
                .map(|at| self.craft(&rest[..at], &rest[at + " using ".len()..]))
        } else {
            None
        };
        let result = result.or_else(|| {
            let rest = line.strip_prefix("get ")?;
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let item = rest[digits..].strip_prefix(' ')?;
            let amount = Amount::parse_digits(&rest[..digits])?;
            Some(self.get(&amount, item))
        });
        let result = result.or_else(|| action.starts_with("inventory").then(|| self.show()));
        result.unwrap_or_else(|| {
            failure(
                ActionKind::NotExecuted,
                format!("Could not execute {action}"),
            )
        })
    }

    fn resolve(&mut self, typed: &str) -> Typed {
        self.scratch.clear();
        self.scratch.push_str("minecraft:");
        for c in typed.chars() {
            self.scratch.push(if c == ' ' { '_' } else { c });
        }
        match self.book.lookup(&self.scratch) {
            Some(name) if self.book.is_tag(name) => Typed::Tag(name),
            known => Typed::Item(known),
        }
    }

    fn get(&mut self, amount: &Amount, item: &str) -> Outcome {
        let name = match self.resolve(item) {
            Typed::Tag(_) | Typed::Item(None) => None,
            Typed::Item(Some(name)) => {
                let book = &self.book;
                (!book.is_craftable(name) && book.is_item(name)).then_some(name)
            }
        };
        let Some(name) = name else {
            return failure(ActionKind::GetFailed, format!("Could not find {item}"));
        };
        self.inventory.add(name, amount);
        Outcome {
            observation: format!("Got {amount} {item}"),
            reward: 0,
            done: false,
            kind: ActionKind::Got,
        }
    }

    fn show(&self) -> Outcome {
        let mut observation = String::from("Inventory: ");
        if self.inventory.entries.is_empty() {
            observation.push_str("You are not carrying anything.");
        }
        for (item, amount) in &self.inventory.entries {
            let _ = write!(observation, "[{}] ({amount}) ", self.book.display(*item));
        }
        Outcome {
            observation,
            reward: 0,
            done: false,
            kind: ActionKind::Inventory,
        }
    }

    fn craft(&mut self, output_text: &str, inputs_text: &str) -> Outcome {
        let mut inputs = std::mem::take(&mut self.typed_inputs);
        inputs.clear();
        let outcome = self.craft_with(output_text, inputs_text, &mut inputs);
        self.typed_inputs = inputs;
        outcome
    }

    fn craft_with(
        &mut self,
        output_text: &str,
        inputs_text: &str,
        inputs: &mut Vec<TypedInput>,
    ) -> Outcome {
        // The output: an optional count, then the name (the count is only ever echoed back).
        let (output_count, output_name) = match split_count(output_text) {
            Some((count, name)) => (count, name),
            None => (Amount::Small(1), output_text),
        };
        let output = self.resolve(output_name);
        for piece in inputs_text.split(',') {
            let piece = py::strip(piece);
            let Some((count, name)) = split_count(piece) else {
                return failure(
                    ActionKind::WrongItemFormat,
                    format!("Wrong item format: {piece}"),
                );
            };
            let name = self.resolve(name);
            inputs.push(TypedInput { name, count });
        }
        let has_all = inputs.iter().all(|input| match input.name {
            Typed::Item(Some(item)) => self
                .inventory
                .get(item)
                .is_some_and(|have| *have >= input.count),
            _ => false,
        });
        if !has_all {
            let output_id = match self.resolve(output_name) {
                Typed::Tag(_) => "None",
                Typed::Item(_) => self.scratch.as_str(),
            };
            return failure(
                ActionKind::NotEnoughItems,
                format!("Could not find enough items to craft {output_id}"),
            );
        }
        let matched = match output {
            Typed::Item(Some(item)) => self.matching_recipe(item, inputs),
            _ => None,
        };
        let Some(recipe) = matched else {
            let (tag, item) = match self.resolve(output_name) {
                Typed::Tag(_) => (py::str_repr(&self.scratch), "None".to_owned()),
                Typed::Item(_) => ("None".to_owned(), py::str_repr(&self.scratch)),
            };
            return failure(
                ActionKind::NoValidRecipe,
                format!(
                    "Could not find a valid recipe for ItemTagWithCount(item_tag=ItemTag(tag={tag}, \
                     item_id={item}), count={output_count})"
                ),
            );
        };
        for input in inputs.iter() {
            if let Typed::Item(Some(item)) = input.name {
                self.inventory.remove(item, &input.count);
            }
        }
        let recipe = self.book.recipe(recipe);
        let (output, count) = (recipe.output, recipe.output_count);
        self.inventory.add(output, &Amount::Small(u64::from(count)));
        let done = output == self.goal;
        Outcome {
            observation: format!("Crafted {count} {}", self.book.name(output)),
            reward: u8::from(done),
            done,
            kind: ActionKind::Crafted,
        }
    }

    /// The reference's `CraftingTree.craft`: the first recipe of the output item whose every
    /// ingredient is matched (in order, first fit) by a typed input with exactly its count, with
    /// no typed input left over.
    fn matching_recipe(&self, output: NameId, inputs: &[TypedInput]) -> Option<crate::RecipeId> {
        let book = &self.book;
        // Which typed inputs are taken: a bit mask, or a list for absurdly long commands.
        let mut used_mask: u64;
        let mut used_list = vec![false; if inputs.len() > 64 { inputs.len() } else { 0 }];
        'recipes: for &id in book.item_recipes(output) {
            let recipe = book.recipe(id);
            if recipe.inputs.len() != inputs.len() {
                // Every ingredient takes one typed input and none may be left: counts must agree.
                continue;
            }
            used_mask = 0;
            used_list.fill(false);
            for ingredient in &recipe.inputs {
                let found = inputs.iter().enumerate().position(|(index, input)| {
                    let taken = match used_list.get(index) {
                        Some(taken) => *taken,
                        None => used_mask & (1 << index) != 0,
                    };
                    !taken && matches_ingredient(book, ingredient, input.name)
                });
                let Some(index) = found else {
                    continue 'recipes;
                };
                if inputs[index].count != Amount::Small(u64::from(ingredient.count)) {
                    continue 'recipes;
                }
                match used_list.get_mut(index) {
                    Some(taken) => *taken = true,
                    None => used_mask |= 1 << index,
                }
            }
            return Some(id);
        }
        None
    }
}

/// The reference's `find_matching_item` test for one typed input.
fn matches_ingredient(book: &RecipeBook, ingredient: &crate::Ingredient, typed: Typed) -> bool {
    if ingredient.is_tag {
        match typed {
            Typed::Tag(tag) => tag == ingredient.name,
            Typed::Item(Some(item)) => book.tag_of(item) == Some(ingredient.name),
            Typed::Item(None) => false,
        }
    } else {
        typed == Typed::Item(Some(ingredient.name))
    }
}

/// `re.match("([0-9]+) (.*)", text)`: a count, one space, then the rest.
fn split_count(text: &str) -> Option<(Amount, &str)> {
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let rest = text[digits..].strip_prefix(' ')?;
    Some((Amount::parse_digits(&text[..digits])?, rest))
}

fn failure(kind: ActionKind, observation: String) -> Outcome {
    Outcome {
        observation,
        reward: 0,
        done: false,
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_count_is_python_regex() {
        assert_eq!(
            split_count("2 oak logs").map(|(c, n)| (c.to_string(), n)),
            Some(("2".into(), "oak logs"))
        );
        assert_eq!(
            split_count("02 ").map(|(c, n)| (c.to_string(), n)),
            Some(("2".into(), ""))
        );
        assert!(split_count("oak logs").is_none());
        assert!(split_count("2").is_none());
        assert!(split_count("2  x").is_some_and(|(_, n)| n == " x"));
    }
}
