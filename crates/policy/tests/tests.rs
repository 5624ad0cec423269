//! The integration tests of crossgym-policy (one binary; modules under `suite/`).

#[path = "suite/checkpoint.rs"]
mod checkpoint;
#[path = "suite/common.rs"]
mod common;
#[path = "suite/engine.rs"]
mod engine;
#[path = "suite/fixtures.rs"]
mod fixtures;
#[path = "suite/flash.rs"]
mod flash;
#[path = "suite/gradients.rs"]
mod gradients;
#[path = "suite/hub.rs"]
mod hub;
#[path = "suite/inference.rs"]
mod inference;
#[path = "suite/matmul.rs"]
mod matmul;
#[path = "suite/openai.rs"]
mod openai;
#[path = "suite/rollout.rs"]
mod rollout;
#[path = "suite/stream.rs"]
mod stream;
#[path = "../src/test_values.rs"]
mod test_values;
#[path = "suite/train_pass.rs"]
mod train_pass;
