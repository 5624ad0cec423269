//! A loaded catalogue: products in load order, their sampled prices, title nouns, the goals in
//! task-id order, and the search index.

use std::collections::{HashMap, HashSet};

use crossgym_env_core::{EnvError, Result};

use crate::goal::{Goal, task_goals};
use crate::product::{ItemAttributes, Product, RawProduct, skip_reason};
use crate::py::PyRandom;
use crate::search::{Bm25Index, STOP_WORDS_FOR_NOUNS};

/// Where ranged products get their price.
#[derive(Clone, Debug, PartialEq)]
pub enum PriceSource {
    /// `random.uniform(lo, hi)` per ranged product in load order, from CPython's `random` seeded
    /// with this value (the reference seeds with the clock; the fixtures used 20240607).
    Seeded(u64),
    /// Given prices by asin (e.g. recorded ones); missing asins fall back to the seeded draw.
    Given(HashMap<String, f64>, u64),
}

/// The seed of [`PriceSource::Seeded`] by default (the one the fixtures were made with).
pub const DEFAULT_PRICE_SEED: u64 = 20_240_607;

/// Noun lists by product title (spaCy's NOUN/PROPN tokens in the reference), lower-cased.
pub type NounTable = HashMap<String, Vec<String>>;

/// Products, prices, nouns, goals and the index.
#[derive(Clone, Debug)]
pub struct Catalogue {
    products: Vec<Product>,
    by_asin: HashMap<String, usize>,
    prices: HashMap<String, f64>,
    nouns: NounTable,
    goals: Vec<Goal>,
    index: Bm25Index,
}

impl Catalogue {
    /// `load_products` + `generate_product_prices` + `get_synthetic_goals` + the shuffle, and
    /// the index over [`Product::search_contents`].
    ///
    /// `source` names the data in error messages. Every kept product needs an `attributes`
    /// entry (the reference raises `KeyError` otherwise).
    pub fn build(
        source: &str,
        raw: &[RawProduct],
        attributes: &HashMap<String, ItemAttributes>,
        prices: &PriceSource,
        nouns: NounTable,
    ) -> Result<Self> {
        let mut products = Vec::new();
        let mut seen = HashSet::new();
        for (record, raw_product) in raw.iter().enumerate() {
            if skip_reason(&raw_product.asin, &seen).is_some() {
                continue;
            }
            seen.insert(raw_product.asin.clone());
            let attrs = attributes.get(&raw_product.asin).ok_or_else(|| {
                EnvError::data(
                    crate::NAME,
                    source,
                    format!(
                        "record {record} (asin {}): no entry in the attributes file",
                        raw_product.asin
                    ),
                )
            })?;
            let product = Product::from_raw(raw_product, Some(attrs)).map_err(|message| {
                EnvError::data(
                    crate::NAME,
                    source,
                    format!("record {record} (asin {}): {message}", raw_product.asin),
                )
            })?;
            products.push(product);
        }
        Self::from_products(source, products, prices, nouns)
    }

    /// A catalogue from processed products (load order).
    pub fn from_products(
        source: &str,
        products: Vec<Product>,
        prices: &PriceSource,
        nouns: NounTable,
    ) -> Result<Self> {
        let (given, seed) = match prices {
            PriceSource::Seeded(seed) => (None, *seed),
            PriceSource::Given(given, seed) => (Some(given), *seed),
        };
        let mut rng = PyRandom::new(seed);
        let mut price_map = HashMap::new();
        for product in &products {
            let drawn = product.sample_price(&mut rng);
            let price = given
                .and_then(|g| g.get(&product.asin).copied())
                .unwrap_or(drawn);
            price_map.insert(product.asin.clone(), price);
        }
        let (goals, _) = task_goals(&products, &price_map)
            .map_err(|message| EnvError::data(crate::NAME, source, message))?;
        let contents: Vec<(String, String)> = products
            .iter()
            .map(|p| (p.asin.clone(), p.search_contents()))
            .collect();
        let index = Bm25Index::build(contents.iter().map(|(a, c)| (a.as_str(), c.as_str())));
        let by_asin = products
            .iter()
            .enumerate()
            .map(|(i, p)| (p.asin.clone(), i))
            .collect();
        Ok(Self {
            products,
            by_asin,
            prices: price_map,
            nouns,
            goals,
            index,
        })
    }

    /// The products in load order.
    pub fn products(&self) -> &[Product] {
        &self.products
    }

    /// The product with this asin.
    pub fn product(&self, asin: &str) -> Option<&Product> {
        self.by_asin.get(asin).map(|&i| &self.products[i])
    }

    /// The price the reward uses (`product_prices[asin]`); 100.0 for an unknown asin.
    pub fn price(&self, asin: &str) -> f64 {
        self.prices.get(asin).copied().unwrap_or(100.0)
    }

    /// The goals in task-id order.
    pub fn goals(&self) -> &[Goal] {
        &self.goals
    }

    /// The search index.
    pub fn index(&self) -> &Bm25Index {
        &self.index
    }

    /// The noun list of a title: from the noun table, else a fallback (every word of letters
    /// that is not a stop word, lower-cased), because spaCy is not available here.
    pub fn nouns(&self, title: &str) -> Vec<String> {
        match self.nouns.get(title) {
            Some(nouns) => nouns.clone(),
            None => fallback_nouns(title),
        }
    }
}

/// The noun fallback for titles without a noun table entry.
pub fn fallback_nouns(title: &str) -> Vec<String> {
    title
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(|word| word.trim_matches('\'').to_lowercase())
        .map(|word| word.strip_suffix("'s").map(str::to_owned).unwrap_or(word))
        .filter(|word| {
            word.chars().any(char::is_alphabetic) && !STOP_WORDS_FOR_NOUNS.contains(&word.as_str())
        })
        .collect()
}
