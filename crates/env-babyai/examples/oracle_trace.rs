//! Prints an oracle episode step by step, with a map of the grid at the start and at the end:
//! `cargo run -p crossgym-env-babyai --example oracle_trace -- <task> [max actions]`.
//!
//! Map legend: `#` wall, `.` empty, `>v<^` the agent, lower-case letter = key/ball/box
//! (`k`/`a`/`x`), upper-case `D` closed door, `L` locked door, `O` open door.

use crossgym_env_babyai::grid::{DoorState, Kind};
use crossgym_env_babyai::oracle;
use crossgym_env_babyai::session::TextSession;
use crossgym_env_babyai::task_world;
use crossgym_env_babyai::world::World;
use crossgym_env_core::TaskId;

fn map(world: &World) -> String {
    let mut out = String::new();
    for y in 0..world.grid.height() {
        for x in 0..world.grid.width() {
            let c = if (x, y) == world.agent_pos {
                ['>', 'v', '<', '^'][usize::from(world.agent_dir % 4)]
            } else {
                match world.grid.get((x, y)) {
                    None => '.',
                    Some(o) => match (o.kind, o.door) {
                        (Kind::Wall, _) => '#',
                        (Kind::Door, DoorState::Open) => 'O',
                        (Kind::Door, DoorState::Closed) => 'D',
                        (Kind::Door, DoorState::Locked) => 'L',
                        (Kind::Key, _) => 'k',
                        (Kind::Ball, _) => 'a',
                        (Kind::Box, _) => 'x',
                        _ => '?',
                    },
                }
            };
            out.push(c);
        }
        out.push('\n');
    }
    out
}

fn objects(world: &World) -> String {
    world
        .grid
        .objects_x_major()
        .filter(|(_, o)| o.kind != Kind::Wall)
        .map(|(p, o)| format!("{p:?} {}", o.text_name()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn main() {
    let task: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let limit: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(40);
    let Ok(world) = task_world(TaskId(task)) else {
        return;
    };
    let mut session = TextSession::new(world);
    println!("{}", session.reset_observation());
    println!("{}{}\n", map(session.world()), objects(session.world()));
    for _ in 0..limit {
        let Some(action) = oracle::next_action(&session) else {
            println!("oracle: no action");
            break;
        };
        let step = session.step(&action);
        let w = session.world();
        println!(
            "> {action}  | pos {:?} dir {} carrying {:?} reward {} steps {}",
            w.agent_pos,
            w.agent_dir,
            w.carrying.as_ref().map(|c| c.text_name()),
            step.reward,
            w.step_count
        );
        if step.reward > 0.0 {
            break;
        }
    }
    println!("{}{}", map(session.world()), objects(session.world()));
}
