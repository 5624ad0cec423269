//! AFL entry point of the `study_records` target (`cargo xtask fuzz study_records`).

fn main() {
    crossgym_fuzz::afl_main("study_records");
}
