//! Building a world from a recorded MiniGrid state: the grid encoding, box contents, agent pose,
//! carried object and the serialised verifier instruction (the fixtures' format).

use serde::Deserialize;
use serde_json::Value;

use crate::grid::{Color, DoorState, Grid, Kind, Obj, Pos};
use crate::instr::{Instr, Loc, ObjDesc, SeqKind};
use crate::world::World;

/// A recorded MiniGrid state, as in the fixtures' initial-state fields.
#[derive(Clone, Debug, Deserialize)]
pub struct RecordedState {
    /// `env.mission`.
    pub mission_raw: String,
    /// The step budget.
    pub max_steps: u32,
    /// Grid width.
    pub width: i32,
    /// Grid height.
    pub height: i32,
    /// `grid[x][y] = [object_idx, color_idx, state]`.
    pub grid: Vec<Vec<[u8; 3]>>,
    /// `[x, y, [object_idx, color_idx, state]]` for every box with content.
    #[serde(default)]
    pub box_contents: Vec<(i32, i32, [u8; 3])>,
    /// Agent position.
    pub agent_pos: (i32, i32),
    /// Agent direction.
    pub agent_dir: u8,
    /// The carried object's encoding.
    pub carrying: Option<[u8; 3]>,
    /// The serialised instruction.
    pub instr: Value,
}

/// A problem in a recorded state, naming the field at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("recorded state: {field}: {message}")]
pub struct StateError {
    /// The field (JSON path) at fault.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> StateError {
    StateError {
        field: field.into(),
        message: message.into(),
    }
}

fn decode_obj(id: u32, code: [u8; 3], field: &str) -> Result<Option<Obj>, StateError> {
    let [t, c, s] = code;
    if t == 0 || t == 1 {
        return Ok(None);
    }
    let kind =
        Kind::from_index(t).ok_or_else(|| err(field, format!("unknown object index {t}")))?;
    let color =
        Color::from_index(c).ok_or_else(|| err(field, format!("unknown colour index {c}")))?;
    let mut obj = Obj::new(if kind == Kind::Wall { 0 } else { id }, kind, color);
    if kind == Kind::Door {
        obj.door = match s {
            0 => DoorState::Open,
            1 => DoorState::Closed,
            2 => DoorState::Locked,
            _ => return Err(err(field, format!("unknown door state {s}"))),
        };
    }
    Ok(Some(obj))
}

impl RecordedState {
    /// Parses the state fields of a JSON record (extra fields are ignored).
    pub fn from_json(value: &Value) -> Result<RecordedState, StateError> {
        RecordedState::deserialize(value).map_err(|e| err("record", e.to_string()))
    }

    /// Builds the world. The verifier's matched objects are the objects at `obj_poss`
    /// (a position left empty by the carried object, as in PutNextS7N4Carrying, means the
    /// carried object).
    pub fn to_world(&self) -> Result<World, StateError> {
        if self.width <= 0 || self.height <= 0 || self.width > 256 || self.height > 256 {
            return Err(err("width/height", "grid size out of range"));
        }
        if self.grid.len() != self.width as usize
            || self
                .grid
                .iter()
                .any(|col| col.len() != self.height as usize)
        {
            return Err(err("grid", "shape does not match width × height"));
        }
        let mut grid = Grid::new(self.width, self.height);
        let mut next_id = 1u32;
        for (x, column) in self.grid.iter().enumerate() {
            for (y, &code) in column.iter().enumerate() {
                let field = format!("grid[{x}][{y}]");
                if let Some(mut obj) = decode_obj(next_id, code, &field)? {
                    let pos = (x as i32, y as i32);
                    if obj.kind != Kind::Wall {
                        obj.cur_pos = Some(pos);
                        next_id += 1;
                    }
                    grid.set(pos, Some(obj));
                }
            }
        }
        for (i, &(x, y, code)) in self.box_contents.iter().enumerate() {
            let field = format!("box_contents[{i}]");
            let content = decode_obj(next_id, code, &field)?;
            next_id += 1;
            match grid.get_mut((x, y)) {
                Some(cell) if cell.kind == Kind::Box => {
                    cell.contains = content.map(Box::new);
                }
                _ => return Err(err(field, format!("no box at ({x}, {y})"))),
            }
        }
        let mut carrying = match self.carrying {
            Some(code) => decode_obj(next_id, code, "carrying")?,
            None => None,
        };
        if let Some(obj) = carrying.as_mut() {
            obj.cur_pos = Some((-1, -1));
        }
        if !grid.contains(self.agent_pos) || self.agent_dir > 3 {
            return Err(err("agent_pos/agent_dir", "agent pose out of range"));
        }
        let instr = parse_instr(&self.instr, "instr", &grid, &mut carrying)?;
        Ok(World {
            grid,
            agent_pos: self.agent_pos,
            agent_dir: self.agent_dir,
            carrying,
            step_count: 0,
            max_steps: self.max_steps,
            instr,
            mission: self.mission_raw.clone(),
            rooms: None,
        })
    }
}

fn get<'a>(value: &'a Value, key: &str, field: &str) -> Result<&'a Value, StateError> {
    value
        .get(key)
        .ok_or_else(|| err(format!("{field}.{key}"), "missing"))
}

fn get_bool(value: &Value, key: &str, field: &str) -> Result<bool, StateError> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(v) => v
            .as_bool()
            .ok_or_else(|| err(format!("{field}.{key}"), "not a bool")),
    }
}

fn parse_desc(
    value: &Value,
    field: &str,
    grid: &Grid,
    carrying: &mut Option<Obj>,
) -> Result<ObjDesc, StateError> {
    let text = |key: &str| -> Result<Option<String>, StateError> {
        match value.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(err(format!("{field}.{key}"), "not a string")),
        }
    };
    let kind = match text("type")?.as_deref() {
        None => None,
        Some("box") => Some(Kind::Box),
        Some("ball") => Some(Kind::Ball),
        Some("key") => Some(Kind::Key),
        Some("door") => Some(Kind::Door),
        Some(other) => {
            return Err(err(
                format!("{field}.type"),
                format!("unknown type {other:?}"),
            ));
        }
    };
    let color = match text("color")? {
        None => None,
        Some(name) => Some(
            Color::ALL
                .into_iter()
                .find(|c| c.name() == name)
                .ok_or_else(|| err(format!("{field}.color"), format!("unknown colour {name:?}")))?,
        ),
    };
    let loc =
        match text("loc")? {
            None => None,
            Some(name) => Some(Loc::ALL.into_iter().find(|l| l.name() == name).ok_or_else(
                || err(format!("{field}.loc"), format!("unknown location {name:?}")),
            )?),
        };
    let mut desc = ObjDesc::new(kind, color, loc);
    let poss = get(value, "obj_poss", field)?
        .as_array()
        .ok_or_else(|| err(format!("{field}.obj_poss"), "not a list"))?;
    for (i, p) in poss.iter().enumerate() {
        let pos: Pos = serde_json::from_value(p.clone())
            .map_err(|e| err(format!("{field}.obj_poss[{i}]"), e.to_string()))?;
        match grid.get(pos) {
            Some(obj) => desc.obj_set.push(obj.id),
            None => {
                let carried = carrying.as_mut().filter(|c| {
                    kind.is_none_or(|k| c.kind == k) && color.is_none_or(|col| c.color == col)
                });
                match carried {
                    Some(c) => {
                        c.cur_pos = Some(pos);
                        desc.obj_set.push(c.id);
                    }
                    None => {
                        return Err(err(
                            format!("{field}.obj_poss[{i}]"),
                            format!("no object at {pos:?}"),
                        ));
                    }
                }
            }
        }
        desc.obj_poss.push(pos);
    }
    Ok(desc)
}

fn parse_instr(
    value: &Value,
    field: &str,
    grid: &Grid,
    carrying: &mut Option<Obj>,
) -> Result<Instr, StateError> {
    let name = get(value, "instr", field)?
        .as_str()
        .ok_or_else(|| err(format!("{field}.instr"), "not a string"))?;
    let desc = |key: &str, carrying: &mut Option<Obj>| {
        parse_desc(
            get(value, key, field)?,
            &format!("{field}.{key}"),
            grid,
            carrying,
        )
    };
    let strict = get_bool(value, "strict", field)?;
    Ok(match name {
        "GoToInstr" => Instr::GoTo {
            desc: desc("desc", carrying)?,
        },
        "OpenInstr" => Instr::Open {
            desc: desc("desc", carrying)?,
            strict,
        },
        "PickupInstr" => Instr::Pickup {
            desc: desc("desc", carrying)?,
            strict,
            pre_carrying: None,
        },
        "PutNextInstr" => Instr::PutNext {
            desc_move: desc("desc_move", carrying)?,
            desc_fixed: desc("desc_fixed", carrying)?,
            strict,
            pre_carrying: None,
        },
        "BeforeInstr" | "AfterInstr" | "AndInstr" => {
            let kind = match name {
                "BeforeInstr" => SeqKind::Before,
                "AfterInstr" => SeqKind::After,
                _ => SeqKind::And,
            };
            let a = parse_instr(
                get(value, "instr_a", field)?,
                &format!("{field}.instr_a"),
                grid,
                carrying,
            )?;
            let b = parse_instr(
                get(value, "instr_b", field)?,
                &format!("{field}.instr_b"),
                grid,
                carrying,
            )?;
            Instr::seq(kind, a, b, strict)
        }
        other => {
            return Err(err(
                format!("{field}.instr"),
                format!("unknown instruction {other:?}"),
            ));
        }
    })
}
