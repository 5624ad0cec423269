//! The env contract, the default catalogue's split and the oracle.

use crossgym_env_core::check::check_env;
use crossgym_env_core::{Env, EnvError, Split, TaskId};
use crossgym_env_webshop::{WebShopEnv, oracle, synth};
use proptest::prelude::*;

fn small() -> WebShopEnv {
    WebShopEnv::small(120).expect("small synthetic env")
}

#[test]
fn contract() {
    let env = small();
    let tasks: Vec<TaskId> = env
        .tasks(Split::Train)
        .iter()
        .take(2)
        .chain(env.tasks(Split::Test).iter().take(2))
        .copied()
        .collect();
    if let Err(problems) = check_env(small, &tasks) {
        panic!("{problems:#?}");
    }
}

#[test]
fn default_catalogue_sizes_split_and_oracle() {
    let mut env = WebShopEnv::small(synth::DEFAULT_NUM_PRODUCTS).expect("default env");
    assert_eq!(env.catalogue().products().len(), 1000);
    assert!(env.num_tasks() >= 4130, "{}", env.num_tasks());
    assert_eq!(env.split().train().len(), 3930);
    assert_eq!(env.split().test().len(), 200);
    let goals = env.catalogue().goals();
    let test_products: std::collections::HashSet<&str> = env
        .split()
        .test()
        .iter()
        .map(|t| goals[t.0].asin.as_str())
        .collect();
    assert!(
        env.split()
            .train()
            .iter()
            .all(|t| !test_products.contains(goals[t.0].asin.as_str())),
        "train and test share products"
    );
    let tasks: Vec<TaskId> = env.tasks(Split::Test).to_vec();
    let solved = tasks
        .iter()
        .filter(|&&t| oracle::play(&mut env, t).expect("episode").success())
        .count();
    eprintln!("oracle: {solved}/{} test goals at 1.0", tasks.len());
    assert!(
        solved * 100 >= tasks.len() * 99,
        "oracle solved only {solved}/{}",
        tasks.len()
    );
}

#[test]
fn step_after_done_and_before_reset() {
    let mut env = small();
    assert!(matches!(
        env.step("Action: search[x]"),
        Err(EnvError::NotReset { .. })
    ));
    let task = env.tasks(Split::Test)[0];
    let episode = oracle::play(&mut env, task).expect("episode");
    assert!(episode.done());
    assert!(matches!(
        env.step("Action: search[x]"),
        Err(EnvError::EpisodeFinished { .. })
    ));
}

#[test]
fn synthetic_catalogue_is_deterministic() {
    let a = synth::generate(50, 7);
    let b = synth::generate(50, 7);
    assert_eq!(a.products, b.products);
    assert_ne!(a.products, synth::generate(50, 8).products);
    assert!(a.products.iter().all(|p| a.nouns.contains_key(&p.name)));
}

#[test]
fn loader_errors_name_file_record_and_field() {
    let text = r#"[{"asin": "B000000001", "name": "x"}]"#;
    let error = crossgym_env_webshop::loader::parse_products("items.json", text)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("items.json")
            && error.contains("record 0")
            && error.contains("full_description"),
        "{error}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn arbitrary_replies_never_panic(replies in proptest::collection::vec(".{0,80}", 1..6), prefix in prop_oneof![Just(""), Just("Action: search["), Just("Action: click["), Just("click[")]) {
        let mut env = small();
        let task = env.tasks(Split::Train)[0];
        env.reset(task).expect("reset");
        for reply in replies {
            let step = env.step(&format!("{prefix}{reply}"));
            match step {
                Ok(step) if step.done => break,
                Ok(_) => {}
                Err(error) => panic!("reply gave an error: {error}"),
            }
        }
    }
}
