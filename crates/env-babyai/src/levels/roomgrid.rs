//! MiniGrid's `RoomGrid` construction kit (rooms, doors, object placement, connectivity),
//! driven by our own seeded RNG.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::grid::{Color, DoorState, Grid, Kind, Obj, Pos};
use crate::instr::{ObjDesc, WorldView};
use crate::world::{RoomLayout, dir_vec};

/// Why a generation attempt was abandoned (`RejectSampling` or `RecursionError`): the level
/// generator starts over with the RNG where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject(pub &'static str);

/// A door slot of a room (`None`, a door, or `True` for a removed wall).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// A wall.
    Wall,
    /// A door at that position.
    Door(Pos),
    /// The wall was removed.
    Opening,
}

/// One room of the grid.
#[derive(Clone, Debug)]
pub struct Room {
    /// Top-left corner (on the wall).
    pub top: Pos,
    /// Size, walls included.
    pub size: Pos,
    /// Door slots: east, south, west, north.
    pub doors: [Slot; 4],
    /// Door positions on the four walls (`None` where there is no neighbour).
    pub door_pos: [Option<Pos>; 4],
    /// Neighbouring room indices.
    pub neighbors: [Option<usize>; 4],
    /// Whether the room's last added door was locked.
    pub locked: bool,
    /// Types and colours of objects placed in the room.
    pub objs: Vec<(Kind, Color)>,
}

impl Room {
    /// Whether `pos` lies inside the room (walls included).
    pub fn contains(&self, pos: Pos) -> bool {
        pos.0 >= self.top.0
            && pos.1 >= self.top.1
            && pos.0 < self.top.0 + self.size.0
            && pos.1 < self.top.1 + self.size.1
    }
}

/// The state of one generation attempt.
pub struct Gen<'r> {
    rng: &'r mut ChaCha8Rng,
    /// The layout.
    pub layout: RoomLayout,
    /// The grid being built.
    pub grid: Grid,
    /// Rooms, row-major (`index = j * num_cols + i`).
    pub rooms: Vec<Room>,
    /// Agent position.
    pub agent_pos: Pos,
    /// Agent direction.
    pub agent_dir: u8,
    next_id: u32,
}

/// The three movable object kinds in MiniGrid's order.
pub const MOVABLE: [Kind; 3] = [Kind::Key, Kind::Ball, Kind::Box];

impl<'r> Gen<'r> {
    /// `RoomGrid._gen_grid`: walls around every room and random door positions.
    pub fn new(rng: &'r mut ChaCha8Rng, layout: RoomLayout) -> Gen<'r> {
        let rs = layout.room_size;
        let width = (rs - 1) * layout.num_cols + 1;
        let height = (rs - 1) * layout.num_rows + 1;
        let mut g0 = Gen {
            rng,
            layout,
            grid: Grid::new(width, height),
            rooms: Vec::new(),
            agent_pos: (
                (layout.num_cols / 2) * (rs - 1) + rs / 2,
                (layout.num_rows / 2) * (rs - 1) + rs / 2,
            ),
            agent_dir: 0,
            next_id: 1,
        };
        for j in 0..layout.num_rows {
            for i in 0..layout.num_cols {
                let top = (i * (rs - 1), j * (rs - 1));
                g0.grid.wall_rect(top.0, top.1, rs, rs);
                g0.rooms.push(Room {
                    top,
                    size: (rs, rs),
                    doors: [Slot::Wall; 4],
                    door_pos: [None; 4],
                    neighbors: [None; 4],
                    locked: false,
                    objs: Vec::new(),
                });
            }
        }
        for j in 0..layout.num_rows {
            for i in 0..layout.num_cols {
                let idx = g0.room_index(i, j);
                let top = g0.rooms[idx].top;
                let (xl, yl) = (top.0 + 1, top.1 + 1);
                let (xm, ym) = (top.0 + rs - 1, top.1 + rs - 1);
                if i < layout.num_cols - 1 {
                    g0.rooms[idx].neighbors[0] = Some(g0.room_index(i + 1, j));
                    let y = g0.int(yl, ym);
                    g0.rooms[idx].door_pos[0] = Some((xm, y));
                }
                if j < layout.num_rows - 1 {
                    g0.rooms[idx].neighbors[1] = Some(g0.room_index(i, j + 1));
                    let x = g0.int(xl, xm);
                    g0.rooms[idx].door_pos[1] = Some((x, ym));
                }
                if i > 0 {
                    let n = g0.room_index(i - 1, j);
                    g0.rooms[idx].neighbors[2] = Some(n);
                    g0.rooms[idx].door_pos[2] = g0.rooms[n].door_pos[0];
                }
                if j > 0 {
                    let n = g0.room_index(i, j - 1);
                    g0.rooms[idx].neighbors[3] = Some(n);
                    g0.rooms[idx].door_pos[3] = g0.rooms[n].door_pos[1];
                }
            }
        }
        g0
    }

    /// Index of room `(i, j)` (column, row).
    pub fn room_index(&self, i: i32, j: i32) -> usize {
        usize::try_from(j * self.layout.num_cols + i).unwrap_or(0)
    }

    /// The index of the room containing `pos` (`room_from_pos`).
    pub fn room_at(&self, pos: Pos) -> usize {
        let step = self.layout.room_size - 1;
        let i = (pos.0 / step).clamp(0, self.layout.num_cols - 1);
        let j = (pos.1 / step).clamp(0, self.layout.num_rows - 1);
        self.room_index(i, j)
    }

    /// A fresh object identity.
    pub fn new_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// `_rand_int(low, high)`: uniform in `low..high`.
    pub fn int(&mut self, low: i32, high: i32) -> i32 {
        if high <= low {
            return low;
        }
        self.rng.random_range(low..high)
    }

    /// `_rand_bool()`.
    pub fn coin(&mut self) -> bool {
        self.int(0, 2) == 0
    }

    /// `_rand_float(0, 1)`.
    pub fn unit(&mut self) -> f64 {
        self.rng.random::<f64>()
    }

    /// `_rand_elem`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        let n = i32::try_from(items.len()).unwrap_or(1);
        items[usize::try_from(self.int(0, n)).unwrap_or(0)]
    }

    /// `_rand_subset`: `n` distinct elements in drawing order.
    pub fn subset<T: Copy>(&mut self, items: &[T], n: usize) -> Vec<T> {
        let mut pool = items.to_vec();
        let mut out = Vec::with_capacity(n);
        while out.len() < n && !pool.is_empty() {
            let n_pool = i32::try_from(pool.len()).unwrap_or(1);
            let at = usize::try_from(self.int(0, n_pool)).unwrap_or(0);
            out.push(pool.remove(at));
        }
        out
    }

    /// `_rand_color()`.
    pub fn color(&mut self) -> Color {
        self.pick(&Color::ALL)
    }

    /// `place_obj`: a random empty cell of the rectangle, not the agent's, not rejected.
    pub fn place_obj(
        &mut self,
        obj: Option<Obj>,
        top: Pos,
        size: Pos,
        reject_next_to_agent: bool,
        max_tries: u32,
    ) -> Result<Pos, Reject> {
        let top = (top.0.max(0), top.1.max(0));
        let mut tries = 0;
        loop {
            if tries > max_tries {
                return Err(Reject("rejection sampling failed in place_obj"));
            }
            tries += 1;
            let x = self.int(top.0, (top.0 + size.0).min(self.grid.width()));
            let y = self.int(top.1, (top.1 + size.1).min(self.grid.height()));
            let pos = (x, y);
            if self.grid.get(pos).is_some() || pos == self.agent_pos {
                continue;
            }
            if reject_next_to_agent
                && (self.agent_pos.0 - x).abs() + (self.agent_pos.1 - y).abs() < 2
            {
                continue;
            }
            if let Some(mut obj) = obj {
                obj.cur_pos = Some(pos);
                self.grid.set(pos, Some(obj));
            }
            return Ok(pos);
        }
    }

    /// `place_in_room`: place `obj` in room `(i, j)` away from the agent.
    pub fn place_in_room(&mut self, i: i32, j: i32, obj: Obj) -> Result<(u32, Pos), Reject> {
        let idx = self.room_index(i, j);
        let (top, size) = (self.rooms[idx].top, self.rooms[idx].size);
        let (id, kind, color) = (obj.id, obj.kind, obj.color);
        let pos = self.place_obj(Some(obj), top, size, true, 1000)?;
        self.rooms[idx].objs.push((kind, color));
        Ok((id, pos))
    }

    /// `add_object`: a key, ball or box (random when `None`) in room `(i, j)`.
    pub fn add_object(
        &mut self,
        i: i32,
        j: i32,
        kind: Option<Kind>,
        color: Option<Color>,
    ) -> Result<(u32, Pos), Reject> {
        let kind = match kind {
            Some(kind) => kind,
            None => self.pick(&MOVABLE),
        };
        let color = match color {
            Some(color) => color,
            None => self.color(),
        };
        let id = self.new_id();
        self.place_in_room(i, j, Obj::new(id, kind, color))
    }

    /// `add_door`: a door on wall `door_idx` (random free wall when `None`) of room `(i, j)`.
    pub fn add_door(
        &mut self,
        i: i32,
        j: i32,
        door_idx: Option<usize>,
        color: Option<Color>,
        locked: Option<bool>,
    ) -> Result<(Pos, Color), Reject> {
        let idx = self.room_index(i, j);
        let door_idx = match door_idx {
            Some(d) => d,
            None => {
                let mut tries = 0;
                loop {
                    tries += 1;
                    if tries > 10_000 {
                        return Err(Reject("no free wall for a door"));
                    }
                    let d = usize::try_from(self.int(0, 4)).unwrap_or(0);
                    if self.rooms[idx].neighbors[d].is_some()
                        && self.rooms[idx].doors[d] == Slot::Wall
                    {
                        break d;
                    }
                }
            }
        };
        let color = match color {
            Some(c) => c,
            None => self.color(),
        };
        let locked = match locked {
            Some(l) => l,
            None => self.coin(),
        };
        if self.rooms[idx].doors[door_idx] != Slot::Wall {
            return Err(Reject("door already exists"));
        }
        let (Some(pos), Some(neighbor)) = (
            self.rooms[idx].door_pos[door_idx],
            self.rooms[idx].neighbors[door_idx],
        ) else {
            return Err(Reject("invalid wall for a door"));
        };
        self.rooms[idx].locked = locked;
        let id = self.new_id();
        let state = if locked {
            DoorState::Locked
        } else {
            DoorState::Closed
        };
        let mut door = Obj::door(id, color, state);
        door.cur_pos = Some(pos);
        self.grid.set(pos, Some(door));
        self.rooms[idx].doors[door_idx] = Slot::Door(pos);
        self.rooms[neighbor].doors[(door_idx + 2) % 4] = Slot::Door(pos);
        Ok((pos, color))
    }

    /// `remove_wall`: opens the whole wall between room `(i, j)` and its neighbour.
    pub fn remove_wall(&mut self, i: i32, j: i32, wall_idx: usize) -> Result<(), Reject> {
        let idx = self.room_index(i, j);
        let room = &self.rooms[idx];
        let Some(neighbor) = room.neighbors[wall_idx] else {
            return Err(Reject("invalid wall"));
        };
        let (tx, ty) = room.top;
        let (w, h) = room.size;
        let cells: Vec<Pos> = match wall_idx {
            0 => (1..h - 1).map(|k| (tx + w - 1, ty + k)).collect(),
            1 => (1..w - 1).map(|k| (tx + k, ty + h - 1)).collect(),
            2 => (1..h - 1).map(|k| (tx, ty + k)).collect(),
            _ => (1..w - 1).map(|k| (tx + k, ty)).collect(),
        };
        for pos in cells {
            self.grid.set(pos, None);
        }
        self.rooms[idx].doors[wall_idx] = Slot::Opening;
        self.rooms[neighbor].doors[(wall_idx + 2) % 4] = Slot::Opening;
        Ok(())
    }

    /// Room `(i, j)`, each coordinate drawn at random (column first) when `None`.
    fn room_or_random(&mut self, i: Option<i32>, j: Option<i32>) -> (i32, i32) {
        let i = match i {
            Some(i) => i,
            None => self.int(0, self.layout.num_cols),
        };
        let j = match j {
            Some(j) => j,
            None => self.int(0, self.layout.num_rows),
        };
        (i, j)
    }

    /// `RoomGrid.place_agent`: a random cell of room `(i, j)` (random room when `None`) whose
    /// front cell is empty or a wall, with a random direction.
    pub fn place_agent(&mut self, i: Option<i32>, j: Option<i32>) -> Result<Pos, Reject> {
        let (i, j) = self.room_or_random(i, j);
        let idx = self.room_index(i, j);
        let (top, size) = (self.rooms[idx].top, self.rooms[idx].size);
        for _ in 0..10_000 {
            self.agent_pos = (-1, -1);
            let pos = self.place_obj(None, top, size, false, 1000)?;
            self.agent_pos = pos;
            self.agent_dir = u8::try_from(self.int(0, 4)).unwrap_or(0);
            let v = dir_vec(self.agent_dir);
            let front = self.grid.get((pos.0 + v.0, pos.1 + v.1));
            if front.is_none_or(|c| c.kind == Kind::Wall) {
                return Ok(pos);
            }
        }
        Err(Reject("place_agent found no free spot"))
    }

    /// `connect_all`: adds unlocked doors until every room is reachable from the agent's room.
    pub fn connect_all(&mut self, door_colors: &[Color]) -> Result<(), Reject> {
        let start = self.room_at(self.agent_pos);
        let total = self.rooms.len();
        let mut itrs = 0;
        loop {
            if itrs > 5000 {
                return Err(Reject("connect_all failed"));
            }
            itrs += 1;
            if self.reach(start) == total {
                return Ok(());
            }
            let i = self.int(0, self.layout.num_cols);
            let j = self.int(0, self.layout.num_rows);
            let k = usize::try_from(self.int(0, 4)).unwrap_or(0);
            let idx = self.room_index(i, j);
            let room = &self.rooms[idx];
            if room.door_pos[k].is_none() || room.doors[k] != Slot::Wall {
                continue;
            }
            let Some(neighbor) = room.neighbors[k] else {
                continue;
            };
            if room.locked || self.rooms[neighbor].locked {
                continue;
            }
            let color = self.pick(door_colors);
            self.add_door(i, j, Some(k), Some(color), Some(false))?;
        }
    }

    fn reach(&self, start: usize) -> usize {
        let mut seen = vec![false; self.rooms.len()];
        let mut stack = vec![start];
        let mut count = 0;
        while let Some(r) = stack.pop() {
            if seen[r] {
                continue;
            }
            seen[r] = true;
            count += 1;
            for k in 0..4 {
                if self.rooms[r].doors[k] != Slot::Wall
                    && let Some(n) = self.rooms[r].neighbors[k]
                {
                    stack.push(n);
                }
            }
        }
        count
    }

    /// `add_distractors`: `n` random objects in room `(i, j)` (random rooms when `None`),
    /// distinct from every placed object when `all_unique`. Returns their identities.
    pub fn add_distractors(
        &mut self,
        i: Option<i32>,
        j: Option<i32>,
        n: usize,
        all_unique: bool,
    ) -> Result<Vec<(u32, Kind, Color)>, Reject> {
        let mut placed: Vec<(Kind, Color)> = self
            .rooms
            .iter()
            .flat_map(|r| r.objs.iter().copied())
            .collect();
        let mut out = Vec::new();
        let mut tries = 0;
        while out.len() < n {
            tries += 1;
            if tries > 100_000 {
                return Err(Reject("add_distractors found no unique object"));
            }
            let color = self.color();
            let kind = self.pick(&MOVABLE);
            if all_unique && placed.contains(&(kind, color)) {
                continue;
            }
            let (ri, rj) = self.room_or_random(i, j);
            let (id, _) = self.add_object(ri, rj, Some(kind), Some(color))?;
            placed.push((kind, color));
            out.push((id, kind, color));
        }
        Ok(out)
    }

    /// `check_objs_reachable`: every non-wall object can be reached through empty cells and
    /// doors (of any state).
    pub fn objs_reachable(&self) -> bool {
        let (w, h) = (self.grid.width(), self.grid.height());
        let mut reach = vec![false; usize::try_from(w * h).unwrap_or(0)];
        let at = |p: Pos| usize::try_from(p.1 * w + p.0).unwrap_or(0);
        let mut stack = vec![self.agent_pos];
        while let Some(p) = stack.pop() {
            if !self.grid.contains(p) || reach[at(p)] {
                continue;
            }
            reach[at(p)] = true;
            if self.grid.get(p).is_some_and(|c| c.kind != Kind::Door) {
                continue;
            }
            stack.extend([
                (p.0 + 1, p.1),
                (p.0 - 1, p.1),
                (p.0, p.1 + 1),
                (p.0, p.1 - 1),
            ]);
        }
        self.grid
            .objects_x_major()
            .all(|(p, o)| o.kind == Kind::Wall || reach[at(p)])
    }

    /// Every door in the grid, room by room (column-major as MiniGrid iterates `i`, then `j`),
    /// each shared door listed once per room, as MiniGrid's loops do.
    pub fn doors_by_room(&self) -> Vec<Pos> {
        let mut out = Vec::new();
        for i in 0..self.layout.num_cols {
            for j in 0..self.layout.num_rows {
                for slot in self.rooms[self.room_index(i, j)].doors {
                    if let Slot::Door(pos) = slot {
                        out.push(pos);
                    }
                }
            }
        }
        out
    }

    /// The identity, kind and colour of the object at `pos`.
    pub fn obj_at(&self, pos: Pos) -> Option<(u32, Kind, Color)> {
        self.grid.get(pos).map(|o| (o.id, o.kind, o.color))
    }

    /// A view for matching descriptions from the agent's current pose.
    pub fn world_view(&self) -> WorldView<'_> {
        WorldView {
            grid: &self.grid,
            agent_pos: self.agent_pos,
            agent_dir: self.agent_dir,
            carrying: None,
            agent_room: self.layout.room_of(self.agent_pos),
        }
    }

    /// Matches `desc` against the grid from the agent's pose.
    pub fn matching(&self, desc: &mut ObjDesc) {
        desc.find_matching(&self.world_view());
    }
}
