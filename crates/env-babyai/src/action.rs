//! MiniGrid's primitive actions and its direction vectors.

use crate::grid::Pos;

/// MiniGrid's primitive actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Turn left (0).
    Left,
    /// Turn right (1).
    Right,
    /// Move forward (2).
    Forward,
    /// Pick up the object in front (3).
    Pickup,
    /// Drop the carried object in front (4).
    Drop,
    /// Toggle the object in front (5).
    Toggle,
    /// Done (6): does nothing.
    Done,
}

impl Action {
    /// The action for MiniGrid's index.
    pub fn from_index(index: u8) -> Option<Action> {
        Some(match index {
            0 => Action::Left,
            1 => Action::Right,
            2 => Action::Forward,
            3 => Action::Pickup,
            4 => Action::Drop,
            5 => Action::Toggle,
            6 => Action::Done,
            _ => return None,
        })
    }
}

/// The unit vector of a direction (`DIR_TO_VEC`).
pub fn dir_vec(dir: u8) -> Pos {
    match dir & 3 {
        0 => (1, 0),
        1 => (0, 1),
        2 => (-1, 0),
        _ => (0, -1),
    }
}
