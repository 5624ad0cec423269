//! An expert that solves BabyAI tasks through the same high-level text actions an agent uses.
//!
//! It reads the full world (grid, mission verifier state) to choose a subgoal, plans a
//! shortest primitive path over the whole grid, and then sends only actions the current
//! observation lists: `turn left`, `turn right`, `move forward`, `toggle`, `pickup X k`, `drop`.
//! Blocking objects are picked up and put aside; locked doors send it to fetch their key. The
//! way to a locked door or to a PutNext target is cleared before the key or the object to
//! move is fetched (a full hand cannot move a blocker), and objects are put down where they
//! cut nothing off.
//!
//! Some tasks cannot be solved through the text interface at all (KeyInBox, and missions that
//! must open a door only after crossing it; see [`crate::unsolvable`]); the oracle fails there
//! like every other agent must.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crossgym_env_core::parse::react_reply;
use crossgym_env_core::{Env, Oracle, Result, TaskId};

use crate::BabyAiEnv;
use crate::grid::{DoorState, Kind, Pos};
use crate::instr::{Instr, SeqKind, Status};
use crate::session::TextSession;
use crate::world::{World, dir_vec};

/// What to do once facing the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Finish {
    /// Nothing: facing is the goal (GoTo).
    Face,
    /// Toggle the door.
    Toggle,
    /// Pick the object up.
    Pickup,
    /// Drop the carried object.
    Drop,
}

/// The result of an oracle episode.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OracleOutcome {
    /// Whether the mission's verifier succeeded (positive reward) within the step budget.
    pub success: bool,
    /// Whether the text episode ended (`done`: a success worth more than 0.5).
    pub done: bool,
    /// The reward of the success step (0 when none).
    pub reward: f64,
    /// Text actions sent.
    pub text_steps: usize,
    /// Primitive steps taken.
    pub primitives: u32,
}

/// Chooses the next text action for the session's current state, or `None` when it cannot
/// find one (e.g. an unsolvable mission).
pub fn next_action(session: &TextSession) -> Option<String> {
    let world = session.world();
    let leaf = active_leaf(&world.instr)?;
    let carrying = world.carrying.as_ref().map(|c| c.id);
    let (targets, finish) = match leaf {
        Instr::GoTo { desc } => (desc.obj_poss.clone(), Finish::Face),
        Instr::Open { desc, .. } => {
            // An open door offers no `toggle` (and `toggle and go through` steps on), so only
            // closed and locked doors can complete the mission.
            let doors = positions_of(world, &desc.obj_set)
                .into_iter()
                .filter(|&p| world.grid.get(p).is_some_and(|c| c.door != DoorState::Open))
                .collect();
            (doors, Finish::Toggle)
        }
        Instr::Pickup { desc, .. } => {
            if carrying.is_some_and(|id| desc.obj_set.contains(&id)) {
                return drop_somewhere(session, &[]);
            }
            (pickable_positions(world, &desc.obj_set), Finish::Pickup)
        }
        Instr::PutNext {
            desc_move,
            desc_fixed,
            ..
        } => {
            let spots: Vec<Pos> = desc_fixed
                .obj_poss
                .iter()
                .flat_map(|&p| neighbours(p))
                .filter(|&p| world.grid.contains(p) && world.grid.get(p).is_none())
                .collect();
            let carrying_move = carrying.is_some_and(|id| desc_move.obj_set.contains(&id));
            // Every cell next to the fixed object may be taken: then move one of those objects.
            let taken: Vec<Pos> = desc_fixed
                .obj_poss
                .iter()
                .flat_map(|&p| neighbours(p))
                .filter(|&p| {
                    world
                        .grid
                        .get(p)
                        .is_some_and(|c| matches!(c.kind, Kind::Key | Kind::Ball | Kind::Box))
                })
                .collect();
            if spots.is_empty() && !taken.is_empty() {
                (taken, Finish::Pickup)
            } else if carrying_move {
                (spots, Finish::Drop)
            } else if let Some(prepare) = obstacle_first(world, &spots) {
                // Clear the way to the fixed object (move blockers, unlock doors) before
                // fetching the object to move: its carrier has no hand free for that.
                prepare
            } else {
                (
                    pickable_positions(world, &desc_move.obj_set),
                    Finish::Pickup,
                )
            }
        }
        Instr::Seq { .. } => return None,
    };
    pursue(session, &targets, finish)
}

/// Runs the oracle on a session until the mission succeeds, the step budget is spent, or it
/// has no move.
pub fn solve(session: &mut TextSession) -> OracleOutcome {
    let mut outcome = OracleOutcome {
        success: false,
        done: false,
        reward: 0.0,
        text_steps: 0,
        primitives: 0,
    };
    let budget = session.world().max_steps;
    while session.world().step_count < budget && outcome.text_steps < 4 * budget as usize {
        let Some(action) = next_action(session) else {
            break;
        };
        let before = session.world().step_count;
        let step = session.step(&action);
        outcome.text_steps += 1;
        if session.world().step_count > before && step.reward > 0.0 {
            outcome.success = true;
            outcome.done = step.done;
            outcome.reward = step.reward;
            break;
        }
    }
    outcome.primitives = session.world().step_count;
    outcome
}

/// The instruction the agent should work on now, following the verifiers' progress.
fn active_leaf(instr: &Instr) -> Option<&Instr> {
    match instr {
        Instr::Seq {
            kind,
            a,
            b,
            a_done,
            b_done,
            ..
        } => {
            let (first, first_done, second) = match kind {
                SeqKind::Before | SeqKind::And => (a, *a_done, b),
                SeqKind::After => (b, *b_done, a),
            };
            if first_done != Status::Success {
                active_leaf(first)
            } else {
                active_leaf(second)
            }
        }
        leaf => Some(leaf),
    }
}

/// Positions of the objects in `ids` that can be picked up (a description without a type,
/// such as "a grey object", also matches MiniGrid's grey walls).
fn pickable_positions(world: &World, ids: &[u32]) -> Vec<Pos> {
    world
        .grid
        .objects_x_major()
        .filter(|(_, o)| o.kind.can_pickup() && ids.contains(&o.id))
        .map(|(p, _)| p)
        .collect()
}

fn positions_of(world: &World, ids: &[u32]) -> Vec<Pos> {
    world
        .grid
        .objects_x_major()
        .filter(|(_, o)| ids.contains(&o.id))
        .map(|(p, _)| p)
        .collect()
}

fn neighbours(p: Pos) -> [Pos; 4] {
    [
        (p.0 + 1, p.1),
        (p.0 - 1, p.1),
        (p.0, p.1 + 1),
        (p.0, p.1 - 1),
    ]
}

fn has(session: &TextSession, name: &str) -> bool {
    session.rendering().plan(name).is_some()
}

/// The listed `pickup … k` whose object is in front of the agent.
fn pickup_front(session: &TextSession) -> Option<String> {
    let front = session.world().front_pos();
    session
        .rendering()
        .actions
        .iter()
        .find(|a| a.name.starts_with("pickup ") && a.target == Some(front))
        .map(|a| a.name.clone())
}

/// How the planner may treat obstacles.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Only cells the agent can pass now (closed doors and doors it has the key for included).
    Strict,
    /// Locked doors may be crossed, objects may not (is moving objects needed at all?).
    ThroughDoors,
    /// Movable objects and locked doors may be crossed (to learn what is in the way).
    ThroughLocked,
}

const MOVE_COST: u32 = 1;
const OBJECT_COST: u32 = 12;

/// A shortest primitive path (Dijkstra over pose) until the agent faces one of `targets`.
/// Returns the first move and the path's cells.
fn plan(world: &World, targets: &[Pos], mode: Mode) -> Option<(Step, Vec<Pos>)> {
    plan_from(world, world.agent_dir, targets, mode)
}

/// The cells of the cheapest paths to `targets` from the agent's cell in any direction (so
/// that what to keep free does not change while the agent turns in place).
fn path_cells(world: &World, targets: &[Pos]) -> Vec<Pos> {
    (0..4u8)
        .filter_map(|d| plan_from(world, d, targets, Mode::ThroughLocked))
        .flat_map(|(_, cells)| cells)
        .collect()
}

fn plan_from(
    world: &World,
    start_dir: u8,
    targets: &[Pos],
    mode: Mode,
) -> Option<(Step, Vec<Pos>)> {
    let (w, h) = (world.grid.width(), world.grid.height());
    let n = usize::try_from(w * h * 4).ok()?;
    let index = |p: Pos, d: u8| usize::try_from((p.1 * w + p.0) * 4 + i32::from(d)).unwrap_or(0);
    let key_color = world
        .carrying
        .as_ref()
        .filter(|c| c.kind == Kind::Key)
        .map(|c| c.color);
    let mut dist = vec![u32::MAX; n];
    let mut prev: Vec<Option<(Pos, u8, Step)>> = vec![None; n];
    let mut heap = BinaryHeap::new();
    let start = (world.agent_pos, start_dir);
    dist[index(start.0, start.1)] = 0;
    heap.push(Reverse((0u32, start.0, start.1)));
    while let Some(Reverse((d, p, dir))) = heap.pop() {
        if d > dist[index(p, dir)] {
            continue;
        }
        let v = dir_vec(dir);
        let front = (p.0 + v.0, p.1 + v.1);
        if targets.contains(&front) {
            let mut cells = vec![p];
            let (mut cp, mut cd) = (p, dir);
            let mut first = Step::Left;
            while let Some((pp, pd, step)) = prev[index(cp, cd)] {
                first = step;
                cp = pp;
                cd = pd;
                cells.push(cp);
            }
            if (p, dir) == start {
                return Some((Step::Arrived, cells));
            }
            return Some((first, cells));
        }
        let mut moves = vec![
            ((p, (dir + 3) % 4), MOVE_COST, Step::Left),
            ((p, (dir + 1) % 4), MOVE_COST, Step::Right),
        ];
        if world.grid.contains(front) {
            let cost = match world.grid.get(front) {
                None => Some(MOVE_COST),
                Some(cell) => match cell.kind {
                    Kind::Wall | Kind::Lava => None,
                    Kind::Goal | Kind::Floor => Some(MOVE_COST),
                    Kind::Door => match cell.door {
                        DoorState::Open => Some(MOVE_COST),
                        DoorState::Closed => Some(2 * MOVE_COST),
                        DoorState::Locked if key_color == Some(cell.color) => Some(2 * MOVE_COST),
                        DoorState::Locked => (mode != Mode::Strict).then_some(2 * MOVE_COST),
                    },
                    Kind::Key | Kind::Ball | Kind::Box => {
                        (mode == Mode::ThroughLocked).then_some(OBJECT_COST)
                    }
                },
            };
            if let Some(cost) = cost {
                moves.push(((front, dir), cost, Step::Forward));
            }
        }
        for ((np, nd), cost, step) in moves {
            let nd2 = d + cost;
            let i = index(np, nd);
            if nd2 < dist[i] {
                dist[i] = nd2;
                prev[i] = Some((p, dir, step));
                heap.push(Reverse((nd2, np, nd)));
            }
        }
    }
    None
}

/// The first primitive of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Left,
    Right,
    Forward,
    Arrived,
}

fn pursue(session: &TextSession, targets: &[Pos], finish: Finish) -> Option<String> {
    pursue_depth(session, targets, finish, 0)
}

fn keys_of(world: &World, color: crate::grid::Color) -> Vec<Pos> {
    world
        .grid
        .objects_x_major()
        .filter(|(_, o)| o.kind == Kind::Key && o.color == color)
        .map(|(p, _)| p)
        .collect()
}

fn pursue_depth(
    session: &TextSession,
    targets: &[Pos],
    finish: Finish,
    depth: usize,
) -> Option<String> {
    let world = session.world();
    if targets.is_empty() || depth > 4 {
        return None;
    }
    let carried_key = world
        .carrying
        .as_ref()
        .filter(|c| c.kind == Kind::Key)
        .map(|c| c.color);
    let locked_without_key = |p: &Pos| {
        world.grid.get(*p).is_some_and(|c| {
            c.kind == Kind::Door && c.door == DoorState::Locked && carried_key != Some(c.color)
        })
    };
    if finish == Finish::Toggle {
        if targets.iter().all(locked_without_key) {
            // Clear what blocks the way to the door before fetching its key: with the key in
            // hand, moving a blocker would mean putting the key down again.
            if world.carrying.is_none()
                && let Some(blocker) = first_blocker(world, targets)
            {
                return pursue_depth(session, &[blocker], Finish::Pickup, depth + 1);
            }
            let keys: Vec<Pos> = targets
                .iter()
                .filter_map(|&p| world.grid.get(p).map(|c| c.color))
                .flat_map(|color| keys_of(world, color))
                .collect();
            return pursue_depth(session, &keys, Finish::Pickup, depth + 1);
        }
        // `toggle` is offered only for a door that can be opened now: facing a locked door
        // without its key is a dead end, so head for the openable ones.
        let openable: Vec<Pos> = targets
            .iter()
            .copied()
            .filter(|p| !locked_without_key(p))
            .collect();
        if openable.len() < targets.len() {
            return pursue_depth(session, &openable, finish, depth);
        }
    }
    // A pickup while carrying: put the load down first (decided before turning towards the
    // target, so the choice does not flip with the agent's direction), unless the way there
    // needs the carried key.
    if finish == Finish::Pickup
        && world.carrying.is_some()
        && let Some((_, cells)) = plan(world, targets, Mode::Strict)
        && !cells.iter().any(|&p| {
            world
                .grid
                .get(p)
                .is_some_and(|c| c.kind == Kind::Door && c.door == DoorState::Locked)
        })
    {
        let mut avoid = path_cells(world, targets);
        avoid.extend(targets.iter().flat_map(|&t| neighbours(t)));
        return drop_somewhere(session, &avoid);
    }
    let through_all = plan(world, targets, Mode::ThroughLocked);
    let all_cells: Vec<Pos> = through_all
        .as_ref()
        .map(|(_, c)| c.clone())
        .unwrap_or_default();
    // Free the hands of anything the rest of the way does not need.
    if finish != Finish::Drop
        && let Some(carried) = &world.carrying
    {
        // A key stays in hand while its locked door is still locked.
        let needed = carried.kind == Kind::Key
            && world.grid.objects_x_major().any(|(_, c)| {
                c.kind == Kind::Door && c.door == DoorState::Locked && c.color == carried.color
            });
        if !needed {
            return drop_somewhere(session, &all_cells);
        }
    }
    if let Some((step, cells)) = plan(world, targets, Mode::Strict) {
        return act(session, step, finish, &cells);
    }
    // Something is in the way: the first obstacle on the cheapest path decides.
    let (_, cells) = through_all?;
    for &p in cells.iter().rev() {
        let Some(cell) = world.grid.get(p) else {
            continue;
        };
        match cell.kind {
            Kind::Key | Kind::Ball | Kind::Box => {
                // Walk up to the blocker (with any key still needed), then free the hands.
                return pursue_depth(session, &[p], Finish::Pickup, depth + 1);
            }
            Kind::Door if cell.door == DoorState::Locked && carried_key != Some(cell.color) => {
                return pursue_depth(
                    session,
                    &keys_of(world, cell.color),
                    Finish::Pickup,
                    depth + 1,
                );
            }
            _ => {}
        }
    }
    None
}

/// The first movable object on the cheapest way to face one of `targets` (crossing locked
/// doors), if there is no way around objects and the agent can reach it now.
fn first_blocker(world: &World, targets: &[Pos]) -> Option<Pos> {
    if plan(world, targets, Mode::ThroughDoors).is_some() {
        return None;
    }
    let (_, cells) = plan(world, targets, Mode::ThroughLocked)?;
    let blocker = cells.iter().rev().copied().find(|&p| {
        world
            .grid
            .get(p)
            .is_some_and(|c| matches!(c.kind, Kind::Key | Kind::Ball | Kind::Box))
    })?;
    plan(world, &[blocker], Mode::Strict).map(|_| blocker)
}

/// When the agent cannot face any of `targets` now, what to do first about the first obstacle
/// on the cheapest way there: pick up a movable object the agent can reach now, or open a
/// locked door (with the key in hand, or after fetching it).
fn obstacle_first(world: &World, targets: &[Pos]) -> Option<(Vec<Pos>, Finish)> {
    if plan(world, targets, Mode::Strict).is_some() {
        return None;
    }
    let (_, cells) = plan(world, targets, Mode::ThroughDoors)
        .or_else(|| plan(world, targets, Mode::ThroughLocked))?;
    for &p in cells.iter().rev() {
        let Some(cell) = world.grid.get(p) else {
            continue;
        };
        match cell.kind {
            Kind::Key | Kind::Ball | Kind::Box => {
                return plan(world, &[p], Mode::Strict).map(|_| (vec![p], Finish::Pickup));
            }
            Kind::Door if cell.door == DoorState::Locked => {
                return Some((vec![p], Finish::Toggle));
            }
            _ => {}
        }
    }
    None
}

/// Turns a planned first move into a listed text action.
fn act(session: &TextSession, step: Step, finish: Finish, path: &[Pos]) -> Option<String> {
    let world = session.world();
    match step {
        Step::Left => Some("turn left".into()),
        Step::Right => Some("turn right".into()),
        Step::Arrived => match finish {
            Finish::Face => Some("turn left".into()),
            Finish::Toggle => has(session, "toggle").then(|| "toggle".into()),
            Finish::Pickup => {
                if world.carrying.is_some() {
                    drop_somewhere(session, path)
                } else {
                    pickup_front(session)
                }
            }
            Finish::Drop => has(session, "drop").then(|| "drop".into()),
        },
        Step::Forward => {
            let front = world.grid.get(world.front_pos());
            match front.map(|c| (c.kind, c.door)) {
                None | Some((Kind::Door, DoorState::Open)) | Some((Kind::Goal, _)) => {
                    has(session, "move forward").then(|| "move forward".into())
                }
                Some((Kind::Door, _)) => has(session, "toggle").then(|| "toggle".into()),
                Some(_) => {
                    if world.carrying.is_some() {
                        drop_somewhere(session, path)
                    } else {
                        pickup_front(session)
                    }
                }
            }
        }
    }
}

/// Puts the carried object down on a free cell off `avoid` and away from doors.
fn drop_somewhere(session: &TextSession, avoid: &[Pos]) -> Option<String> {
    let world = session.world();
    // Keep the cells next to a PutNext's fixed object free for the object to put there.
    let mut avoid = avoid.to_vec();
    if let Some(Instr::PutNext { desc_fixed, .. }) = active_leaf(&world.instr) {
        let spots: Vec<Pos> = desc_fixed
            .obj_poss
            .iter()
            .flat_map(|&p| neighbours(p))
            .collect();
        avoid.extend(path_cells(world, &spots));
        avoid.extend(spots);
    }
    // Also keep free the ways to every key whose door is still locked.
    let locked: Vec<crate::grid::Color> = world
        .grid
        .objects_x_major()
        .filter(|(_, o)| o.kind == Kind::Door && o.door == DoorState::Locked)
        .map(|(_, o)| o.color)
        .collect();
    for color in locked {
        let keys = keys_of(world, color);
        if !keys.is_empty() {
            avoid.extend(path_cells(world, &keys));
            avoid.extend(keys.iter().flat_map(|&k| neighbours(k)));
        }
    }
    // And the ways to the locked doors themselves.
    let locked_doors: Vec<Pos> = world
        .grid
        .objects_x_major()
        .filter(|(_, o)| o.kind == Kind::Door && o.door == DoorState::Locked)
        .map(|(p, _)| p)
        .collect();
    if !locked_doors.is_empty() {
        avoid.extend(path_cells(world, &locked_doors));
    }
    let avoid = avoid.as_slice();
    let near_door = |p: Pos| {
        neighbours(p)
            .iter()
            .chain(std::iter::once(&p))
            .any(|&q| world.grid.get(q).is_some_and(|c| c.kind == Kind::Door))
    };
    let base = Reach::of(world, None);
    let good = |p: Pos| {
        world.grid.contains(p)
            && world.grid.get(p).is_none()
            && p != world.agent_pos
            && (!avoid.contains(&p) || base.unchanged_without(world, p))
            && !near_door(p)
            && neighbours(p)
                .iter()
                .filter(|&&q| world.grid.get(q).is_some_and(|c| c.kind == Kind::Wall))
                .count()
                < 3
    };
    if good(world.front_pos()) && has(session, "drop") {
        return Some("drop".into());
    }
    let spots: Vec<Pos> = (0..world.grid.width())
        .flat_map(|x| (0..world.grid.height()).map(move |y| (x, y)))
        .filter(|&p| good(p))
        .collect();
    let (step, _) = match plan(world, &spots, Mode::Strict) {
        Some(found) => found,
        None => {
            let front = world.front_pos();
            if world.grid.get(front).is_none() && !avoid.contains(&front) && has(session, "drop") {
                return Some("drop".into());
            }
            let loose: Vec<Pos> = (0..world.grid.width())
                .flat_map(|x| (0..world.grid.height()).map(move |y| (x, y)))
                .filter(|&p| {
                    world.grid.get(p).is_none() && !avoid.contains(&p) && p != world.agent_pos
                })
                .collect();
            plan(world, &loose, Mode::Strict)?
        }
    };
    match step {
        Step::Arrived => has(session, "drop").then(|| "drop".into()),
        Step::Left => Some("turn left".into()),
        Step::Right => Some("turn right".into()),
        Step::Forward => {
            let front = world.grid.get(world.front_pos());
            match front.map(|c| (c.kind, c.door)) {
                Some((Kind::Door, DoorState::Closed | DoorState::Locked)) => {
                    has(session, "toggle").then(|| "toggle".into())
                }
                _ => has(session, "move forward").then(|| "move forward".into()),
            }
        }
    }
}

/// What the agent can reach: free cells (doors of any state count as free) and the objects it
/// can face from them. Unlike a path, this does not change as the agent walks, so drop spots
/// chosen by it do not flip between steps.
struct Reach {
    cells: usize,
    faceable: Vec<Pos>,
}

impl Reach {
    fn of(world: &World, blocked: Option<Pos>) -> Reach {
        let (w, h) = (world.grid.width(), world.grid.height());
        let index = |p: Pos| usize::try_from(p.1 * w + p.0).unwrap_or(0);
        let mut seen = vec![false; usize::try_from(w * h).unwrap_or(0)];
        let mut faceable = Vec::new();
        let mut queue = std::collections::VecDeque::from([world.agent_pos]);
        if let Some(start) = seen.get_mut(index(world.agent_pos)) {
            *start = true;
        }
        let mut cells = 0;
        while let Some(p) = queue.pop_front() {
            cells += 1;
            for q in neighbours(p) {
                if !world.grid.contains(q) || seen[index(q)] {
                    continue;
                }
                seen[index(q)] = true;
                if Some(q) == blocked {
                    continue;
                }
                match world.grid.get(q) {
                    None => queue.push_back(q),
                    Some(c) if c.kind == Kind::Door => queue.push_back(q),
                    Some(c) if c.kind == Kind::Wall => {}
                    Some(_) => faceable.push(q),
                }
            }
        }
        faceable.sort_unstable();
        Reach { cells, faceable }
    }

    /// Whether an object on `p` would cut nothing off but `p` itself.
    fn unchanged_without(&self, world: &World, p: Pos) -> bool {
        let after = Reach::of(world, Some(p));
        after.cells + 1 == self.cells && after.faceable == self.faceable
    }
}

impl Oracle for BabyAiEnv {
    /// Plays [`next_action`] closed loop on the env's session, each action with a short thought
    /// (the first also states the goal); `None` when the oracle has no move or the episode is
    /// not done within `max_turns`.
    fn demonstrate(&mut self, task: TaskId, max_turns: usize) -> Result<Option<Vec<String>>> {
        self.reset(task)?;
        let mut replies = Vec::new();
        while replies.len() < max_turns {
            let Some(session) = self.session() else {
                return Ok(None);
            };
            let Some(action) = next_action(session) else {
                return Ok(None);
            };
            let mut thought = thought(&action);
            if replies.is_empty() {
                thought = format!("My goal is to {}. {thought}", session.goal());
            }
            let reply = react_reply(&thought, &action);
            let done = self.step(&reply)?.done;
            replies.push(reply);
            if done {
                return Ok(Some(replies));
            }
        }
        Ok(None)
    }
}

/// A short thought for one BabyAI action.
fn thought(action: &str) -> String {
    match action {
        "turn left" | "turn right" => format!("I {action} to face the next step of my path."),
        "move forward" => "The way ahead is clear, so I move forward.".to_owned(),
        "toggle" => "There is a door in front of me that is in my way, so I toggle it.".to_owned(),
        "drop" => "I drop what I am carrying here.".to_owned(),
        other => {
            if let Some(object) = other
                .strip_prefix("pickup ")
                .or_else(|| other.strip_prefix("pick up "))
            {
                format!("The {object} is in front of me, so I pick it up.")
            } else if let Some(target) = other.strip_prefix("go to ") {
                format!("I go to the {target}.")
            } else if let Some(door) = other.strip_prefix("toggle and go through ") {
                format!("I open the {door} and go through it.")
            } else if let Some(door) = other.strip_prefix("go through ") {
                format!("I go through the open {door}.")
            } else {
                format!("Next I {other}.")
            }
        }
    }
}
