//! MiniGrid's `LevelGen`: random missions from the BabyAI grammar (actions, "and", and the
//! "then" / "after you" sequences), a locked room, distractors, and validation.

use crate::grid::{Color, DoorState, Kind};
use crate::instr::{Instr, Loc, ObjDesc, SeqKind};

use super::roomgrid::{Gen, Reject};

/// An action kind of the grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionKind {
    /// `go to`.
    GoTo,
    /// `pick up`.
    Pickup,
    /// `open`.
    Open,
    /// `put … next to …`.
    PutNext,
}

/// An instruction kind of the grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstrKind {
    /// A single action.
    Action,
    /// `a and b`.
    And,
    /// `a, then b` or `a after you b`.
    Seq,
}

/// `LevelGen`'s parameters.
#[derive(Clone, Copy, Debug)]
pub struct LevelGenParams {
    /// Number of distractor objects.
    pub num_dists: usize,
    /// Probability of a locked room.
    pub locked_room_prob: f64,
    /// Whether descriptions may use locations.
    pub locations: bool,
    /// Whether objects may be blocked (if false, all must be reachable).
    pub unblocking: bool,
    /// Whether a target may lie only in the locked room.
    pub implicit_unlock: bool,
    /// Allowed actions.
    pub action_kinds: &'static [ActionKind],
    /// Allowed instruction shapes.
    pub instr_kinds: &'static [InstrKind],
}

/// All four actions.
pub const ALL_ACTIONS: &[ActionKind] = &[
    ActionKind::GoTo,
    ActionKind::Pickup,
    ActionKind::Open,
    ActionKind::PutNext,
];
/// All three instruction shapes.
pub const ALL_INSTRS: &[InstrKind] = &[InstrKind::Action, InstrKind::And, InstrKind::Seq];

impl Default for LevelGenParams {
    fn default() -> Self {
        LevelGenParams {
            num_dists: 18,
            locked_room_prob: 0.5,
            locations: true,
            unblocking: true,
            implicit_unlock: true,
            action_kinds: ALL_ACTIONS,
            instr_kinds: ALL_INSTRS,
        }
    }
}

const OBJ_TYPES: [Kind; 4] = [Kind::Box, Kind::Ball, Kind::Key, Kind::Door];
const OBJ_TYPES_NOT_DOOR: [Kind; 3] = [Kind::Box, Kind::Ball, Kind::Key];

struct LevelGen<'a, 'r> {
    g: &'a mut Gen<'r>,
    p: LevelGenParams,
    locked_room: Option<usize>,
}

/// `LevelGen.gen_mission` followed by `validate_instrs`.
pub fn gen_mission(g: &mut Gen<'_>, p: LevelGenParams) -> Result<Instr, Reject> {
    let mut lg = LevelGen {
        g,
        p,
        locked_room: None,
    };
    if lg.g.unit() < p.locked_room_prob {
        lg.add_locked_room()?;
    }
    lg.g.connect_all(&Color::ALL)?;
    lg.g.add_distractors(None, None, p.num_dists, false)?;
    let mut tries = 0;
    loop {
        tries += 1;
        if tries > 10_000 {
            return Err(Reject("no start room outside the locked room"));
        }
        lg.g.place_agent(None, None)?;
        let start = lg.g.room_at(lg.g.agent_pos);
        if Some(start) != lg.locked_room {
            break;
        }
    }
    if !p.unblocking && !lg.g.objs_reachable() {
        return Err(Reject("unreachable object"));
    }
    let mut instr = lg.rand_instr(p.action_kinds, p.instr_kinds)?;
    validate(lg.g, &mut instr, p.unblocking)?;
    Ok(instr)
}

impl LevelGen<'_, '_> {
    fn add_locked_room(&mut self) -> Result<(), Reject> {
        let (cols, rows) = (self.g.layout.num_cols, self.g.layout.num_rows);
        let color = loop {
            let i = self.g.int(0, cols);
            let j = self.g.int(0, rows);
            let door_idx = usize::try_from(self.g.int(0, 4)).unwrap_or(0);
            let room = self.g.room_index(i, j);
            self.locked_room = Some(room);
            if self.g.rooms[room].neighbors[door_idx].is_none() {
                continue;
            }
            let (_, color) = self.g.add_door(i, j, Some(door_idx), None, Some(true))?;
            break color;
        };
        loop {
            let i = self.g.int(0, cols);
            let j = self.g.int(0, rows);
            if Some(self.g.room_index(i, j)) == self.locked_room {
                continue;
            }
            self.g.add_object(i, j, Some(Kind::Key), Some(color))?;
            return Ok(());
        }
    }

    fn rand_obj(&mut self, types: &[Kind]) -> Result<ObjDesc, Reject> {
        let colors: Vec<Option<Color>> = std::iter::once(None)
            .chain(Color::ALL.into_iter().map(Some))
            .collect();
        for _ in 0..=100 {
            let color = self.g.pick(&colors);
            let kind = self.g.pick(types);
            let mut loc = None;
            if self.p.locations && self.g.coin() {
                loc = Some(self.g.pick(&Loc::ALL));
            }
            let mut desc = ObjDesc::new(Some(kind), color, loc);
            self.g.matching(&mut desc);
            if desc.obj_set.is_empty() {
                continue;
            }
            if !self.p.implicit_unlock
                && let Some(locked) = self.locked_room
            {
                let room = &self.g.rooms[locked];
                if desc.obj_poss.iter().all(|&p| room.contains(p)) {
                    continue;
                }
            }
            return Ok(desc);
        }
        Err(Reject("failed to find suitable object"))
    }

    fn rand_instr(
        &mut self,
        action_kinds: &[ActionKind],
        instr_kinds: &[InstrKind],
    ) -> Result<Instr, Reject> {
        match self.g.pick(instr_kinds) {
            InstrKind::Action => Ok(match self.g.pick(action_kinds) {
                ActionKind::GoTo => Instr::GoTo {
                    desc: self.rand_obj(&OBJ_TYPES)?,
                },
                ActionKind::Pickup => Instr::Pickup {
                    desc: self.rand_obj(&OBJ_TYPES_NOT_DOOR)?,
                    strict: false,
                    pre_carrying: None,
                },
                ActionKind::Open => Instr::Open {
                    desc: self.rand_obj(&[Kind::Door])?,
                    strict: false,
                },
                ActionKind::PutNext => {
                    let desc_move = self.rand_obj(&OBJ_TYPES_NOT_DOOR)?;
                    let desc_fixed = self.rand_obj(&OBJ_TYPES)?;
                    Instr::PutNext {
                        desc_move,
                        desc_fixed,
                        strict: false,
                        pre_carrying: None,
                    }
                }
            }),
            InstrKind::And => {
                let a = self.rand_instr(action_kinds, &[InstrKind::Action])?;
                let b = self.rand_instr(action_kinds, &[InstrKind::Action])?;
                Ok(Instr::seq(SeqKind::And, a, b, false))
            }
            InstrKind::Seq => {
                let kinds = [InstrKind::Action, InstrKind::And];
                let a = self.rand_instr(action_kinds, &kinds)?;
                let b = self.rand_instr(action_kinds, &kinds)?;
                let kind = self.g.pick(&[SeqKind::Before, SeqKind::After]);
                Ok(Instr::seq(kind, a, b, false))
            }
        }
    }
}

/// `validate_instrs`: PutNext must not move an object next to itself or start solved; with
/// unblocking, no instruction may use a key that opens a locked door.
pub fn validate(g: &Gen<'_>, instr: &mut Instr, unblocking: bool) -> Result<(), Reject> {
    let locked_colors: Vec<Color> = if unblocking {
        g.grid
            .objects_x_major()
            .filter(|(_, o)| o.kind == Kind::Door && o.door == DoorState::Locked)
            .map(|(_, o)| o.color)
            .collect()
    } else {
        Vec::new()
    };
    validate_inner(g, instr, &locked_colors)
}

fn validate_inner(g: &Gen<'_>, instr: &mut Instr, locked_colors: &[Color]) -> Result<(), Reject> {
    if let Instr::PutNext {
        desc_move,
        desc_fixed,
        ..
    } = instr
    {
        g.matching(desc_move);
        g.matching(desc_fixed);
        if desc_move
            .obj_set
            .iter()
            .any(|id| desc_fixed.obj_set.contains(id))
        {
            return Err(Reject("objects match both sides of PutNext"));
        }
        let next = desc_move.obj_poss.iter().any(|a| {
            desc_fixed
                .obj_poss
                .iter()
                .any(|b| (a.0 - b.0).abs() + (a.1 - b.1).abs() == 1)
        });
        if next {
            return Err(Reject("objects already next to each other"));
        }
    }
    let key_used = |desc: &ObjDesc| {
        desc.kind == Some(Kind::Key) && desc.color.is_some_and(|c| locked_colors.contains(&c))
    };
    match instr {
        Instr::GoTo { desc } | Instr::Open { desc, .. } | Instr::Pickup { desc, .. } => {
            if key_used(desc) {
                return Err(Reject("instruction uses a key that opens a locked door"));
            }
        }
        Instr::PutNext {
            desc_move,
            desc_fixed,
            ..
        } => {
            if key_used(desc_move) || key_used(desc_fixed) {
                return Err(Reject("instruction uses a key that opens a locked door"));
            }
        }
        Instr::Seq { a, b, .. } => {
            validate_inner(g, a, locked_colors)?;
            validate_inner(g, b, locked_colors)?;
        }
    }
    Ok(())
}
