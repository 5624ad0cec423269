//! AFL entry point of the `alfworld_game` target (`cargo xtask fuzz alfworld_game`).

fn main() {
    crossgym_fuzz::afl_main("alfworld_game");
}
