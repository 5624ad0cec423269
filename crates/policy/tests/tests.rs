//! The integration tests of crossgym-policy (one binary; modules under `suite/`).

#[path = "suite/common.rs"]
mod common;
#[path = "suite/fixtures.rs"]
mod fixtures;
#[path = "suite/gradients.rs"]
mod gradients;
#[path = "suite/inference.rs"]
mod inference;
#[path = "suite/checkpoint.rs"]
mod checkpoint;
#[path = "suite/rollout.rs"]
mod rollout;
#[path = "suite/openai.rs"]
mod openai;
