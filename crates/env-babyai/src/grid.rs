//! World objects and the grid that holds them, with MiniGrid's encoding.

use std::fmt;

/// MiniGrid's six object colours, in `COLOR_TO_IDX` order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Color {
    /// `red` (index 0).
    Red,
    /// `green` (index 1).
    Green,
    /// `blue` (index 2).
    Blue,
    /// `purple` (index 3).
    Purple,
    /// `yellow` (index 4).
    Yellow,
    /// `grey` (index 5).
    Grey,
}

impl Color {
    /// All colours in index order (MiniGrid's `COLOR_NAMES`).
    pub const ALL: [Color; 6] = [
        Color::Red,
        Color::Green,
        Color::Blue,
        Color::Purple,
        Color::Yellow,
        Color::Grey,
    ];

    /// The colour's name as MiniGrid writes it.
    pub fn name(self) -> &'static str {
        match self {
            Color::Red => "red",
            Color::Green => "green",
            Color::Blue => "blue",
            Color::Purple => "purple",
            Color::Yellow => "yellow",
            Color::Grey => "grey",
        }
    }

    /// The colour for a `COLOR_TO_IDX` index.
    pub fn from_index(index: u8) -> Option<Color> {
        Color::ALL.get(usize::from(index)).copied()
    }

    /// The colour's `COLOR_TO_IDX` index.
    pub fn index(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The kinds of world object (MiniGrid's `OBJECT_TO_IDX`, without `unseen`, `empty`, `agent`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// An impassable wall.
    Wall,
    /// A floor tile (passable; no level uses it).
    Floor,
    /// A door: open, closed or locked.
    Door,
    /// A key; opens the locked door of its colour.
    Key,
    /// A ball.
    Ball,
    /// A box; toggling it replaces it with its contents.
    Box,
    /// A goal square.
    Goal,
    /// Lava (ends the episode when stepped on).
    Lava,
}

impl Kind {
    /// The kind's name as MiniGrid writes it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Wall => "wall",
            Kind::Floor => "floor",
            Kind::Door => "door",
            Kind::Key => "key",
            Kind::Ball => "ball",
            Kind::Box => "box",
            Kind::Goal => "goal",
            Kind::Lava => "lava",
        }
    }

    /// The kind's `OBJECT_TO_IDX` index.
    pub fn index(self) -> u8 {
        match self {
            Kind::Wall => 2,
            Kind::Floor => 3,
            Kind::Door => 4,
            Kind::Key => 5,
            Kind::Ball => 6,
            Kind::Box => 7,
            Kind::Goal => 8,
            Kind::Lava => 9,
        }
    }

    /// The kind for an `OBJECT_TO_IDX` index (`None` for unseen, empty, agent and unknown).
    pub fn from_index(index: u8) -> Option<Kind> {
        Some(match index {
            2 => Kind::Wall,
            3 => Kind::Floor,
            4 => Kind::Door,
            5 => Kind::Key,
            6 => Kind::Ball,
            7 => Kind::Box,
            8 => Kind::Goal,
            9 => Kind::Lava,
            _ => return None,
        })
    }

    /// Whether the agent can pick it up (key, ball, box).
    pub fn can_pickup(self) -> bool {
        matches!(self, Kind::Key | Kind::Ball | Kind::Box)
    }
}

/// A door's state (`STATE_TO_IDX`: open 0, closed 1, locked 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DoorState {
    /// Open: passable and see-through.
    Open,
    /// Closed: toggle opens it.
    Closed,
    /// Locked: toggling while carrying a key of the door's colour opens it.
    Locked,
}

impl DoorState {
    /// The state's name as the text interface writes it.
    pub fn name(self) -> &'static str {
        match self {
            DoorState::Open => "open",
            DoorState::Closed => "closed",
            DoorState::Locked => "locked",
        }
    }
}

/// A grid position `(x, y)`; x grows to the east, y to the south.
pub type Pos = (i32, i32);

/// One world object. `id` gives objects an identity, as Python's `is` does for the verifiers.
#[derive(Clone, Debug, PartialEq)]
pub struct Obj {
    /// Identity (unique within a world; walls share 0).
    pub id: u32,
    /// What it is.
    pub kind: Kind,
    /// Its colour.
    pub color: Color,
    /// Door state (always [`DoorState::Open`] for non-doors, as the encoding's state 0).
    pub door: DoorState,
    /// A box's content, revealed by toggling.
    pub contains: Option<std::boxed::Box<Obj>>,
    /// MiniGrid's `cur_pos` (`None` when never set); `(-1, -1)` while picked up.
    pub cur_pos: Option<Pos>,
}

impl Obj {
    /// A new object without content, `cur_pos` unset.
    pub fn new(id: u32, kind: Kind, color: Color) -> Obj {
        Obj {
            id,
            kind,
            color,
            door: DoorState::Open,
            contains: None,
            cur_pos: None,
        }
    }

    /// A grey wall (identity 0).
    pub fn wall() -> Obj {
        Obj::new(0, Kind::Wall, Color::Grey)
    }

    /// A door in the given state.
    pub fn door(id: u32, color: Color, state: DoorState) -> Obj {
        Obj {
            door: state,
            ..Obj::new(id, Kind::Door, color)
        }
    }

    /// MiniGrid's `encode()`: `[object_idx, color_idx, state]`.
    pub fn encode(&self) -> [u8; 3] {
        let state = if self.kind == Kind::Door {
            match self.door {
                DoorState::Open => 0,
                DoorState::Closed => 1,
                DoorState::Locked => 2,
            }
        } else {
            0
        };
        [self.kind.index(), self.color.index(), state]
    }

    /// Whether the agent can stand on it (open doors, goals, lava, floor).
    pub fn can_overlap(&self) -> bool {
        match self.kind {
            Kind::Door => self.door == DoorState::Open,
            Kind::Goal | Kind::Lava | Kind::Floor => true,
            _ => false,
        }
    }

    /// Whether the agent can see past it (everything but walls and non-open doors).
    pub fn see_behind(&self) -> bool {
        match self.kind {
            Kind::Wall => false,
            Kind::Door => self.door == DoorState::Open,
            _ => true,
        }
    }

    /// The text interface's name: `"{color} {type}"`, doors `"{color} {state} door"`.
    pub fn text_name(&self) -> String {
        if self.kind == Kind::Door {
            format!("{} {} door", self.color.name(), self.door.name())
        } else {
            format!("{} {}", self.color.name(), self.kind.name())
        }
    }
}

/// A rectangular grid of optional objects.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    width: i32,
    height: i32,
    cells: Vec<Option<Obj>>,
}

impl Grid {
    /// An empty grid.
    pub fn new(width: i32, height: i32) -> Grid {
        let size = usize::try_from(width.max(0) * height.max(0)).unwrap_or(0);
        Grid {
            width: width.max(0),
            height: height.max(0),
            cells: vec![None; size],
        }
    }

    /// Width in cells.
    pub fn width(&self) -> i32 {
        self.width
    }

    /// Height in cells.
    pub fn height(&self) -> i32 {
        self.height
    }

    /// Whether `pos` lies inside the grid.
    pub fn contains(&self, pos: Pos) -> bool {
        pos.0 >= 0 && pos.1 >= 0 && pos.0 < self.width && pos.1 < self.height
    }

    fn index(&self, pos: Pos) -> Option<usize> {
        self.contains(pos)
            .then(|| usize::try_from(pos.1 * self.width + pos.0).ok())
            .flatten()
    }

    /// The object at `pos` (`None` for empty cells and positions outside the grid).
    pub fn get(&self, pos: Pos) -> Option<&Obj> {
        self.index(pos).and_then(|i| self.cells[i].as_ref())
    }

    /// Mutable access to the object at `pos`.
    pub fn get_mut(&mut self, pos: Pos) -> Option<&mut Obj> {
        match self.index(pos) {
            Some(i) => self.cells[i].as_mut(),
            None => None,
        }
    }

    /// Puts `obj` (or nothing) at `pos`, returning what was there. Outside the grid it does nothing.
    pub fn set(&mut self, pos: Pos, obj: Option<Obj>) -> Option<Obj> {
        match self.index(pos) {
            Some(i) => std::mem::replace(&mut self.cells[i], obj),
            None => None,
        }
    }

    /// Walls on the border of the rectangle at `(x, y)` of size `w × h` (MiniGrid's `wall_rect`).
    pub fn wall_rect(&mut self, x: i32, y: i32, w: i32, h: i32) {
        for i in 0..w {
            self.set((x + i, y), Some(Obj::wall()));
            self.set((x + i, y + h - 1), Some(Obj::wall()));
        }
        for j in 0..h {
            self.set((x, y + j), Some(Obj::wall()));
            self.set((x + w - 1, y + j), Some(Obj::wall()));
        }
    }

    /// Every occupied cell with its position, x-major (MiniGrid's scan order `for i: for j:`).
    pub fn objects_x_major(&self) -> impl Iterator<Item = (Pos, &Obj)> + '_ {
        (0..self.width).flat_map(move |x| {
            (0..self.height).filter_map(move |y| self.get((x, y)).map(|o| ((x, y), o)))
        })
    }

    /// `grid.encode()` as `grid[x][y] = [object_idx, color_idx, state]` (empty `[1, 0, 0]`).
    pub fn encode(&self) -> Vec<Vec<[u8; 3]>> {
        (0..self.width)
            .map(|x| {
                (0..self.height)
                    .map(|y| self.get((x, y)).map_or([1, 0, 0], Obj::encode))
                    .collect()
            })
            .collect()
    }
}
