//! AFL entry point of the `webshop_catalogue` target (`cargo xtask fuzz webshop_catalogue`).

fn main() {
    crossgym_fuzz::afl_main("webshop_catalogue");
}
