//! Replays the reference's recordings (`tests/fixtures/`, or `$CROSSGYM_FIXTURES`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crossgym_env_core::conformance::{
    Mismatch, RecordedStep, Report, compare_text, fixture_records, read_fixture, replay_steps,
};
use crossgym_env_core::crate_fixture_dir;
use crossgym_env_core::{Env, TaskId};
use crossgym_env_textcraft::{RecipeBook, TextCraftEnv, commands};
use serde_json::Value;

fn dir() -> PathBuf {
    crate_fixture_dir!("textcraft")
}

fn read(file: &str) -> String {
    read_fixture("textcraft", &dir(), file).unwrap_or_else(|error| panic!("{error}"))
}

fn records(file: &str) -> Vec<(String, Value)> {
    fixture_records("textcraft", &dir(), file, |line| {
        serde_json::from_str::<Value>(line)
    })
    .unwrap_or_else(|error| panic!("{error}"))
}

fn str_of<'a>(value: &'a Value, field: &str, at: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{at}: field {field:?} is not a string"))
}

fn usize_of(value: &Value, field: &str, at: &str) -> usize {
    value[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{at}: field {field:?} is not an integer")) as usize
}

/// Checks the task of every record of `file` (the task its `data_idx` plays) with `check`, and
/// asserts that none mismatched.
fn each_task(
    env: &mut TextCraftEnv,
    file: &str,
    mut check: impl FnMut(&mut TextCraftEnv, String, Value, TaskId) -> Result<(), Mismatch>,
) {
    let mut report = Report::new(file);
    for (at, record) in records(file) {
        let task = env.task_for_data_idx(usize_of(&record, "data_idx", &at));
        report.record(check(env, at, record, task));
    }
    report.assert_ok();
}

/// Goal, name, depth and the exact set of tree recipes for every data_idx; the shown list holds
/// the whole tree; the observation's frame and goal line are the reference's.
#[test]
fn goals_depths_and_tree_recipes_match() {
    let mut env = TextCraftEnv::new().unwrap();
    let book = env.book().clone();
    each_task(
        &mut env,
        "textcraft_goals.jsonl",
        |env, at, record, task| {
            let goal = env
                .goal(task)
                .map_err(|e| Mismatch::error(&at, "goal", e))?;
            compare_text(
                &at,
                None,
                "goal_item_id",
                str_of(&record, "goal_item_id", &at),
                book.name(goal),
            )?;
            compare_text(
                &at,
                None,
                "goal_name",
                str_of(&record, "goal_name", &at),
                book.display(goal),
            )?;
            let depth = usize_of(&record, "min_depth", &at);
            if depth != book.min_depth(goal) as usize {
                return Err(Mismatch::new(
                    &at,
                    None,
                    "min_depth",
                    depth.to_string(),
                    book.min_depth(goal).to_string(),
                ));
            }
            let expected: BTreeSet<&str> = record["tree_recipes"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let list = env.commands(task).unwrap();
            let ours: BTreeSet<&str> = list
                .tree
                .iter()
                .map(|id| book.recipe(*id).text.as_str())
                .collect();
            if expected != ours {
                return Err(Mismatch::new(
                    &at,
                    None,
                    "tree_recipes",
                    format!("{expected:?}"),
                    format!("{ours:?}"),
                ));
            }
            // Every distractor the reference showed comes from our distractor pool.
            let pool: BTreeSet<&str> = commands::distractor_pool(&book, goal)
                .iter()
                .map(|id| book.recipe(*id).text.as_str())
                .collect();
            for shown in record["distractor_recipes_shown"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let shown = shown.as_str().unwrap_or_default();
                if !pool.contains(shown) {
                    return Err(Mismatch::new(
                        &at,
                        None,
                        "distractor pool",
                        shown.to_owned(),
                        format!("{pool:?}"),
                    ));
                }
            }
            let observation = env
                .reset(task)
                .map_err(|e| Mismatch::error(&at, "reset", e))?;
            let lines: BTreeSet<&str> = observation.lines().collect();
            for tree in &expected {
                if !lines.contains(tree) {
                    return Err(Mismatch::new(
                        &at,
                        None,
                        "shown commands",
                        (*tree).to_owned(),
                        observation.clone(),
                    ));
                }
            }
            let reference = str_of(&record, "observation", &at);
            let frame = |text: &str| {
                let head = text.split('\n').next().unwrap_or_default().to_owned();
                let tail = text.rsplit("\n\n").next().unwrap_or_default().to_owned();
                (head, tail, text.matches("\n\n").count())
            };
            if frame(reference) != frame(&observation) {
                return Err(Mismatch::new(
                    &at,
                    None,
                    "observation frame",
                    reference.to_owned(),
                    observation,
                ));
            }
            let n_shown = observation.lines().count() - 3;
            let n_tree = expected.len();
            if n_shown < n_tree || n_shown > n_tree + 10 {
                return Err(Mismatch::new(
                    &at,
                    None,
                    "number of commands",
                    format!("{n_tree}..={}", n_tree + 10),
                    n_shown.to_string(),
                ));
            }
            Ok(())
        },
    );
}

/// Every recipe that survived the reference's loader, with its tag, inputs and command text.
#[test]
fn recipes_match() {
    let book = RecipeBook::embedded().unwrap();
    let ours: BTreeMap<(String, String), String> = book
        .recipes()
        .iter()
        .map(|recipe| {
            let inputs: Vec<String> = recipe
                .inputs
                .iter()
                .map(|i| {
                    let (tag, item) = if i.is_tag {
                        (book.name(i.name), "null")
                    } else {
                        ("null", book.name(i.name))
                    };
                    format!("{tag}/{item}/{}", i.count)
                })
                .collect();
            let tag = recipe.output_tag.map_or("null", |t| book.name(t));
            (
                (recipe.file.clone(), recipe.text.clone()),
                format!(
                    "{} x{} tag {tag} <- {}",
                    book.name(recipe.output),
                    recipe.output_count,
                    inputs.join(", ")
                ),
            )
        })
        .collect();
    let mut report = Report::new("textcraft_recipes.jsonl");
    let mut seen = 0;
    for (at, record) in records("textcraft_recipes.jsonl") {
        seen += 1;
        let key = (
            str_of(&record, "source_file", &at).to_owned(),
            str_of(&record, "recipe_str", &at).to_owned(),
        );
        let inputs: Vec<String> = record["inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                let part = |v: &Value| v.as_str().unwrap_or("null").to_owned();
                format!("{}/{}/{}", part(&i[0]), part(&i[1]), i[2])
            })
            .collect();
        let expected = format!(
            "{} x{} tag {} <- {}",
            str_of(&record, "output_item_id", &at),
            record["output_count"],
            record["output_tag"].as_str().unwrap_or("null"),
            inputs.join(", ")
        );
        let actual = ours
            .get(&key)
            .cloned()
            .unwrap_or_else(|| "(no such recipe)".to_owned());
        report.record(compare_text(&at, None, "recipe", &expected, &actual));
    }
    report.record(compare_text(
        "textcraft_recipes.jsonl",
        None,
        "number of recipes",
        &seen.to_string(),
        &ours.len().to_string(),
    ));
    report.assert_ok();
}

/// Base items, tags, the item → tag map, every min depth and the goal order.
#[test]
fn items_tags_depths_and_goal_order_match() {
    let book = RecipeBook::embedded().unwrap();
    let items: Value = serde_json::from_str(&read("textcraft_items.json")).unwrap();
    let set = |field: &str| -> BTreeSet<String> {
        items[field]
            .as_array()
            .unwrap_or_else(|| panic!("textcraft_items.json: {field} is not a list"))
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let names = |keep: &dyn Fn(crossgym_env_textcraft::NameId) -> bool| -> BTreeSet<String> {
        book.names()
            .filter(|n| keep(*n))
            .map(|n| book.name(n).to_owned())
            .collect()
    };
    let mut report = Report::new("textcraft_items.json");
    let mut check = |field: &str, expected: String, actual: String| {
        report.record(compare_text(
            "textcraft_items.json",
            None,
            field,
            &expected,
            &actual,
        ));
    };
    check(
        "base_items",
        format!("{:?}", set("base_items")),
        format!("{:?}", names(&|n| book.is_base_item(n))),
    );
    check(
        "tags",
        format!("{:?}", set("tags")),
        format!("{:?}", names(&|n| book.is_tag(n))),
    );
    check(
        "itemid_set",
        format!("{:?}", set("itemid_set")),
        format!("{:?}", names(&|n| book.is_item(n))),
    );
    let expected_tags: BTreeMap<String, String> = items["item_id_to_tag"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let our_tags: BTreeMap<String, String> = book
        .names()
        .filter_map(|n| {
            book.tag_of(n)
                .map(|t| (book.name(n).to_owned(), book.name(t).to_owned()))
        })
        .collect();
    check(
        "item_id_to_tag",
        format!("{expected_tags:?}"),
        format!("{our_tags:?}"),
    );
    let expected_depth: BTreeMap<String, u64> = items["min_depth"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(u64::MAX)))
                .collect()
        })
        .unwrap_or_default();
    let our_depth: BTreeMap<String, u64> = expected_depth
        .keys()
        .map(|k| {
            (
                k.clone(),
                book.lookup(k)
                    .map_or(u64::MAX, |n| u64::from(book.min_depth(n))),
            )
        })
        .collect();
    check(
        "min_depth",
        format!("{expected_depth:?}"),
        format!("{our_depth:?}"),
    );
    let goal_order: Vec<String> = items["goal_order"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let ours: Vec<String> = book
        .goals()
        .iter()
        .map(|g| book.name(*g).to_owned())
        .collect();
    check("goal_order", format!("{goal_order:?}"), format!("{ours:?}"));
    let skipped: BTreeSet<String> = items["skipped_recipe_files"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(reason, files)| {
            files
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(move |f| f.as_str().map(|f| format!("{reason}: {f}")))
        })
        .collect();
    let our_skipped: BTreeSet<String> = book
        .skipped()
        .iter()
        .map(|(file, reason)| {
            let reason = match reason {
                crossgym_env_textcraft::SkipReason::NonCrafting => "non_crafting_type",
                crossgym_env_textcraft::SkipReason::SingleBlockInput => "single_block_input",
                crossgym_env_textcraft::SkipReason::Cycle => "cycle",
            };
            format!("{reason}: {file}")
        })
        .collect();
    check(
        "skipped_recipe_files",
        format!("{skipped:?}"),
        format!("{our_skipped:?}"),
    );
    report.assert_ok();
}

/// Every step of every recorded episode: observation, reward, done, and the inventory after.
#[test]
fn every_episode_step_matches() {
    let mut env = TextCraftEnv::new().unwrap();
    each_task(
        &mut env,
        "textcraft_episodes.jsonl",
        |env, at, record, task| {
            let first = env
                .reset(task)
                .map_err(|e| Mismatch::error(&at, "reset", e))?;
            let goal_line = |text: &str| text.rsplit("\n\n").next().unwrap_or_default().to_owned();
            compare_text(
                &at,
                None,
                "goal line",
                &goal_line(str_of(&record, "reset_observation", &at)),
                &goal_line(&first),
            )?;
            let steps = record["steps"].as_array().cloned().unwrap_or_default();
            for (index, step) in steps.iter().enumerate() {
                let recorded = RecordedStep {
                    reply: str_of(step, "action_raw", &at).to_owned(),
                    observation: str_of(step, "observation", &at).to_owned(),
                    reward: step["reward"].as_f64().unwrap_or(f64::NAN),
                    done: step["done"].as_bool().unwrap_or(false),
                };
                replay_steps(env, &at, std::slice::from_ref(&recorded)).map_err(|mut m| {
                    m.step = Some(index);
                    m
                })?;
                let expected: BTreeMap<String, String> = step["inventory_after"]
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.to_string())).collect())
                    .unwrap_or_default();
                let book = env.book().clone();
                let ours: BTreeMap<String, String> = env
                    .inventory()
                    .map(|inv| {
                        inv.entries()
                            .iter()
                            .map(|(item, amount)| (book.name(*item).to_owned(), amount.to_string()))
                            .collect()
                    })
                    .unwrap_or_default();
                if expected != ours {
                    return Err(Mismatch::new(
                        at.clone(),
                        Some(index),
                        "inventory_after",
                        format!("{expected:?}"),
                        format!("{ours:?}"),
                    ));
                }
            }
            // After success the reference keeps answering; our Env refuses (EpisodeFinished)
            // but the session underneath answers as the reference does.
            if let Some(probes) = record["post_done_probe"].as_array() {
                let mut crafting = env
                    .crafting()
                    .cloned()
                    .ok_or_else(|| Mismatch::new(&at, None, "session", "a session", "none"))?;
                for (index, probe) in probes.iter().enumerate() {
                    let outcome = crafting.act(str_of(probe, "action_sent", &at));
                    let payload = &probe["payload"];
                    compare_text(
                        &at,
                        Some(steps.len() + index),
                        "post-done observation",
                        str_of(payload, "observation", &at),
                        &outcome.observation,
                    )?;
                    let expected = (payload["reward"].as_u64(), payload["done"].as_bool());
                    let actual = (Some(u64::from(outcome.reward)), Some(outcome.done));
                    if expected != actual {
                        return Err(Mismatch::new(
                            &at,
                            None,
                            "post-done reward/done",
                            format!("{expected:?}"),
                            format!("{actual:?}"),
                        ));
                    }
                }
            }
            Ok(())
        },
    );
}

#[test]
fn wrap_around_data_idx_maps_to_task() {
    let env = TextCraftEnv::new().unwrap();
    assert_eq!(env.task_for_data_idx(1087), TaskId(543));
    assert_eq!(env.task_for_data_idx(544), TaskId(0));
}
