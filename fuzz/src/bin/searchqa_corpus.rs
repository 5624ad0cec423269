//! AFL entry point of the `searchqa_corpus` target (`cargo xtask fuzz searchqa_corpus`).

fn main() {
    crossgym_fuzz::afl_main("searchqa_corpus");
}
