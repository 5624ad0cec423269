//! The crafting commands shown at reset: the goal's whole recipe tree plus up to ten seeded
//! distractors.
//!
//! The reference (`TextCraftEnv.reset` + `create_recipe_set`) shows every recipe of the goal's
//! tree, then for each ingredient of those recipes samples up to 10 recipes that use it, keeps
//! the ones not in the tree, samples up to 10 of them, and shuffles the whole list. Which
//! distractors it shows, and in what order, depends on CPython's per-process string hashing
//! (set iteration order), so no port can reproduce the reference's text for every hash seed.
//! This module keeps the same structure with a portable ChaCha8 RNG: the tree recipes are
//! exactly the reference's; the distractors and the order are ours, deterministic per
//! `(seed, task)`.

use std::collections::HashSet;

use rand::SeedableRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_chacha::ChaCha8Rng;

use crate::book::{NameId, RecipeBook, RecipeId};

/// The most distractors the reference shows.
pub const MAX_DISTRACTORS: usize = 10;

/// The commands for one reset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandList {
    /// The goal's tree recipes (unique by text), in the tree walk's order.
    pub tree: Vec<RecipeId>,
    /// The distractors shown (unique by text, none in the tree).
    pub distractors: Vec<RecipeId>,
    /// Everything shown, in display order.
    pub shown: Vec<RecipeId>,
}

/// The reset observation: `Crafting commands:\n{commands}\n\nGoal: craft {goal}.`
pub fn observation(book: &RecipeBook, goal: NameId, commands: &CommandList) -> String {
    let mut text = String::from("Crafting commands:\n");
    for (index, recipe) in commands.shown.iter().enumerate() {
        if index > 0 {
            text.push('\n');
        }
        text.push_str(&book.recipe(*recipe).text);
    }
    text.push_str("\n\nGoal: craft ");
    text.push_str(book.display(goal));
    text.push('.');
    text
}

/// The goal's tree recipes (unique by text) and their texts.
fn tree_of(book: &RecipeBook, goal: NameId) -> (Vec<RecipeId>, HashSet<&str>) {
    let tree = unique_by_text(book, book.tree_recipes(goal));
    let texts = tree
        .iter()
        .map(|id| book.recipe(*id).text.as_str())
        .collect();
    (tree, texts)
}

/// Every recipe that uses an ingredient of the goal's tree, not in the tree (unique by text), in
/// load order: the pool the distractors are drawn from.
pub fn distractor_pool(book: &RecipeBook, goal: NameId) -> Vec<RecipeId> {
    let (tree, tree_texts) = tree_of(book, goal);
    let mut seen: HashSet<&str> = HashSet::new();
    let mut pool: Vec<RecipeId> = Vec::new();
    for name in ingredient_names(book, &tree) {
        for &user in book.uses(name) {
            let text = book.recipe(user).text.as_str();
            if !tree_texts.contains(text) && seen.insert(text) {
                pool.push(user);
            }
        }
    }
    pool.sort();
    pool
}

/// Builds the command list for `goal`, seeded by `(seed, task)`.
pub fn command_list(book: &RecipeBook, goal: NameId, seed: u64, task: u64) -> CommandList {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(task);
    let (tree, tree_texts) = tree_of(book, goal);
    // Stage 1, as the reference: up to 10 uses of each ingredient.
    let mut seen: HashSet<&str> = HashSet::new();
    let mut candidates: Vec<RecipeId> = Vec::new();
    for name in ingredient_names(book, &tree) {
        let uses = book.uses(name);
        for &user in uses.choose_multiple(&mut rng, uses.len().min(MAX_DISTRACTORS)) {
            let text = book.recipe(user).text.as_str();
            if !tree_texts.contains(text) && seen.insert(text) {
                candidates.push(user);
            }
        }
    }
    // Stage 2: up to 10 of those.
    candidates.sort();
    let distractors: Vec<RecipeId> = candidates
        .choose_multiple(&mut rng, candidates.len().min(MAX_DISTRACTORS))
        .copied()
        .collect();
    let mut shown: Vec<RecipeId> = tree.iter().chain(&distractors).copied().collect();
    shown.shuffle(&mut rng);
    CommandList {
        tree,
        distractors,
        shown,
    }
}

/// The distinct ingredient names of `recipes`, in first-use order.
fn ingredient_names(book: &RecipeBook, recipes: &[RecipeId]) -> Vec<NameId> {
    let mut seen = HashSet::new();
    let mut names = Vec::new();
    for recipe in recipes {
        for input in &book.recipe(*recipe).inputs {
            if seen.insert(input.name) {
                names.push(input.name);
            }
        }
    }
    names
}

/// Keeps the first recipe of each command text (two files can give the same command).
fn unique_by_text(book: &RecipeBook, recipes: Vec<RecipeId>) -> Vec<RecipeId> {
    let mut seen = HashSet::new();
    recipes
        .into_iter()
        .filter(|id| seen.insert(book.recipe(*id).text.as_str()))
        .collect()
}
