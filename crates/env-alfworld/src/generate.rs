//! The default task set: procedurally generated ALFRED-like games.
//!
//! The real ALFWorld games (3,553 ALFRED scenes) are a download these machines cannot reach, so
//! games are generated from alfworld's own facts (`data/vocab.json`): the room type, receptacle
//! inventory and object types of a real ALFRED floor plan; objects placed only where ALFRED's
//! `VAL_RECEPTACLE_OBJECTS` allows; goals of the six task types with goal_library's PDDL goals
//! and goal sentences; and the task-type mix of AgentGym's train (2,420) and test (200) sets.
//! Each game is written as a PDDL problem in ALFRED's id style (`Mug|+01.20|+00.90|-02.10`,
//! `loc|7|-5|2|30`) and loaded by the same loader as real game files.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use crossgym_env_core::{EnvError, Result, TaskId, TaskSplit};

use crate::NAME;
use crate::game::Game;

const VOCAB: &str = include_str!("../data/vocab.json");
const DOMAIN: &str = include_str!("../data/alfred.pddl");
const GRAMMAR: &str = include_str!("../data/alfred.twl2");

/// The six ALFWorld task types, in alfworld's numbering order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskType {
    /// `pick_and_place_simple`.
    PickAndPlace,
    /// `look_at_obj_in_light`.
    LookAtObjInLight,
    /// `pick_clean_then_place_in_recep`.
    PickCleanThenPlace,
    /// `pick_heat_then_place_in_recep`.
    PickHeatThenPlace,
    /// `pick_cool_then_place_in_recep`.
    PickCoolThenPlace,
    /// `pick_two_obj_and_place`.
    PickTwoObjAndPlace,
}

impl TaskType {
    /// All six.
    pub const ALL: [TaskType; 6] = [
        TaskType::PickAndPlace,
        TaskType::LookAtObjInLight,
        TaskType::PickCleanThenPlace,
        TaskType::PickHeatThenPlace,
        TaskType::PickCoolThenPlace,
        TaskType::PickTwoObjAndPlace,
    ];

    /// alfworld's name.
    pub fn name(self) -> &'static str {
        match self {
            TaskType::PickAndPlace => "pick_and_place_simple",
            TaskType::LookAtObjInLight => "look_at_obj_in_light",
            TaskType::PickCleanThenPlace => "pick_clean_then_place_in_recep",
            TaskType::PickHeatThenPlace => "pick_heat_then_place_in_recep",
            TaskType::PickCoolThenPlace => "pick_cool_then_place_in_recep",
            TaskType::PickTwoObjAndPlace => "pick_two_obj_and_place",
        }
    }

    /// Games of this type in AgentGym's train and test sets (from its mapping files).
    pub fn agentgym_counts(self) -> (usize, usize) {
        match self {
            TaskType::PickAndPlace => (672, 46),
            TaskType::LookAtObjInLight => (196, 19),
            TaskType::PickCleanThenPlace => (448, 37),
            TaskType::PickHeatThenPlace => (321, 25),
            TaskType::PickCoolThenPlace => (394, 28),
            TaskType::PickTwoObjAndPlace => (389, 45),
        }
    }

    /// The appliance type the object must visit, if any.
    fn appliance(self) -> Option<&'static str> {
        match self {
            TaskType::PickCleanThenPlace => Some("SinkBasin"),
            TaskType::PickHeatThenPlace => Some("Microwave"),
            TaskType::PickCoolThenPlace => Some("Fridge"),
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize)]
struct Vocab {
    object_types: Items<Vec<ObjectType>>,
    receptacle_types: Items<Vec<ReceptacleType>>,
    movable_receptacles: Items<Vec<String>>,
    openable_class_list: Items<Vec<String>>,
    floorplans: Items<BTreeMap<String, FloorPlan>>,
    task_types: Items<BTreeMap<String, TaskTypeFacts>>,
}

#[derive(Debug, Deserialize)]
struct Items<T> {
    items: T,
}

/// A vocabulary entry looked up by its type name.
trait Named {
    fn name(&self) -> &str;
}

impl<T: Named> Items<Vec<T>> {
    /// The entry of type `name`, if the vocabulary has one.
    fn named(&self, name: &str) -> Option<&T> {
        self.items.iter().find(|item| item.name() == name)
    }
}

#[derive(Debug, Deserialize)]
struct ObjectType {
    #[serde(rename = "type")]
    name: String,
    placeable: bool,
    heatable: bool,
    coolable: bool,
    cleanable: bool,
    toggleable: bool,
    sliceable: bool,
    valid_receptacles: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ReceptacleType {
    #[serde(rename = "type")]
    name: String,
    can_contain: Vec<String>,
}

impl Named for ObjectType {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Named for ReceptacleType {
    fn name(&self) -> &str {
        &self.name
    }
}

#[derive(Debug, Deserialize)]
struct FloorPlan {
    room_type: String,
    split: String,
    receptacle_counts_layout: BTreeMap<String, usize>,
    receptacle_types_present: Vec<String>,
    object_types_present: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct TaskTypeFacts {
    templates: Vec<String>,
    pddl_goal: String,
    valid_room_types: Vec<String>,
    agentgym_obj_recep_combos: BTreeMap<String, SplitCount>,
}

#[derive(Debug, Deserialize)]
struct SplitCount {
    train: usize,
    test: usize,
}

/// What a generated game asks for (alfworld's `pddl_params`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskParams {
    /// The task type.
    pub task_type: TaskType,
    /// The object type (`Mug`).
    pub object: String,
    /// The receptacle type (`Cabinet`) or, for look_at, the lamp (`DeskLamp`).
    pub target: String,
    /// The floor plan the scene follows (`FloorPlan301`).
    pub floorplan: String,
    /// The goal sentence.
    pub goal_text: String,
}

/// A generated game: parameters, PDDL problem and the loaded game.
#[derive(Clone, Debug)]
pub struct GeneratedGame {
    /// What the game asks for.
    pub params: TaskParams,
    /// The PDDL problem text (ALFRED's `initial_state.pddl` style, with the goal).
    pub problem: String,
    /// The task line of the grammar (`Your task is to: …`).
    pub task_line: String,
}

impl GeneratedGame {
    /// The game file in ALFWorld's `game.tw-pddl` format (domain and grammar of alfworld 0.3.3).
    pub fn tw_pddl_json(&self) -> String {
        let grammar = GRAMMAR.replace("UNKNOWN GOAL", &self.params.goal_text);
        serde_json::json!({
            "pddl_domain": DOMAIN,
            "grammar": grammar,
            "pddl_problem": self.problem,
            "solvable": true,
            "walkthrough": serde_json::Value::Null,
        })
        .to_string()
    }
}

/// The procedural task set: `num_tasks` games, a seeded split, and per-task types with the exact
/// train/test mix of AgentGym's ALFWorld data.
#[derive(Clone, Debug)]
pub struct Generator {
    seed: u64,
    split: TaskSplit,
    types: Vec<TaskType>,
    vocab: std::sync::Arc<Vocab>,
}

/// The default seed of the task set.
pub const DEFAULT_SEED: u64 = 20_260_501;

impl Generator {
    /// The default task set: 2,420 train + 200 test games (the paper's Table 5).
    pub fn standard() -> Result<Generator> {
        Generator::new(DEFAULT_SEED)
    }

    /// A task set of 2,420 + 200 games from `seed`.
    pub fn new(seed: u64) -> Result<Generator> {
        let vocab: Vocab = serde_json::from_str(VOCAB)
            .map_err(|e| EnvError::data(NAME, "data/vocab.json", e.to_string()))?;
        let (n_train, n_test) = TaskType::ALL
            .iter()
            .map(|t| t.agentgym_counts())
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d));
        let split = TaskSplit::seeded(NAME, n_train + n_test, n_train, n_test, seed)?;
        let mut types = vec![TaskType::PickAndPlace; n_train + n_test];
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7a5c_7e9e);
        for (ids, pick) in [(split.train(), 0usize), (split.test(), 1)] {
            let mut mix: Vec<TaskType> = TaskType::ALL
                .iter()
                .flat_map(|&t| {
                    let (train, test) = t.agentgym_counts();
                    std::iter::repeat_n(t, if pick == 0 { train } else { test })
                })
                .collect();
            rand::seq::SliceRandom::shuffle(mix.as_mut_slice(), &mut rng);
            for (id, t) in ids.iter().zip(mix) {
                types[id.0] = t;
            }
        }
        Ok(Generator {
            seed,
            split,
            types,
            vocab: std::sync::Arc::new(vocab),
        })
    }

    /// How many games.
    pub fn num_tasks(&self) -> usize {
        self.types.len()
    }

    /// The train/test split (disjoint, deterministic).
    pub fn split(&self) -> Result<TaskSplit> {
        Ok(self.split.clone())
    }

    /// The task type of `task`.
    pub fn task_type(&self, task: TaskId) -> Option<TaskType> {
        self.types.get(task.0).copied()
    }

    /// The loaded game of `task`.
    pub fn game(&self, task: TaskId) -> Result<Game> {
        let generated = self.generate(task)?;
        Game::from_problem(&generated.problem, generated.task_line)
            .map_err(|m| EnvError::task(NAME, task, format!("generated problem: {m}")))
    }

    /// Generates `task`: deterministic in the generator's seed and the task id.
    pub fn generate(&self, task: TaskId) -> Result<GeneratedGame> {
        let task_type = self
            .task_type(task)
            .ok_or_else(|| EnvError::task(NAME, task, "no such task"))?;
        let test = self.split.test().binary_search(&task).is_ok();
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(task.0 as u64 + 1);
        for _ in 0..64 {
            if let Some(game) = self.try_generate(task, task_type, test, &mut rng) {
                return Ok(game);
            }
        }
        Err(EnvError::task(
            NAME,
            task,
            format!("no feasible scene found for {}", task_type.name()),
        ))
    }

    fn object_type(&self, name: &str) -> Option<&ObjectType> {
        self.vocab.object_types.named(name)
    }

    fn receptacle_type(&self, name: &str) -> Option<&ReceptacleType> {
        self.vocab.receptacle_types.named(name)
    }

    fn try_generate(
        &self,
        task: TaskId,
        task_type: TaskType,
        test: bool,
        rng: &mut ChaCha8Rng,
    ) -> Option<GeneratedGame> {
        let facts = self.vocab.task_types.items.get(task_type.name())?;
        // (object, receptacle-or-lamp) weighted by how often AgentGym's split has it.
        let combos: Vec<(&str, &str, usize)> = facts
            .agentgym_obj_recep_combos
            .iter()
            .filter_map(|(key, count)| {
                let (o, r) = key.split_once('|')?;
                let weight = if test { count.test } else { count.train };
                (weight > 0 && !o.ends_with("Sliced")).then_some((o, r, weight))
            })
            .collect();
        let &(object, target, _) = combos.choose_weighted(rng, |c| c.2).ok()?;
        let look = task_type == TaskType::LookAtObjInLight;
        let wanted_split = if test { "test" } else { "train" };
        let obj_info = self.object_type(object)?;
        let plans: Vec<(&String, &FloorPlan)> = self
            .vocab
            .floorplans
            .items
            .iter()
            .filter(|(_, fp)| {
                fp.split == wanted_split
                    && facts.valid_room_types.contains(&fp.room_type)
                    && task_type
                        .appliance()
                        .is_none_or(|a| fp.receptacle_types_present.iter().any(|r| r == a))
                    && if look {
                        fp.receptacle_types_present
                            .iter()
                            .any(|r| LAMP_HOLDERS.contains(&r.as_str()))
                    } else {
                        fp.receptacle_types_present.iter().any(|r| r == target)
                    }
                    && fp.receptacle_types_present.iter().any(|r| {
                        r != target
                            && Some(r.as_str()) != task_type.appliance()
                            && obj_info.valid_receptacles.contains(r)
                    })
            })
            .collect();
        let &(plan_name, plan) = plans.choose(rng)?;
        let template = facts.templates.choose(rng)?;
        let goal_text = template
            .replace("{obj}", &object.to_lowercase())
            .replace("{recep}", &target.to_lowercase())
            .replace("{toggle}", &target.to_lowercase());
        let goal = facts
            .pddl_goal
            .replace("{obj}", object)
            .replace("{recep}", target)
            .replace("{toggle}", target);
        let scene = self.scene(plan, task_type, object, target, rng)?;
        let problem = scene.problem(&format!("gen_{}", task.0), &goal);
        Some(GeneratedGame {
            params: TaskParams {
                task_type,
                object: object.to_owned(),
                target: target.to_owned(),
                floorplan: plan_name.clone(),
                goal_text: goal_text.clone(),
            },
            problem,
            task_line: format!("Your task is to: {goal_text}."),
        })
    }

    fn scene(
        &self,
        plan: &FloorPlan,
        task_type: TaskType,
        object: &str,
        target: &str,
        rng: &mut ChaCha8Rng,
    ) -> Option<Scene> {
        let mut scene = Scene::default();
        let mut used_ids = HashSet::new();
        // Receptacles of the floor plan: layout counts, 4 stove burners, else 1.
        for rtype in &plan.receptacle_types_present {
            if self.receptacle_type(rtype).is_none() {
                continue;
            }
            let count = plan
                .receptacle_counts_layout
                .get(rtype)
                .copied()
                .unwrap_or(if rtype == "StoveBurner" { 4 } else { 1 });
            for _ in 0..count {
                let id = fresh_id(rtype, rng, &mut used_ids);
                // Drawers and cabinets sometimes share a pose with the previous one, as real
                // layouts do.
                let share = matches!(rtype.as_str(), "Drawer" | "Cabinet" | "Shelf")
                    && !scene.receptacles.is_empty()
                    && rng.random_bool(0.12);
                let location = if share {
                    scene.receptacles[scene.receptacles.len() - 1].2.clone()
                } else {
                    fresh_location(rng, &mut used_ids)
                };
                scene.receptacles.push((id, rtype.clone(), location));
            }
        }
        scene.start = fresh_location(rng, &mut used_ids);
        let look = task_type == TaskType::LookAtObjInLight;
        // Objects of the floor plan (and the goal object), 1-3 of each, in allowed receptacles.
        let mut types: BTreeSet<&str> = plan
            .object_types_present
            .iter()
            .map(String::as_str)
            .filter(|t| self.object_type(t).is_some_and(|o| o.placeable))
            .collect();
        types.insert(object);
        for otype in types {
            let info = self.object_type(otype)?;
            let goal_object = otype == object;
            let hosts: Vec<usize> = scene
                .receptacles
                .iter()
                .enumerate()
                .filter(|(_, (_, rtype, _))| {
                    info.valid_receptacles.contains(rtype)
                        && !(goal_object
                            && (rtype == target || Some(rtype.as_str()) == task_type.appliance()))
                })
                .map(|(i, _)| i)
                .collect();
            if hosts.is_empty() {
                if goal_object {
                    return None;
                }
                continue;
            }
            let min = if goal_object && task_type == TaskType::PickTwoObjAndPlace {
                2
            } else {
                1
            };
            let count = rng.random_range(min..=3usize.max(min));
            for _ in 0..count {
                let host = *hosts.choose(rng)?;
                let id = fresh_id(otype, rng, &mut used_ids);
                scene.objects.push((id, otype.to_owned(), host));
            }
        }
        // Lamps: a desk lamp on a desk, side table or dresser (always one for look_at tasks).
        let lamp_hosts: Vec<usize> = scene
            .receptacles
            .iter()
            .enumerate()
            .filter(|(_, (_, r, _))| LAMP_HOLDERS.contains(&r.as_str()))
            .map(|(i, _)| i)
            .collect();
        let has_lamp = plan.object_types_present.iter().any(|t| t == "DeskLamp");
        if look || (has_lamp && !lamp_hosts.is_empty()) {
            let host = *lamp_hosts.choose(rng)?;
            let id = fresh_id("DeskLamp", rng, &mut used_ids);
            scene.objects.push((id, "DeskLamp".to_owned(), host));
        }
        scene.finish(self);
        Some(scene)
    }
}

/// Receptacle types a desk lamp stands on.
const LAMP_HOLDERS: [&str; 3] = ["Desk", "SideTable", "Dresser"];

fn coordinate(rng: &mut ChaCha8Rng) -> String {
    let value: i32 = rng.random_range(-300..=300);
    if value == 0 {
        "00.00".to_owned()
    } else {
        let sign = if value < 0 { '-' } else { '+' };
        let abs = value.unsigned_abs();
        format!("{sign}{:02}.{:02}", abs / 100, abs % 100)
    }
}

fn fresh_id(otype: &str, rng: &mut ChaCha8Rng, used: &mut HashSet<String>) -> String {
    loop {
        let (x, y, z) = (coordinate(rng), coordinate(rng), coordinate(rng));
        let id = match otype {
            "SinkBasin" => format!("Sink|{x}|{y}|{z}|SinkBasin"),
            "BathtubBasin" => format!("Bathtub|{x}|{y}|{z}|BathtubBasin"),
            _ => format!("{otype}|{x}|{y}|{z}"),
        };
        if used.insert(id.to_lowercase()) {
            return id;
        }
    }
}

fn fresh_location(rng: &mut ChaCha8Rng, used: &mut HashSet<String>) -> String {
    loop {
        let x: i32 = rng.random_range(-15..=15);
        let z: i32 = rng.random_range(-15..=15);
        let rot: i32 = rng.random_range(0..4);
        let horizon = *[0, 15, 30, 45, 60].choose(rng).unwrap_or(&30);
        let id = format!("loc|{x}|{z}|{rot}|{horizon}");
        if used.insert(id.clone()) {
            return id;
        }
    }
}

/// ALFRED's `fix_pddl_str_chars`.
fn mangle(id: &str) -> String {
    id.replace('|', "_bar_")
        .replace('-', "_minus_")
        .replace('+', "_plus_")
        .replace('.', "_dot_")
}

#[derive(Debug, Default)]
struct Scene {
    /// (id, type, location id)
    receptacles: Vec<(String, String, String)>,
    /// (id, type, receptacle index)
    objects: Vec<(String, String, usize)>,
    start: String,
    init: Vec<String>,
    otypes: BTreeSet<String>,
    rtypes: BTreeSet<String>,
}

impl Scene {
    fn finish(&mut self, generator: &Generator) {
        let vocab = &generator.vocab;
        let mut init = vec![format!("(atLocation agent1 {})", mangle(&self.start))];
        for (id, rtype, loc) in &self.receptacles {
            let (id, loc) = (mangle(id), mangle(loc));
            self.rtypes.insert(rtype.clone());
            init.push(format!("(receptacleType {id} {rtype}Type)"));
            init.push(format!("(receptacleAtLocation {id} {loc})"));
            if vocab.openable_class_list.items.contains(rtype) {
                init.push(format!("(openable {id})"));
            }
        }
        for (id, otype, host) in &self.objects {
            let Some(info) = generator.object_type(otype) else {
                continue;
            };
            let (rid, _, loc) = &self.receptacles[*host];
            let id = mangle(id);
            self.otypes.insert(otype.clone());
            init.push(format!("(objectType {id} {otype}Type)"));
            init.push(format!("(objectAtLocation {id} {})", mangle(loc)));
            init.push(format!("(inReceptacle {id} {})", mangle(rid)));
            let flags = [
                (info.placeable, "pickupable"),
                (
                    vocab.movable_receptacles.items.contains(otype),
                    "isReceptacleObject",
                ),
                (info.cleanable, "cleanable"),
                (info.heatable, "heatable"),
                (info.coolable, "coolable"),
                (info.toggleable, "toggleable"),
                (info.sliceable, "sliceable"),
            ];
            for (on, pred) in flags {
                if on {
                    init.push(format!("({pred} {id})"));
                }
            }
        }
        for rtype in &self.rtypes {
            if let Some(info) = generator.receptacle_type(rtype) {
                for otype in &self.otypes {
                    if info.can_contain.contains(otype) {
                        init.push(format!("(canContain {rtype}Type {otype}Type)"));
                    }
                }
            }
        }
        self.init = init;
    }

    fn problem(&self, name: &str, goal: &str) -> String {
        let mut out = String::with_capacity(32 * 1024);
        let _ = writeln!(
            out,
            "(define (problem plan_{name})\n(:domain alfred)\n(:objects"
        );
        out.push_str("        agent1 - agent\n");
        // Goal types must be declared even when no instance exists.
        for otype in &self.otypes {
            let _ = writeln!(out, "        {otype}Type - otype");
        }
        for rtype in &self.rtypes {
            let _ = writeln!(out, "        {rtype}Type - rtype");
        }
        for (id, _, _) in &self.objects {
            let _ = writeln!(out, "        {} - object", mangle(id));
        }
        for (id, _, _) in &self.receptacles {
            let _ = writeln!(out, "        {} - receptacle", mangle(id));
        }
        let locations: BTreeSet<&String> = self
            .receptacles
            .iter()
            .map(|(_, _, l)| l)
            .chain([&self.start])
            .collect();
        for loc in locations {
            let _ = writeln!(out, "        {} - location", mangle(loc));
        }
        out.push_str("        )\n(:init\n");
        for fact in &self.init {
            let _ = writeln!(out, "        {fact}");
        }
        // goal_library's goals carry the `)` that closes `(define …`.
        let balance = goal.matches('(').count() as isize - goal.matches(')').count() as isize;
        let _ = writeln!(out, "        )\n{goal}");
        for _ in 0..balance + 1 {
            out.push_str(")\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_matches_agentgym_and_generation_is_deterministic() {
        let generator = Generator::standard().unwrap();
        assert_eq!(generator.split.train().len(), 2420);
        assert_eq!(generator.split.test().len(), 200);
        for t in TaskType::ALL {
            let (train, test) = t.agentgym_counts();
            let count = |ids: &[TaskId]| {
                ids.iter()
                    .filter(|id| generator.task_type(**id) == Some(t))
                    .count()
            };
            assert_eq!(count(generator.split.train()), train, "{t:?}");
            assert_eq!(count(generator.split.test()), test, "{t:?}");
        }
        let a = generator.generate(TaskId(5)).unwrap();
        let b = generator.generate(TaskId(5)).unwrap();
        assert_eq!(a.problem, b.problem);
        assert_eq!(a.params, b.params);
    }

    #[test]
    fn exported_game_file_loads_back() {
        let generator = Generator::standard().unwrap();
        let generated = generator.generate(TaskId(11)).unwrap();
        let game = Game::from_tw_pddl("generated", &generated.tw_pddl_json()).unwrap();
        assert_eq!(game.task_line, generated.task_line);
    }
}
