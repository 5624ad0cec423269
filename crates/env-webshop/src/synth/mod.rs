//! The deterministic synthetic catalogue (the default; WebShop's own data may not be shipped).
//!
//! Products are generated in the reference's raw schema ([`RawProduct`] + [`ItemAttributes`])
//! and go through the same `load_products` / goal pipeline as real files. The generator knows
//! each title's nouns, so it also writes the noun table the type reward needs. Option values are
//! kept only when the reward's colour normalisation leaves them matchable (a value whose first
//! `COLOR_SET` substring is not one of its words, like `peppermint` → `mint`, could never score).

mod tables;

use std::collections::{HashMap, HashSet};

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::catalogue::NounTable;
use crate::product::{Bullets, ItemAttributes, OrderedMap, RawOptionValue, RawProduct};
use crate::reward::normalize_color;
use tables::{AUDIENCES, GARMENTS, OTHER_TYPES};
pub use tables::{OptionKind, ProductType};

/// Products in the default catalogue.
pub const DEFAULT_NUM_PRODUCTS: usize = 1000;
/// Seed of the default catalogue.
pub const DEFAULT_SEED: u64 = 2026;

/// A generated catalogue in the reference's file schema.
#[derive(Clone, Debug)]
pub struct SynthCatalogue {
    /// `items_shuffle` entries.
    pub products: Vec<RawProduct>,
    /// `items_ins_v2` entries by asin.
    pub attributes: HashMap<String, ItemAttributes>,
    /// Title → nouns.
    pub nouns: NounTable,
}

/// Every product type: garments × audiences, then the other departments.
pub fn product_types() -> Vec<(ProductType, Option<usize>)> {
    let mut types = Vec::new();
    for (g, garment) in GARMENTS.iter().enumerate() {
        for audience in 0..AUDIENCES.len() {
            types.push((
                ProductType {
                    department: "fashion",
                    path: garment.0,
                    query: garment.1,
                    noun: "",
                    attributes: garment.2,
                    options: garment.3,
                    price: garment.4,
                },
                Some(g * AUDIENCES.len() + audience),
            ));
        }
    }
    types.extend(OTHER_TYPES.iter().map(|t| (*t, None)));
    types
}

fn department_root(department: &str) -> &'static str {
    match department {
        "fashion" => "Clothing, Shoes & Jewelry",
        "beauty" => "Beauty & Personal Care",
        "grocery" => "Grocery & Gourmet Food",
        "electronics" => "Electronics",
        _ => "Home & Kitchen",
    }
}

fn styles(department: &str) -> &'static [&'static str] {
    match department {
        "fashion" => &[
            "Classic",
            "Everyday",
            "Lightweight",
            "Premium",
            "Athletic",
            "Vintage",
            "Casual",
            "Essential",
        ],
        "beauty" => &[
            "Daily",
            "Gentle",
            "Advanced",
            "Professional",
            "Natural",
            "Travel",
            "Luxury",
            "Clinical",
        ],
        "grocery" => &[
            "Organic",
            "Gourmet",
            "Classic",
            "Artisan",
            "Premium",
            "Farmhouse",
            "Simple",
            "Family",
        ],
        "electronics" => &[
            "Compact",
            "Pro",
            "Ultra",
            "Portable",
            "Smart",
            "Advanced",
            "Essential",
            "Max",
        ],
        _ => &[
            "Modern",
            "Classic",
            "Heavy Duty",
            "Compact",
            "Premium",
            "Rustic",
            "Essential",
            "Deluxe",
        ],
    }
}

fn generic_attributes(department: &str) -> &'static [&'static str] {
    match department {
        "fashion" => &[
            "machine wash",
            "hand wash",
            "polyester spandex",
            "cotton blend",
            "daily wear",
            "regular fit",
        ],
        "beauty" => &[
            "travel size",
            "dermatologist tested",
            "vegan formula",
            "paraben free",
            "cruelty free",
            "easy to use",
        ],
        "grocery" => &[
            "kosher certified",
            "low calorie",
            "plant based",
            "bulk pack",
            "great taste",
            "ready to eat",
        ],
        "electronics" => &[
            "easy setup",
            "compact design",
            "usb powered",
            "energy efficient",
            "travel friendly",
            "one year warranty",
        ],
        _ => &[
            "easy clean",
            "space saving",
            "eco friendly",
            "durable construction",
            "modern style",
            "gift idea",
        ],
    }
}

fn uses(department: &str) -> &'static [&'static str] {
    match department {
        "fashion" => &[
            "everyday wear",
            "work and travel",
            "the gym",
            "weekend outings",
        ],
        "beauty" => &[
            "a daily routine",
            "sensitive skin",
            "travel",
            "a spa day at home",
        ],
        "grocery" => &[
            "busy mornings",
            "snacking on the go",
            "family meals",
            "the office pantry",
        ],
        "electronics" => &[
            "home and office",
            "travel",
            "gaming and streaming",
            "everyday use",
        ],
        _ => &[
            "small apartments",
            "everyday cooking",
            "busy households",
            "guest rooms",
        ],
    }
}

const COLORS: [&str; 18] = [
    "Black",
    "White",
    "Navy Blue",
    "Grey",
    "Red",
    "Olive Green",
    "Khaki",
    "Beige",
    "Pink",
    "Light Blue",
    "Burgundy",
    "Charcoal",
    "Brown",
    "Green",
    "Purple",
    "Yellow",
    "Ivory",
    "Teal",
];
const APPAREL_SIZES: [&str; 6] = ["X-Small", "Small", "Medium", "Large", "X-Large", "XX-Large"];
const SHOE_SIZES: [&str; 10] = ["6", "7", "7.5", "8", "8.5", "9", "9.5", "10", "11", "12"];
const FLAVORS: [&str; 14] = [
    "Original",
    "Vanilla",
    "Hazelnut",
    "Caramel",
    "Chocolate",
    "Sea Salt",
    "Honey",
    "Lemon",
    "Peach",
    "Cinnamon",
    "Coconut",
    "Dark Roast",
    "Barbecue",
    "Cream",
];
const SCENTS: [&str; 8] = [
    "Unscented",
    "Lavender",
    "Eucalyptus",
    "Coconut",
    "Citrus",
    "Vanilla",
    "Rose",
    "Sandalwood",
];
const PACKS: [&str; 6] = [
    "Pack of 1",
    "Pack of 2",
    "Pack of 3",
    "Pack of 4",
    "Pack of 6",
    "Pack of 12",
];
const COUNTS: [&str; 5] = ["6 Count", "12 Count", "24 Count", "36 Count", "48 Count"];
const VOLUMES: [&str; 6] = [
    "1 Fl Oz",
    "1.7 Fl Oz",
    "3.4 Fl Oz",
    "8 Fl Oz",
    "16 Fl Oz",
    "32 Fl Oz",
];
const INCHES: [&str; 5] = ["8 Inch", "10 Inch", "12 Inch", "14 Inch", "16 Inch"];
const CAPACITIES: [&str; 6] = ["32GB", "64GB", "128GB", "256GB", "1TB", "2TB"];
const BED_SIZES: [&str; 5] = ["Twin", "Full", "Queen", "King", "California King"];

/// Whether the reward can match the value when it is bought: its colour normalisation is itself
/// or one of its words.
pub fn option_value_is_matchable(value: &str) -> bool {
    let lower = value.to_lowercase();
    let normalized = normalize_color(&lower);
    normalized == lower || lower.split(' ').any(|word| word == normalized)
}

fn pick_run<'a>(rng: &mut ChaCha8Rng, list: &[&'a str], min: usize, max: usize) -> Vec<&'a str> {
    let n = rng.random_range(min..=max.min(list.len()));
    let start = rng.random_range(0..=list.len() - n);
    list[start..start + n].to_vec()
}

fn pick_some<'a>(rng: &mut ChaCha8Rng, list: &[&'a str], min: usize, max: usize) -> Vec<&'a str> {
    let n = rng.random_range(min..=max.min(list.len()));
    let mut picked: Vec<&str> = list.choose_multiple(rng, n).copied().collect();
    // Keep the list's own order, as a shop page would.
    picked.sort_by_key(|v| list.iter().position(|x| x == v));
    picked
}

fn options_for(
    rng: &mut ChaCha8Rng,
    kind: OptionKind,
    department: &str,
) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut options = match kind {
        OptionKind::Apparel => vec![
            ("Color", pick_some(rng, &COLORS, 2, 4)),
            ("Size", pick_run(rng, &APPAREL_SIZES, 2, 4)),
        ],
        OptionKind::Shoes => vec![
            ("Color", pick_some(rng, &COLORS, 1, 3)),
            ("Size", pick_run(rng, &SHOE_SIZES, 3, 5)),
        ],
        OptionKind::Color => vec![("Color", pick_some(rng, &COLORS, 2, 5))],
        OptionKind::Flavor => vec![
            ("Flavor Name", pick_some(rng, &FLAVORS, 2, 4)),
            ("Size", pick_run(rng, &COUNTS, 1, 3)),
        ],
        OptionKind::Scent => vec![
            ("Scent", pick_some(rng, &SCENTS, 2, 4)),
            ("Size", pick_run(rng, &VOLUMES[3..], 1, 3)),
        ],
        OptionKind::Volume if department == "furniture" => {
            vec![("Size", pick_run(rng, &INCHES, 2, 4))]
        }
        OptionKind::Volume => vec![("Size", pick_run(rng, &VOLUMES, 2, 3))],
        OptionKind::Capacity => vec![
            ("Capacity", pick_run(rng, &CAPACITIES, 2, 4)),
            ("Color", pick_some(rng, &COLORS, 1, 2)),
        ],
        OptionKind::Bedding => vec![
            ("Size", pick_run(rng, &BED_SIZES, 2, 4)),
            ("Color", pick_some(rng, &COLORS, 2, 4)),
        ],
        OptionKind::Pack => vec![("Size", pick_run(rng, &PACKS, 2, 4))],
        OptionKind::None => Vec::new(),
    };
    for (_, values) in &mut options {
        values.retain(|v| option_value_is_matchable(v));
    }
    options.retain(|(_, values)| !values.is_empty());
    options
}

fn title_case(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn price_string(rng: &mut ChaCha8Rng, band: (f64, f64)) -> String {
    let cents = [0.99, 0.49, 0.0, 0.95];
    let whole = rng.random_range(band.0 as u32..=band.1 as u32);
    let lo = f64::from(whole) + *cents.choose(rng).unwrap_or(&0.99);
    if rng.random_bool(0.4) {
        let factor = rng.random_range(1.1..1.6);
        let hi = (lo * factor).floor() + 0.99;
        format!("${lo:.2} - ${hi:.2}")
    } else {
        format!("${lo:.2}")
    }
}

fn join_attributes(attrs: &[&str]) -> String {
    match attrs {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Generates `num_products` products deterministically from `seed`.
pub fn generate(num_products: usize, seed: u64) -> SynthCatalogue {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let types = product_types();
    let mut products = Vec::with_capacity(num_products);
    let mut attributes = HashMap::with_capacity(num_products);
    let mut nouns = NounTable::new();
    let mut asins = HashSet::with_capacity(num_products);
    let alphabet: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".chars().collect();
    let mut order: Vec<usize> = (0..types.len()).collect();
    for i in 0..num_products {
        if i % types.len() == 0 {
            order.shuffle(&mut rng);
        }
        let (ty, garment) = types[order[i % types.len()]];
        let asin = loop {
            let tail: String = (0..8)
                .map(|_| *alphabet.choose(&mut rng).unwrap_or(&'X'))
                .collect();
            let asin = format!("B0{tail}");
            if asins.insert(asin.clone()) {
                break asin;
            }
        };
        let mut specific: Vec<&str> = ty.attributes.split(';').collect();
        let (noun, query, path, audience_word) = match garment {
            Some(index) => {
                let (title_prefix, path_part, query_prefix) = AUDIENCES[index % AUDIENCES.len()];
                let noun = specific.remove(0);
                (
                    format!("{title_prefix} {noun}"),
                    format!("{query_prefix} {}", ty.query),
                    format!("{path_part} › {}", ty.path),
                    Some(query_prefix.trim_end_matches("'s").to_owned()),
                )
            }
            None => (
                ty.noun.to_owned(),
                ty.query.to_owned(),
                ty.path.to_owned(),
                None,
            ),
        };
        let department = ty.department;
        let generic = generic_attributes(department);
        let mut product_attrs: Vec<&str> = specific.clone();
        product_attrs.extend(pick_some(&mut rng, generic, 1, 2));
        product_attrs.shuffle(&mut rng);
        let n_instr = rng.random_range(1..=3usize.min(product_attrs.len()));
        let instr_attrs: Vec<&str> = product_attrs
            .choose_multiple(&mut rng, n_instr)
            .copied()
            .collect();

        let style = *styles(department).choose(&mut rng).unwrap_or(&"Classic");
        let feature = product_attrs[0];
        let title = match rng.random_range(0..3) {
            0 => format!("{style} {noun} with {}", title_case(feature)),
            1 => format!("{style} {noun}, {}", title_case(feature)),
            _ => format!("{noun} - {style} {}", title_case(feature)),
        };
        let mut title_nouns: Vec<String> = noun
            .split([' ', '-'])
            .map(|w| {
                w.trim_end_matches("'s")
                    .trim_end_matches('\'')
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty() && w != "men" && w != "women" && w != "kids")
            .collect();
        if let Some(word) = audience_word {
            title_nouns.insert(0, word);
        }
        nouns.insert(title.clone(), title_nouns);

        let usage = *uses(department).choose(&mut rng).unwrap_or(&"everyday use");
        let description = format!(
            "This {} is made for {usage}. It offers {}, and it is built to last.",
            noun.to_lowercase(),
            join_attributes(&product_attrs[..product_attrs.len().min(3)])
        );
        let mut bullets: Vec<String> = product_attrs
            .iter()
            .map(|a| format!("{} for {usage}", capitalize(a)))
            .collect();
        bullets.push(format!(
            "Satisfaction guaranteed: {} from a trusted shop",
            noun.to_lowercase()
        ));

        let options = options_for(&mut rng, ty.options, department);
        let customization_options = OrderedMap(
            options
                .into_iter()
                .map(|(name, values)| {
                    (
                        name.to_owned(),
                        Some(
                            values
                                .into_iter()
                                .map(|v| RawOptionValue {
                                    value: v.to_owned(),
                                    image: None,
                                })
                                .collect(),
                        ),
                    )
                })
                .collect(),
        );

        let instruction = match rng.random_range(0..4) {
            0 => format!("Find me {query} with {}", join_attributes(&instr_attrs)),
            1 => format!(
                "i am looking for {query} that are {}",
                join_attributes(&instr_attrs)
            ),
            2 => format!("i need {} {query}", join_attributes(&instr_attrs)),
            _ => format!(
                "i want to buy {query} with {}",
                join_attributes(&instr_attrs)
            ),
        };
        let root = department_root(department);
        products.push(RawProduct {
            asin: asin.clone(),
            name: title,
            full_description: description,
            small_description: Bullets::List(bullets),
            pricing: Some(price_string(&mut rng, ty.price)),
            images: vec![format!("https://images.invalid/synthetic/{asin}.jpg")],
            customization_options: Some(customization_options),
            category: department.to_owned(),
            query,
            product_category: format!("{root} › {path}"),
        });
        attributes.insert(
            asin,
            ItemAttributes {
                attributes: Some(product_attrs.iter().map(|a| (*a).to_owned()).collect()),
                instruction: Some(instruction),
                instruction_attributes: Some(instr_attrs.iter().map(|a| (*a).to_owned()).collect()),
            },
        );
    }
    SynthCatalogue {
        products,
        attributes,
        nouns,
    }
}
