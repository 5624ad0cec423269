//! BabyAI missions: object descriptions, instructions, their surface text and success verifiers
//! (MiniGrid's `verifier.py`, without `BABYAI_DONE_ACTIONS`).

use crate::action::{Action, dir_vec};
use crate::grid::{Color, DoorState, Grid, Kind, Obj, Pos};

/// A location relative to the agent's start pose (`LOC_NAMES`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    /// On the agent's left.
    Left,
    /// On the agent's right.
    Right,
    /// In front of the agent.
    Front,
    /// Behind the agent.
    Behind,
}

impl Loc {
    /// All locations in `LOC_NAMES` order.
    pub const ALL: [Loc; 4] = [Loc::Left, Loc::Right, Loc::Front, Loc::Behind];

    /// The name used in recorded states.
    pub fn name(self) -> &'static str {
        match self {
            Loc::Left => "left",
            Loc::Right => "right",
            Loc::Front => "front",
            Loc::Behind => "behind",
        }
    }
}

/// A verifier's status (`"continue"`, `"success"`, `"failure"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Not done yet.
    Continue,
    /// Completed.
    Success,
    /// Failed (strict instructions only).
    Failure,
}

/// A room rectangle `(top, size)`, for the location filter.
pub type RoomRect = (Pos, Pos);

/// What the verifiers and descriptions need to know about the world at one moment.
#[derive(Clone, Copy, Debug)]
pub struct WorldView<'a> {
    /// The grid.
    pub grid: &'a Grid,
    /// The agent's position.
    pub agent_pos: Pos,
    /// The agent's direction (0 east, 1 south, 2 west, 3 north).
    pub agent_dir: u8,
    /// What the agent carries.
    pub carrying: Option<&'a Obj>,
    /// The room holding the agent (for `loc` filters; `None` when unknown).
    pub agent_room: Option<RoomRect>,
}

impl WorldView<'_> {
    fn front_pos(&self) -> Pos {
        let (dx, dy) = dir_vec(self.agent_dir);
        (self.agent_pos.0 + dx, self.agent_pos.1 + dy)
    }
}

/// A description of a set of objects (`ObjDesc`): type, colour, location, and the objects it
/// matched at the start of the episode.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjDesc {
    /// Object type (`None` means any).
    pub kind: Option<Kind>,
    /// Colour (`None` means any).
    pub color: Option<Color>,
    /// Location relative to the start pose.
    pub loc: Option<Loc>,
    /// Identities of the matched objects (`obj_set`).
    pub obj_set: Vec<u32>,
    /// Their positions (`obj_poss`), refreshed after drops.
    pub obj_poss: Vec<Pos>,
}

impl ObjDesc {
    /// A description with nothing matched yet.
    pub fn new(kind: Option<Kind>, color: Option<Color>, loc: Option<Loc>) -> ObjDesc {
        ObjDesc {
            kind,
            color,
            loc,
            obj_set: Vec::new(),
            obj_poss: Vec::new(),
        }
    }

    fn matches(&self, obj: &Obj) -> bool {
        self.kind.is_none_or(|k| obj.kind == k) && self.color.is_none_or(|c| obj.color == c)
    }

    /// `find_matching_objs(env, use_location=True)`: the objects matching type, colour and
    /// location (relative to the agent's current room and pose).
    pub fn find_matching(&mut self, world: &WorldView<'_>) {
        self.obj_set.clear();
        self.obj_poss.clear();
        for (pos, obj) in world.grid.objects_x_major() {
            if !self.matches(obj) {
                continue;
            }
            if let Some(loc) = self.loc {
                let Some((top, size)) = world.agent_room else {
                    continue;
                };
                let inside = pos.0 >= top.0
                    && pos.1 >= top.1
                    && pos.0 < top.0 + size.0
                    && pos.1 < top.1 + size.1;
                if !inside {
                    continue;
                }
                let v = (pos.0 - world.agent_pos.0, pos.1 - world.agent_pos.1);
                let d1 = dir_vec(world.agent_dir);
                let d2 = (-d1.1, d1.0);
                let ok = match loc {
                    Loc::Left => v.0 * d2.0 + v.1 * d2.1 < 0,
                    Loc::Right => v.0 * d2.0 + v.1 * d2.1 > 0,
                    Loc::Front => v.0 * d1.0 + v.1 * d1.1 > 0,
                    Loc::Behind => v.0 * d1.0 + v.1 * d1.1 < 0,
                };
                if !ok {
                    continue;
                }
            }
            self.obj_set.push(obj.id);
            self.obj_poss.push(pos);
        }
    }

    /// `find_matching_objs(env, use_location=False)`: refresh the positions of tracked objects.
    pub fn update_poss(&mut self, grid: &Grid) {
        self.obj_poss.clear();
        for (pos, obj) in grid.objects_x_major() {
            if self.obj_set.contains(&obj.id) && self.matches(obj) {
                self.obj_poss.push(pos);
            }
        }
    }

    /// The natural-language surface (`the red ball`, `a door on your left`, …). Call after
    /// [`ObjDesc::find_matching`].
    pub fn surface(&self) -> String {
        let mut s = self.kind.map_or("object", Kind::name).to_owned();
        if let Some(color) = self.color {
            s = format!("{} {s}", color.name());
        }
        match self.loc {
            Some(Loc::Front) => s.push_str(" in front of you"),
            Some(Loc::Behind) => s.push_str(" behind you"),
            Some(loc) => {
                s.push_str(" on your ");
                s.push_str(loc.name());
            }
            None => {}
        }
        if self.obj_set.len() > 1 {
            format!("a {s}")
        } else {
            format!("the {s}")
        }
    }
}

/// A BabyAI instruction with its verifier state.
#[derive(Clone, Debug, PartialEq)]
pub enum Instr {
    /// Go next to (and face) a matching object.
    GoTo {
        /// The target.
        desc: ObjDesc,
    },
    /// Open a matching door.
    Open {
        /// The door.
        desc: ObjDesc,
        /// Fail on toggling any other door.
        strict: bool,
    },
    /// Pick up a matching object.
    Pickup {
        /// The object.
        desc: ObjDesc,
        /// Fail on picking up any other object.
        strict: bool,
        /// Identity carried before the last verified action (`preCarrying`).
        pre_carrying: Option<u32>,
    },
    /// Put a matching object next to another.
    PutNext {
        /// The object to move.
        desc_move: ObjDesc,
        /// The object to put it next to.
        desc_fixed: ObjDesc,
        /// Fail on any pickup while carrying.
        strict: bool,
        /// Identity carried before the last verified action.
        pre_carrying: Option<u32>,
    },
    /// `a, then b` (`Before`), `a after you b` (`After`), `a and b` (`And`).
    Seq {
        /// Which sequence.
        kind: SeqKind,
        /// First instruction.
        a: Box<Instr>,
        /// Second instruction.
        b: Box<Instr>,
        /// Fail when the later part completes first (Before/After only).
        strict: bool,
        /// Status of `a`.
        a_done: Status,
        /// Status of `b`.
        b_done: Status,
    },
}

/// The three sequence instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqKind {
    /// `a, then b`.
    Before,
    /// `a after you b`.
    After,
    /// `a and b`.
    And,
}

fn cur_pos_of(world: &WorldView<'_>, id: u32) -> Option<Pos> {
    if let Some(carried) = world.carrying.filter(|c| c.id == id) {
        return carried.cur_pos;
    }
    world
        .grid
        .objects_x_major()
        .find(|(_, o)| o.id == id)
        .and_then(|(_, o)| o.cur_pos)
}

/// The id of the object carried before this step and now, remembering now's in `pre_carrying`
/// for the next step (MiniGrid's `preCarrying`).
fn carried_before_and_now(
    pre_carrying: &mut Option<u32>,
    world: &WorldView<'_>,
) -> (Option<u32>, Option<u32>) {
    let carrying = world.carrying.map(|c| c.id);
    (std::mem::replace(pre_carrying, carrying), carrying)
}

fn next_to(a: Pos, b: Pos) -> bool {
    (a.0 - b.0).abs() + (a.1 - b.1).abs() == 1
}

impl Instr {
    /// A sequence instruction with fresh verifier state.
    pub fn seq(kind: SeqKind, a: Instr, b: Instr, strict: bool) -> Instr {
        Instr::Seq {
            kind,
            a: Box::new(a),
            b: Box::new(b),
            strict,
            a_done: Status::Continue,
            b_done: Status::Continue,
        }
    }

    /// `reset_verifier`: match every description against the world and clear verifier state.
    pub fn reset_verifier(&mut self, world: &WorldView<'_>) {
        match self {
            Instr::GoTo { desc } | Instr::Open { desc, .. } => desc.find_matching(world),
            Instr::Pickup {
                desc, pre_carrying, ..
            } => {
                *pre_carrying = None;
                desc.find_matching(world);
            }
            Instr::PutNext {
                desc_move,
                desc_fixed,
                pre_carrying,
                ..
            } => {
                *pre_carrying = None;
                desc_move.find_matching(world);
                desc_fixed.find_matching(world);
            }
            Instr::Seq {
                a,
                b,
                a_done,
                b_done,
                ..
            } => {
                a.reset_verifier(world);
                b.reset_verifier(world);
                *a_done = Status::Continue;
                *b_done = Status::Continue;
            }
        }
    }

    /// Clears verifier state without re-matching (for states restored from a recording).
    pub fn clear_state(&mut self) {
        match self {
            Instr::GoTo { .. } | Instr::Open { .. } => {}
            Instr::Pickup { pre_carrying, .. } | Instr::PutNext { pre_carrying, .. } => {
                *pre_carrying = None;
            }
            Instr::Seq {
                a,
                b,
                a_done,
                b_done,
                ..
            } => {
                a.clear_state();
                b.clear_state();
                *a_done = Status::Continue;
                *b_done = Status::Continue;
            }
        }
    }

    /// The mission text (`surface`). Call after [`Instr::reset_verifier`].
    pub fn surface(&self) -> String {
        match self {
            Instr::GoTo { desc } => format!("go to {}", desc.surface()),
            Instr::Open { desc, .. } => format!("open {}", desc.surface()),
            Instr::Pickup { desc, .. } => format!("pick up {}", desc.surface()),
            Instr::PutNext {
                desc_move,
                desc_fixed,
                ..
            } => format!(
                "put {} next to {}",
                desc_move.surface(),
                desc_fixed.surface()
            ),
            Instr::Seq { kind, a, b, .. } => match kind {
                SeqKind::Before => format!("{}, then {}", a.surface(), b.surface()),
                SeqKind::After => format!("{} after you {}", a.surface(), b.surface()),
                SeqKind::And => format!("{} and {}", a.surface(), b.surface()),
            },
        }
    }

    /// How many navigations the instruction needs (`num_navs_needed`).
    pub fn num_navs(&self) -> u32 {
        match self {
            Instr::PutNext { .. } => 2,
            Instr::Seq { a, b, .. } => a.num_navs() + b.num_navs(),
            _ => 1,
        }
    }

    /// After a drop: refresh the positions of every tracked object (`update_objs_poss`).
    pub fn update_objs_poss(&mut self, grid: &Grid) {
        match self {
            Instr::GoTo { desc } | Instr::Open { desc, .. } | Instr::Pickup { desc, .. } => {
                desc.update_poss(grid);
            }
            Instr::PutNext {
                desc_move,
                desc_fixed,
                ..
            } => {
                desc_move.update_poss(grid);
                desc_fixed.update_poss(grid);
            }
            Instr::Seq { a, b, .. } => {
                a.update_objs_poss(grid);
                b.update_objs_poss(grid);
            }
        }
    }

    /// Verifies the primitive `action` that was just executed.
    pub fn verify(&mut self, action: Action, world: &WorldView<'_>) -> Status {
        match self {
            Instr::GoTo { desc } => {
                let front = world.front_pos();
                if desc.obj_poss.contains(&front) {
                    Status::Success
                } else {
                    Status::Continue
                }
            }
            Instr::Open { desc, strict } => {
                if action != Action::Toggle {
                    return Status::Continue;
                }
                let front = world.grid.get(world.front_pos());
                if let Some(cell) = front {
                    if desc.obj_set.contains(&cell.id)
                        && cell.kind == Kind::Door
                        && cell.door == DoorState::Open
                    {
                        return Status::Success;
                    }
                    if *strict && cell.kind == Kind::Door {
                        return Status::Failure;
                    }
                }
                Status::Continue
            }
            Instr::Pickup {
                desc,
                strict,
                pre_carrying,
            } => {
                let (pre, carrying) = carried_before_and_now(pre_carrying, world);
                if action != Action::Pickup {
                    return Status::Continue;
                }
                if pre.is_none() && carrying.is_some_and(|id| desc.obj_set.contains(&id)) {
                    return Status::Success;
                }
                if *strict && carrying.is_some() {
                    return Status::Failure;
                }
                Status::Continue
            }
            Instr::PutNext {
                desc_move,
                desc_fixed,
                strict,
                pre_carrying,
            } => {
                let (pre, carrying) = carried_before_and_now(pre_carrying, world);
                if *strict && action == Action::Pickup && carrying.is_some() {
                    return Status::Failure;
                }
                if action != Action::Drop {
                    return Status::Continue;
                }
                let Some(pre) = pre else {
                    return Status::Continue;
                };
                if !desc_move.obj_set.contains(&pre) {
                    return Status::Continue;
                }
                if let Some(pos_a) = cur_pos_of(world, pre)
                    && desc_fixed.obj_poss.iter().any(|&b| next_to(pos_a, b))
                {
                    return Status::Success;
                }
                Status::Continue
            }
            Instr::Seq {
                kind,
                a,
                b,
                strict,
                a_done,
                b_done,
            } => match kind {
                SeqKind::Before => verify_ordered(a, b, a_done, b_done, *strict, action, world),
                SeqKind::After => verify_ordered(b, a, b_done, a_done, *strict, action, world),
                SeqKind::And => {
                    if *a_done != Status::Success {
                        *a_done = a.verify(action, world);
                    }
                    if *b_done != Status::Success {
                        *b_done = b.verify(action, world);
                    }
                    if *a_done == Status::Success && *b_done == Status::Success {
                        Status::Success
                    } else {
                        Status::Continue
                    }
                }
            },
        }
    }
}

/// `BeforeInstr.verify` with `first` to be done before `second` (`AfterInstr` swaps them).
fn verify_ordered(
    first: &mut Instr,
    second: &mut Instr,
    first_done: &mut Status,
    second_done: &mut Status,
    strict: bool,
    action: Action,
    world: &WorldView<'_>,
) -> Status {
    if *first_done == Status::Success {
        *second_done = second.verify(action, world);
        return match *second_done {
            Status::Failure => Status::Failure,
            Status::Success => Status::Success,
            Status::Continue => Status::Continue,
        };
    }
    *first_done = first.verify(action, world);
    match *first_done {
        Status::Failure => Status::Failure,
        Status::Success => verify_ordered(
            first,
            second,
            first_done,
            second_done,
            strict,
            action,
            world,
        ),
        Status::Continue => {
            if strict && second.verify(action, world) == Status::Success {
                Status::Failure
            } else {
                Status::Continue
            }
        }
    }
}
