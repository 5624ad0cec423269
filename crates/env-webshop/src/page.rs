//! The text pages (AgentGym's simple `[SEP]` mode) and their clickables.
//!
//! The reference renders HTML and extracts visible text with BeautifulSoup; we render the text
//! nodes directly, applying the same rules to every node that carries catalogue data
//! ([`node`]): an empty value gives no node, an ASCII-whitespace value gives nothing when it holds
//! a newline and an empty entry otherwise, and anything else is `str.strip()`ped.

use crate::goal::Goal;
use crate::product::{OrderedMap, Product};
use crate::py;

/// The separator between text nodes.
pub const SEP: &str = " [SEP] ";

/// The page kinds, as the reference's URL names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PageKind {
    /// The start page with the search bar.
    Search,
    /// A page of search results.
    Results,
    /// A product page.
    Item,
    /// A product's description.
    Description,
    /// A product's bullet points.
    Features,
    /// A product's reviews (always empty here).
    Reviews,
    /// The purchase confirmation with the score.
    Done,
}

impl PageKind {
    /// The fixtures' `page_type` name.
    pub fn name(self) -> &'static str {
        match self {
            PageKind::Search => "search",
            PageKind::Results => "results",
            PageKind::Item => "item",
            PageKind::Description => "description",
            PageKind::Features => "features",
            PageKind::Reviews => "reviews",
            PageKind::Done => "done",
        }
    }
}

/// The visible-text rule for one data-carrying node (`None`: no entry).
pub fn node(text: &str) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    if text
        .chars()
        .all(|c| matches!(c, ' ' | '\n' | '\t' | '\u{c}' | '\r'))
    {
        return if text.contains('\n') {
            None
        } else {
            Some(String::new())
        };
    }
    Some(py::strip(text).to_owned())
}

/// A bullet sits in the template with whitespace (no newline) around it, so an empty bullet
/// still gives an (empty) entry.
fn bullet_node(text: &str) -> Option<String> {
    node(&format!(" {text} "))
}

/// Collects entries and joins them.
#[derive(Default)]
struct Entries(Vec<String>);

impl Entries {
    fn fixed(&mut self, text: &str) {
        self.0.push(text.to_owned());
    }
    fn data(&mut self, entry: Option<String>) {
        if let Some(entry) = entry {
            self.0.push(entry);
        }
    }
    fn instruction(&mut self, instruction: &str) {
        self.fixed("Instruction:");
        self.data(node(instruction));
    }
    fn join(self) -> String {
        self.0.join(SEP)
    }
}

/// `WebShop [SEP] Instruction: [SEP] {instr} [SEP] Search`.
pub fn search_page(instruction: &str) -> String {
    let mut e = Entries::default();
    e.fixed("WebShop");
    e.instruction(instruction);
    e.fixed("Search");
    e.join()
}

/// A results page showing `shown` (page `page`, `total` known hits).
pub fn results_page(instruction: &str, page: usize, total: usize, shown: &[&Product]) -> String {
    let mut e = Entries::default();
    e.instruction(instruction);
    e.fixed("Back to Search");
    e.fixed(&format!("Page {page} (Total results: {total})"));
    if page > 1 {
        e.fixed("< Prev");
    }
    e.fixed("Next >");
    for product in shown {
        e.data(node(&product.asin));
        e.data(node(&product.title));
        e.data(node(&product.price_tag));
    }
    e.join()
}

/// Clickables of a results page.
pub fn results_clickables(page: usize, shown: &[&Product]) -> Vec<String> {
    let mut keys = vec!["back to search".to_owned()];
    if page > 1 {
        keys.push("< prev".to_owned());
    }
    keys.push("next >".to_owned());
    for product in shown {
        push_unique(&mut keys, product.asin.to_lowercase());
    }
    keys
}

/// A product page (the selection is not shown).
pub fn item_page(instruction: &str, product: &Product) -> String {
    let mut e = Entries::default();
    e.instruction(instruction);
    e.fixed("Back to Search");
    e.fixed("< Prev");
    for (name, values) in &product.options.0 {
        e.data(node(name));
        for value in values {
            e.data(node(value));
        }
    }
    e.data(node(&product.title));
    e.data(node(&format!("Price: {}", product.price_tag)));
    e.data(node(&format!("Rating: {}", product.rating)));
    for button in ["Description", "Features", "Reviews", "Buy Now"] {
        e.fixed(button);
    }
    e.join()
}

/// The buttons of a product page, in page order.
pub const ITEM_BUTTONS: [&str; 6] = [
    "back to search",
    "< prev",
    "description",
    "features",
    "reviews",
    "buy now",
];

/// Clickables of a product page: the buttons, then every option value once.
pub fn item_clickables(product: &Product) -> Vec<String> {
    let mut keys: Vec<String> = ITEM_BUTTONS.iter().map(|b| (*b).to_owned()).collect();
    for (_, values) in &product.options.0 {
        for value in values {
            push_unique(&mut keys, value.clone());
        }
    }
    keys
}

/// A description, features or reviews page.
pub fn sub_page(instruction: &str, kind: PageKind, product: &Product) -> String {
    let mut e = Entries::default();
    e.instruction(instruction);
    e.fixed("Back to Search");
    e.fixed("< Prev");
    match kind {
        PageKind::Description => e.data(node(&product.description)),
        PageKind::Features => {
            for bullet in &product.bullet_points {
                e.data(bullet_node(bullet));
            }
        }
        _ => {}
    }
    e.join()
}

/// Clickables of a sub-page.
pub fn sub_clickables() -> Vec<String> {
    vec!["back to search".to_owned(), "< prev".to_owned()]
}

/// The done page after buying `asin` with `options` for `reward`.
pub fn done_page(asin: &str, options: &OrderedMap<String>, reward: f64) -> String {
    let mut e = Entries::default();
    for text in [
        "Thank you for shopping with us!",
        "Your code:",
        "None",
        "(Paste it in your MTurk interface.)",
        "Purchased",
        "asin",
    ] {
        e.fixed(text);
    }
    e.data(node(asin));
    e.fixed("options");
    e.data(node(&py::flask_tojson(&options.0)));
    for text in [
        "attrs",
        "None",
        "category",
        "None",
        "query",
        "None",
        "product category",
        "None",
        "Target",
        "asin",
        "options",
        "attrs",
        "price upper",
        "instuction text",
        "category",
        "product category",
        "query",
        "Goal",
        "None",
        "Reward",
        "Your score (min 0.0, max 1.0)",
    ] {
        e.fixed(text);
    }
    e.fixed(&py::float_repr(reward));
    e.fixed("Reward Details");
    e.fixed("None");
    e.join()
}

fn push_unique(keys: &mut Vec<String>, key: String) {
    if !keys.contains(&key) {
        keys.push(key);
    }
}

/// The first observation of a goal.
pub fn first_page(goal: &Goal) -> String {
    search_page(&goal.instruction_text)
}
