//! The 40 BabyAI levels of AgentGym's table, generated with our own seeded RNG following
//! MiniGrid's level definitions (`minigrid/envs/babyai/*.py`).

mod levelgen;
mod roomgrid;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::grid::{Color, Kind, Obj, Pos};
use crate::instr::{Instr, Loc, ObjDesc, SeqKind};
use crate::world::{RoomLayout, World};

pub use levelgen::{ActionKind, InstrKind, LevelGenParams};
pub use roomgrid::Reject;

use levelgen::{ALL_ACTIONS, ALL_INSTRS, gen_mission as levelgen_mission};
use roomgrid::Gen;

/// The mission a level generator produced, plus the PutNext "start carrying" twist.
struct Mission {
    instr: Instr,
    carry_from: Option<Pos>,
}

impl From<Instr> for Mission {
    fn from(instr: Instr) -> Self {
        Mission {
            instr,
            carry_from: None,
        }
    }
}

type GenFn = fn(&mut Gen<'_>) -> Result<Mission, Reject>;

/// One BabyAI level.
#[derive(Clone, Copy)]
pub struct Level {
    /// The name without `BabyAI-` and `-v0` (e.g. `GoToRedBallGrey`).
    pub name: &'static str,
    /// Room size, rows and columns.
    pub layout: RoomLayout,
    /// A fixed step budget; `None` computes `num_navs × room_size² × rows × cols`.
    pub fixed_max_steps: Option<u32>,
    generate: GenFn,
}

impl std::fmt::Debug for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Level")
            .field("name", &self.name)
            .field("layout", &self.layout)
            .field("fixed_max_steps", &self.fixed_max_steps)
            .finish()
    }
}

const fn layout(room_size: i32, num_rows: i32, num_cols: i32) -> RoomLayout {
    RoomLayout {
        room_size,
        num_rows,
        num_cols,
    }
}

const fn level(
    name: &'static str,
    layout: RoomLayout,
    fixed_max_steps: Option<u32>,
    generate: GenFn,
) -> Level {
    Level {
        name,
        layout,
        fixed_max_steps,
        generate,
    }
}

/// AgentGym's 40 levels, in task order (task N plays `LEVELS[N % 40]` with seed `N / 40`).
// One row a level: name, layout (room size, rows, columns), fixed step budget, generator.
#[rustfmt::skip]
pub const LEVELS: [Level; 40] = [
    level("GoToRedBallGrey",       layout(8, 1, 1),  None,       go_to_red_ball_grey),
    level("GoToRedBall",           layout(8, 1, 1),  None,       go_to_red_ball),
    level("GoToRedBallNoDists",    layout(8, 1, 1),  None,       go_to_red_ball_no_dists),
    level("GoToObjS6",             layout(6, 1, 1),  Some(16),   go_to_obj),
    level("GoToLocalS8N7",         layout(8, 1, 1),  None,       go_to_local),
    level("GoToObjMazeS7",         layout(7, 3, 3),  None,       go_to_maze),
    level("GoToImpUnlock",         layout(8, 3, 3),  None,       go_to_imp_unlock),
    level("GoToSeqS5R2",           layout(5, 2, 2),  None,       go_to_seq),
    level("GoToRedBlueBall",       layout(8, 1, 1),  None,       go_to_red_blue_ball),
    level("GoToDoor",              layout(7, 3, 3),  None,       go_to_door),
    level("GoToObjDoor",           layout(8, 3, 3),  None,       go_to_obj_door),
    level("Open",                  layout(8, 3, 3),  None,       open),
    level("OpenRedDoor",           layout(5, 1, 2),  None,       open_red_door),
    level("OpenDoorLoc",           layout(8, 3, 3),  None,       open_door_loc),
    level("OpenRedBlueDoorsDebug", layout(6, 3, 3),  Some(720),  open_red_blue_doors),
    level("OpenDoorsOrderN4Debug", layout(6, 3, 3),  Some(720),  open_doors_order),
    level("Pickup",                layout(8, 3, 3),  None,       pickup_level),
    level("UnblockPickup",         layout(8, 3, 3),  None,       unblock_pickup),
    level("PickupLoc",             layout(8, 1, 1),  None,       pickup_loc),
    level("PickupDistDebug",       layout(7, 1, 1),  None,       pickup_dist),
    level("PickupAbove",           layout(6, 3, 3),  Some(288),  pickup_above),
    level("PutNextLocalS6N4",      layout(6, 1, 1),  None,       put_next_local),
    level("PutNextS7N4Carrying",   layout(7, 1, 2),  Some(392),  put_next_carrying),
    level("Unlock",                layout(8, 3, 3),  None,       unlock),
    level("UnlockLocalDist",       layout(8, 3, 3),  None,       unlock_local_dist),
    level("KeyInBox",              layout(8, 3, 3),  None,       key_in_box),
    level("UnlockPickupDist",      layout(6, 1, 2),  None,       unlock_pickup_dist),
    level("BlockedUnlockPickup",   layout(6, 1, 2),  Some(576),  blocked_unlock_pickup),
    level("UnlockToUnlock",        layout(6, 1, 3),  Some(1080), unlock_to_unlock),
    level("ActionObjDoor",         layout(7, 3, 3),  None,       action_obj_door),
    level("FindObjS7",             layout(7, 3, 3),  Some(980),  find_obj),
    level("KeyCorridorS6R3",       layout(6, 3, 3),  Some(1080), key_corridor),
    level("OneRoomS20",            layout(20, 1, 1), None,       one_room),
    level("MoveTwoAcrossS8N9",     layout(8, 1, 2),  Some(1024), move_two_across),
    level("SynthS5R2",             layout(5, 2, 3),  None,       synth),
    level("SynthLoc",              layout(8, 3, 3),  None,       synth_loc),
    level("SynthSeq",              layout(8, 3, 3),  None,       synth_seq),
    level("MiniBossLevel",         layout(5, 2, 2),  None,       mini_boss),
    level("BossLevel",             layout(8, 3, 3),  None,       boss),
    level("BossLevelNoUnlock",     layout(8, 3, 3),  None,       boss_no_unlock),
];

/// The most generation attempts before giving up (MiniGrid retries forever).
const MAX_ATTEMPTS: usize = 10_000;

impl Level {
    /// The Gymnasium id, e.g. `BabyAI-GoToRedBall-v0`.
    pub fn gym_id(&self) -> String {
        format!("BabyAI-{}-v0", self.name)
    }

    /// Generates the level for `seed` and resets it: layout, mission text, verifier and
    /// step budget. The same seed always gives the same world.
    pub fn generate(&self, seed: u64) -> Result<World, Reject> {
        let index = LEVELS.iter().position(|l| l.name == self.name).unwrap_or(0) as u64;
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(64).wrapping_add(index));
        for _ in 0..MAX_ATTEMPTS {
            let mut g = Gen::new(&mut rng, self.layout);
            let Ok(mission) = (self.generate)(&mut g) else {
                continue;
            };
            return Ok(self.finish(g, mission));
        }
        Err(Reject("level generation kept being rejected"))
    }

    fn finish(&self, g: Gen<'_>, mission: Mission) -> World {
        let Mission {
            mut instr,
            carry_from,
        } = mission;
        instr.reset_verifier(&g.world_view());
        let mission_text = instr.surface();
        let l = self.layout;
        let max_steps = self.fixed_max_steps.unwrap_or_else(|| {
            let per_nav = u32::try_from(l.room_size * l.room_size * l.num_rows * l.num_cols)
                .unwrap_or(u32::MAX);
            instr.num_navs() * per_nav
        });
        let mut grid = g.grid;
        // PutNext(start_carrying): the object leaves the grid after the verifier matched it,
        // keeping its `cur_pos`.
        let carrying: Option<Obj> = carry_from.and_then(|pos| grid.set(pos, None));
        World {
            grid,
            agent_pos: g.agent_pos,
            agent_dir: g.agent_dir,
            carrying,
            step_count: 0,
            max_steps,
            instr,
            mission: mission_text,
            rooms: Some(self.layout),
        }
    }
}

fn desc(kind: Option<Kind>, color: Option<Color>) -> ObjDesc {
    ObjDesc::new(kind, color, None)
}

fn goto(kind: Kind, color: Color) -> Mission {
    Instr::GoTo {
        desc: desc(Some(kind), Some(color)),
    }
    .into()
}

fn pickup(kind: Option<Kind>, color: Option<Color>, strict: bool) -> Instr {
    Instr::Pickup {
        desc: desc(kind, color),
        strict,
        pre_carrying: None,
    }
}

fn open_instr(kind_color: Option<Color>, strict: bool) -> Instr {
    Instr::Open {
        desc: desc(Some(Kind::Door), kind_color),
        strict,
    }
}

fn put_next(a: (Kind, Color), b: (Kind, Color)) -> Instr {
    Instr::PutNext {
        desc_move: desc(Some(a.0), Some(a.1)),
        desc_fixed: desc(Some(b.0), Some(b.1)),
        strict: false,
        pre_carrying: None,
    }
}

fn require_reachable(g: &Gen<'_>) -> Result<(), Reject> {
    if g.objs_reachable() {
        Ok(())
    } else {
        Err(Reject("unreachable object"))
    }
}

fn red_ball_room(g: &mut Gen<'_>, num_dists: usize, grey: bool) -> Result<Mission, Reject> {
    g.place_agent(None, None)?;
    g.add_object(0, 0, Some(Kind::Ball), Some(Color::Red))?;
    let dists = g.add_distractors(None, None, num_dists, false)?;
    if grey {
        for (id, _, _) in dists {
            if let Some(obj) = find_mut(g, id) {
                obj.color = Color::Grey;
            }
        }
    }
    require_reachable(g)?;
    Ok(goto(Kind::Ball, Color::Red))
}

fn find_mut<'a>(g: &'a mut Gen<'_>, id: u32) -> Option<&'a mut Obj> {
    let pos = g
        .grid
        .objects_x_major()
        .find(|(_, o)| o.id == id)
        .map(|(p, _)| p)?;
    g.grid.get_mut(pos)
}

fn go_to_red_ball_grey(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    red_ball_room(g, 7, true)
}

fn go_to_red_ball(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    red_ball_room(g, 7, false)
}

fn go_to_red_ball_no_dists(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    red_ball_room(g, 0, false)
}

fn go_to_obj(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    g.place_agent(None, None)?;
    let objs = g.add_distractors(None, None, 1, true)?;
    let (_, kind, color) = objs[0];
    Ok(goto(kind, color))
}

fn go_to_local(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    g.place_agent(None, None)?;
    let objs = g.add_distractors(None, None, 7, false)?;
    require_reachable(g)?;
    let (_, kind, color) = g.pick(&objs);
    Ok(goto(kind, color))
}

fn go_to_maze(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    g.place_agent(None, None)?;
    g.connect_all(&Color::ALL)?;
    let objs = g.add_distractors(None, None, 1, false)?;
    require_reachable(g)?;
    let (_, kind, color) = g.pick(&objs);
    Ok(goto(kind, color))
}

/// A locked door in a random room and its key in another room; returns the room and colour.
fn locked_door_and_key(g: &mut Gen<'_>) -> Result<((i32, i32), Color), Reject> {
    let (cols, rows) = (g.layout.num_cols, g.layout.num_rows);
    let id = g.int(0, cols);
    let jd = g.int(0, rows);
    let (_, color) = g.add_door(id, jd, None, None, Some(true))?;
    loop {
        let ik = g.int(0, cols);
        let jk = g.int(0, rows);
        if ik == id && jk == jd {
            continue;
        }
        g.add_object(ik, jk, Some(Kind::Key), Some(color))?;
        return Ok(((id, jd), color));
    }
}

fn place_agent_outside(g: &mut Gen<'_>, room: (i32, i32)) -> Result<(), Reject> {
    let locked = g.room_index(room.0, room.1);
    for _ in 0..10_000 {
        g.place_agent(None, None)?;
        if g.room_at(g.agent_pos) != locked {
            return Ok(());
        }
    }
    Err(Reject("no start room outside the locked room"))
}

fn go_to_imp_unlock(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    let ((id, jd), _) = locked_door_and_key(g)?;
    g.connect_all(&Color::ALL)?;
    for i in 0..g.layout.num_cols {
        for j in 0..g.layout.num_rows {
            if i != id || j != jd {
                g.add_distractors(Some(i), Some(j), 2, false)?;
            }
        }
    }
    place_agent_outside(g, (id, jd))?;
    require_reachable(g)?;
    let objs = g.add_distractors(Some(id), Some(jd), 1, false)?;
    let (_, kind, color) = objs[0];
    Ok(goto(kind, color))
}

fn go_to_seq(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    let params = LevelGenParams {
        num_dists: 4,
        action_kinds: &[ActionKind::GoTo],
        locked_room_prob: 0.0,
        locations: false,
        unblocking: false,
        ..LevelGenParams::default()
    };
    levelgen_mission(g, params).map(Mission::from)
}

fn go_to_red_blue_ball(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    g.place_agent(None, None)?;
    let dists = g.add_distractors(None, None, 7, false)?;
    if dists
        .iter()
        .any(|&(_, k, c)| k == Kind::Ball && (c == Color::Blue || c == Color::Red))
    {
        return Err(Reject("can only have one blue or red ball"));
    }
    let color = g.pick(&[Color::Red, Color::Blue]);
    g.add_object(0, 0, Some(Kind::Ball), Some(color))?;
    require_reachable(g)?;
    Ok(goto(Kind::Ball, color))
}

fn go_to_door(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    let mut colors = Vec::new();
    for _ in 0..4 {
        let (_, color) = g.add_door(1, 1, None, None, None)?;
        colors.push(color);
    }
    g.place_agent(Some(1), Some(1))?;
    let color = g.pick(&colors);
    Ok(goto(Kind::Door, color))
}

fn go_to_obj_door(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    g.place_agent(Some(1), Some(1))?;
    let mut objs: Vec<(Kind, Color)> = g
        .add_distractors(Some(1), Some(1), 8, false)?
        .into_iter()
        .map(|(_, k, c)| (k, c))
        .collect();
    for _ in 0..4 {
        let (_, color) = g.add_door(1, 1, None, None, None)?;
        objs.push((Kind::Door, color));
    }
    require_reachable(g)?;
    let (kind, color) = g.pick(&objs);
    Ok(goto(kind, color))
}

fn open(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    g.place_agent(None, None)?;
    g.connect_all(&Color::ALL)?;
    g.add_distractors(None, None, 18, false)?;
    require_reachable(g)?;
    let doors = g.doors_by_room();
    if doors.is_empty() {
        return Err(Reject("no door"));
    }
    let pos = g.pick(&doors);
    let color = g.obj_at(pos).map(|(_, _, c)| c);
    Ok(open_instr(color, false).into())
}

fn open_red_door(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    g.add_door(0, 0, Some(0), Some(Color::Red), Some(false))?;
    g.place_agent(Some(0), Some(0))?;
    Ok(open_instr(Some(Color::Red), false).into())
}

fn open_door_loc(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    let colors = g.subset(&Color::ALL, 4);
    for (i, &color) in colors.iter().enumerate() {
        g.add_door(1, 1, Some(i), Some(color), Some(false))?;
    }
    let loc = g.pick(&Loc::ALL);
    g.place_agent(Some(1), Some(1))?;
    let instr = Instr::Open {
        desc: ObjDesc::new(Some(Kind::Door), None, Some(loc)),
        strict: false,
    };
    let mut check = instr.clone();
    check.reset_verifier(&g.world_view());
    if let Instr::Open { desc, .. } = &check
        && desc.obj_set.is_empty()
    {
        return Err(Reject("no door matches the location"));
    }
    Ok(instr.into())
}

fn open_red_blue_doors(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    g.subset(&Color::ALL, 2);
    g.add_door(1, 1, Some(2), Some(Color::Red), Some(false))?;
    g.add_door(1, 1, Some(0), Some(Color::Blue), Some(false))?;
    g.place_agent(Some(1), Some(1))?;
    Ok(Instr::seq(
        SeqKind::Before,
        open_instr(Some(Color::Red), true),
        open_instr(Some(Color::Blue), false),
        false,
    )
    .into())
}

fn open_doors_order(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    let colors = g.subset(&Color::ALL, 4);
    for &color in &colors {
        g.add_door(1, 1, None, Some(color), Some(false))?;
    }
    g.place_agent(Some(1), Some(1))?;
    let pair = g.subset(&colors, 2);
    let (c1, c2) = (pair[0], pair[1]);
    Ok(match g.int(0, 3) {
        0 => open_instr(Some(c1), true),
        1 => Instr::seq(
            SeqKind::Before,
            open_instr(Some(c1), true),
            open_instr(Some(c2), true),
            false,
        ),
        _ => Instr::seq(
            SeqKind::After,
            open_instr(Some(c1), true),
            open_instr(Some(c2), true),
            false,
        ),
    }
    .into())
}

fn pickup_level(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    g.place_agent(None, None)?;
    g.connect_all(&Color::ALL)?;
    let objs = g.add_distractors(None, None, 18, false)?;
    require_reachable(g)?;
    let (_, kind, color) = g.pick(&objs);
    Ok(pickup(Some(kind), Some(color), false).into())
}

fn unblock_pickup(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    g.place_agent(None, None)?;
    g.connect_all(&Color::ALL)?;
    let objs = g.add_distractors(None, None, 20, false)?;
    if g.objs_reachable() {
        return Err(Reject("all objects reachable"));
    }
    let (_, kind, color) = g.pick(&objs);
    Ok(pickup(Some(kind), Some(color), false).into())
}

fn pickup_loc(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    let params = LevelGenParams {
        action_kinds: &[ActionKind::Pickup],
        instr_kinds: &[InstrKind::Action],
        num_dists: 8,
        locked_room_prob: 0.0,
        locations: true,
        unblocking: false,
        ..LevelGenParams::default()
    };
    levelgen_mission(g, params).map(Mission::from)
}

fn pickup_dist(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    let objs = g.add_distractors(None, None, 5, true)?;
    g.place_agent(Some(0), Some(0))?;
    let (_, kind, color) = g.pick(&objs);
    let (kind, color) = match g.int(0, 3) {
        0 => (Some(kind), None),
        1 => (None, Some(color)),
        _ => (Some(kind), Some(color)),
    };
    Ok(pickup(kind, color, true).into())
}

fn pickup_above(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    let (id, _) = g.add_object(1, 0, None, None)?;
    g.add_door(1, 1, Some(3), None, Some(false))?;
    g.place_agent(Some(1), Some(1))?;
    g.connect_all(&Color::ALL)?;
    let obj = g
        .grid
        .objects_x_major()
        .find(|(_, o)| o.id == id)
        .map(|(_, o)| (o.kind, o.color))
        .ok_or(Reject("object vanished"))?;
    Ok(pickup(Some(obj.0), Some(obj.1), false).into())
}

fn put_next_local(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    g.place_agent(None, None)?;
    let objs = g.add_distractors(None, None, 4, true)?;
    require_reachable(g)?;
    let pair = g.subset(&objs, 2);
    let mut instr = put_next((pair[0].1, pair[0].2), (pair[1].1, pair[1].2));
    levelgen::validate(g, &mut instr, false)?;
    Ok(instr.into())
}

fn put_next_carrying(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    g.place_agent(Some(0), Some(0))?;
    let left = g.add_distractors(Some(0), Some(0), 4, true)?;
    let right = g.add_distractors(Some(1), Some(0), 4, true)?;
    g.remove_wall(0, 0, 0)?;
    let mut a = g.pick(&left);
    let mut b = g.pick(&right);
    if g.coin() {
        std::mem::swap(&mut a, &mut b);
    }
    let mut instr = put_next((a.1, a.2), (b.1, b.2));
    levelgen::validate(g, &mut instr, false)?;
    let carry_from = g
        .grid
        .objects_x_major()
        .find(|(_, o)| o.id == a.0)
        .map(|(p, _)| p);
    Ok(Mission { instr, carry_from })
}

fn unlock(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    let ((id, jd), color) = locked_door_and_key(g)?;
    if g.coin() {
        let others: Vec<Color> = Color::ALL.into_iter().filter(|&c| c != color).collect();
        g.connect_all(&others)?;
    } else {
        g.connect_all(&Color::ALL)?;
    }
    for i in 0..g.layout.num_cols {
        for j in 0..g.layout.num_rows {
            if i != id || j != jd {
                g.add_distractors(Some(i), Some(j), 3, false)?;
            }
        }
    }
    place_agent_outside(g, (id, jd))?;
    require_reachable(g)?;
    Ok(open_instr(Some(color), false).into())
}

fn unlock_local_dist(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    let (_, color) = g.add_door(1, 1, None, None, Some(true))?;
    g.add_object(1, 1, Some(Kind::Key), Some(color))?;
    g.add_distractors(Some(1), Some(1), 3, true)?;
    g.place_agent(Some(1), Some(1))?;
    Ok(open_instr(None, false).into())
}

fn key_in_box(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    let (_, color) = g.add_door(1, 1, None, None, Some(true))?;
    let key = Obj::new(g.new_id(), Kind::Key, color);
    let box_color = g.color();
    let mut boxed = Obj::new(g.new_id(), Kind::Box, box_color);
    boxed.contains = Some(Box::new(key));
    g.place_in_room(1, 1, boxed)?;
    g.place_agent(Some(1), Some(1))?;
    Ok(open_instr(None, false).into())
}

fn unlock_pickup_dist(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    let (id, _) = g.add_object(1, 0, Some(Kind::Box), None)?;
    let (_, color) = g.add_door(0, 0, Some(0), None, Some(true))?;
    g.add_object(0, 0, Some(Kind::Key), Some(color))?;
    g.add_distractors(None, None, 4, true)?;
    g.place_agent(Some(0), Some(0))?;
    let box_color = g
        .grid
        .objects_x_major()
        .find(|(_, o)| o.id == id)
        .map(|(_, o)| o.color)
        .ok_or(Reject("box vanished"))?;
    Ok(pickup(Some(Kind::Box), Some(box_color), false).into())
}

fn blocked_unlock_pickup(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    g.add_object(1, 0, Some(Kind::Box), None)?;
    let (pos, color) = g.add_door(0, 0, Some(0), None, Some(true))?;
    let ball_color = g.color();
    let ball = Obj::new(g.new_id(), Kind::Ball, ball_color);
    g.grid.set((pos.0 - 1, pos.1), Some(ball));
    g.add_object(0, 0, Some(Kind::Key), Some(color))?;
    g.place_agent(Some(0), Some(0))?;
    Ok(pickup(Some(Kind::Box), None, false).into())
}

fn unlock_to_unlock(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    let colors = g.subset(&Color::ALL, 2);
    g.add_door(0, 0, Some(0), Some(colors[0]), Some(true))?;
    g.add_object(2, 0, Some(Kind::Key), Some(colors[0]))?;
    g.add_door(1, 0, Some(0), Some(colors[1]), Some(true))?;
    g.add_object(1, 0, Some(Kind::Key), Some(colors[1]))?;
    g.add_object(0, 0, Some(Kind::Ball), None)?;
    g.place_agent(Some(1), Some(0))?;
    Ok(pickup(Some(Kind::Ball), None, false).into())
}

fn action_obj_door(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    let mut objs: Vec<(Kind, Color)> = g
        .add_distractors(Some(1), Some(1), 5, true)?
        .into_iter()
        .map(|(_, k, c)| (k, c))
        .collect();
    for _ in 0..4 {
        let (_, color) = g.add_door(1, 1, None, None, Some(false))?;
        objs.push((Kind::Door, color));
    }
    g.place_agent(Some(1), Some(1))?;
    let (kind, color) = g.pick(&objs);
    let go = g.coin();
    Ok(match (kind, go) {
        (_, true) => goto(kind, color),
        (Kind::Door, false) => open_instr(Some(color), false).into(),
        (_, false) => pickup(Some(kind), Some(color), false).into(),
    })
}

fn find_obj(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    let i = g.int(0, g.layout.num_rows);
    let j = g.int(0, g.layout.num_cols);
    let (id, _) = g.add_object(i, j, None, None)?;
    g.place_agent(Some(1), Some(1))?;
    g.connect_all(&Color::ALL)?;
    let kind = g
        .grid
        .objects_x_major()
        .find(|(_, o)| o.id == id)
        .map(|(_, o)| o.kind)
        .ok_or(Reject("object vanished"))?;
    Ok(pickup(Some(kind), None, false).into())
}

fn key_corridor(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    let rows = g.layout.num_rows;
    for j in 1..rows {
        g.remove_wall(1, j, 3)?;
    }
    let room = g.int(0, rows);
    let (_, color) = g.add_door(2, room, Some(2), None, Some(true))?;
    g.add_object(2, room, Some(Kind::Ball), None)?;
    let key_row = g.int(0, rows);
    g.add_object(0, key_row, Some(Kind::Key), Some(color))?;
    g.place_agent(Some(1), Some(rows / 2))?;
    g.connect_all(&Color::ALL)?;
    Ok(pickup(Some(Kind::Ball), None, false).into())
}

fn one_room(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    g.add_object(0, 0, Some(Kind::Ball), None)?;
    g.place_agent(None, None)?;
    Ok(pickup(Some(Kind::Ball), None, false).into())
}

fn move_two_across(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    g.place_agent(Some(0), Some(0))?;
    let left = g.add_distractors(Some(0), Some(0), 9, true)?;
    let right = g.add_distractors(Some(1), Some(0), 9, true)?;
    g.remove_wall(0, 0, 0)?;
    let l = g.subset(&left, 2);
    let r = g.subset(&right, 2);
    let (a, b, c, d) = (l[0], r[0], r[1], l[1]);
    let mut instr = Instr::seq(
        SeqKind::Before,
        put_next((a.1, a.2), (b.1, b.2)),
        put_next((c.1, c.2), (d.1, d.2)),
        false,
    );
    levelgen::validate(g, &mut instr, false)?;
    Ok(instr.into())
}

/// Levels that are `LevelGen` with some of its parameters changed, one function each:
/// `name { field: value, … }` runs [`levelgen_mission`] with those fields and the defaults.
macro_rules! levelgen_levels {
    ($($name:ident { $($field:ident: $value:expr),* $(,)? })*) => {
        $(
            fn $name(g: &mut Gen<'_>) -> Result<Mission, Reject> {
                let params = LevelGenParams {
                    $($field: $value,)*
                    ..LevelGenParams::default()
                };
                levelgen_mission(g, params).map(Mission::from)
            }
        )*
    };
}

levelgen_levels! {
    synth { instr_kinds: &[InstrKind::Action], locations: false, unblocking: true, implicit_unlock: false }
    synth_loc { instr_kinds: &[InstrKind::Action], locations: true, unblocking: true, implicit_unlock: false }
    synth_seq { locations: true, unblocking: true, implicit_unlock: false }
    mini_boss { num_dists: 7, locked_room_prob: 0.25 }
    boss_no_unlock {
        locked_room_prob: 0.0,
        implicit_unlock: false,
        action_kinds: ALL_ACTIONS,
        instr_kinds: ALL_INSTRS,
    }
}

fn boss(g: &mut Gen<'_>) -> Result<Mission, Reject> {
    levelgen_mission(g, LevelGenParams::default()).map(Mission::from)
}
