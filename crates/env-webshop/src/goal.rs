//! Synthetic goals (`goal.get_synthetic_goals`) and the task id → goal mapping (`SimServer`'s
//! seeded shuffle), reproduced with CPython's `random`.

use std::collections::HashMap;

use serde::Serialize;

use crate::product::{OrderedMap, Product};
use crate::py::{self, PyRandom};

/// `goal.price_upper` when the product is too expensive for a price clause (the integer
/// `1000000` in the reference).
pub const NO_PRICE_UPPER: f64 = 1_000_000.0;

/// The seed `get_synthetic_goals` and `SimServer` use (`random.seed(233)`).
pub const GOAL_SEED: u64 = 233;

/// One shopping goal.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Goal {
    /// The product to buy.
    pub asin: String,
    /// Its department.
    pub category: String,
    /// Its query.
    pub query: String,
    /// Its title (the reference's `name`).
    pub name: String,
    /// Its category path.
    pub product_category: String,
    /// The text shown to the agent.
    pub instruction_text: String,
    /// Attributes to satisfy.
    pub attributes: Vec<String>,
    /// Price bound; [`NO_PRICE_UPPER`] when there is no price clause.
    pub price_upper: f64,
    /// Option values to select, option names sorted.
    pub goal_options: OrderedMap<String>,
    /// Sampling weight (unused when task ids are given).
    pub weight: f64,
}

/// `[10.0 * i for i in 1..100 if 10.0 * i > price][:4]`.
fn price_range(price: f64) -> Vec<f64> {
    (1..100)
        .map(|i| 10.0 * i as f64)
        .filter(|p| *p > price)
        .take(4)
        .collect()
}

/// `get_synthetic_goals`: one goal per option combination of every product with an
/// instruction, in load order, drawing price bounds from `rng` (seeded with [`GOAL_SEED`]).
///
/// `prices` maps asin → the product's sampled price. A product with an instruction but no (or
/// empty) `instruction_attributes` is an error naming it (the reference asserts).
pub fn synthetic_goals(
    products: &[Product],
    prices: &HashMap<String, f64>,
    rng: &mut PyRandom,
) -> Result<Vec<Goal>, String> {
    let mut goals: Vec<Goal> = Vec::new();
    let mut attribute_counts: HashMap<String, usize> = HashMap::new();
    for product in products {
        let Some(instruction) = &product.instruction_text else {
            continue;
        };
        let attributes = match &product.instruction_attributes {
            Some(attrs) if !attrs.is_empty() => attrs.clone(),
            _ => {
                return Err(format!(
                    "product {}: has an instruction but no instruction_attributes",
                    product.asin
                ));
            }
        };
        let price = *prices
            .get(&product.asin)
            .ok_or_else(|| format!("product {}: no price", product.asin))?;
        let range = price_range(price);
        let (price_upper, price_text) = match rng.sample2(&range) {
            Some((a, b)) => {
                let upper = a.max(b);
                (upper, format!(", and price lower than {upper:.2} dollars"))
            }
            None => (NO_PRICE_UPPER, String::new()),
        };
        let mut names: Vec<&String> = product.options.0.iter().map(|(name, _)| name).collect();
        names.sort();
        let value_lists: Vec<&Vec<String>> = names
            .iter()
            .filter_map(|name| product.options.get(name))
            .collect();
        for combination in cartesian(&value_lists) {
            let goal_options = OrderedMap(
                names
                    .iter()
                    .zip(&combination)
                    .map(|(name, value)| ((*name).clone(), (*value).clone()))
                    .collect(),
            );
            let option_text = goal_options
                .0
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", and ");
            let option_text = if option_text.is_empty() {
                option_text
            } else {
                format!(" with {option_text}")
            };
            for attribute in &attributes {
                *attribute_counts.entry(attribute.clone()).or_default() += 1;
            }
            goals.push(Goal {
                asin: product.asin.clone(),
                category: product.category.clone(),
                query: product.query.clone(),
                name: product.title.clone(),
                product_category: product.product_category.clone(),
                instruction_text: format!("{instruction}{option_text}{price_text}"),
                attributes: attributes.clone(),
                price_upper,
                goal_options,
                weight: 0.0,
            });
        }
    }
    for goal in &mut goals {
        let sum = goal
            .attributes
            .iter()
            .fold(0.0, |acc, a| acc + 1.0 / attribute_counts[a] as f64);
        goal.weight = sum / goal.attributes.len() as f64;
    }
    Ok(goals)
}

/// `itertools.product(*lists)`: one empty combination for no lists, none if a list is empty.
fn cartesian<'a>(lists: &[&'a Vec<String>]) -> Vec<Vec<&'a String>> {
    let mut out: Vec<Vec<&String>> = vec![Vec::new()];
    for list in lists {
        let mut next = Vec::with_capacity(out.len() * list.len());
        for prefix in &out {
            for value in list.iter() {
                let mut combination = prefix.clone();
                combination.push(value);
                next.push(combination);
            }
        }
        out = next;
    }
    out
}

/// The reference pipeline: `random.seed(233)`, synthetic goals, `random.seed(233)`,
/// `random.shuffle(goals)`. Returns the goals in task-id order and the permutation
/// (`goals[i] == unshuffled[permutation[i]]`).
pub fn task_goals(
    products: &[Product],
    prices: &HashMap<String, f64>,
) -> Result<(Vec<Goal>, Vec<usize>), String> {
    let mut rng = PyRandom::new(GOAL_SEED);
    let unshuffled = synthetic_goals(products, prices, &mut rng)?;
    let mut permutation: Vec<usize> = (0..unshuffled.len()).collect();
    PyRandom::new(GOAL_SEED).shuffle(&mut permutation);
    let mut slots: Vec<Option<Goal>> = unshuffled.into_iter().map(Some).collect();
    let goals = permutation
        .iter()
        .filter_map(|&i| slots[i].take())
        .collect();
    Ok((goals, permutation))
}

/// The price clause of a price bound as the goal text writes it (`40.00`).
pub fn price_text(upper: f64) -> String {
    format!("{upper:.2}")
}

/// `repr` of the bound as the reference stores it (`40.0`, or the integer `1000000`).
pub fn price_upper_repr(upper: f64) -> String {
    if upper == NO_PRICE_UPPER {
        "1000000".to_owned()
    } else {
        py::float_repr(upper)
    }
}
