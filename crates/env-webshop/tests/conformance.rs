//! Conformance with the recorded reference output (`tests/fixtures/`, or `$CROSSGYM_FIXTURES`).

use crossgym_env_core::conformance::{Mismatch, Report, compare_text};
use crossgym_env_webshop::fuzz::{self, FuzzInput};
use crossgym_env_webshop::goal::{self, price_upper_repr};
use crossgym_env_webshop::page::PageKind;
use crossgym_env_webshop::py;
use crossgym_env_webshop::reward::{RewardProduct, reward};
use crossgym_env_webshop::search::{Bm25Index, analyze, byte4_to_int};
use crossgym_env_webshop::session::{Searcher, Session};
use serde_json::Value;

use crate::common;

fn check(report: &mut Report, episode: &str, field: &str, expected: String, actual: String) {
    report.record(if expected == actual {
        Ok(())
    } else {
        Err(Mismatch::new(
            episode.to_owned(),
            None,
            field,
            expected,
            actual,
        ))
    });
}

/// [`check`] for each `(field, expected, actual)`, in order.
fn check_all(report: &mut Report, episode: &str, fields: Vec<(&str, String, String)>) {
    for (field, expected, actual) in fields {
        check(report, episode, field, expected, actual);
    }
}

/// `(field, record[field], actual)` for a field compared as JSON text: the fixture's value as
/// recorded, `actual` serialized the same way.
fn json_field<'a>(
    record: &Value,
    field: &'a str,
    actual: &impl serde::Serialize,
) -> (&'a str, String, String) {
    let actual = serde_json::to_string(actual).unwrap_or_default();
    (field, record[field].to_string(), actual)
}

/// `(field, record[field], actual)` for a float compared exactly, both as `Option<f64>`.
fn f64_field<'a>(record: &Value, field: &'a str, actual: Option<f64>) -> (&'a str, String, String) {
    let expected = format!("{:?}", record[field].as_f64());
    (field, expected, format!("{actual:?}"))
}

fn fuzz_input(value: &Value) -> FuzzInput {
    match value {
        Value::String(s) => FuzzInput::Str(s.clone()),
        other => FuzzInput::Tuple(
            other["tuple"]
                .as_array()
                .expect("tuple")
                .iter()
                .map(|v| v.as_str().expect("tuple item").to_owned())
                .collect(),
        ),
    }
}

#[test]
fn fuzz_token_set_ratio_and_ratio() {
    let mut report = Report::new("fuzz_token_set_ratio.jsonl");
    for record in common::jsonl("fuzz_token_set_ratio.jsonl") {
        let id = format!("fuzz id {}", record["id"]);
        let (s1, s2) = (fuzz_input(&record["s1"]), fuzz_input(&record["s2"]));
        if let Value::Object(_) = &record["s2"] {
            check(
                &mut report,
                &id,
                "python_str",
                record["s2"]["python_str"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                s2.python_str(),
            );
        }
        let detail = fuzz::token_set_detail(&s1, &s2);
        check_all(
            &mut report,
            &id,
            vec![
                json_field(&record, "token_set_ratio", &detail.score),
                json_field(
                    &record,
                    "ratio",
                    &fuzz::ratio(&s1.python_str(), &s2.python_str()),
                ),
            ],
        );
        let processed: Vec<String> = detail.processed.to_vec();
        check(
            &mut report,
            &id,
            "processed",
            record["token_set_detail"]["processed"].to_string(),
            serde_json::to_string(&processed).unwrap_or_default(),
        );
        if let Some(expected) = record["levenshtein_ratio"].as_f64() {
            let actual = fuzz::levenshtein_ratio(&s1.python_str(), &s2.python_str());
            check(
                &mut report,
                &id,
                "levenshtein_ratio",
                format!("{expected:?}"),
                format!("{actual:?}"),
            );
        }
    }
    let checked = report.assert_ok();
    assert!(checked >= 2_240, "{checked}");
}

#[test]
fn rewards_and_components() {
    let mut report = Report::new("webshop_rewards.jsonl");
    for record in common::jsonl("webshop_rewards.jsonl") {
        let id = format!("reward id {}", record["id"]);
        let goal = common::goal_from_json(&record["goal"]);
        let p = &record["purchased_product"];
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .expect("list")
                .iter()
                .map(|s| s.as_str().expect("str").to_owned())
                .collect()
        };
        let (attributes, bullets) = (strings(&p["Attributes"]), strings(&p["BulletPoints"]));
        let product = RewardProduct {
            title: p["Title"].as_str().expect("Title"),
            query: p["query"].as_str().expect("query"),
            product_category: p["product_category"].as_str().expect("product_category"),
            attributes: &attributes,
            bullet_points: &bullets,
            description: p["Description"].as_str().expect("Description"),
        };
        let options: Vec<(String, String)> = record["options"]
            .as_object()
            .expect("options")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("option").to_owned()))
            .collect();
        let info = reward(
            &product,
            &goal,
            record["price"].as_f64().expect("price"),
            &options,
            &strings(&record["nouns"]["purchased_name"]),
            &strings(&record["nouns"]["goal_name"]),
        );
        let expected = &record["expected"];
        check_all(
            &mut report,
            &id,
            vec![
                f64_field(expected, "reward", Some(info.reward)),
                (
                    "reward_str",
                    expected["reward_str"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    py::float_repr(info.reward),
                ),
            ],
        );
        let e = &expected["info"];
        let debug = &record["debug"];
        check_all(
            &mut report,
            &id,
            vec![
                f64_field(e, "r_type", Some(info.r_type)),
                f64_field(e, "r_att", Some(info.r_att)),
                f64_field(e, "w_att", Some(info.w_att)),
                f64_field(e, "title_score", Some(info.title_score)),
                f64_field(e, "r_option", info.r_option),
                f64_field(e, "w_option", info.w_option),
                f64_field(e, "w_price", Some(info.w_price)),
                json_field(e, "r_price", &info.r_price),
                json_field(e, "query_match", &info.query_match),
                json_field(e, "category_match", &info.category_match),
                json_field(debug, "num_option_matches", &info.num_option_matches),
            ],
        );
    }
    report.assert_ok();
}

#[test]
fn processed_products_match_load_products() {
    let catalogue = common::catalogue();
    let mut report = Report::new("webshop_products_processed.jsonl");
    let records = common::jsonl("webshop_products_processed.jsonl");
    check(
        &mut report,
        "products",
        "count",
        records.len().to_string(),
        catalogue.products().len().to_string(),
    );
    for (record, product) in records.iter().zip(catalogue.products()) {
        let id = format!("product {}", record["asin"]);
        check_all(
            &mut report,
            &id,
            vec![
                (
                    "asin",
                    record["asin"].as_str().unwrap_or_default().to_owned(),
                    product.asin.clone(),
                ),
                json_field(record, "Title", &product.title),
                json_field(record, "Description", &product.description),
                json_field(record, "BulletPoints", &product.bullet_points),
                (
                    "Price",
                    record["Price"].as_str().unwrap_or_default().to_owned(),
                    product.price_tag.clone(),
                ),
                json_field(record, "pricing", &product.pricing),
            ],
        );
        let options: Vec<String> = product
            .options
            .0
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        let expected: Vec<String> = common_options(&record["options"]);
        let mut sorted_actual = options.clone();
        sorted_actual.sort();
        check_all(
            &mut report,
            &id,
            vec![
                (
                    "options",
                    format!("{expected:?}"),
                    format!("{sorted_actual:?}"),
                ),
                json_field(record, "Attributes", &product.attributes),
                json_field(record, "instruction_text", &product.instruction_text),
                json_field(record, "query", &product.query),
                json_field(record, "MainImage", &product.main_image),
                f64_field(
                    record,
                    "sampled_price",
                    Some(catalogue.price(&product.asin)),
                ),
            ],
        );
    }
    report.assert_ok();
}

fn common_options(value: &Value) -> Vec<String> {
    // serde_json::Value sorts keys; compare as sorted `name=values` lines.
    let mut out: Vec<String> = value
        .as_object()
        .expect("options")
        .iter()
        .map(|(k, v)| {
            let values: Vec<String> = v
                .as_array()
                .expect("values")
                .iter()
                .map(|s| s.as_str().unwrap_or_default().to_owned())
                .collect();
            format!("{k}={values:?}")
        })
        .collect();
    out.sort();
    out
}

#[test]
fn sampled_prices_follow_cpython_random_with_the_fixture_seed() {
    // The fixtures seeded `random.seed(20240607)` before loading: our MT19937 gives the same draws.
    let raw = crossgym_env_webshop::loader::parse_products(
        "raw",
        &common::read("webshop_products_raw.json"),
    )
    .expect("raw");
    let attrs = crossgym_env_webshop::loader::parse_attributes(
        "ins",
        &common::read("webshop_items_ins_v2.json"),
    )
    .expect("ins");
    let seeded = crossgym_env_webshop::Catalogue::build(
        "fixtures",
        &raw,
        &attrs,
        &crossgym_env_webshop::PriceSource::Seeded(20_240_607),
        common::nouns(),
    )
    .expect("catalogue");
    let mut report = Report::new("webshop_goals.json product_prices_used");
    for (asin, price) in common::recorded_prices() {
        check(
            &mut report,
            &asin,
            "price",
            format!("{price:?}"),
            format!("{:?}", seeded.price(&asin)),
        );
    }
    report.assert_ok();
}

#[test]
fn goal_table_and_task_mapping() {
    let catalogue = common::catalogue();
    let goals: Value = serde_json::from_str(&common::read("webshop_goals.json")).expect("goals");
    let (_, permutation) =
        goal::task_goals(catalogue.products(), &common::recorded_prices()).expect("goals");
    let mut report = Report::new("webshop_goals.json");
    check(
        &mut report,
        "goals",
        "shuffle_permutation",
        goals["shuffle_permutation"].to_string(),
        serde_json::to_string(&permutation).unwrap_or_default(),
    );
    let expected = goals["goals"].as_array().expect("goals");
    check(
        &mut report,
        "goals",
        "count",
        expected.len().to_string(),
        catalogue.goals().len().to_string(),
    );
    for (i, (e, g)) in expected.iter().zip(catalogue.goals()).enumerate() {
        let id = format!("goal {i}");
        let eg = common::goal_from_json(e);
        check_all(
            &mut report,
            &id,
            vec![
                ("asin", eg.asin.clone(), g.asin.clone()),
                (
                    "instruction_text",
                    eg.instruction_text.clone(),
                    g.instruction_text.clone(),
                ),
                (
                    "attributes",
                    format!("{:?}", eg.attributes),
                    format!("{:?}", g.attributes),
                ),
                (
                    "goal_options",
                    format!("{:?}", eg.goal_options),
                    format!("{:?}", g.goal_options),
                ),
                (
                    "price_upper",
                    e["price_upper"].to_string(),
                    price_upper_repr(g.price_upper),
                ),
                (
                    "weight",
                    format!("{:?}", eg.weight),
                    format!("{:?}", g.weight),
                ),
                ("name", eg.name.clone(), g.name.clone()),
            ],
        );
    }
    report.assert_ok();
}

/// A searcher that answers with the hits recorded for the step.
struct Recorded(Vec<String>);

impl Searcher for Recorded {
    fn search(&self, _query: &str, k: usize) -> Vec<String> {
        self.0.iter().take(k).cloned().collect()
    }
}

#[test]
fn pages_observations_and_clickables() {
    let catalogue = common::catalogue();
    let records = common::jsonl("webshop_pages.jsonl");
    let mut report = Report::new("webshop_pages.jsonl");
    let mut session: Option<Session> = None;
    for record in &records {
        let id = format!(
            "page id {} (episode {} step {})",
            record["id"], record["episode"], record["step"]
        );
        let inputs = &record["inputs"];
        let goal_index = inputs["goal_index"].as_u64().expect("goal_index") as usize;
        let observation = match record["action"].as_str() {
            None => {
                let s = Session::new(catalogue.goals()[goal_index].clone(), goal_index);
                let obs = s.observation(&catalogue);
                session = Some(s);
                obs
            }
            Some(action) => {
                let s = session.as_mut().expect("reset first");
                let hits: Vec<String> = inputs["search_hits"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|h| h.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                s.step(action, &catalogue, &Recorded(hits)).observation
            }
        };
        let s = session.as_ref().expect("session");
        report.record(compare_text(
            &id,
            None,
            "observation",
            record["observation"].as_str().unwrap_or_default(),
            &observation,
        ));
        let (search_bar, clickables) = s.available_actions(&catalogue);
        check_all(
            &mut report,
            &id,
            vec![
                json_field(record, "clickables", &clickables),
                json_field(record, "has_search_bar", &search_bar),
                (
                    "page_type",
                    record["page_type"].as_str().unwrap_or_default().to_owned(),
                    s.kind().name().to_owned(),
                ),
            ],
        );
        if s.kind() == PageKind::Done && record["action"].is_string() {
            let reward = record["reward"].as_f64().unwrap_or_default();
            check(
                &mut report,
                &id,
                "reward in text",
                py::float_repr(reward),
                observation
                    .rsplit(" [SEP] ")
                    .nth(2)
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
    report.assert_ok();
}

#[test]
fn search_documents_tokens_and_norms() {
    let catalogue = common::catalogue();
    let mut report = Report::new("webshop_search_docs.jsonl");
    for record in common::jsonl("webshop_search_docs.jsonl") {
        let asin = record["id"].as_str().expect("id");
        let id = format!("doc {asin}");
        let product = catalogue.product(asin).expect("product");
        let contents = product.search_contents();
        check_all(
            &mut report,
            &id,
            vec![
                (
                    "contents",
                    record["contents"].as_str().unwrap_or_default().to_owned(),
                    contents.clone(),
                ),
                json_field(&record, "analyzed_tokens", &analyze(&contents)),
            ],
        );
        let norm = catalogue.index().norm_byte(asin).map(u32::from);
        check_all(
            &mut report,
            &id,
            vec![
                json_field(&record, "norm_byte", &norm),
                json_field(
                    &record,
                    "norm_decoded_length",
                    &norm.map(|n| byte4_to_int(n as u8)),
                ),
            ],
        );
    }
    let stats: Value =
        serde_json::from_str(&common::read("webshop_search_index_stats.json")).expect("stats");
    let actual = catalogue.index().stats();
    check_all(
        &mut report,
        "stats",
        vec![
            json_field(&stats, "docCount", &actual.doc_count),
            json_field(&stats, "sumTotalTermFreq", &actual.sum_total_term_freq),
            (
                "avgdl_f32",
                format!("{:?}", stats["avgdl_f32"].as_f64().map(|v| v as f32)),
                format!("{:?}", Some(actual.avgdl)),
            ),
        ],
    );
    report.assert_ok();
}

/// Returns (queries, exact top-10 agreements, exact score agreements, term mismatches).
fn bm25_agreement(index: &Bm25Index) -> (usize, usize, usize, Vec<String>) {
    let (mut total, mut top10, mut scores) = (0, 0, 0);
    let mut problems = Vec::new();
    for record in common::jsonl("webshop_search_bm25.jsonl") {
        total += 1;
        let query = record["query"].as_str().expect("query");
        let terms = serde_json::to_string(&analyze(query)).unwrap_or_default();
        let expected_terms = record["analyzed_query_terms"].to_string();
        if terms != expected_terms {
            problems.push(format!(
                "query {query:?}: terms {terms} != {}",
                record["analyzed_query_terms"]
            ));
        }
        let hits = index.search(query, 50);
        let expected: Vec<(&str, u32)> = record["raw_hits"]
            .as_array()
            .expect("raw_hits")
            .iter()
            .map(|h| {
                (
                    h["asin"].as_str().unwrap_or_default(),
                    u32::from_str_radix(h["score_f32_bits"].as_str().unwrap_or("0"), 16)
                        .unwrap_or(0),
                )
            })
            .collect();
        let actual: Vec<(&str, u32)> = hits
            .iter()
            .map(|h| (h.id.as_str(), h.score.to_bits()))
            .collect();
        let ids = |v: &[(&str, u32)]| {
            v.iter()
                .take(10)
                .map(|h| h.0.to_owned())
                .collect::<Vec<_>>()
        };
        if ids(&expected) == ids(&actual) {
            top10 += 1;
        } else {
            problems.push(format!(
                "query {query:?}: top-10 {:?} != {:?}",
                ids(&expected),
                ids(&actual)
            ));
        }
        if expected == actual {
            scores += 1;
        }
    }
    (total, top10, scores, problems)
}

#[test]
fn bm25_rankings_agree_with_anserini() {
    let catalogue = common::catalogue();
    let (total, top10, exact, problems) = bm25_agreement(catalogue.index());
    eprintln!(
        "BM25: {top10}/{total} top-10 rankings equal, {exact}/{total} full top-50 lists with bit-equal scores"
    );
    assert!(total > 0, "no queries checked");
    assert!(
        top10 * 100 >= total * 95,
        "only {top10}/{total} top-10 rankings agree: {problems:#?}"
    );
    assert!(problems.is_empty(), "{problems:#?}");
}
