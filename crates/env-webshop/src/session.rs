//! One shopping session: the reference's `WebAgentTextEnv` + `SimServer` + `SimBrowser` state
//! machine, driven by action strings (`search[...]`, `click[...]`).
//!
//! Reproduced quirks: the action regex is `(.+)\[(.+)\]` matched at the start only (greedy, no
//! newlines), so `search[a] and click[b]` is invalid and text after a newline is ignored; the
//! argument is lower-cased; `search` works on every page, even after the purchase; which `< prev`
//! / `next >` branch runs depends on the current *URL* (which contains the keywords); a page
//! number past the end shows an empty page that still offers `Next >`.

use std::sync::LazyLock;

use rand::SeedableRng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use regex::Regex;

use crate::catalogue::Catalogue;
use crate::goal::Goal;
use crate::page::{self, PageKind};
use crate::product::{OrderedMap, Product};
use crate::py;
use crate::reward::{RewardInfo, RewardProduct, reward};
use crate::search::SEARCH_RETURN_N;

/// Results per page (`PRODUCT_WINDOW`).
pub const PRODUCT_WINDOW: usize = 10;

const BASE_URL: &str = "http://127.0.0.1:3000";

static ACTION: LazyLock<Regex> = LazyLock::new(|| {
    // `re.match(r'(.+)\[(.+)\]', action)`: anchored at the start only; `.` excludes `\n`.
    Regex::new(r"^(.+)\[(.+)\]").unwrap_or_else(|error| panic!("action regex: {error}"))
});

/// The search backend: the ordered hit ids for a query (the reference's `LuceneSearcher`).
pub trait Searcher {
    /// Up to `k` ids, best first.
    fn search(&self, query: &str, k: usize) -> Vec<String>;
}

impl Searcher for crate::search::Bm25Index {
    fn search(&self, query: &str, k: usize) -> Vec<String> {
        crate::search::Bm25Index::search(self, query, k)
            .into_iter()
            .map(|hit| hit.id)
            .collect()
    }
}

/// What one action did.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The page text after the action.
    pub observation: String,
    /// 0 except on a purchase.
    pub reward: f64,
    /// True on a purchase.
    pub done: bool,
    /// False when the action was not accepted (same page, no change).
    pub valid: bool,
    /// The reward details of a purchase.
    pub reward_info: Option<RewardInfo>,
}

/// Splits an action like the reference: `(name, lower-cased argument)`.
pub fn parse_action(action: &str) -> (String, Option<String>) {
    match ACTION.captures(action) {
        Some(caps) => (caps[1].to_owned(), Some(caps[2].to_lowercase())),
        None => (action.to_owned(), None),
    }
}

/// The state of one session.
#[derive(Clone, Debug)]
pub struct Session {
    goal: Goal,
    session_id: String,
    keywords: Option<Vec<String>>,
    page: Option<usize>,
    asin: Option<String>,
    options: OrderedMap<String>,
    url: String,
    kind: PageKind,
    /// The known products of the current search, in hit order.
    results: Vec<String>,
    /// The last purchase: `(asin, options, reward)`.
    purchase: Option<(String, OrderedMap<String>, f64)>,
    rng: ChaCha8Rng,
}

impl Session {
    /// A session on the search page for `goal`; `session_id` is the task id (it appears in the
    /// reference's URLs and seeds the `<r>` random search).
    pub fn new(goal: Goal, session_id: usize) -> Self {
        Self {
            goal,
            session_id: session_id.to_string(),
            keywords: None,
            page: None,
            asin: None,
            options: OrderedMap::default(),
            url: format!("{BASE_URL}/{session_id}"),
            kind: PageKind::Search,
            results: Vec::new(),
            purchase: None,
            rng: ChaCha8Rng::seed_from_u64(session_id as u64),
        }
    }

    /// The session's goal.
    pub fn goal(&self) -> &Goal {
        &self.goal
    }

    /// The current page kind.
    pub fn kind(&self) -> PageKind {
        self.kind
    }

    /// The selected options, in click order.
    pub fn options(&self) -> &OrderedMap<String> {
        &self.options
    }

    /// The product being viewed.
    pub fn asin(&self) -> Option<&str> {
        self.asin.as_deref()
    }

    /// The current results page number.
    pub fn page(&self) -> Option<usize> {
        self.page
    }

    /// The search keywords in effect.
    pub fn keywords(&self) -> Option<&[String]> {
        self.keywords.as_deref()
    }

    fn product<'c>(&self, catalogue: &'c Catalogue) -> Option<&'c Product> {
        self.asin
            .as_deref()
            .and_then(|asin| catalogue.product(asin))
    }

    fn shown<'c>(&self, catalogue: &'c Catalogue) -> Vec<&'c Product> {
        let page = self.page.unwrap_or(1);
        if page == 0 {
            // Python's `top[-10:0]` is empty.
            return Vec::new();
        }
        self.results
            .iter()
            .skip((page - 1) * PRODUCT_WINDOW)
            .take(PRODUCT_WINDOW)
            .filter_map(|asin| catalogue.product(asin))
            .collect()
    }

    /// The current page's text.
    pub fn observation(&self, catalogue: &Catalogue) -> String {
        let instruction = &self.goal.instruction_text;
        match self.kind {
            PageKind::Search => page::search_page(instruction),
            PageKind::Results => page::results_page(
                instruction,
                self.page.unwrap_or(1),
                self.results.len(),
                &self.shown(catalogue),
            ),
            PageKind::Item => match self.product(catalogue) {
                Some(product) => page::item_page(instruction, product),
                None => page::search_page(instruction),
            },
            PageKind::Description | PageKind::Features | PageKind::Reviews => {
                match self.product(catalogue) {
                    Some(product) => page::sub_page(instruction, self.kind, product),
                    None => page::search_page(instruction),
                }
            }
            PageKind::Done => match &self.purchase {
                Some((asin, options, reward)) => page::done_page(asin, options, *reward),
                None => page::search_page(instruction),
            },
        }
    }

    /// `get_available_actions()`: whether the page has the search bar, and its clickables.
    pub fn available_actions(&self, catalogue: &Catalogue) -> (bool, Vec<String>) {
        match self.kind {
            PageKind::Search => (true, vec!["search".to_owned()]),
            PageKind::Results => (
                false,
                page::results_clickables(self.page.unwrap_or(1), &self.shown(catalogue)),
            ),
            PageKind::Item => (
                false,
                self.product(catalogue)
                    .map(page::item_clickables)
                    .unwrap_or_default(),
            ),
            PageKind::Description | PageKind::Features | PageKind::Reviews => {
                (false, page::sub_clickables())
            }
            PageKind::Done => (false, Vec::new()),
        }
    }

    /// `get_page_name(current_url)`.
    fn page_name(&self) -> &'static str {
        ["search_results", "item_page", "item_sub_page", "done"]
            .into_iter()
            .find(|name| self.url.contains(name))
            .unwrap_or("")
    }

    fn keywords_url(&self) -> String {
        self.keywords.as_deref().unwrap_or_default().join("+")
    }

    fn options_url(&self) -> String {
        py::flask_tojson(&self.options.0)
    }

    /// Applies one action string (already extracted from the reply).
    pub fn step(
        &mut self,
        action: &str,
        catalogue: &Catalogue,
        searcher: &dyn Searcher,
    ) -> Outcome {
        let (name, arg) = parse_action(action);
        let mut outcome = Outcome {
            observation: String::new(),
            reward: 0.0,
            done: false,
            valid: true,
            reward_info: None,
        };
        match arg {
            Some(arg) if name == "search" => {
                let keywords = arg.split(' ').map(str::to_owned).collect();
                self.search_results(keywords, 1, catalogue, searcher);
            }
            Some(arg) if name == "click" && arg != "search" => {
                let (_, clickables) = self.available_actions(catalogue);
                if clickables.contains(&arg) {
                    if !self.click(&arg, catalogue, searcher, &mut outcome) {
                        outcome.valid = false;
                    }
                } else {
                    outcome.valid = false;
                }
            }
            _ => outcome.valid = false,
        }
        outcome.observation = self.observation(catalogue);
        outcome
    }

    /// The reference's `receive` for a click; false when the reference would fail (no change).
    fn click(
        &mut self,
        name: &str,
        catalogue: &Catalogue,
        searcher: &dyn Searcher,
        outcome: &mut Outcome,
    ) -> bool {
        let page_name = self.page_name();
        match name {
            "buy now" => return self.buy(catalogue, outcome),
            "back to search" => {
                self.keywords = None;
                self.page = None;
                self.asin = None;
                self.options = OrderedMap::default();
                self.url = format!("{BASE_URL}/{}", self.session_id);
                self.kind = PageKind::Search;
            }
            "next >" if page_name == "search_results" => {
                let keywords = self.keywords.clone().unwrap_or_default();
                let page = self.page.unwrap_or(1) + 1;
                self.search_results(keywords, page, catalogue, searcher);
            }
            "< prev" if page_name == "search_results" => {
                let keywords = self.keywords.clone().unwrap_or_default();
                let page = self.page.unwrap_or(1).saturating_sub(1);
                self.search_results(keywords, page, catalogue, searcher);
            }
            "< prev" if page_name == "item_sub_page" => return self.item_page(catalogue),
            "< prev" if page_name == "item_page" => {
                let keywords = self.keywords.clone().unwrap_or_default();
                let page = self.page.unwrap_or(1);
                self.search_results(keywords, page, catalogue, searcher);
            }
            "description" | "features" | "reviews" => {
                if self.product(catalogue).is_none() {
                    return false;
                }
                let (kind, label) = match name {
                    "description" => (PageKind::Description, "Description"),
                    "features" => (PageKind::Features, "Features"),
                    _ => (PageKind::Reviews, "Reviews"),
                };
                self.url = self.item_url("item_sub_page", &format!("/{label}"));
                self.kind = kind;
            }
            _ => {
                match self.kind {
                    PageKind::Results => {
                        let asin = name.to_uppercase();
                        if catalogue.product(&asin).is_none() {
                            return false;
                        }
                        self.asin = Some(asin);
                    }
                    PageKind::Item => {
                        // A radio button: the last option (in page order) offering this value.
                        let Some(product) = self.product(catalogue) else {
                            return false;
                        };
                        let option = product
                            .options
                            .0
                            .iter()
                            .rev()
                            .find(|(_, values)| values.iter().any(|v| v == name))
                            .map(|(option, _)| option.to_lowercase());
                        if let Some(option) = option {
                            self.options.insert(option, name.to_owned());
                        }
                    }
                    _ => {}
                }
                return self.item_page(catalogue);
            }
        }
        true
    }

    /// The URL of the current item's `route` page (`item_page`, `item_sub_page`), with `sub`
    /// (`""` or `"/<label>"`) before the options.
    fn item_url(&self, route: &str, sub: &str) -> String {
        format!(
            "{BASE_URL}/{route}/{}/{}/{}/{}{sub}/{}",
            self.session_id,
            self.asin.as_deref().unwrap_or_default(),
            self.keywords_url(),
            self.page.unwrap_or(1),
            self.options_url()
        )
    }

    fn item_page(&mut self, catalogue: &Catalogue) -> bool {
        if self.product(catalogue).is_none() {
            // The reference raises a KeyError here; we keep the page unchanged.
            return false;
        }
        self.url = self.item_url("item_page", "");
        self.kind = PageKind::Item;
        true
    }

    fn buy(&mut self, catalogue: &Catalogue, outcome: &mut Outcome) -> bool {
        let Some(product) = self.product(catalogue) else {
            return false;
        };
        let price = catalogue.price(&product.asin);
        let info = reward(
            &RewardProduct::from(product),
            &self.goal,
            price,
            &self.options.0,
            &catalogue.nouns(&product.title),
            &catalogue.nouns(&self.goal.name),
        );
        outcome.reward = info.reward;
        outcome.done = true;
        self.purchase = Some((product.asin.clone(), self.options.clone(), info.reward));
        outcome.reward_info = Some(info);
        self.url = format!(
            "{BASE_URL}/done/{}/{}/{}",
            self.session_id,
            product.asin,
            self.options_url()
        );
        self.kind = PageKind::Done;
        true
    }

    /// `search_results`: runs the search, resets the product and options.
    fn search_results(
        &mut self,
        keywords: Vec<String>,
        page: usize,
        catalogue: &Catalogue,
        searcher: &dyn Searcher,
    ) {
        self.results = self.top_products(&keywords, catalogue, searcher);
        self.url = format!(
            "{BASE_URL}/search_results/{}/{}/{page}",
            self.session_id,
            keywords.join("+")
        );
        self.keywords = Some(keywords);
        self.page = Some(page);
        self.asin = None;
        self.options = OrderedMap::default();
        self.kind = PageKind::Results;
    }

    /// `get_top_n_product_from_keywords`, including the `<r>`, `<a>`, `<c>`, `<q>` modes.
    fn top_products(
        &mut self,
        keywords: &[String],
        catalogue: &Catalogue,
        searcher: &dyn Searcher,
    ) -> Vec<String> {
        let rest = || py::strip(&keywords[1..].join(" ")).to_owned();
        let all = catalogue.products();
        let select = |keep: &dyn Fn(&Product) -> bool| -> Vec<String> {
            all.iter()
                .filter(|p| keep(p))
                .map(|p| p.asin.clone())
                .collect()
        };
        match keywords.first().map(String::as_str) {
            // Random products; the reference draws from the global (time-seeded) `random`,
            // we draw from the session's seeded generator.
            Some("<r>") => all
                .choose_multiple(&mut self.rng, SEARCH_RETURN_N.min(all.len()))
                .map(|p| p.asin.clone())
                .collect(),
            // The reference crashes here (it passes no attribute table); we use the attributes.
            Some("<a>") => {
                let attribute = rest();
                select(&|p| p.attributes.contains(&attribute))
            }
            Some("<c>") => {
                let category = keywords.get(1).map(|c| py::strip(c).to_owned());
                select(&|p| Some(&p.category) == category.as_ref())
            }
            Some("<q>") => {
                let query = rest();
                select(&|p| p.query == query)
            }
            _ => searcher
                .search(&keywords.join(" "), SEARCH_RETURN_N)
                .into_iter()
                .filter(|asin| catalogue.product(asin).is_some())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_action;

    #[test]
    fn action_regex_like_python() {
        assert_eq!(
            parse_action("search[Red Shoes]"),
            ("search".into(), Some("red shoes".into()))
        );
        assert_eq!(
            parse_action("search[a] and click[b]"),
            ("search[a] and click".into(), Some("b".into()))
        );
        assert_eq!(
            parse_action("search[foo]\nThought: x]"),
            ("search".into(), Some("foo".into()))
        );
        assert_eq!(parse_action("search[]").1, None);
        assert_eq!(parse_action("nonsense").1, None);
    }
}
