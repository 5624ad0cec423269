//! AFL entry point of the `alfworld_step` target (`cargo xtask fuzz alfworld_step`).

fn main() {
    crossgym_fuzz::afl_main("alfworld_step");
}
