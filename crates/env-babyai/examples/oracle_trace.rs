//! Prints an oracle episode step by step: `cargo run -p crossgym-env-babyai --example oracle_trace -- <task>`.

use crossgym_env_babyai::oracle;
use crossgym_env_babyai::session::TextSession;
use crossgym_env_babyai::task_world;
use crossgym_env_core::TaskId;

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
    for _ in 0..limit {
        let Some(action) = oracle::next_action(&session) else {
            println!("oracle: no action");
            break;
        };
        let step = session.step(&action);
        let w = session.world();
        println!(
            "> {action}  | pos {:?} dir {} carrying {:?} reward {}",
            w.agent_pos,
            w.agent_dir,
            w.carrying.as_ref().map(|c| c.text_name()),
            step.reward
        );
        if step.reward > 0.0 {
            break;
        }
    }
}
