//! AFL entry point of the `searchqa_step` target (`cargo xtask fuzz searchqa_step`).

fn main() {
    crossgym_fuzz::afl_main("searchqa_step");
}
