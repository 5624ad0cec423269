//! AFL entry point of the `study_settings` target (`cargo xtask fuzz study_settings`).

fn main() {
    crossgym_fuzz::afl_main("study_settings");
}
