//! AFL entry point of the `searchqa_summaries` target (`cargo xtask fuzz searchqa_summaries`).

fn main() {
    crossgym_fuzz::afl_main("searchqa_summaries");
}
