//! AFL entry point of the `searchqa_questions` target (`cargo xtask fuzz searchqa_questions`).

fn main() {
    crossgym_fuzz::afl_main("searchqa_questions");
}
