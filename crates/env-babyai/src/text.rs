//! AgentGym's text rendering of the egocentric view: the description, the high-level actions
//! with their primitive plans (BFS over the visible square), and the error texts of infeasible
//! actions. Byte-exact with `BabyAI.postprocess_obs`, quirks included.

use std::fmt::Write as _;

use crate::grid::{Color, DoorState, Kind, Pos};
use crate::world::{Action, Image, VIEW_SIZE, World, dir_vec};

/// An object the agent sees.
#[derive(Clone, Debug)]
struct Seen {
    name: String,
    kind: Kind,
    door: DoorState,
    color: Color,
    pos: Pos,
    dis: i32,
}

/// One available high-level action.
#[derive(Clone, Debug, PartialEq)]
pub struct Available {
    /// Its text, e.g. `go to red ball 1`.
    pub name: String,
    /// The primitives it runs.
    pub plan: Vec<Action>,
    /// The cell it is about (the object or door), if any.
    pub target: Option<Pos>,
}

fn avail(name: impl Into<String>, plan: Vec<Action>, target: Option<Pos>) -> Available {
    Available {
        name: name.into(),
        plan,
        target,
    }
}

/// The rendered observation: description, the available actions in listing order, and the
/// error texts of known but infeasible actions.
#[derive(Clone, Debug, Default)]
pub struct Rendering {
    /// The description (`obj_description + barrier_description + carry_description`).
    pub description: String,
    /// The available high-level actions, in listing order.
    pub actions: Vec<Available>,
    /// Error texts of known but infeasible actions (a later entry overrides an earlier one).
    pub errors: Vec<(String, String)>,
}

impl Rendering {
    /// The plan of an available action.
    pub fn plan(&self, action: &str) -> Option<&[Action]> {
        self.actions
            .iter()
            .find(|a| a.name == action)
            .map(|a| a.plan.as_slice())
    }

    /// The error text of a known but infeasible action.
    pub fn error(&self, action: &str) -> Option<&str> {
        self.errors
            .iter()
            .rev()
            .find(|(name, _)| name == action)
            .map(|(_, text)| text.as_str())
    }

    /// The server's suffix: `\nAvailable actions: ["a", "b"]`.
    pub fn available_suffix(&self) -> String {
        let mut out = String::from("\nAvailable actions: [");
        for (i, Available { name, .. }) in self.actions.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push('"');
            out.push_str(name);
            out.push('"');
        }
        out.push(']');
        out
    }

    /// The `check` answer: `You can take the following actions: a, b, c`.
    pub fn listing(&self) -> String {
        let mut out = String::from("You can take the following actions: ");
        for (i, Available { name, .. }) in self.actions.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(name);
        }
        out
    }

    fn set_action(&mut self, name: String, plan: Vec<Action>, target: Option<Pos>) {
        if let Some(slot) = self.actions.iter_mut().find(|a| a.name == name) {
            slot.plan = plan;
            slot.target = target;
        } else {
            self.actions.push(avail(name, plan, target));
        }
    }
}

fn names_blocking(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Wall | Kind::Box | Kind::Lava | Kind::Ball | Kind::Key
    )
}

/// The BFS of `find_path`, run once to exhaustion: every target's answer is the path to the
/// goal state popped first, and parent links are final once a state is popped.
struct Planner {
    x0: i32,
    y0: i32,
    w: i32,
    h: i32,
    first_pop: [u32; MAX_STATES],
    parent: [(u16, Action); MAX_STATES],
    init: u16,
}

/// The planner's square is at most 8 × 8 cells (the view plus the row behind the agent).
const MAX_CELLS: usize = 64;
const MAX_STATES: usize = MAX_CELLS * 4;

const UNSEEN: u32 = u32::MAX;

impl Planner {
    fn new(world: &World, seen: &[Seen]) -> Planner {
        let pos = world.agent_pos;
        let f = dir_vec(world.agent_dir);
        let r = (-f.1, f.0);
        let n = VIEW_SIZE;
        let top_left = (
            pos.0 + f.0 * (n - 1) - r.0 * (n / 2),
            pos.1 + f.1 * (n - 1) - r.1 * (n / 2),
        );
        let border = (top_left.0 + n * (r.0 - f.0), top_left.1 + n * (r.1 - f.1));
        let range = |b: i32, t: i32| if b < t { (b, t + 1) } else { (t, b) };
        let (xa, xb) = range(border.0, top_left.0);
        let (ya, yb) = range(border.1, top_left.1);
        let (w, h) = ((xb - xa).clamp(0, 8), (yb - ya).clamp(0, 8));
        let (xb, yb) = (xa + w, ya + h);
        let mut blocked = [false; MAX_CELLS];
        let cell_index = |p: Pos| -> Option<usize> {
            (p.0 >= xa && p.0 < xb && p.1 >= ya && p.1 < yb)
                .then(|| usize::try_from((p.0 - xa) * h + (p.1 - ya)).ok())
                .flatten()
        };
        for obj in seen.iter().filter(|o| names_blocking(o.kind)) {
            if let Some(i) = cell_index(obj.pos) {
                blocked[i] = true;
            }
        }
        let mut planner = Planner {
            x0: xa,
            y0: ya,
            w,
            h,
            first_pop: [UNSEEN; MAX_STATES],
            parent: [(0, Action::Forward); MAX_STATES],
            init: 0,
        };
        // The agent's own cell may lie outside the range only in degenerate cases; then no
        // path is ever found (the reference would still search, but no object is reachable
        // from outside the square without crossing its border first).
        let Some(init) = planner.state(pos, world.agent_dir) else {
            return planner;
        };
        planner.init = init;
        if seen.is_empty() {
            return planner;
        }
        let mut queue: Vec<u16> = Vec::with_capacity(MAX_STATES * 4);
        queue.push(init);
        let mut head = 0;
        let mut pops = 0u32;
        while head < queue.len() {
            let s = queue[head];
            head += 1;
            let si = usize::from(s);
            if planner.first_pop[si] == UNSEEN {
                planner.first_pop[si] = pops;
            }
            pops += 1;
            let (p, d) = planner.decode(s);
            for action in [Action::Forward, Action::Left, Action::Right] {
                let (np, nd) = match action {
                    Action::Left => (p, (d + 3) % 4),
                    Action::Right => (p, (d + 1) % 4),
                    _ => {
                        let v = dir_vec(d);
                        ((p.0 + v.0, p.1 + v.1), d)
                    }
                };
                let Some(ns) = planner.state(np, nd) else {
                    continue;
                };
                let nsi = usize::from(ns);
                if planner.first_pop[nsi] != UNSEEN {
                    continue;
                }
                if cell_index(np).is_some_and(|i| blocked[i]) {
                    continue;
                }
                queue.push(ns);
                planner.parent[nsi] = (s, action);
            }
        }
        planner
    }

    fn state(&self, p: Pos, d: u8) -> Option<u16> {
        let inside =
            p.0 >= self.x0 && p.0 < self.x0 + self.w && p.1 >= self.y0 && p.1 < self.y0 + self.h;
        inside
            .then(|| {
                u16::try_from(((p.0 - self.x0) * self.h + (p.1 - self.y0)) * 4 + i32::from(d)).ok()
            })
            .flatten()
    }

    fn decode(&self, s: u16) -> (Pos, u8) {
        let s = i32::from(s);
        let d = (s % 4) as u8;
        let cell = s / 4;
        ((self.x0 + cell / self.h, self.y0 + cell % self.h), d)
    }

    /// `find_path(..., arrive)` to `goal`.
    fn path(&self, goal: Pos, arrive: bool) -> Option<Vec<Action>> {
        let mut best: Option<(u32, u16)> = None;
        for d in 0..4u8 {
            let p = if arrive {
                goal
            } else {
                let v = dir_vec(d);
                (goal.0 - v.0, goal.1 - v.1)
            };
            if let Some(s) = self.state(p, d) {
                let pop = self.first_pop[usize::from(s)];
                if pop != UNSEEN && best.is_none_or(|(b, _)| pop < b) {
                    best = Some((pop, s));
                }
            }
        }
        let (_, mut s) = best?;
        let mut path = Vec::new();
        while s != self.init {
            let (prev, action) = self.parent[usize::from(s)];
            path.push(action);
            s = prev;
        }
        path.reverse();
        Some(path)
    }
}

fn position_text(out: &mut String, front: i32, right: i32) {
    if right == 0 {
        let _ = write!(out, "right in front of you {front} steps away. ");
    } else if right > 0 {
        let _ = write!(
            out,
            "{front} steps in front of you and {right} steps to your right. "
        );
    } else {
        let _ = write!(
            out,
            "{front} steps in front of you and {} steps to your left. ",
            -right
        );
    }
}

fn bump(counts: &mut Vec<(String, usize)>, name: &str) -> usize {
    if let Some(slot) = counts.iter_mut().find(|(n, _)| n == name) {
        slot.1 += 1;
        slot.1
    } else {
        counts.push((name.to_owned(), 1));
        1
    }
}

/// Restarts `name`'s count at 1 (for an object listed under another name).
fn restart_count(counts: &mut Vec<(String, usize)>, name: &str) {
    if let Some(slot) = counts.iter_mut().find(|(n, _)| n == name) {
        slot.1 = 1;
    } else {
        counts.push((name.to_owned(), 1));
    }
}

/// The error of `verb` on an object out of reach: the action `"<verb> <name> <k>"` and the
/// reference's text, `k` being the number the next listing of `name` gets (1 when the object is
/// not listed).
fn unreachable(
    counts: &[(String, usize)],
    name: &str,
    listed: bool,
    verb: &str,
) -> (String, String) {
    let k = if listed {
        count_of(counts, name).unwrap_or(0) + 1
    } else {
        1
    };
    (
        format!("{verb} {name} {k}"),
        format!("You cannot {verb} {name} {k}, as there is no path leading to it."),
    )
}

fn count_of(counts: &[(String, usize)], name: &str) -> Option<usize> {
    counts.iter().find(|(n, _)| n == name).map(|(_, c)| *c)
}

/// Python's `str(dict)` of the door counter: `{'red closed door': 1, 'blue open door': 2}`.
fn dict_repr(counts: &[(String, usize)]) -> String {
    let mut out = String::from("{");
    for (i, (name, count)) in counts.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "'{name}': {count}");
    }
    out.push('}');
    out
}

/// Renders the world as AgentGym does after a step or reset, from the egocentric `image`.
pub fn render(world: &World, image: &Image) -> Rendering {
    let pos = world.agent_pos;
    let dir = world.agent_dir;
    let f = dir_vec(dir);
    let right_vec = dir_vec((dir + 1) % 4);
    let mut seen: Vec<Seen> = Vec::new();
    let mut barriers: Vec<(Kind, i32)> = Vec::new();
    for j in 0..VIEW_SIZE {
        for i in 0..VIEW_SIZE {
            let abs = world.view_to_abs(i, j);
            if abs.0 < 0 || abs.1 < 0 {
                continue;
            }
            let distance = (pos.0 - abs.0).abs() + (pos.1 - abs.1).abs();
            if distance == 0 {
                continue;
            }
            let [t, c, s] = image[i as usize][j as usize];
            let Some(kind) = Kind::from_index(t) else {
                continue;
            };
            if kind == Kind::Floor {
                continue;
            }
            let color = Color::from_index(c).unwrap_or(Color::Red);
            let door = match s {
                1 => DoorState::Closed,
                2 => DoorState::Locked,
                _ => DoorState::Open,
            };
            let name = if kind == Kind::Door {
                format!("{} {} door", color.name(), door.name())
            } else {
                format!("{} {}", color.name(), kind.name())
            };
            seen.push(Seen {
                name,
                kind,
                door,
                color,
                pos: abs,
                dis: distance,
            });
            if matches!(kind, Kind::Box | Kind::Wall) {
                let rel = (abs.0 - pos.0, abs.1 - pos.1);
                if f.0 * rel.1 - f.1 * rel.0 == 0 {
                    barriers.push((kind, f.0 * rel.0 + f.1 * rel.1));
                }
            }
        }
    }
    seen.sort_by_key(|o| o.dis);
    barriers.sort_by_key(|b| b.1);

    let mut description = String::with_capacity(512);
    if seen.is_empty() {
        description.push_str("You cannot see any objects within sight.");
    } else {
        description.push_str("In front of you in this room, you can see several objects: ");
        let mut counts: Vec<(String, usize)> = Vec::new();
        for obj in seen.iter().filter(|o| o.kind != Kind::Wall) {
            let rel = (obj.pos.0 - pos.0, obj.pos.1 - pos.1);
            let front = f.0 * rel.0 + f.1 * rel.1;
            let right = right_vec.0 * rel.0 + right_vec.1 * rel.1;
            let k = bump(&mut counts, &obj.name);
            let _ = write!(description, "There is a {} {k} ", obj.name);
            position_text(&mut description, front, right);
            description.push(' ');
        }
    }
    description.push_str("The room has walls around you. ");
    if let Some(&(kind, dis)) = barriers.first() {
        let _ = write!(
            description,
            "You are facing a {} {dis} steps away. ",
            kind.name()
        );
    }
    match &world.carrying {
        Some(obj) => {
            let _ = write!(
                description,
                "You are carrying a {} {}.",
                obj.color.name(),
                obj.kind.name()
            );
        }
        None => description.push_str("You are not carrying anything."),
    }

    let mut out = Rendering {
        description,
        actions: Vec::with_capacity(seen.len() * 2 + 4),
        errors: Vec::new(),
    };
    out.actions
        .push(avail("turn left", vec![Action::Left], None));
    out.actions
        .push(avail("turn right", vec![Action::Right], None));
    if barriers.first().is_none_or(|b| b.1 > 1) {
        out.actions
            .push(avail("move forward", vec![Action::Forward], None));
    } else {
        out.errors.push((
            "move forward".into(),
            "There is a barrier in front of you, you can't move forward.".into(),
        ));
    }
    if seen.is_empty() {
        if world.carrying.is_some() {
            out.actions.push(avail("drop", vec![Action::Drop], None));
        } else {
            out.errors.push((
                "drop".into(),
                "You cannot drop the object, as you are not carrying anything.".into(),
            ));
        }
        out.actions
            .push(avail("check available actions", Vec::new(), None));
        return out;
    }
    let planner = Planner::new(world, &seen);
    let carrying = world.carrying.as_ref();

    // Pick up.
    if carrying.is_none() {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for obj in &seen {
            if matches!(obj.kind, Kind::Wall | Kind::Door | Kind::Goal) {
                continue;
            }
            let first = format!("pickup {} 1", obj.name);
            let listed = out.plan(&first).is_some();
            match planner.path(obj.pos, false) {
                Some(mut plan) => {
                    plan.push(Action::Pickup);
                    let k = if listed {
                        bump(&mut counts, &obj.name)
                    } else {
                        restart_count(&mut counts, &obj.name);
                        1
                    };
                    out.actions.push(avail(
                        format!("pickup {} {k}", obj.name),
                        plan,
                        Some(obj.pos),
                    ));
                }
                None => out
                    .errors
                    .push(unreachable(&counts, &obj.name, listed, "pickup")),
            }
        }
    }

    // Drop.
    if carrying.is_some() {
        let drop_pos = world.front_pos();
        let blocked = seen
            .iter()
            .any(|o| o.pos == drop_pos && names_blocking(o.kind));
        if blocked {
            out.errors.push((
                "drop".into(),
                "You cannot drop the object, as there is already an object in front of you.".into(),
            ));
        } else {
            out.actions.push(avail("drop", vec![Action::Drop], None));
        }
    } else {
        out.errors.push((
            "drop".into(),
            "You cannot drop the object, as you are not carrying anything.".into(),
        ));
    }

    // Doors.
    let mut doors: Vec<(String, usize)> = Vec::new();
    for obj in seen.iter().filter(|o| o.kind == Kind::Door) {
        let k = bump(&mut doors, &obj.name);
        match obj.door {
            DoorState::Open => {
                let key = format!("go through {} {k}", obj.name);
                match planner.path(obj.pos, true) {
                    Some(plan) => out.actions.push(avail(key, plan, Some(obj.pos))),
                    None => {
                        let text = format!(
                            "You cannot go through {} {k}, as there is no path leading to it.",
                            obj.name
                        );
                        out.errors.push((key, text));
                    }
                }
            }
            DoorState::Closed | DoorState::Locked => {
                let key = format!("toggle and go through {} {k}", obj.name);
                if obj.door == DoorState::Locked {
                    let reason = match carrying {
                        Some(c) if c.kind == Kind::Key && c.color == obj.color => None,
                        Some(c) if c.kind == Kind::Key => Some(
                            "as the color of the key you are carrying does not match the color of door",
                        ),
                        _ => Some("as you are not carrying a key"),
                    };
                    if let Some(reason) = reason {
                        let text = format!(
                            "You cannot toggle and go through {} {k}, {reason}.",
                            obj.name
                        );
                        out.errors.push((key, text));
                        continue;
                    }
                }
                let plan = planner.path(obj.pos, false);
                match &plan {
                    Some(plan) => {
                        let mut full = plan.clone();
                        full.push(Action::Toggle);
                        full.push(Action::Forward);
                        out.actions.push(avail(key, full, Some(obj.pos)));
                    }
                    None => {
                        let text = format!(
                            "You cannot toggle and go through {} {}, as there is no path leading to it.",
                            obj.name,
                            dict_repr(&doors)
                        );
                        out.errors.push((key, text));
                    }
                }
                if plan.as_ref().is_some_and(Vec::is_empty) {
                    out.set_action("toggle".into(), vec![Action::Toggle], Some(obj.pos));
                }
                if obj.door == DoorState::Closed {
                    out.errors.push((
                        format!("go through {} {k}", obj.name),
                        format!(
                            "You cannot go through {} {k}, as it is closed. You should toggle it first.",
                            obj.name
                        ),
                    ));
                }
            }
        }
    }

    // Goals.
    for obj in seen.iter().filter(|o| o.kind == Kind::Goal) {
        match planner.path(obj.pos, true) {
            Some(plan) => out.set_action("go to goal".into(), plan, Some(obj.pos)),
            None => out.errors.push((
                "go to goal".into(),
                "You cannot go to the goal, as there is no path leading to it.".into(),
            )),
        }
    }

    // Go to.
    let mut counts: Vec<(String, usize)> = Vec::new();
    for obj in &seen {
        if matches!(obj.kind, Kind::Wall | Kind::Goal) {
            continue;
        }
        let first = format!("go to {} 1", obj.name);
        let listed = out.plan(&first).is_some();
        match planner.path(obj.pos, false) {
            Some(plan) => {
                if listed {
                    let k = bump(&mut counts, &obj.name);
                    out.actions.push(avail(
                        format!("go to {} {k}", obj.name),
                        plan,
                        Some(obj.pos),
                    ));
                } else {
                    restart_count(&mut counts, &obj.name);
                    out.actions.push(avail(first, plan, Some(obj.pos)));
                }
            }
            None => out
                .errors
                .push(unreachable(&counts, &obj.name, listed, "go to")),
        }
    }
    out.actions
        .push(avail("check available actions", Vec::new(), None));
    out
}
