//! The reference's data layout: corpus and question JSON lines, the on-disk index built once
//! and reused, and errors naming the file and line.

use std::path::PathBuf;
use std::sync::Arc;

use crossgym_env_core::{Env, EnvError, TaskId};
use crossgym_env_searchqa::index::{MARKER_FILE, scratch_dir};
use crossgym_env_searchqa::{IndexOrigin, SearchIndex, SearchQaEnv, TaskSet, corpus, questions};

use crate::common::{data_path, sample_index};

#[test]
fn wiki18_sample_builds_on_disk_once_and_is_reused() {
    let corpus_path = data_path("wiki18_sample_1000.jsonl");
    let dir = scratch_dir("searchqa-wiki18");
    let built = SearchIndex::open_or_build(&corpus_path, &dir).unwrap();
    assert_eq!(built.origin(), IndexOrigin::Built);
    assert_eq!(built.len(), 1000);
    assert!(dir.join(MARKER_FILE).is_file());
    let first = built.search("lobbyist for Genentech", 3).unwrap();
    drop(built);

    let reused = SearchIndex::open_or_build(&corpus_path, &dir).unwrap();
    assert_eq!(reused.origin(), IndexOrigin::Reused);
    assert_eq!(reused.len(), 1000);
    let again = reused.search("lobbyist for Genentech", 3).unwrap();
    assert_eq!(first, again);
    assert_eq!(again[0].title(), "Evan Morris");
    assert_eq!(again[0].id, "0");
    drop(reused);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A new scratch folder `name` holding the corpus file `file` with `text`: (folder, file).
fn corpus_file(name: &str, file: &str, text: &str) -> (PathBuf, PathBuf) {
    let dir = scratch_dir(name);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn a_changed_corpus_is_rebuilt_and_a_foreign_directory_refused() {
    let (dir, corpus_path) = corpus_file(
        "searchqa-rebuild",
        "corpus.jsonl",
        "{\"id\": \"0\", \"contents\": \"\\\"A\\\"\\nalpha\"}\n",
    );
    let index_dir = dir.join("index");
    let index = SearchIndex::open_or_build(&corpus_path, &index_dir).unwrap();
    assert_eq!((index.origin(), index.len()), (IndexOrigin::Built, 1));
    drop(index);
    std::fs::write(
        &corpus_path,
        "{\"id\": \"0\", \"contents\": \"\\\"A\\\"\\nalpha\"}\n{\"id\": 1, \"contents\": \"\\\"B\\\"\\nbeta\"}\n",
    )
    .unwrap();
    let index = SearchIndex::open_or_build(&corpus_path, &index_dir).unwrap();
    assert_eq!((index.origin(), index.len()), (IndexOrigin::Built, 2));
    assert_eq!(index.search("beta", 3).unwrap()[0].id, "1");
    drop(index);

    let foreign = dir.join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("keep.txt"), "mine").unwrap();
    let error = SearchIndex::open_or_build(&corpus_path, &foreign).unwrap_err();
    assert!(matches!(error, EnvError::Config { .. }), "{error}");
    assert!(foreign.join("keep.txt").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn malformed_corpus_lines_name_the_file_and_line() {
    let (dir, corpus_path) = corpus_file(
        "searchqa-malformed",
        "broken.jsonl",
        "{\"id\": \"0\", \"contents\": \"\\\"A\\\"\\nalpha\"}\n\n{\"id\": \"2\", \"text\": \"no contents\"}\n",
    );
    let error = SearchIndex::open_or_build(&corpus_path, &dir.join("index")).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("broken.jsonl")
            && message.contains("line 3")
            && message.contains("contents"),
        "{message}"
    );
    assert!(
        !dir.join("index").join(MARKER_FILE).exists(),
        "a failed build must not be marked reusable"
    );
    let error = corpus::load_jsonl(&corpus_path).unwrap_err().to_string();
    assert!(
        error.contains("broken.jsonl") && error.contains("line 3"),
        "{error}"
    );
    let missing = corpus::load_jsonl(&dir.join("missing.jsonl"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("missing.jsonl"), "{missing}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn nq_questions_load_and_play_over_the_wiki18_sample() {
    let path = data_path("nq_test_sample16.jsonl");
    let loaded = questions::load_jsonl(&path).unwrap();
    // 17 records (ids test_0..test_16), the last without a final newline.
    assert_eq!(loaded.len(), 17);
    assert_eq!(
        loaded[0].question,
        "who got the first nobel prize in physics?"
    );
    assert_eq!(
        loaded[0].golden_answers,
        vec!["Wilhelm Conrad Röntgen".to_owned()]
    );
    let tasks = TaskSet::load(&path, &path).unwrap();
    assert_eq!(
        (
            tasks.len(),
            tasks.split().train().len(),
            tasks.split().test().len()
        ),
        (34, 17, 17)
    );

    let mut env = SearchQaEnv::with_data(sample_index(), Arc::new(tasks));
    let first = env.reset(TaskId(17)).unwrap();
    assert!(
        first.ends_with("every time.\n\n Question: who got the first nobel prize in physics?"),
        "{first}"
    );
    let step = env
        .step("<search>first nobel prize in physics</search>")
        .unwrap();
    assert!(
        step.observation.starts_with("<information>Doc 1(Title: \""),
        "{}",
        step.observation
    );
    assert_eq!(step.observation.matches("(Title: ").count(), 3);
    assert!(step.observation.contains("\nDoc 3(Title: "));
    let step = env.step("<answer>Wilhelm Röntgen</answer>").unwrap();
    assert_eq!((step.reward, step.done), (0.0, false));
    let step = env.step("<answer>wilhelm conrad röntgen</answer>").unwrap();
    assert_eq!((step.reward, step.done), (1.0, true));
    assert!(matches!(
        env.step("<answer>x</answer>"),
        Err(EnvError::EpisodeFinished { .. })
    ));
}

#[test]
fn a_query_without_indexed_terms_finds_nothing() {
    let index = sample_index();
    assert!(index.search("", 3).unwrap().is_empty());
    assert!(index.search("the of and", 3).unwrap().is_empty());
    assert!(index.search("!!! ???", 3).unwrap().is_empty());
}
