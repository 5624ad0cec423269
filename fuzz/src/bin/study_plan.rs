//! AFL entry point of the `study_plan` target (`cargo xtask fuzz study_plan`).

fn main() {
    crossgym_fuzz::afl_main("study_plan");
}
