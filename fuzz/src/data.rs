//! The env data loaders: ALFWorld game files, WebShop products/attributes/nouns, SearchQA corpus,
//! summaries and question files, TextCraft recipe files. Each loaded value is also put to use
//! (a game is played, a catalogue built and searched, a recipe book built), since a file that
//! loads but crashes its first use is as much a finding as one that crashes the parser.

use std::io::Cursor;
use std::sync::Arc;

use crossgym_env_alfworld::{Engine, Game};
use crossgym_env_core::{Env, TaskId};
use crossgym_env_searchqa::questions::TaskSet;
use crossgym_env_searchqa::wiki::WikiCorpus;
use crossgym_env_searchqa::{corpus, questions};
use crossgym_env_textcraft::raw::parse_recipe_json;
use crossgym_env_textcraft::{RecipeBook, TextCraftEnv};
use crossgym_env_webshop::catalogue::{DEFAULT_PRICE_SEED, NounTable};
use crossgym_env_webshop::{Catalogue, PriceSource, WebShopEnv, loader};
use serde_json::Value;

use crate::harness::{fixture, fixture_lines, join_files, split_files, text};

const ALFWORLD_GAMES: &str = "crates/env-alfworld/tests/fixtures/games";
const WEBSHOP_FIXTURES: &str = "crates/env-webshop/tests/fixtures";

/// Commands of a loaded game tried per input at most.
const GAME_COMMANDS: usize = 8;

/// Fuzzes `Game::from_tw_pddl` (a `game.tw-pddl` file), then plays the game's first admissible
/// commands and its walkthrough's first steps.
pub fn alfworld_game(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(game) = Game::from_tw_pddl("fuzz/game.tw-pddl", text) else {
        return;
    };
    let walkthrough: Vec<String> = game
        .walkthrough
        .iter()
        .take(GAME_COMMANDS)
        .cloned()
        .collect();
    let mut engine = Engine::new(Arc::new(game));
    let _ = engine.intro();
    let commands: Vec<String> = engine
        .admissible()
        .take(GAME_COMMANDS)
        .map(str::to_owned)
        .collect();
    for command in commands.iter().chain(&walkthrough) {
        let _ = engine.execute(command);
    }
    let _ = engine.won();
}

/// Seeds of [`alfworld_game`]: the playable game files of ALFWorld's conformance fixtures.
pub fn alfworld_game_seeds() -> Vec<Vec<u8>> {
    ["tw_test_raw", "k1_heat_egg"]
        .iter()
        .map(|game| fixture(&format!("{ALFWORLD_GAMES}/{game}/game.tw-pddl")))
        .collect()
}

/// Fuzzes WebShop's data files — `products · attributes (the goal data) [· nouns]` — through
/// `loader::parse_*` and `Catalogue::build`, then plays task 0 of the catalogue: a search and a
/// click on the first result.
pub fn webshop_catalogue(data: &[u8]) {
    let files = split_files(data);
    let (Some(products), Some(attributes)) = (files.first(), files.get(1)) else {
        return;
    };
    let (Some(products), Some(attributes)) = (text(products), text(attributes)) else {
        return;
    };
    let Ok(raw) = loader::parse_products("fuzz/products.json", products) else {
        return;
    };
    let Ok(attributes) = loader::parse_attributes("fuzz/attributes.json", attributes) else {
        return;
    };
    let nouns = match files.get(2).and_then(|n| text(n)) {
        Some(nouns) => match loader::parse_nouns("fuzz/nouns.json", nouns) {
            Ok(nouns) => nouns,
            Err(_) => return,
        },
        None => NounTable::new(),
    };
    let prices = PriceSource::Seeded(DEFAULT_PRICE_SEED);
    let Ok(catalogue) = Catalogue::build("fuzz/products.json", &raw, &attributes, &prices, nouns)
    else {
        return;
    };
    let first = catalogue.products().first().map(|p| p.asin.clone());
    let Ok(mut env) = WebShopEnv::from_catalogue(Arc::new(catalogue)) else {
        return;
    };
    if env.num_tasks() == 0 || env.reset(TaskId(0)).is_err() {
        return;
    }
    let _ = env.step("Action: search[a]");
    if let Some(asin) = first {
        let _ = env.step(&format!("Action: click[{}]", asin.to_lowercase()));
    }
}

/// Seeds of [`webshop_catalogue`]: the first products of WebShop's fixtures with their
/// attributes and nouns.
pub fn webshop_catalogue_seeds() -> Vec<Vec<u8>> {
    let json = |file: &str| -> Value {
        serde_json::from_slice(&fixture(&format!("{WEBSHOP_FIXTURES}/{file}")))
            .expect("WebShop's fixtures are JSON")
    };
    let products = json("webshop_products_raw.json");
    let attributes = json("webshop_items_ins_v2.json");
    let nouns = json("webshop_noun_table.json");
    let mut seeds = Vec::new();
    for n in [2, 6] {
        let few: Vec<Value> = products
            .as_array()
            .expect("a product list")
            .iter()
            .filter(|p| attributes.get(p["asin"].as_str().unwrap_or("")).is_some())
            .take(n)
            .cloned()
            .collect();
        let asins: Vec<&str> = few.iter().filter_map(|p| p["asin"].as_str()).collect();
        let attrs: serde_json::Map<String, Value> = asins
            .iter()
            .map(|a| ((*a).to_owned(), attributes[*a].clone()))
            .collect();
        let files = [
            serde_json::to_vec(&few).expect("serializes"),
            serde_json::to_vec(&attrs).expect("serializes"),
            serde_json::to_vec(&nouns_of(&nouns, &few)).expect("serializes"),
        ];
        seeds.push(join_files(&files));
    }
    seeds
}

/// The noun-table entries of `products`' titles, in the table's own layout.
fn nouns_of(table: &Value, products: &[Value]) -> Value {
    let entries = table.get("table").unwrap_or(table);
    let picked: serde_json::Map<String, Value> = entries
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(title, _)| {
            products.iter().any(|p| {
                p["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(title))
            })
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if table.get("table").is_some() {
        serde_json::json!({ "table": picked })
    } else {
        Value::Object(picked)
    }
}

/// Fuzzes SearchQA's corpus reader (`corpus::read_jsonl`, `{"id", "contents"}` lines).
pub fn searchqa_corpus(data: &[u8]) {
    let mut passages = Vec::new();
    let _ = corpus::read_jsonl(Cursor::new(data), "fuzz/corpus.jsonl", |passage| {
        passages.push(passage);
        Ok(())
    });
}

/// Seeds of [`searchqa_corpus`]: the first lines of the wiki-18 sample.
pub fn searchqa_corpus_seeds() -> Vec<Vec<u8>> {
    vec![fixture_lines(
        "crates/env-searchqa/tests/data/wiki18_sample_1000.jsonl",
        4,
    )]
}

/// Fuzzes SearchQA's question reader (`questions::read_jsonl`) and the task set built from it.
pub fn searchqa_questions(data: &[u8]) {
    let Ok(questions) = questions::read_jsonl(Cursor::new(data), "fuzz/questions.jsonl") else {
        return;
    };
    let half = questions.len() / 2;
    let test = questions[half..].to_vec();
    let mut train = questions;
    train.truncate(half);
    let _ = TaskSet::from_halves(train, test);
}

/// Seeds of [`searchqa_questions`]: the Natural Questions sample.
pub fn searchqa_questions_seeds() -> Vec<Vec<u8>> {
    vec![fixture_lines(
        "crates/env-searchqa/tests/data/nq_test_sample16.jsonl",
        6,
    )]
}

/// Fuzzes SearchQA's summaries reader (`WikiCorpus::from_json`: titles → articles, split into
/// passages).
pub fn searchqa_summaries(data: &[u8]) {
    if let Some(json) = text(data) {
        let _ = WikiCorpus::from_json(json, "fuzz/summaries.json");
    }
}

/// Seeds of [`searchqa_summaries`]: a few articles of the embedded summaries.
pub fn searchqa_summaries_seeds() -> Vec<Vec<u8>> {
    let bytes = fixture("crates/env-searchqa/data/wikipedia_summaries_en.json.gz");
    let mut json = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(bytes.as_slice()),
        &mut json,
    )
    .expect("the embedded summaries decompress");
    let all: serde_json::Map<String, Value> =
        serde_json::from_str(&json).expect("the summaries are a JSON map");
    let few: serde_json::Map<String, Value> = all.into_iter().take(3).collect();
    vec![serde_json::to_vec(&few).expect("serializes")]
}

/// Fuzzes TextCraft's recipe files (`raw::parse_recipe_json`, one input part per file) and the
/// recipe book built from them, then resets an env over the book.
pub fn textcraft_recipes(data: &[u8]) {
    let files: Vec<_> = split_files(data)
        .into_iter()
        .enumerate()
        .filter_map(|(i, file)| {
            let text = text(file)?;
            parse_recipe_json(&format!("fuzz/recipe{i}.json"), text).ok()
        })
        .collect();
    let Ok(book) = RecipeBook::from_raw(&files) else {
        return;
    };
    let Ok(mut env) = TextCraftEnv::with_book(Arc::new(book), 0) else {
        return;
    };
    if env.num_tasks() > 0 && env.reset(TaskId(0)).is_ok() {
        let _ = env.step("Action: inventory");
    }
}

/// Seeds of [`textcraft_recipes`]: Minecraft recipe files in the game's JSON layout, rebuilt
/// from the first records of TextCraft's recipe fixture (a shaped and a shapeless one each).
pub fn textcraft_recipes_seeds() -> Vec<Vec<u8>> {
    let lines = fixture_lines(
        "crates/env-textcraft/tests/fixtures/textcraft_recipes.jsonl",
        12,
    );
    let mut files: Vec<Vec<u8>> = vec![
        br###"{"type": "minecraft:crafting_shaped", "pattern": ["##", "##"], "key": {"#": {"tag": "minecraft:planks"}}, "result": {"item": "minecraft:crafting_table"}}"###.to_vec(),
    ];
    files.extend(
        String::from_utf8(lines)
            .expect("UTF-8")
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .map(|record| serde_json::to_vec(&recipe_file(&record)).expect("serializes")),
    );
    vec![join_files(&files[..4]), join_files(&files)]
}

/// A shapeless recipe file (`minecraft:crafting_shapeless`) for one fixture record.
fn recipe_file(record: &Value) -> Value {
    let ingredients: Vec<Value> = record["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|input| {
            let item = input[1].as_str().unwrap_or("minecraft:stick").to_owned();
            let count = input[2].as_u64().unwrap_or(1);
            (0..count).map(move |_| serde_json::json!({ "item": item }))
        })
        .collect();
    serde_json::json!({
        "type": "minecraft:crafting_shapeless",
        "group": record["output_tag"].as_str().unwrap_or("").trim_start_matches("minecraft:"),
        "ingredients": ingredients,
        "result": { "item": record["output_item_id"], "count": record["output_count"] },
    })
}
