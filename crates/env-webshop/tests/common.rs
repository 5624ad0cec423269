//! Fixture loading shared by the conformance tests.

use std::collections::HashMap;
use std::path::PathBuf;

use crossgym_env_core::conformance::read_fixture;
use crossgym_env_core::crate_fixture_dir;
use crossgym_env_webshop::catalogue::{Catalogue, DEFAULT_PRICE_SEED, NounTable, PriceSource};
use crossgym_env_webshop::goal::Goal;
use crossgym_env_webshop::loader;
use crossgym_env_webshop::product::OrderedMap;
use serde_json::Value;

pub fn dir() -> PathBuf {
    crate_fixture_dir!("webshop")
}

pub fn read(file: &str) -> String {
    read_fixture("webshop", &dir(), file).unwrap_or_else(|e| panic!("{e}"))
}

pub fn jsonl(file: &str) -> Vec<Value> {
    read(file)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{file}: {e}")))
        .collect()
}

pub fn nouns() -> NounTable {
    loader::parse_nouns("webshop_noun_table.json", &read("webshop_noun_table.json"))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Recorded prices (`product_prices_used`).
pub fn recorded_prices() -> HashMap<String, f64> {
    let goals: Value = serde_json::from_str(&read("webshop_goals.json")).expect("goals json");
    goals["product_prices_used"]
        .as_object()
        .expect("product_prices_used")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_f64().expect("price")))
        .collect()
}

pub fn catalogue() -> Catalogue {
    let raw = loader::parse_products("raw", &read("webshop_products_raw.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    let attrs = loader::parse_attributes("ins", &read("webshop_items_ins_v2.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    Catalogue::build(
        "fixtures",
        &raw,
        &attrs,
        &PriceSource::Given(recorded_prices(), DEFAULT_PRICE_SEED),
        nouns(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A goal dict of the fixtures (options in document order).
pub fn goal_from_json(value: &Value) -> Goal {
    let text = value.to_string();
    #[derive(serde::Deserialize)]
    struct G {
        asin: String,
        category: String,
        query: String,
        name: String,
        product_category: String,
        instruction_text: String,
        attributes: Vec<String>,
        price_upper: f64,
        goal_options: OrderedMap<String>,
        weight: f64,
    }
    // serde_json::Value sorts keys, so re-read option order from the raw text of the record.
    let g: G = serde_json::from_str(&text).expect("goal");
    Goal {
        asin: g.asin,
        category: g.category,
        query: g.query,
        name: g.name,
        product_category: g.product_category,
        instruction_text: g.instruction_text,
        attributes: g.attributes,
        price_upper: g.price_upper,
        goal_options: g.goal_options,
        weight: g.weight,
    }
}
