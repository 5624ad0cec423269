//! AFL entry point of the `policy_gguf` target (`cargo xtask fuzz policy_gguf`).

fn main() {
    crossgym_fuzz::afl_main("policy_gguf");
}
