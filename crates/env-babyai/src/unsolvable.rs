//! Sound certificates that a task cannot be solved through AgentGym's text actions.
//!
//! Two facts of the text interface make some MiniGrid tasks unsolvable for any text agent:
//!
//! - **No box is ever opened.** The toggle primitive runs only in `toggle` (offered when a
//!   closed door, or a locked one with its key in hand, is right in front) and at the end of
//!   `toggle and go through …`, whose path ends facing that door (the executor stops at the
//!   first primitive that changes nothing, so it never toggles anything else). A key inside a
//!   box therefore never comes out.
//! - **No door is ever closed.** The same argument: toggle never runs in front of an open
//!   door, so an opened door stays open and can no longer complete an "open" instruction.
//!
//! The certificates built on them (see [`text_unsolvable`]) only ever prove impossibility, so
//! the oracle's success rate over the remaining tasks is an honest measure of the oracle.

use std::collections::VecDeque;

use crate::grid::{DoorState, Kind, Pos};
use crate::instr::{Instr, ObjDesc, SeqKind};
use crate::world::World;

/// Why a task cannot be solved through the text actions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unsolvable {
    /// Every door an "open" instruction accepts is already open or is locked while no key of
    /// its colour lies outside a box (or is carried): KeyInBox.
    NoUsableDoor {
        /// The doors the instruction accepts.
        doors: Vec<Pos>,
    },
    /// An "open" instruction becomes active only after an earlier instruction whose objects lie
    /// behind each of the doors it accepts (that are not already unusable): by then all of
    /// them are open, and stay open.
    DoorsOpenedBefore {
        /// The doors the later "open" instruction accepts.
        doors: Vec<Pos>,
        /// For each door, the positions of the earlier instruction's objects that lie behind it.
        behind: Vec<(Pos, Vec<Pos>)>,
    },
}

impl std::fmt::Display for Unsolvable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unsolvable::NoUsableDoor { doors } => write!(
                f,
                "the doors to open {doors:?} are open or locked with every key of their colour in a box"
            ),
            Unsolvable::DoorsOpenedBefore { doors, behind } => write!(
                f,
                "the doors to open {doors:?} must all be crossed (and so opened) before that \
                 instruction counts: earlier targets behind them {behind:?}"
            ),
        }
    }
}

/// A leaf instruction with the leaves that must all succeed before it is verified at all.
struct Ordered<'a> {
    leaf: &'a Instr,
    earlier: Vec<&'a Instr>,
}

fn leaves<'a>(instr: &'a Instr, out: &mut Vec<&'a Instr>) {
    match instr {
        Instr::Seq { a, b, .. } => {
            leaves(a, out);
            leaves(b, out);
        }
        leaf => out.push(leaf),
    }
}

fn ordered<'a>(instr: &'a Instr, earlier: &[&'a Instr], out: &mut Vec<Ordered<'a>>) {
    match instr {
        Instr::Seq { kind, a, b, .. } => {
            let (first, second) = match kind {
                SeqKind::Before => (a, b),
                SeqKind::After => (b, a),
                SeqKind::And => {
                    ordered(a, earlier, out);
                    ordered(b, earlier, out);
                    return;
                }
            };
            ordered(first, earlier, out);
            let mut before = earlier.to_vec();
            leaves(first, &mut before);
            ordered(second, &before, out);
        }
        leaf => out.push(Ordered {
            leaf,
            earlier: earlier.to_vec(),
        }),
    }
}

/// The objects an instruction needs the agent to stand next to (the object to move, for
/// PutNext); objects carried at the start are left out (they need no walk).
fn needed_objects(world: &World, leaf: &Instr) -> Vec<Pos> {
    let on_grid = |desc: &ObjDesc| -> Vec<Pos> {
        if world
            .carrying
            .as_ref()
            .is_some_and(|c| desc.obj_set.contains(&c.id))
        {
            return Vec::new();
        }
        world
            .grid
            .objects_x_major()
            .filter(|(_, o)| desc.obj_set.contains(&o.id))
            .map(|(p, _)| p)
            .collect()
    };
    match leaf {
        Instr::GoTo { desc } | Instr::Open { desc, .. } | Instr::Pickup { desc, .. } => {
            on_grid(desc)
        }
        Instr::PutNext { desc_move, .. } => on_grid(desc_move),
        Instr::Seq { .. } => Vec::new(),
    }
}

/// Cells the agent could ever stand on with `blocked` shut for good: everything but walls and
/// `blocked` counts as passable (objects can be moved, other doors opened), an
/// over-approximation, so "not reachable" is a proof.
fn reachable(world: &World, blocked: Pos) -> Vec<bool> {
    let (w, h) = (world.grid.width(), world.grid.height());
    let index = |p: Pos| usize::try_from(p.1 * w + p.0).unwrap_or(0);
    let mut seen = vec![false; usize::try_from(w * h).unwrap_or(0)];
    let mut queue = VecDeque::from([world.agent_pos]);
    if world.grid.contains(world.agent_pos) {
        seen[index(world.agent_pos)] = true;
    }
    while let Some(p) = queue.pop_front() {
        for q in [
            (p.0 + 1, p.1),
            (p.0 - 1, p.1),
            (p.0, p.1 + 1),
            (p.0, p.1 - 1),
        ] {
            if !world.grid.contains(q) || q == blocked || seen[index(q)] {
                continue;
            }
            if world.grid.get(q).is_some_and(|c| c.kind == Kind::Wall) {
                continue;
            }
            seen[index(q)] = true;
            queue.push_back(q);
        }
    }
    seen
}

fn can_face(world: &World, seen: &[bool], target: Pos) -> bool {
    let w = world.grid.width();
    [
        (target.0 + 1, target.1),
        (target.0 - 1, target.1),
        (target.0, target.1 + 1),
        (target.0, target.1 - 1),
    ]
    .iter()
    .any(|&q| world.grid.contains(q) && seen[usize::try_from(q.1 * w + q.0).unwrap_or(0)])
}

/// Proves, when it can, that no sequence of text actions solves the task of `world` (a world
/// at reset); `None` means no proof was found (not that the task is solvable).
pub fn text_unsolvable(world: &World) -> Option<Unsolvable> {
    let mut all = Vec::new();
    ordered(&world.instr, &[], &mut all);
    for Ordered { leaf, earlier } in &all {
        let Instr::Open { desc, .. } = leaf else {
            continue;
        };
        let doors: Vec<Pos> = world
            .grid
            .objects_x_major()
            .filter(|(_, o)| desc.obj_set.contains(&o.id))
            .map(|(p, _)| p)
            .collect();
        if doors.is_empty() {
            continue;
        }
        let free_key = |color| {
            world
                .carrying
                .as_ref()
                .is_some_and(|c| c.kind == Kind::Key && c.color == color)
                || world
                    .grid
                    .objects_x_major()
                    .any(|(_, o)| o.kind == Kind::Key && o.color == color)
        };
        let usable = |p: &Pos| {
            world.grid.get(*p).is_some_and(|d| match d.door {
                DoorState::Open => false,
                DoorState::Closed => true,
                DoorState::Locked => free_key(d.color),
            })
        };
        if !doors.iter().any(usable) {
            return Some(Unsolvable::NoUsableDoor { doors });
        }
        // Every usable door must stand between the agent and all objects of some earlier
        // instruction (the others can never count anyway).
        let usable_doors: Vec<Pos> = doors.iter().copied().filter(usable).collect();
        let mut behind = Vec::new();
        for &door in &usable_doors {
            let seen = reachable(world, door);
            let proof = earlier.iter().find_map(|p| {
                let objects = needed_objects(world, p);
                (!objects.is_empty() && objects.iter().all(|&o| !can_face(world, &seen, o)))
                    .then_some(objects)
            });
            match proof {
                Some(objects) => behind.push((door, objects)),
                None => break,
            }
        }
        if behind.len() == usable_doors.len() {
            return Some(Unsolvable::DoorsOpenedBefore { doors, behind });
        }
    }
    None
}
