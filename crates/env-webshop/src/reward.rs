//! The reference reward (`goal.get_reward`): type factor × (attributes + options + price) share.
//!
//! Quirks kept on purpose (they change scores and the paper's numbers depend on them):
//! - goal options are `(name, value)` **tuples**; `normalize_color` on a tuple tests element
//!   equality, so `('color', 'red')` becomes `red` but `('color', 'navy blue')` stays a tuple and
//!   is fuzzy-matched as its Python `str()`;
//! - only the purchased side is substring-normalised (`light wash` → `ash`), so buying exactly
//!   the goal's options can miss;
//! - the title-noun score divides by the goal's noun **list** length (duplicates count);
//! - the attribute fallback searches the lower-cased Title/Bullets/Description for the goal
//!   attribute as written (not lower-cased).

use serde::Serialize;

use crate::fuzz::{FuzzInput, token_set_ratio};
use crate::goal::Goal;
use crate::product::Product;

/// WebShop's `COLOR_SET` (102 entries), in its order: the first one that is a substring wins.
pub const COLOR_SET: [&str; 102] = [
    "alabaster",
    "apricot",
    "aqua",
    "ash",
    "asphalt",
    "azure",
    "banana",
    "beige",
    "black",
    "blue",
    "blush",
    "bordeaux",
    "bronze",
    "brown",
    "burgundy",
    "camel",
    "camo",
    "caramel",
    "champagne",
    "charcoal",
    "cheetah",
    "chestnut",
    "chocolate",
    "christmas",
    "coffee",
    "cognac",
    "copper",
    "coral",
    "cranberry",
    "cream",
    "crystal",
    "dark",
    "denim",
    "eggplant",
    "elephant",
    "espresso",
    "fuchsia",
    "gold",
    "granite",
    "grape",
    "graphite",
    "grass",
    "gray",
    "green",
    "grey",
    "heather",
    "indigo",
    "ivory",
    "ivy",
    "khaki",
    "lavender",
    "lemon",
    "leopard",
    "light",
    "lilac",
    "lime",
    "magenta",
    "maroon",
    "mauve",
    "merlot",
    "midnight",
    "mint",
    "mocha",
    "multicolor",
    "mushroom",
    "mustard",
    "natural",
    "navy",
    "nude",
    "olive",
    "orange",
    "peach",
    "pewter",
    "pink",
    "plum",
    "purple",
    "rainbow",
    "red",
    "rose",
    "royal",
    "rust",
    "sand",
    "sapphire",
    "seashell",
    "silver",
    "skull",
    "slate",
    "steel",
    "stone",
    "stonewash",
    "sunflower",
    "tan",
    "taupe",
    "teal",
    "tiger",
    "turquoise",
    "violet",
    "walnut",
    "wheat",
    "white",
    "wine",
    "yellow",
];

/// `normalize_color` of a purchased value: the first colour that is a substring, else the value.
pub fn normalize_color(value: &str) -> String {
    COLOR_SET
        .iter()
        .find(|color| value.contains(*color))
        .map_or_else(|| value.to_owned(), |color| (*color).to_owned())
}

/// `normalize_color` of a goal option tuple: a colour equal to the name or the value, else the
/// tuple itself.
pub fn normalize_goal_option(name: &str, value: &str) -> FuzzInput {
    match COLOR_SET
        .iter()
        .find(|color| **color == name || **color == value)
    {
        Some(color) => FuzzInput::Str((*color).to_owned()),
        None => FuzzInput::Tuple(vec![name.to_owned(), value.to_owned()]),
    }
}

/// The product fields the reward reads.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RewardProduct<'a> {
    /// Title (`name`).
    pub title: &'a str,
    /// Query.
    pub query: &'a str,
    /// Category path.
    pub product_category: &'a str,
    /// Attributes.
    pub attributes: &'a [String],
    /// Bullets.
    pub bullet_points: &'a [String],
    /// Description.
    pub description: &'a str,
}

impl<'a> From<&'a Product> for RewardProduct<'a> {
    fn from(product: &'a Product) -> Self {
        Self {
            title: &product.title,
            query: &product.query,
            product_category: &product.product_category,
            attributes: &product.attributes,
            bullet_points: &product.bullet_points,
            description: &product.description,
        }
    }
}

/// The verbose reward dict of the reference.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RewardInfo {
    /// The total reward.
    pub reward: f64,
    /// Type factor: 1.0, 0.5, 0.1 or 0.0.
    pub r_type: f64,
    /// Share of goal attributes matched.
    pub r_att: f64,
    /// Weight of attributes.
    pub w_att: f64,
    /// Query equality.
    pub query_match: bool,
    /// At least two category path parts in common.
    pub category_match: bool,
    /// Share of goal title nouns found in the purchased title nouns.
    pub title_score: f64,
    /// Share of goal options matched (absent when the goal has none).
    pub r_option: Option<f64>,
    /// Weight of options (absent when the goal has none).
    pub w_option: Option<f64>,
    /// Whether the price is within the bound.
    pub r_price: bool,
    /// Weight of the price.
    pub w_price: f64,
    /// Number of attributes matched.
    pub num_attr_matches: usize,
    /// Number of goal options matched.
    pub num_option_matches: usize,
}

/// `get_type_reward`: `(r_type, query_match, category_match, title_score)`.
fn type_reward(
    purchased: &RewardProduct<'_>,
    goal: &Goal,
    purchased_nouns: &[String],
    goal_nouns: &[String],
) -> (f64, bool, bool, f64) {
    let query_match = purchased.query == goal.query;
    let parts = |path: &str| -> std::collections::HashSet<String> {
        path.split('›')
            .map(|part| crate::py::strip(part).to_owned())
            .collect()
    };
    let category_match = parts(purchased.product_category)
        .intersection(&parts(&goal.product_category))
        .count()
        >= 2;
    let purchased_set: std::collections::HashSet<&String> = purchased_nouns.iter().collect();
    let goal_set: std::collections::HashSet<&String> = goal_nouns.iter().collect();
    let title_score = if goal_nouns.is_empty() {
        0.2
    } else {
        purchased_set.intersection(&goal_set).count() as f64 / goal_nouns.len() as f64
    };
    let mut r_type = 1.0;
    if !(query_match || category_match || title_score > 0.2) {
        r_type = 0.5;
    }
    if title_score < 0.1 {
        r_type = 0.1;
    }
    if title_score == 0.0 {
        r_type = 0.0;
    }
    (r_type, query_match, category_match, title_score)
}

/// `get_attribute_reward`'s match count.
fn attribute_matches(purchased: &RewardProduct<'_>, goal: &Goal) -> usize {
    let title = purchased.title.to_lowercase();
    let bullets = purchased.bullet_points.join(" ").to_lowercase();
    let description = purchased.description.to_lowercase();
    goal.attributes
        .iter()
        .filter(|g_attr| {
            let g = FuzzInput::Str((*g_attr).clone());
            purchased
                .attributes
                .iter()
                .any(|p_attr| token_set_ratio(&FuzzInput::Str(p_attr.clone()), &g) > 85)
                || title.contains(g_attr.as_str())
                || bullets.contains(g_attr.as_str())
                || description.contains(g_attr.as_str())
        })
        .count()
}

/// `get_option_reward`'s match count: goal options (normalised tuples) against the purchased
/// values (substring-normalised).
fn option_matches(goal: &Goal, options: &[(String, String)]) -> usize {
    let purchased: Vec<FuzzInput> = options
        .iter()
        .map(|(_, value)| FuzzInput::Str(normalize_color(value)))
        .collect();
    goal.goal_options
        .0
        .iter()
        .filter(|(name, value)| {
            let g = normalize_goal_option(name, value);
            purchased.iter().any(|p| token_set_ratio(p, &g) > 85)
        })
        .count()
}

/// `get_reward(purchased, goal, price, options, verbose=True)`.
///
/// `options` is the session's selection in click order; the noun lists stand in for spaCy's
/// NOUN/PROPN tokens of the two titles (lower-cased, duplicates kept).
pub fn reward(
    purchased: &RewardProduct<'_>,
    goal: &Goal,
    price: f64,
    options: &[(String, String)],
    purchased_nouns: &[String],
    goal_nouns: &[String],
) -> RewardInfo {
    let (r_type, query_match, category_match, title_score) =
        type_reward(purchased, goal, purchased_nouns, goal_nouns);
    let r_price = price <= goal.price_upper;
    let num_attr_matches = attribute_matches(purchased, goal);
    let num_option_matches = option_matches(goal, options);
    let n_att = goal.attributes.len();
    let n_opt = goal.goal_options.len();
    let denominator = (n_att + n_opt + 1) as f64;
    let total = (num_attr_matches + num_option_matches + usize::from(r_price)) as f64 / denominator;
    RewardInfo {
        reward: total * r_type,
        r_type,
        r_att: num_attr_matches as f64 / n_att as f64,
        w_att: n_att as f64 / denominator,
        query_match,
        category_match,
        title_score,
        r_option: (n_opt > 0).then(|| num_option_matches as f64 / n_opt as f64),
        w_option: (n_opt > 0).then(|| n_opt as f64 / denominator),
        r_price,
        w_price: 1.0 / denominator,
        num_attr_matches,
        num_option_matches,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_normalisation() {
        assert_eq!(normalize_color("light wash"), "ash");
        assert_eq!(normalize_color("standard black"), "black");
        assert_eq!(normalize_color("36"), "36");
        assert_eq!(
            normalize_goal_option("color", "red"),
            FuzzInput::Str("red".into())
        );
        assert_eq!(
            normalize_goal_option("color", "navy blue"),
            FuzzInput::Tuple(vec!["color".into(), "navy blue".into()])
        );
    }
}
