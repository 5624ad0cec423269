//! AFL entry point of the `textcraft_step` target (`cargo xtask fuzz textcraft_step`).

fn main() {
    crossgym_fuzz::afl_main("textcraft_step");
}
