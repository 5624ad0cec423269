//! AFL entry point of the `study_difficulty` target (`cargo xtask fuzz study_difficulty`).

fn main() {
    crossgym_fuzz::afl_main("study_difficulty");
}
