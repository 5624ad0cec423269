//! AFL entry point of the `grpo_checkpoint` target (`cargo xtask fuzz grpo_checkpoint`).

fn main() {
    crossgym_fuzz::afl_main("grpo_checkpoint");
}
