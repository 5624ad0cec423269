//! AFL entry point of the `webshop_step` target (`cargo xtask fuzz webshop_step`).

fn main() {
    crossgym_fuzz::afl_main("webshop_step");
}
