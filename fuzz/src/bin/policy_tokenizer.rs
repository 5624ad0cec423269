//! AFL entry point of the `policy_tokenizer` target (`cargo xtask fuzz policy_tokenizer`).

fn main() {
    crossgym_fuzz::afl_main("policy_tokenizer");
}
