//! The recipe book: TextCraft's loader rules applied to the raw recipe files, and the queries the
//! env needs (goals by depth, recipe trees, ingredient uses).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use crossgym_env_core::EnvError;

use crate::NAME;
use crate::raw::{self, RawRecipe};

/// The embedded recipe data (the compact form of the 860 Minecraft 1.16 recipe files).
const EMBEDDED_RECIPES: &str = include_str!("../data/recipes.tsv");

/// A small fast hasher for the name table (FxHash's mixing step). The table's keys are fixed by
/// the recipe data, so resistance to chosen collisions buys nothing here, and `step` looks names
/// up on every craft and get.
#[derive(Clone, Copy, Default)]
struct NameHasher(u64);

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type NameTable = HashMap<String, NameId, BuildHasherDefault<NameHasher>>;

/// An interned item id or tag (`minecraft:oak_planks`, `minecraft:planks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NameId(pub u32);

impl NameId {
    fn index(self) -> usize {
        self.0 as usize
    }
}

/// An index into [`RecipeBook::recipes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecipeId(pub u32);

impl RecipeId {
    fn index(self) -> usize {
        self.0 as usize
    }
}

/// One ingredient of a loaded recipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ingredient {
    /// The item id or tag.
    pub name: NameId,
    /// Whether any member of the tag matches (`true`), or only this item id.
    pub is_tag: bool,
    /// How many are needed.
    pub count: u32,
}

/// A recipe that survived loading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipe {
    /// The file it came from.
    pub file: String,
    /// The output item id.
    pub output: NameId,
    /// The output's tag (`minecraft:<group>`), if the file has a group.
    pub output_tag: Option<NameId>,
    /// How many items one craft makes.
    pub output_count: u32,
    /// The ingredients, in the reference's order.
    pub inputs: Vec<Ingredient>,
    /// The crafting command, e.g. `craft 4 oak planks using 1 oak logs`.
    pub text: String,
}

/// Why a recipe file did not become a recipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// Not `crafting_shaped` or `crafting_shapeless` (smelting, stonecutting, …).
    NonCrafting,
    /// One ingredient whose name ends in `_block` (the reference drops "block → items" recipes).
    SingleBlockInput,
    /// It would close a dependency cycle with a recipe loaded before it.
    Cycle,
}

/// All recipes, items and tags of TextCraft, loaded by the reference's rules.
///
/// Loading (`CraftingTree` in the reference), file by file in alphabetical order:
/// only the two crafting types count; shaped recipes count each key symbol in the pattern (a key
/// given as a list uses its first entry), shapeless ones merge duplicate ingredients; a recipe
/// with one ingredient whose name ends in `_block` is dropped; one whose output is already a
/// (recorded) dependency of one of its inputs is dropped as a cycle; a `group` becomes the
/// output's tag. Afterwards, tag ingredients with no craftable member become plain items (so the
/// agent must *get* e.g. `oak logs`).
#[derive(Debug)]
pub struct RecipeBook {
    names: Vec<String>,
    display: Vec<String>,
    lookup: NameTable,
    is_item: Vec<bool>,
    is_tag: Vec<bool>,
    tag_of: Vec<Option<NameId>>,
    recipes: Vec<Recipe>,
    item_recipes: Vec<Vec<RecipeId>>,
    item_order: Vec<NameId>,
    tag_recipes: Vec<Vec<RecipeId>>,
    min_depth: Vec<u32>,
    goals: Vec<NameId>,
    uses: Vec<Vec<RecipeId>>,
    skipped: Vec<(String, SkipReason)>,
    num_files: usize,
}

/// The reference's `item_id_to_str`: drop every `minecraft:`, `_` → space.
pub fn display_name(id: &str) -> String {
    id.replace("minecraft:", "").replace('_', " ")
}

impl RecipeBook {
    /// The book built from the recipe data embedded in this crate (loaded once per process).
    pub fn embedded() -> Result<Arc<RecipeBook>, EnvError> {
        static BOOK: OnceLock<Result<Arc<RecipeBook>, String>> = OnceLock::new();
        BOOK.get_or_init(|| {
            raw::from_compact("data/recipes.tsv (embedded)", EMBEDDED_RECIPES)
                .and_then(|raw| RecipeBook::from_raw(&raw))
                .map(Arc::new)
                .map_err(|error| error.to_string())
        })
        .clone()
        .map_err(|message| EnvError::data(NAME, "data/recipes.tsv (embedded)", message))
    }

    /// Loads a directory of Minecraft recipe JSON files (e.g. a game's `data/minecraft/recipes`).
    pub fn from_json_dir(dir: &Path) -> Result<RecipeBook, EnvError> {
        RecipeBook::from_raw(&raw::read_json_dir(dir)?)
    }

    /// Applies the loader's rules to recipe files given in load order.
    pub fn from_raw(files: &[RawRecipe]) -> Result<RecipeBook, EnvError> {
        let mut book = RecipeBook {
            names: Vec::new(),
            display: Vec::new(),
            lookup: NameTable::default(),
            is_item: Vec::new(),
            is_tag: Vec::new(),
            tag_of: Vec::new(),
            recipes: Vec::new(),
            item_recipes: Vec::new(),
            item_order: Vec::new(),
            tag_recipes: Vec::new(),
            min_depth: Vec::new(),
            goals: Vec::new(),
            uses: Vec::new(),
            skipped: Vec::new(),
            num_files: files.len(),
        };
        // The names each output was built from, transitively, as recorded at load time.
        let mut dependencies: HashMap<NameId, Vec<bool>> = HashMap::new();
        for file in files {
            let Some(crafting) = &file.crafting else {
                book.skipped
                    .push((file.file.clone(), SkipReason::NonCrafting));
                continue;
            };
            let mut inputs = Vec::with_capacity(crafting.inputs.len());
            for input in &crafting.inputs {
                let name = book.intern(&input.name);
                if input.is_tag {
                    book.is_tag[name.index()] = true;
                } else {
                    book.is_item[name.index()] = true;
                }
                inputs.push(Ingredient {
                    name,
                    is_tag: input.is_tag,
                    count: input.count,
                });
            }
            let output = book.intern(&crafting.output);
            book.is_item[output.index()] = true;
            if let [only] = crafting.inputs.as_slice()
                && only.name.ends_with("_block")
            {
                book.skipped
                    .push((file.file.clone(), SkipReason::SingleBlockInput));
                continue;
            }
            let output_tag = match &crafting.group {
                Some(group) => {
                    let tag = book.intern(&format!("minecraft:{group}"));
                    if tag != output {
                        book.is_tag[tag.index()] = true;
                        book.tag_of[output.index()] = Some(tag);
                    }
                    Some(tag)
                }
                None => None,
            };
            dependencies
                .entry(output)
                .or_insert_with(|| vec![false; book.names.len()]);
            let closes_cycle = inputs.iter().any(|input| {
                dependencies
                    .get(&input.name)
                    .is_some_and(|deps| deps.get(output.index()).copied().unwrap_or(false))
            });
            if closes_cycle {
                book.skipped.push((file.file.clone(), SkipReason::Cycle));
                continue;
            }
            let id = RecipeId(book.recipes.len() as u32);
            if book.item_recipes[output.index()].is_empty() {
                book.item_order.push(output);
            }
            book.item_recipes[output.index()].push(id);
            for input in &inputs {
                let mut merged = dependencies.get(&output).cloned().unwrap_or_default();
                let needed = book.names.len();
                merged.resize(needed, false);
                merged[input.name.index()] = true;
                if let Some(deps) = dependencies.get(&input.name) {
                    for (index, dep) in deps.iter().enumerate() {
                        if *dep {
                            merged[index] = true;
                        }
                    }
                }
                dependencies.insert(output, merged);
            }
            if let Some(tag) = output_tag {
                book.tag_recipes[tag.index()].push(id);
            }
            book.recipes.push(Recipe {
                file: file.file.clone(),
                output,
                output_tag,
                output_count: crafting.output_count,
                inputs,
                text: String::new(),
            });
        }
        book.convert_uncraftable_tags();
        for index in 0..book.recipes.len() {
            book.recipes[index].text = book.recipe_text(&book.recipes[index]);
        }
        book.compute_min_depths()?;
        book.compute_goals_and_uses();
        Ok(book)
    }

    fn intern(&mut self, name: &str) -> NameId {
        if let Some(id) = self.lookup.get(name) {
            return *id;
        }
        let id = NameId(self.names.len() as u32);
        self.names.push(name.to_owned());
        self.display.push(display_name(name));
        self.lookup.insert(name.to_owned(), id);
        self.is_item.push(false);
        self.is_tag.push(false);
        self.tag_of.push(None);
        self.item_recipes.push(Vec::new());
        self.tag_recipes.push(Vec::new());
        id
    }

    /// The reference's `clean_up_recipes`: a tag ingredient none of whose members has a recipe
    /// becomes an item of the same name (and the name leaves the tag set).
    fn convert_uncraftable_tags(&mut self) {
        let mut converted = vec![false; self.names.len()];
        for &item in &self.item_order {
            for &recipe in &self.item_recipes[item.index()] {
                for input in &self.recipes[recipe.index()].inputs {
                    if !input.is_tag {
                        continue;
                    }
                    let craftable_member = self.tag_of.iter().enumerate().any(|(member, tag)| {
                        *tag == Some(input.name) && !self.item_recipes[member].is_empty()
                    });
                    if !craftable_member {
                        converted[input.name.index()] = true;
                    }
                }
            }
        }
        for recipe in &mut self.recipes {
            for input in &mut recipe.inputs {
                if input.is_tag && converted[input.name.index()] {
                    input.is_tag = false;
                }
            }
        }
        for (index, converted) in converted.into_iter().enumerate() {
            if converted {
                self.is_item[index] = true;
                self.is_tag[index] = false;
            }
        }
    }

    fn recipe_text(&self, recipe: &Recipe) -> String {
        let mut text = format!(
            "craft {} {} using ",
            recipe.output_count,
            self.display[recipe.output.index()]
        );
        for (index, input) in recipe.inputs.iter().enumerate() {
            if index > 0 {
                text.push_str(", ");
            }
            text.push_str(&input.count.to_string());
            text.push(' ');
            text.push_str(&self.display[input.name.index()]);
        }
        if recipe.inputs.is_empty() {
            // The reference cuts the last two characters off "using " when there is no input.
            text.truncate(text.len() - 2);
        }
        text
    }

    /// The reference's `get_min_depth` for every name: 0 without recipes, else the minimum over
    /// recipes of the maximum over inputs of (input depth + 1).
    fn compute_min_depths(&mut self) -> Result<(), EnvError> {
        const UNKNOWN: u32 = u32::MAX;
        const IN_PROGRESS: u32 = u32::MAX - 1;
        let mut depth = vec![UNKNOWN; self.names.len()];
        for start in 0..self.names.len() {
            if depth[start] != UNKNOWN {
                continue;
            }
            // Iterative post-order DFS (a deep recipe chain cannot overflow the stack).
            let mut stack: Vec<(usize, bool)> = vec![(start, false)];
            while let Some((name, expanded)) = stack.pop() {
                let recipes = self.recipes_for_name(NameId(name as u32));
                if expanded {
                    let best = recipes
                        .iter()
                        .map(|recipe| {
                            self.recipes[recipe.index()]
                                .inputs
                                .iter()
                                .map(|input| depth[input.name.index()] + 1)
                                .max()
                                // A recipe without inputs: Python's max([]) raises; treat it
                                // as depth 1 so custom data cannot crash the loader.
                                .unwrap_or(1)
                        })
                        .min()
                        .unwrap_or(0);
                    depth[name] = best;
                    continue;
                }
                match depth[name] {
                    UNKNOWN => {}
                    IN_PROGRESS => {
                        return Err(EnvError::data(
                            NAME,
                            "recipes",
                            format!(
                                "crafting depth of {} is undefined: its recipes form a cycle",
                                self.names[name]
                            ),
                        ));
                    }
                    _ => continue,
                }
                depth[name] = IN_PROGRESS;
                stack.push((name, true));
                for recipe in recipes {
                    for input in &self.recipes[recipe.index()].inputs {
                        let input = input.name.index();
                        if depth[input] == IN_PROGRESS {
                            return Err(EnvError::data(
                                NAME,
                                "recipes",
                                format!(
                                    "crafting depth of {} is undefined: its recipes form a cycle \
                                     through {}",
                                    self.names[name], self.names[input]
                                ),
                            ));
                        }
                        if depth[input] == UNKNOWN {
                            stack.push((input, false));
                        }
                    }
                }
            }
        }
        self.min_depth = depth;
        Ok(())
    }

    fn compute_goals_and_uses(&mut self) {
        let mut goals = self.item_order.clone();
        // Stable: ties keep the order items first got a recipe (load order).
        goals.sort_by_key(|item| self.min_depth[item.index()]);
        self.goals = goals;
        let mut uses: Vec<Vec<RecipeId>> = vec![Vec::new(); self.names.len()];
        for (index, recipe) in self.recipes.iter().enumerate() {
            for input in &recipe.inputs {
                let list = &mut uses[input.name.index()];
                if list.last() != Some(&RecipeId(index as u32)) {
                    list.push(RecipeId(index as u32));
                }
            }
        }
        self.uses = uses;
    }

    /// The recipes the reference's tree walk follows for a name: the item's own recipes, or if it
    /// has none, the recipes of the tag's members.
    pub fn recipes_for_name(&self, name: NameId) -> &[RecipeId] {
        let own = &self.item_recipes[name.index()];
        if own.is_empty() {
            &self.tag_recipes[name.index()]
        } else {
            own
        }
    }

    /// Every recipe of `goal`'s recursive tree (all alternatives, tag inputs expanded to their
    /// members' recipes), each once, in breadth-first order.
    pub fn tree_recipes(&self, goal: NameId) -> Vec<RecipeId> {
        let mut seen_name = vec![false; self.names.len()];
        let mut seen_recipe = vec![false; self.recipes.len()];
        let mut queue = std::collections::VecDeque::from([goal]);
        seen_name[goal.index()] = true;
        let mut out = Vec::new();
        while let Some(name) = queue.pop_front() {
            for &recipe in self.recipes_for_name(name) {
                if !seen_recipe[recipe.index()] {
                    seen_recipe[recipe.index()] = true;
                    out.push(recipe);
                }
                for input in &self.recipes[recipe.index()].inputs {
                    if !seen_name[input.name.index()] {
                        seen_name[input.name.index()] = true;
                        queue.push_back(input.name);
                    }
                }
            }
        }
        out
    }

    /// The recipes that use `name` as an ingredient, in load order.
    pub fn uses(&self, name: NameId) -> &[RecipeId] {
        &self.uses[name.index()]
    }

    /// All loaded recipes, in load order.
    pub fn recipes(&self) -> &[Recipe] {
        &self.recipes
    }

    /// One recipe.
    pub fn recipe(&self, id: RecipeId) -> &Recipe {
        &self.recipes[id.index()]
    }

    /// The recipes that make item `item` (empty for base items and tags).
    pub fn item_recipes(&self, item: NameId) -> &[RecipeId] {
        &self.item_recipes[item.index()]
    }

    /// The recipes whose output carries tag `tag`.
    pub fn tag_recipes(&self, tag: NameId) -> &[RecipeId] {
        &self.tag_recipes[tag.index()]
    }

    /// Craftable items, in the order they first got a recipe.
    pub fn craftable_items(&self) -> &[NameId] {
        &self.item_order
    }

    /// The goals in task order: craftable items sorted by min depth, ties in load order.
    pub fn goals(&self) -> &[NameId] {
        &self.goals
    }

    /// The goal of task `index` (wrapping around, as the reference's `data_idx % len`).
    pub fn goal_for(&self, index: usize) -> Option<NameId> {
        if self.goals.is_empty() {
            None
        } else {
            Some(self.goals[index % self.goals.len()])
        }
    }

    /// The minimum crafting depth of an item or tag (0 for base items).
    pub fn min_depth(&self, name: NameId) -> u32 {
        self.min_depth[name.index()]
    }

    /// How many goals there are at each min depth: `(depth, count)`, ascending.
    pub fn depth_histogram(&self) -> Vec<(u32, usize)> {
        let mut histogram: Vec<(u32, usize)> = Vec::new();
        for goal in &self.goals {
            let depth = self.min_depth(*goal);
            match histogram.last_mut() {
                Some((last, count)) if *last == depth => *count += 1,
                _ => histogram.push((depth, 1)),
            }
        }
        histogram
    }

    /// Every interned name (items and tags), in first-seen order.
    pub fn names(&self) -> impl Iterator<Item = NameId> + '_ {
        (0..self.names.len() as u32).map(NameId)
    }

    /// The full id or tag, e.g. `minecraft:oak_planks`.
    pub fn name(&self, id: NameId) -> &str {
        &self.names[id.index()]
    }

    /// The name the agent sees and types, e.g. `oak planks`.
    pub fn display(&self, id: NameId) -> &str {
        &self.display[id.index()]
    }

    /// Looks up a full id or tag.
    pub fn lookup(&self, name: &str) -> Option<NameId> {
        self.lookup.get(name).copied()
    }

    /// Whether `name` is in the reference's item set (anything that can sit in an inventory).
    pub fn is_item(&self, name: NameId) -> bool {
        self.is_item[name.index()]
    }

    /// Whether `name` is in the reference's tag set.
    pub fn is_tag(&self, name: NameId) -> bool {
        self.is_tag[name.index()]
    }

    /// The reference's `is_craftable`: the name has item recipes or tag recipes.
    pub fn is_craftable(&self, name: NameId) -> bool {
        !self.item_recipes[name.index()].is_empty() || !self.tag_recipes[name.index()].is_empty()
    }

    /// Whether the agent can `get` this item: an item that is neither craftable nor a tag.
    pub fn is_base_item(&self, name: NameId) -> bool {
        self.is_item(name) && !self.is_craftable(name) && !self.is_tag(name)
    }

    /// The tag an item belongs to (its last recipe group that differs from its id).
    pub fn tag_of(&self, item: NameId) -> Option<NameId> {
        self.tag_of[item.index()]
    }

    /// The items whose tag is `tag`.
    pub fn members(&self, tag: NameId) -> impl Iterator<Item = NameId> + '_ {
        self.tag_of
            .iter()
            .enumerate()
            .filter(move |(_, t)| **t == Some(tag))
            .map(|(index, _)| NameId(index as u32))
    }

    /// Files that did not become recipes, with the reason, in load order.
    pub fn skipped(&self) -> &[(String, SkipReason)] {
        &self.skipped
    }

    /// How many recipe files were read.
    pub fn num_files(&self) -> usize {
        self.num_files
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::{RawCrafting, RawInput};

    fn crafting(
        file: &str,
        output: &str,
        group: Option<&str>,
        inputs: &[(&str, bool, u32)],
    ) -> RawRecipe {
        RawRecipe {
            file: file.into(),
            recipe_type: raw::SHAPELESS.into(),
            crafting: Some(RawCrafting {
                group: group.map(Into::into),
                output: output.into(),
                output_count: 1,
                inputs: inputs
                    .iter()
                    .map(|(name, is_tag, count)| RawInput {
                        is_tag: *is_tag,
                        name: (*name).into(),
                        count: *count,
                    })
                    .collect(),
            }),
        }
    }

    #[test]
    fn cycles_and_block_recipes_are_skipped() {
        let book = RecipeBook::from_raw(&[
            crafting("a.json", "m:ingot", None, &[("m:nugget", false, 9)]),
            crafting("b.json", "m:nugget", None, &[("m:ingot", false, 1)]),
            crafting("c.json", "m:ingot", None, &[("m:ingot_block", false, 1)]),
        ])
        .unwrap();
        assert_eq!(book.recipes().len(), 1);
        assert_eq!(
            book.skipped(),
            [
                ("b.json".to_owned(), SkipReason::Cycle),
                ("c.json".to_owned(), SkipReason::SingleBlockInput)
            ]
        );
        assert_eq!(book.recipes()[0].text, "craft 1 m:ingot using 9 m:nugget");
    }

    #[test]
    fn uncraftable_tags_become_items() {
        let book = RecipeBook::from_raw(&[
            crafting(
                "p.json",
                "minecraft:oak_planks",
                Some("planks"),
                &[("minecraft:oak_logs", true, 1)],
            ),
            crafting(
                "s.json",
                "minecraft:stick",
                None,
                &[("minecraft:planks", true, 2)],
            ),
        ])
        .unwrap();
        let logs = book.lookup("minecraft:oak_logs").unwrap();
        let planks = book.lookup("minecraft:planks").unwrap();
        assert!(book.is_base_item(logs));
        assert!(book.is_tag(planks));
        assert!(!book.recipes()[0].inputs[0].is_tag);
        assert!(book.recipes()[1].inputs[0].is_tag);
        let stick = book.lookup("minecraft:stick").unwrap();
        assert_eq!(book.min_depth(stick), 2);
        assert_eq!(book.tree_recipes(stick).len(), 2);
        assert_eq!(book.goals().len(), 2);
        assert_eq!(book.depth_histogram(), [(1, 1), (2, 1)]);
    }
}
