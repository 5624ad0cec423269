//! AFL entry point of the `textcraft_recipes` target (`cargo xtask fuzz textcraft_recipes`).

fn main() {
    crossgym_fuzz::afl_main("textcraft_recipes");
}
