//! The product model in the reference's schema: the raw `items_shuffle_1000.json` entry
//! ([`RawProduct`]), the `items_ins_v2_1000.json` entry ([`ItemAttributes`]), and the processed
//! [`Product`] that `engine.load_products` derives from them.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::py;

/// A JSON object read in document order (Python dicts keep insertion order, and option order
/// is visible in pages, goals and rewards).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> OrderedMap<V> {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Python's `d[key] = value`: replaces in place (keeping the position) or appends.
    pub fn insert(&mut self, key: String, value: V) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut map = OrderedMap(Vec::new());
                while let Some((key, value)) = access.next_entry::<String, V>()? {
                    // JSON objects with repeated keys behave like Python's json: last one wins.
                    map.insert(key, value);
                }
                Ok(map)
            }
        }
        deserializer.deserialize_map(MapVisitor(std::marker::PhantomData))
    }
}

/// One value of a customization option in the raw schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawOptionValue {
    /// The shown value, e.g. `"Navy"`.
    pub value: String,
    /// Image URL of the value, often `null`.
    #[serde(default)]
    pub image: Option<String>,
}

/// `small_description`: a list of bullets, or (in some records) a single string.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Bullets {
    /// The usual list.
    List(Vec<String>),
    /// A single bullet given as a string.
    One(String),
}

/// One entry of `items_shuffle_1000.json` (keys the engine deletes are ignored).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawProduct {
    /// Amazon-style id, `B0XXXXXXXX`.
    pub asin: String,
    /// Product name (becomes the title).
    pub name: String,
    /// Long description.
    pub full_description: String,
    /// Bullet points.
    pub small_description: Bullets,
    /// `"$19.99"`, `"$24.50 - $31.00"`, `""` or absent.
    #[serde(default)]
    pub pricing: Option<String>,
    /// Image URLs; the first is the main image.
    pub images: Vec<String>,
    /// `{Name: [{value, image}, ...]}`; a `null` list is skipped.
    #[serde(default)]
    pub customization_options: Option<OrderedMap<Option<Vec<RawOptionValue>>>>,
    /// Department, e.g. `"fashion"`.
    pub category: String,
    /// The search query the product was scraped for.
    pub query: String,
    /// Category path joined with `" › "`.
    pub product_category: String,
}

/// One entry of `items_ins_v2_1000.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemAttributes {
    /// Attributes of the product; absent gives `["DUMMY_ATTR"]`.
    #[serde(default)]
    pub attributes: Option<Vec<String>>,
    /// The synthetic instruction, if the product has one.
    #[serde(default)]
    pub instruction: Option<String>,
    /// The attributes the instruction asks for.
    #[serde(default)]
    pub instruction_attributes: Option<Vec<String>>,
}

/// A product as the engine uses it (`load_products` output).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Product {
    /// Id.
    pub asin: String,
    /// `name`, unstripped.
    pub title: String,
    /// `full_description`.
    pub description: String,
    /// Bullets, always a list.
    pub bullet_points: Vec<String>,
    /// Parsed prices (at most two; `[100.0]` when empty).
    pub pricing: Vec<f64>,
    /// The shown price, `$19.99` or `$24.5 to $31.0` (Python float `str`).
    pub price_tag: String,
    /// Options: lower-cased names, values stripped, `/` → `" | "`, lower-cased.
    pub options: OrderedMap<Vec<String>>,
    /// Attributes (`["DUMMY_ATTR"]` when the attributes file has none).
    pub attributes: Vec<String>,
    /// Synthetic instruction, if any.
    pub instruction_text: Option<String>,
    /// Attributes named by the instruction.
    pub instruction_attributes: Option<Vec<String>>,
    /// Department.
    pub category: String,
    /// Query, lower-cased and stripped.
    pub query: String,
    /// Category path.
    pub product_category: String,
    /// First image URL.
    pub main_image: String,
    /// Always `"N.A."` (no reviews file).
    pub rating: String,
}

/// Why a raw record was not turned into a product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// `asin == "nan"` or longer than 10 characters.
    BadAsin,
    /// The asin was already loaded.
    Duplicate,
}

/// Parses the `pricing` string like the engine: split on `$`, keep digits and dots, `Decimal`.
///
/// Returns the prices (at most two kept) and the price tag, or a message naming the bad part.
pub fn parse_pricing(pricing: Option<&str>) -> Result<(Vec<f64>, String), String> {
    let text = match pricing {
        None | Some("") => return Ok((vec![100.0], "$100.0".to_owned())),
        Some(text) => text,
    };
    let mut prices = Vec::new();
    for part in text.split('$').skip(1) {
        let digits: String = part
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let price: f64 = digits
            .parse()
            .map_err(|_| format!("price {part:?} in {text:?} is not a number"))?;
        prices.push(price);
    }
    match prices.len() {
        // `"19.99"` with no `$` gives an empty list in the reference, which later crashes.
        0 => Err(format!("pricing {text:?} holds no `$` price")),
        1 => {
            let tag = format!("${}", py::float_repr(prices[0]));
            Ok((prices, tag))
        }
        _ => {
            prices.truncate(2);
            let tag = format!(
                "${} to ${}",
                py::float_repr(prices[0]),
                py::float_repr(prices[1])
            );
            Ok((prices, tag))
        }
    }
}

impl Product {
    /// `load_products`' processing of one record; `attributes` is the record's
    /// `items_ins_v2` entry. Errors are messages naming the field.
    pub fn from_raw(raw: &RawProduct, attributes: Option<&ItemAttributes>) -> Result<Self, String> {
        let (pricing, price_tag) =
            parse_pricing(raw.pricing.as_deref()).map_err(|m| format!("field `pricing`: {m}"))?;
        let mut options: OrderedMap<Vec<String>> = OrderedMap::default();
        if let Some(custom) = &raw.customization_options {
            for (name, contents) in &custom.0 {
                let Some(contents) = contents else { continue };
                let values = contents
                    .iter()
                    .map(|v| py::strip(&v.value).replace('/', " | ").to_lowercase())
                    .collect();
                options.insert(name.to_lowercase(), values);
            }
        }
        let main_image = raw
            .images
            .first()
            .cloned()
            .ok_or_else(|| "field `images` is empty (the engine reads images[0])".to_owned())?;
        let attrs = attributes.and_then(|a| a.attributes.clone());
        Ok(Self {
            asin: raw.asin.clone(),
            title: raw.name.clone(),
            description: raw.full_description.clone(),
            bullet_points: match &raw.small_description {
                Bullets::List(list) => list.clone(),
                Bullets::One(one) => vec![one.clone()],
            },
            pricing,
            price_tag,
            options,
            attributes: attrs.unwrap_or_else(|| vec!["DUMMY_ATTR".to_owned()]),
            instruction_text: attributes.and_then(|a| a.instruction.clone()),
            instruction_attributes: attributes.and_then(|a| a.instruction_attributes.clone()),
            category: raw.category.clone(),
            query: py::strip(&raw.query.to_lowercase()).to_owned(),
            product_category: raw.product_category.clone(),
            main_image,
            rating: "N.A.".to_owned(),
        })
    }

    /// The price the reward and goal generation use: the single price, or a uniform draw
    /// in the range from `rng` (the reference's global `random`).
    pub fn sample_price(&self, rng: &mut py::PyRandom) -> f64 {
        match self.pricing.as_slice() {
            [] => 100.0,
            [single] => *single,
            [lo, hi, ..] => rng.uniform(*lo, *hi),
        }
    }

    /// The Lucene document text WebShop indexes:
    /// `lower(Title + " " + Description + " " + BulletPoints[0] + " " + option_text)`.
    pub fn search_contents(&self) -> String {
        let option_text = self
            .options
            .0
            .iter()
            .map(|(name, values)| format!("{name}: {}", values.join(", ")))
            .collect::<Vec<_>>()
            .join(", and ");
        let first_bullet = self.bullet_points.first().map_or("", String::as_str);
        format!(
            "{} {} {} {}",
            self.title, self.description, first_bullet, option_text
        )
        .to_lowercase()
    }
}

/// Whether `load_products` skips the asin: `"nan"`, longer than 10 characters, or seen before.
pub fn skip_reason(asin: &str, seen: &std::collections::HashSet<String>) -> Option<Skip> {
    if asin == "nan" || asin.chars().count() > 10 {
        Some(Skip::BadAsin)
    } else if seen.contains(asin) {
        Some(Skip::Duplicate)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pricing_like_the_engine() {
        assert_eq!(
            parse_pricing(Some("$19.99")).unwrap(),
            (vec![19.99], "$19.99".to_owned())
        );
        assert_eq!(
            parse_pricing(Some("$1,299.00")).unwrap(),
            (vec![1299.0], "$1299.0".to_owned())
        );
        assert_eq!(
            parse_pricing(Some("$5.00 - $6.00 - $7.00")).unwrap(),
            (vec![5.0, 6.0], "$5.0 to $6.0".to_owned())
        );
        assert_eq!(
            parse_pricing(Some("")).unwrap(),
            (vec![100.0], "$100.0".to_owned())
        );
        assert!(parse_pricing(Some("$1.2.3")).is_err());
    }
}
