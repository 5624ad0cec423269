//! AFL entry point of the `babyai_step` target (`cargo xtask fuzz babyai_step`).

fn main() {
    crossgym_fuzz::afl_main("babyai_step");
}
