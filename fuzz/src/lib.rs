//! Coverage-guided fuzz targets for crossgym, on stable Rust with cargo-afl.
//!
//! Every target is a plain `fn(&[u8])` in this library ([`TARGETS`]): an env's `step` after a
//! prefix of oracle play ([`envs`]), a loader of untrusted files ([`data`], [`study`],
//! [`model`]), or the env server's request bodies ([`server`]). A target returns normally on
//! any input its code rejects with an error; a panic (or an abort) is a finding.
//!
//! The one design choice that shapes the rest: **the targets are library code, the fuzzer is a
//! thin wrapper**. The default test suite replays every target on its seeds (built from the
//! crates' own fixtures and writers, read in place) and on a few mutations of them, so
//! `cargo test --workspace` on stable, without AFL, builds and checks every target; the AFL
//! binaries (`src/bin/*.rs`, feature `afl`, built by `cargo afl build`) only call
//! `afl_main`. `cargo xtask fuzz TARGET --seconds N` writes the seeds, builds and runs
//! `afl-fuzz`, and prints executions and crashes from AFL's `fuzzer_stats`.
//!
//! # Example
//!
//! ```
//! let target = crossgym_fuzz::target("searchqa_questions").expect("a target");
//! for seed in (target.seeds)() {
//!     (target.run)(&seed); // a panic here would be a finding
//! }
//! (target.run)(b"{\"question\": 1}\n\xff");
//! ```

pub mod data;
pub mod envs;
pub mod harness;
pub mod model;
pub mod server;
pub mod study;

/// One fuzz target: its name (the AFL binary's), its body and its seeds.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The name (`babyai_step`, `policy_gguf`, …), also the AFL binary's.
    pub name: &'static str,
    /// What the target fuzzes, in a line.
    pub about: &'static str,
    /// Runs one input; panics only on a finding.
    pub run: fn(&[u8]),
    /// The seed inputs.
    pub seeds: fn() -> Vec<Vec<u8>>,
}

macro_rules! targets {
    ($($module:ident :: $name:ident => $seeds:ident, $about:literal;)*) => {
        /// Every target, the five env `step` targets first.
        pub const TARGETS: &[Target] = &[
            $(Target { name: stringify!($name), about: $about, run: $module::$name, seeds: $module::$seeds },)*
        ];
    };
}

targets! {
    envs::babyai_step => babyai_seeds, "BabyAI step after oracle play";
    envs::textcraft_step => textcraft_seeds, "TextCraft step after oracle play";
    envs::alfworld_step => alfworld_seeds, "ALFWorld step after oracle play";
    envs::webshop_step => webshop_seeds, "WebShop step after oracle play";
    envs::searchqa_step => searchqa_seeds, "SearchQA step after oracle play";
    data::alfworld_game => alfworld_game_seeds, "ALFWorld game.tw-pddl, then played";
    data::webshop_catalogue => webshop_catalogue_seeds, "WebShop products, goal attributes, nouns; catalogue built and searched";
    data::searchqa_corpus => searchqa_corpus_seeds, "SearchQA corpus JSON Lines";
    data::searchqa_questions => searchqa_questions_seeds, "SearchQA question JSON Lines";
    data::searchqa_summaries => searchqa_summaries_seeds, "SearchQA Wikipedia summaries JSON";
    data::textcraft_recipes => textcraft_recipes_seeds, "TextCraft recipe JSON files, book built, env reset";
    study::study_plan => study_plan_seeds, "study plan TOML";
    study::study_settings => study_settings_seeds, "study settings TOML";
    study::study_difficulty => study_difficulty_seeds, "difficulty file JSON";
    study::study_records => study_records_seeds, "episode records JSON Lines, summarised";
    model::policy_gguf => policy_gguf_seeds, "GGUF model file";
    model::policy_safetensors => policy_safetensors_seeds, "model folder: config.json and safetensors";
    model::policy_tokenizer => policy_tokenizer_seeds, "tokenizer.json";
    model::grpo_checkpoint => grpo_checkpoint_seeds, "trainer checkpoint folder";
    server::server_requests => server_requests_seeds, "env server request bodies and queries";
}

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// The AFL entry point of the target called `name`: AFL++'s persistent loop over [`Target::run`].
///
/// `fuzz_nohook`: a panic that escapes the target aborts (a finding), while one that crossgym
/// catches on purpose (a dependency's panic turned into an error) is not a finding.
///
/// Nothing is prepared before the loop on purpose: AFL forks after its first instruction
/// inside, and a thread started before the fork (tokio's, rayon's, tantivy's) would not exist
/// in the child, so every target builds its env or runtime lazily in the child, once.
#[cfg(feature = "afl")]
pub fn afl_main(name: &str) {
    let target = target(name).unwrap_or_else(|| panic!("no fuzz target {name}"));
    afl::fuzz_nohook!(|data: &[u8]| (target.run)(data));
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// Replays `name`'s seeds and seeded mutations of them (bit flips, cuts, splices), the
    /// way the fuzzer starts; a panic fails the test.
    fn replay(name: &str) {
        let target = target(name).expect("a target");
        let seeds = (target.seeds)();
        assert!(!seeds.is_empty(), "{name} has seeds");
        let mut rng = ChaCha8Rng::seed_from_u64(22);
        for seed in &seeds {
            (target.run)(seed);
            for _ in 0..16 {
                let mut input = seed.clone();
                match rng.random_range(0..3) {
                    0 if !input.is_empty() => {
                        let at = rng.random_range(0..input.len());
                        input[at] ^= 1 << rng.random_range(0..8);
                    }
                    1 => input.truncate(rng.random_range(0..=input.len())),
                    _ => {
                        let other = &seeds[rng.random_range(0..seeds.len())];
                        let cut = rng.random_range(0..=other.len());
                        input.extend_from_slice(&other[cut..]);
                    }
                }
                (target.run)(&input);
            }
        }
        (target.run)(&[]);
    }

    /// Replays every committed finding (`regressions/<target>/*`) on its target: each once
    /// crashed or hung it, so a panic here is a regressed fix.
    #[test]
    fn regressions_replay_without_a_panic() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
        let mut replayed = 0;
        for folder in std::fs::read_dir(&root).expect("fuzz/regressions") {
            let folder = folder.expect("an entry").path();
            if !folder.is_dir() {
                continue;
            }
            let name = folder.file_name().and_then(|n| n.to_str()).expect("a name");
            let target = target(name).unwrap_or_else(|| panic!("no target for {name}"));
            for file in std::fs::read_dir(&folder).expect("a folder") {
                let input = std::fs::read(file.expect("an entry").path()).expect("readable");
                (target.run)(&input);
                replayed += 1;
            }
        }
        assert!(replayed >= 10, "{replayed} regression inputs replayed");
    }

    macro_rules! replay_tests {
        ($($name:ident)*) => {
            $(#[test]
            fn $name() {
                replay(stringify!($name));
            })*

            #[test]
            fn every_target_has_a_replay_test() {
                let tested = [$(stringify!($name)),*];
                for target in TARGETS {
                    assert!(tested.contains(&target.name), "{} is not replayed", target.name);
                }
            }
        };
    }

    replay_tests! {
        babyai_step textcraft_step alfworld_step webshop_step searchqa_step
        alfworld_game webshop_catalogue searchqa_corpus searchqa_questions searchqa_summaries
        textcraft_recipes study_plan study_settings study_difficulty study_records
        policy_gguf policy_safetensors policy_tokenizer grpo_checkpoint server_requests
    }
}
