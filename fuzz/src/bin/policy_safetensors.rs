//! AFL entry point of the `policy_safetensors` target (`cargo xtask fuzz policy_safetensors`).

fn main() {
    crossgym_fuzz::afl_main("policy_safetensors");
}
