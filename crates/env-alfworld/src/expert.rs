//! An expert that solves ALFWorld games through the admissible commands (for demonstrations
//! and tests).
//!
//! It reads what the goal asks for from the goal formula ([`TaskSpec::infer`]), then acts
//! closed-loop on the engine's state: fetch a wanted object (go to its receptacle, open it, take
//! it), visit the appliance if the goal needs it hot, cool or clean, and put it in a receptacle of
//! the goal type, or carry it to the desk lamp and switch that on. Every command it issues is an
//! admissible one.

use std::sync::Arc;

use crossgym_env_core::parse::react_reply;
use crossgym_env_core::{Oracle, Result, TaskId};

use crate::AlfWorldEnv;
use crate::engine::{Action, Engine};
use crate::env::MAX_STEPS;
use crate::game::Game;
use crate::goal::{Formula, Term};
use crate::world::{Kind, Pred, obj_flag, obj_state};

/// What a goal asks for, in the game's type indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskSpec {
    /// The object type (otype index).
    pub object: u16,
    /// The receptacle type to put it in (rtype index), for place tasks.
    pub receptacle: Option<u16>,
    /// The lamp type (otype index), for look_at tasks.
    pub lamp: Option<u16>,
    /// Required object state: `obj_state::HOT`, `COOL` or `CLEAN` (0 for none).
    pub state: u8,
    /// Two distinct objects are needed (pick_two).
    pub two: bool,
}

impl TaskSpec {
    /// Reads the goal_library shape of a goal: `objectType ?o XType`, `receptacleType ?r YType`,
    /// `isHot/isCool/isClean ?o`, `isToggled ?lamp`, `(not (= ?o1 ?o2))`.
    pub fn infer(game: &Game) -> Option<TaskSpec> {
        let mut object_types: Vec<(usize, u16)> = Vec::new();
        let mut receptacle = None;
        let mut toggled_vars = Vec::new();
        let mut state = 0u8;
        let mut two = false;
        visit(&game.goal, &mut |f| match f {
            Formula::Atom(Pred::ObjectType, terms) => {
                if let [Term::Var(v), Term::Const(t)] = terms.as_slice() {
                    object_types.push((*v, t.index));
                }
            }
            Formula::Atom(Pred::ReceptacleType, terms) => {
                if let [_, Term::Const(t)] = terms.as_slice() {
                    receptacle = Some(t.index);
                }
            }
            Formula::Atom(Pred::ObjState(flag), terms) => {
                if *flag == obj_state::TOGGLED {
                    if let [Term::Var(v)] = terms.as_slice() {
                        toggled_vars.push(*v);
                    }
                } else if matches!(*flag, obj_state::HOT | obj_state::COOL | obj_state::CLEAN) {
                    state |= flag;
                }
            }
            Formula::Eq(..) => two = true,
            _ => {}
        });
        let lamp = object_types
            .iter()
            .find(|(v, _)| toggled_vars.contains(v))
            .map(|(_, t)| *t);
        let object = object_types
            .iter()
            .map(|(_, t)| *t)
            .find(|t| Some(*t) != lamp)?;
        Some(TaskSpec {
            object,
            receptacle: if lamp.is_some() { None } else { receptacle },
            lamp,
            state,
            two,
        })
    }
}

fn visit(formula: &Formula, f: &mut impl FnMut(&Formula)) {
    f(formula);
    match formula {
        Formula::Not(inner) => visit(inner, f),
        Formula::And(items) | Formula::Or(items) => items.iter().for_each(|i| visit(i, f)),
        Formula::Imply(a, b) => {
            visit(a, f);
            visit(b, f);
        }
        Formula::Exists { checks, .. } => checks.iter().flatten().for_each(|i| visit(i, f)),
        Formula::Forall { body, .. } => visit(body, f),
        Formula::True | Formula::Atom(..) | Formula::Eq(..) => {}
    }
}

/// The expert's next command in the engine's current state, if it knows one.
pub fn next_command(engine: &Engine, spec: &TaskSpec) -> Option<String> {
    let w = &engine.game().world;
    let st = engine.state();
    let here = st.location()?;
    let admissible = |action: Action| {
        engine
            .commands()
            .iter()
            .find(|(_, a)| *a == action)
            .map(|(c, _)| c.clone())
    };
    let rec_loc = |r: u16| w.rec_locs[r as usize].first().copied();
    // Go to r, or open it, or None when it is at hand.
    let reach = |r: u16| -> Option<Option<String>> {
        let loc = rec_loc(r)?;
        if loc != here {
            return Some(Some(admissible(Action::Goto { to: loc, r })?));
        }
        if w.rec_openable[r as usize] && !st.opened[r as usize] {
            return Some(Some(admissible(Action::Open(r))?));
        }
        Some(None)
    };
    let of_type = |o: u16, t: u16| w.obj_types[o as usize].contains(&t);
    let objects = 0..w.of(Kind::Object).len() as u16;
    let receptacles = 0..w.of(Kind::Receptacle).len() as u16;

    if let Some(lamp_type) = spec.lamp {
        if let Some(&held) = st.held.first().filter(|&&o| of_type(o, spec.object)) {
            let _ = held;
            let (lamp, r) = objects.clone().find_map(|o| {
                (of_type(o, lamp_type) && w.obj_has(o, obj_flag::TOGGLEABLE))
                    .then(|| st.in_recep[o as usize].first().map(|&r| (o, r)))
                    .flatten()
            })?;
            let loc = rec_loc(r)?;
            if loc != here {
                return admissible(Action::Goto { to: loc, r });
            }
            return admissible(Action::Toggle { o: lamp, r });
        }
        return fetch(engine, spec, None, &reach, &admissible);
    }

    let rtype = spec.receptacle?;
    let mut targets: Vec<u16> = receptacles
        .filter(|&r| w.rec_types[r as usize].contains(&rtype))
        .collect();
    // Prefer the target that already holds the most wanted objects (pick_two).
    let count_in = |r: u16| {
        objects
            .clone()
            .filter(|&o| of_type(o, spec.object) && st.in_recep[o as usize].contains(&r))
            .count()
    };
    targets.sort_by_key(|&r| std::cmp::Reverse(count_in(r)));
    let target = *targets.first()?;
    if let Some(&held) = st.held.first() {
        if !of_type(held, spec.object) {
            return None;
        }
        for (flag, appliance, act) in [
            (
                obj_state::HOT,
                w.microwave_type,
                Action::Heat { o: held, r: 0 },
            ),
            (
                obj_state::COOL,
                w.fridge_type,
                Action::Cool { o: held, r: 0 },
            ),
            (
                obj_state::CLEAN,
                w.sink_type,
                Action::Clean { o: held, r: 0 },
            ),
        ] {
            if spec.state & flag != 0 && !st.obj_is(held, flag) {
                let r =
                    (0..w.of(Kind::Receptacle).len() as u16).find(|&r| w.rec_is(r, appliance))?;
                let loc = rec_loc(r)?;
                if loc != here {
                    return admissible(Action::Goto { to: loc, r });
                }
                let act = match act {
                    Action::Heat { o, .. } => Action::Heat { o, r },
                    Action::Cool { o, .. } => Action::Cool { o, r },
                    Action::Clean { o, .. } => Action::Clean { o, r },
                    other => other,
                };
                return admissible(act);
            }
        }
        if let Some(step) = reach(target)? {
            return Some(step);
        }
        return admissible(Action::Put { o: held, r: target });
    }
    fetch(engine, spec, Some(target), &reach, &admissible)
}

/// Go to, open, or take from the receptacle of a wanted object not already in `target`.
fn fetch(
    engine: &Engine,
    spec: &TaskSpec,
    target: Option<u16>,
    reach: &dyn Fn(u16) -> Option<Option<String>>,
    admissible: &dyn Fn(Action) -> Option<String>,
) -> Option<String> {
    let w = &engine.game().world;
    let st = engine.state();
    let here = st.location()?;
    let near = |r: u16| w.rec_locs[r as usize].first() == Some(&here);
    let mut candidates: Vec<(u16, u16)> = (0..w.of(Kind::Object).len() as u16)
        .filter(|&o| {
            w.obj_types[o as usize].contains(&spec.object) && w.obj_has(o, obj_flag::PICKUPABLE)
        })
        .filter_map(|o| {
            let r = *st.in_recep[o as usize].first()?;
            (Some(r) != target).then_some((o, r))
        })
        .collect();
    // Prefer objects at hand.
    candidates.sort_by_key(|&(_, r)| !near(r));
    let &(o, r) = candidates.first()?;
    if let Some(step) = reach(r)? {
        return Some(step);
    }
    admissible(Action::Take { o, r })
}

/// Plays `game` with the expert from its initial state; the commands of a won episode within
/// [`MAX_STEPS`], or `None` when the expert gets stuck or runs out of steps.
pub fn solve(game: &Arc<Game>) -> Option<Vec<String>> {
    let spec = TaskSpec::infer(game)?;
    let mut engine = Engine::new(game.clone());
    let mut commands = Vec::new();
    while commands.len() < MAX_STEPS {
        let command = next_command(&engine, &spec)?;
        engine.execute(&command)?;
        commands.push(command);
        if engine.won() {
            return Some(commands);
        }
    }
    None
}

impl Oracle for AlfWorldEnv {
    /// [`solve`]'s commands, each with a short thought by its verb; the first also states the
    /// task.
    fn demonstrate(&mut self, task: TaskId, max_turns: usize) -> Result<Option<Vec<String>>> {
        let game = self.game(task)?;
        let Some(commands) = solve(&game) else {
            return Ok(None);
        };
        if commands.len() > max_turns {
            return Ok(None);
        }
        let first = self.reset_game(task, game);
        let goal = task_sentence(&first);
        let replies = commands
            .iter()
            .enumerate()
            .map(|(index, command)| {
                let mut thought = thought(command);
                if index == 0
                    && let Some(goal) = goal
                {
                    thought = format!("My task is to {goal}. {thought}");
                }
                react_reply(&thought, command)
            })
            .collect();
        Ok(Some(replies))
    }
}

/// The task sentence of ALFWorld's first observation (`Your task is to: …`), without the final
/// period.
fn task_sentence(observation: &str) -> Option<&str> {
    let start = observation.find("Your task is to: ")? + "Your task is to: ".len();
    let line = observation[start..].lines().next()?;
    Some(line.trim().trim_end_matches('.'))
}

/// A short thought for one ALFWorld command, by its verb.
fn thought(command: &str) -> String {
    let words: Vec<&str> = command.split(' ').collect();
    let joined =
        |from: usize, to: usize| words[from.min(words.len())..to.min(words.len())].join(" ");
    let rest = joined(1, words.len());
    // The words before and after `word` (`take X from Y`, `put X in/on Y`, `heat X with Y`).
    let around = |word: &str| {
        let at = words.iter().position(|w| *w == word)?;
        Some((joined(1, at), joined(at + 1, words.len())))
    };
    match words.first().copied() {
        Some("go") => format!("I should go to the {} next.", joined(2, words.len())),
        Some("open") => format!("The {rest} is closed, so I open it to look inside."),
        Some("take") => match around("from") {
            Some((object, place)) => format!("I see the {object} at the {place}, so I take it."),
            None => format!("I take the {rest}."),
        },
        Some("put") => match around("in/on") {
            Some((object, place)) => {
                format!("I put the {object} in the {place}, as the task asks.")
            }
            None => format!("I put the {rest} down."),
        },
        Some(verb @ ("heat" | "cool" | "clean")) => {
            let state = match verb {
                "heat" => "hot",
                "cool" => "cool",
                _ => "clean",
            };
            match around("with") {
                Some((object, tool)) => {
                    format!("The task needs the {object} {state}, so I {verb} it with the {tool}.")
                }
                None => format!("The task needs it {state}, so I {verb} it."),
            }
        }
        Some("use") => format!("I turn on the {rest} to look at the object in its light."),
        _ => format!("Next I {command}."),
    }
}

#[cfg(test)]
mod thought_tests {
    use super::{task_sentence, thought};

    #[test]
    fn thoughts_name_the_objects_of_each_verb() {
        let cases = [
            ("go to shelf 1", "I should go to the shelf 1 next."),
            (
                "open drawer 2",
                "The drawer 2 is closed, so I open it to look inside.",
            ),
            (
                "take apple 1 from countertop 2",
                "I see the apple 1 at the countertop 2, so I take it.",
            ),
            ("take apple 1", "I take the apple 1."),
            (
                "put apple 1 in/on fridge 1",
                "I put the apple 1 in the fridge 1, as the task asks.",
            ),
            ("put apple 1", "I put the apple 1 down."),
            (
                "heat mug 1 with microwave 1",
                "The task needs the mug 1 hot, so I heat it with the microwave 1.",
            ),
            ("clean mug 1", "The task needs it clean, so I clean it."),
            (
                "use desklamp 1",
                "I turn on the desklamp 1 to look at the object in its light.",
            ),
            ("look", "Next I look."),
        ];
        for (command, expected) in cases {
            assert_eq!(thought(command), expected, "{command}");
        }
        assert_eq!(
            task_sentence(
                "You are in the middle of a room.\nYour task is to: put a mug in fridge.\n"
            ),
            Some("put a mug in fridge")
        );
        assert_eq!(task_sentence("no task here"), None);
    }
}
