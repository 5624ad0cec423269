//! The MiniGrid world: agent pose, carried object, primitive actions with MiniGrid's semantics,
//! the mission verifier, and the 7×7 egocentric view with occlusion.

pub use crate::action::{Action, dir_vec};
use crate::grid::{DoorState, Grid, Kind, Obj, Pos};
use crate::instr::{Instr, RoomRect, Status, WorldView};

/// The side of the agent's square view.
pub const VIEW_SIZE: i32 = 7;

/// The agent's 7×7 view: `image[i][j]` is the encoding of view column `i` (left to right) and
/// row `j` (farthest first; the agent is at `(3, 6)`), `[0, 0, 0]` where occluded.
pub type Image = [[[u8; 3]; VIEW_SIZE as usize]; VIEW_SIZE as usize];

/// A MiniGrid world with a BabyAI mission.
#[derive(Clone, Debug, PartialEq)]
pub struct World {
    /// The grid (the agent is not in it).
    pub grid: Grid,
    /// The agent's position.
    pub agent_pos: Pos,
    /// The agent's direction (0 east, 1 south, 2 west, 3 north).
    pub agent_dir: u8,
    /// The carried object.
    pub carrying: Option<Obj>,
    /// Primitive steps taken.
    pub step_count: u32,
    /// The step budget of the success reward.
    pub max_steps: u32,
    /// The mission's verifier.
    pub instr: Instr,
    /// The mission text (`env.mission`).
    pub mission: String,
    /// The room layout, for location filters (`None` when unknown).
    pub rooms: Option<RoomLayout>,
}

/// A BabyAI room grid: `num_rows × num_cols` square rooms of side `room_size` sharing walls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoomLayout {
    /// Side of one room, walls included.
    pub room_size: i32,
    /// Rooms per column.
    pub num_rows: i32,
    /// Rooms per row.
    pub num_cols: i32,
}

impl RoomLayout {
    /// The room containing `pos` (`room_from_pos`: shared walls belong to the later room).
    pub fn room_of(&self, pos: Pos) -> Option<RoomRect> {
        let step = self.room_size - 1;
        if pos.0 < 0 || pos.1 < 0 || step <= 0 {
            return None;
        }
        let (i, j) = (pos.0 / step, pos.1 / step);
        (i < self.num_cols && j < self.num_rows)
            .then_some(((i * step, j * step), (self.room_size, self.room_size)))
    }
}

/// What one primitive step returned.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrimitiveOutcome {
    /// MiniGrid's reward (success reward, else 0).
    pub reward: f64,
    /// Whether the mission succeeded or failed (or the agent hit lava or a goal).
    pub terminated: bool,
    /// Whether `step_count` reached `max_steps`.
    pub truncated: bool,
}

impl World {
    /// The cell in front of the agent.
    pub fn front_pos(&self) -> Pos {
        let (dx, dy) = dir_vec(self.agent_dir);
        (self.agent_pos.0 + dx, self.agent_pos.1 + dy)
    }

    /// The room containing `pos`, if rooms are known.
    pub fn room_of(&self, pos: Pos) -> Option<RoomRect> {
        self.rooms.and_then(|layout| layout.room_of(pos))
    }

    /// A read-only view for the verifiers.
    pub fn view(&self) -> WorldView<'_> {
        WorldView {
            grid: &self.grid,
            agent_pos: self.agent_pos,
            agent_dir: self.agent_dir,
            carrying: self.carrying.as_ref(),
            agent_room: self.room_of(self.agent_pos),
        }
    }

    /// The success reward for the current step count: `1 - 0.9 * step_count / max_steps`.
    pub fn success_reward(&self) -> f64 {
        1.0 - 0.9 * (f64::from(self.step_count) / f64::from(self.max_steps.max(1)))
    }

    /// Runs one primitive with MiniGrid's dynamics, then the BabyAI verifier.
    pub fn step(&mut self, action: Action) -> PrimitiveOutcome {
        self.step_count += 1;
        let mut reward = 0.0;
        let mut terminated = false;
        let fwd = self.front_pos();
        match action {
            Action::Left => self.agent_dir = (self.agent_dir + 3) % 4,
            Action::Right => self.agent_dir = (self.agent_dir + 1) % 4,
            Action::Forward => {
                let cell = self.grid.get(fwd);
                if cell.is_none_or(Obj::can_overlap) {
                    self.agent_pos = fwd;
                }
                match cell.map(|c| c.kind) {
                    Some(Kind::Goal) => {
                        terminated = true;
                        reward = self.success_reward();
                    }
                    Some(Kind::Lava) => terminated = true,
                    _ => {}
                }
            }
            Action::Pickup => {
                if self.carrying.is_none()
                    && self.grid.get(fwd).is_some_and(|c| c.kind.can_pickup())
                {
                    let mut obj = self.grid.set(fwd, None);
                    if let Some(obj) = obj.as_mut() {
                        obj.cur_pos = Some((-1, -1));
                    }
                    self.carrying = obj;
                }
            }
            Action::Drop => {
                if self.grid.get(fwd).is_none()
                    && self.grid.contains(fwd)
                    && let Some(mut obj) = self.carrying.take()
                {
                    obj.cur_pos = Some(fwd);
                    self.grid.set(fwd, Some(obj));
                }
            }
            Action::Toggle => self.toggle(fwd),
            Action::Done => {}
        }
        let truncated = self.step_count >= self.max_steps;
        if action == Action::Drop {
            self.instr.update_objs_poss(&self.grid);
        }
        let view = WorldView {
            grid: &self.grid,
            agent_pos: self.agent_pos,
            agent_dir: self.agent_dir,
            carrying: self.carrying.as_ref(),
            agent_room: None,
        };
        match self.instr.verify(action, &view) {
            Status::Success => {
                terminated = true;
                reward = self.success_reward();
            }
            Status::Failure => {
                terminated = true;
                reward = 0.0;
            }
            Status::Continue => {}
        }
        PrimitiveOutcome {
            reward,
            terminated,
            truncated,
        }
    }

    fn toggle(&mut self, fwd: Pos) {
        let key_color = self
            .carrying
            .as_ref()
            .filter(|c| c.kind == Kind::Key)
            .map(|c| c.color);
        let Some(cell) = self.grid.get_mut(fwd) else {
            return;
        };
        match cell.kind {
            Kind::Door => {
                cell.door = match cell.door {
                    DoorState::Locked if key_color == Some(cell.color) => DoorState::Open,
                    DoorState::Locked => DoorState::Locked,
                    DoorState::Open => DoorState::Closed,
                    DoorState::Closed => DoorState::Open,
                };
            }
            Kind::Box => {
                let contents = cell.contains.take().map(|b| *b);
                self.grid.set(fwd, contents);
            }
            _ => {}
        }
    }

    /// The absolute position of view cell `(i, j)`.
    pub fn view_to_abs(&self, i: i32, j: i32) -> Pos {
        let f = dir_vec(self.agent_dir);
        let r = (-f.1, f.0);
        let fwd = VIEW_SIZE - 1 - j;
        let right = i - VIEW_SIZE / 2;
        (
            self.agent_pos.0 + f.0 * fwd + r.0 * right,
            self.agent_pos.1 + f.1 * fwd + r.1 * right,
        )
    }

    /// The encoded egocentric image (`obs["image"]`): MiniGrid's `gen_obs_grid` + `encode`.
    pub fn image(&self) -> Image {
        const N: usize = VIEW_SIZE as usize;
        // What the view grid holds before occlusion: world cells, walls outside the grid.
        let mut see_behind = [[true; N]; N];
        for (i, column) in see_behind.iter_mut().enumerate() {
            for (j, cell) in column.iter_mut().enumerate() {
                let pos = self.view_to_abs(i as i32, j as i32);
                *cell = if self.grid.contains(pos) {
                    self.grid.get(pos).is_none_or(Obj::see_behind)
                } else {
                    false
                };
            }
        }
        let mask = process_vis(&see_behind);
        let mut image = [[[0u8; 3]; N]; N];
        for i in 0..N {
            for j in 0..N {
                if !mask[i][j] {
                    continue;
                }
                image[i][j] = if i == N / 2 && j == N - 1 {
                    self.carrying.as_ref().map_or([1, 0, 0], Obj::encode)
                } else {
                    let pos = self.view_to_abs(i as i32, j as i32);
                    if self.grid.contains(pos) {
                        self.grid.get(pos).map_or([1, 0, 0], Obj::encode)
                    } else {
                        Obj::wall().encode()
                    }
                };
            }
        }
        image
    }
}

/// MiniGrid's `Grid.process_vis` on a 7×7 view whose agent sits at `(3, 6)`.
fn process_vis(see_behind: &[[bool; 7]; 7]) -> [[bool; 7]; 7] {
    const N: usize = VIEW_SIZE as usize;
    let mut mask = [[false; N]; N];
    mask[N / 2][N - 1] = true;
    for j in (0..N).rev() {
        for i in 0..N - 1 {
            if !mask[i][j] || !see_behind[i][j] {
                continue;
            }
            mask[i + 1][j] = true;
            if j > 0 {
                mask[i + 1][j - 1] = true;
                mask[i][j - 1] = true;
            }
        }
        for i in (1..N).rev() {
            if !mask[i][j] || !see_behind[i][j] {
                continue;
            }
            mask[i - 1][j] = true;
            if j > 0 {
                mask[i - 1][j - 1] = true;
                mask[i][j - 1] = true;
            }
        }
    }
    mask
}
