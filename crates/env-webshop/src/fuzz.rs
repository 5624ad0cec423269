//! `thefuzz` 0.19.0 (with python-Levenshtein 0.25.1) string similarity: `ratio` and
//! `token_set_ratio`, exactly as the reward uses them.
//!
//! Follows the fixtures' README rules: `full_process` deletes U+0080..U+00FF, maps every
//! non-word character (Python `str.isalnum()` or `_`) to one space, lower-cases with Python's
//! full mapping, strips; ratios are `round_half_even(100 * (1 - indel / lensum))` over code points.
//! thefuzz >= 0.20 (rapidfuzz) disagrees on underscores, `İ`, ties and punctuation-only strings.

use std::collections::BTreeSet;

use crate::py;

/// A value thefuzz is given: a string, or a Python tuple of strings (compared as its `str()`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FuzzInput {
    /// A `str`.
    Str(String),
    /// A `tuple` of `str`, e.g. a goal option `('color', 'navy blue')`.
    Tuple(Vec<String>),
}

impl FuzzInput {
    /// Python's `str()` of the value.
    pub fn python_str(&self) -> String {
        match self {
            FuzzInput::Str(s) => s.clone(),
            FuzzInput::Tuple(items) => {
                let items: Vec<&str> = items.iter().map(String::as_str).collect();
                py::tuple_repr(&items)
            }
        }
    }
}

impl From<&str> for FuzzInput {
    fn from(value: &str) -> Self {
        FuzzInput::Str(value.to_owned())
    }
}

/// `thefuzz.utils.full_process(s, force_ascii=True)`.
pub fn full_process(s: &str) -> String {
    let mut replaced = String::with_capacity(s.len());
    for c in s.chars() {
        if ('\u{80}'..='\u{ff}').contains(&c) {
            continue;
        }
        if py::is_alnum(c) || c == '_' {
            replaced.push(c);
        } else {
            replaced.push(' ');
        }
    }
    py::strip(&replaced.to_lowercase()).to_owned()
}

/// Length of the longest common subsequence over code points (bit-parallel, Hyyrö 2004).
fn lcs_len(a: &[char], b: &[char]) -> usize {
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    let words = a.len().div_ceil(64);
    let mut masks: std::collections::HashMap<char, Vec<u64>> = std::collections::HashMap::new();
    for (i, &c) in a.iter().enumerate() {
        masks.entry(c).or_insert_with(|| vec![0; words])[i / 64] |= 1u64 << (i % 64);
    }
    let mut s = vec![!0u64; words];
    for c in b {
        let Some(m) = masks.get(c) else { continue };
        let mut carry = 0u64;
        for w in 0..words {
            let u = s[w] & m[w];
            let (sum, c1) = s[w].overflowing_add(u);
            let (sum, c2) = sum.overflowing_add(carry);
            carry = u64::from(c1 || c2);
            s[w] = sum | (s[w] & !u);
        }
    }
    let mut zeros = 0usize;
    for (w, word) in s.iter().enumerate() {
        let bits = if w + 1 == words && !a.len().is_multiple_of(64) {
            a.len() % 64
        } else {
            64
        };
        let mask = if bits == 64 {
            !0u64
        } else {
            (1u64 << bits) - 1
        };
        zeros += (!word & mask).count_ones() as usize;
    }
    zeros
}

/// `Levenshtein.ratio(a, b)`: `1 - indel / (len(a) + len(b))` over code points.
pub fn levenshtein_ratio(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let lensum = a.len() + b.len();
    if lensum == 0 {
        return 1.0;
    }
    let distance = lensum - 2 * lcs_len(&a, &b);
    1.0 - distance as f64 / lensum as f64
}

/// `thefuzz.fuzz.ratio(a, b)` on raw strings: 100 when equal, 0 when either is empty.
pub fn ratio(a: &str, b: &str) -> u32 {
    if a == b {
        return 100;
    }
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    (100.0 * levenshtein_ratio(a, b)).round_ties_even() as u32
}

/// The intermediate values of [`token_set_ratio`], for diagnostics and conformance tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSetDetail {
    /// The two processed strings.
    pub processed: [String; 2],
    /// Sorted intersection, `c1` and `c2`.
    pub sorted_sect: String,
    /// `sect + diff1`.
    pub combined_1to2: String,
    /// `sect + diff2`.
    pub combined_2to1: String,
    /// The three ratios whose maximum is the score (empty when short-circuited).
    pub pairwise: Vec<u32>,
    /// The score.
    pub score: u32,
}

/// `thefuzz.fuzz.token_set_ratio(s1, s2)` with its defaults, plus the intermediate values.
pub fn token_set_detail(s1: &FuzzInput, s2: &FuzzInput) -> TokenSetDetail {
    let p1 = full_process(&s1.python_str());
    let p2 = full_process(&s2.python_str());
    let mut detail = TokenSetDetail {
        processed: [p1.clone(), p2.clone()],
        sorted_sect: String::new(),
        combined_1to2: String::new(),
        combined_2to1: String::new(),
        pairwise: Vec::new(),
        score: 0,
    };
    if p1.is_empty() || p2.is_empty() {
        return detail;
    }
    let t1: BTreeSet<&str> = p1.split(py::is_space).filter(|t| !t.is_empty()).collect();
    let t2: BTreeSet<&str> = p2.split(py::is_space).filter(|t| !t.is_empty()).collect();
    let join = |set: Vec<&str>| set.join(" ");
    // BTreeSet<&str> orders by bytes, which for UTF-8 is code-point order, like Python's sort.
    let sect = join(t1.intersection(&t2).copied().collect());
    let diff1 = join(t1.difference(&t2).copied().collect());
    let diff2 = join(t2.difference(&t1).copied().collect());
    let c1 = py::strip(&format!("{sect} {diff1}")).to_owned();
    let c2 = py::strip(&format!("{sect} {diff2}")).to_owned();
    let pairwise = vec![ratio(&sect, &c1), ratio(&sect, &c2), ratio(&c1, &c2)];
    detail.score = pairwise.iter().copied().max().unwrap_or(0);
    detail.pairwise = pairwise;
    detail.sorted_sect = sect;
    detail.combined_1to2 = c1;
    detail.combined_2to1 = c2;
    detail
}

/// `thefuzz.fuzz.token_set_ratio(s1, s2)` (force_ascii, full_process).
pub fn token_set_ratio(s1: &FuzzInput, s2: &FuzzInput) -> u32 {
    token_set_detail(s1, s2).score
}

/// [`token_set_ratio`] of two strings.
pub fn token_set_ratio_str(s1: &str, s2: &str) -> u32 {
    token_set_ratio(&FuzzInput::from(s1), &FuzzInput::from(s2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lcs_is_right_across_words() {
        let a: Vec<char> = "ab".repeat(100).chars().collect();
        let b: Vec<char> = "b".repeat(150).chars().collect();
        assert_eq!(lcs_len(&a, &b), 100);
        let a: Vec<char> = "kitten".chars().collect();
        let b: Vec<char> = "sitting".chars().collect();
        assert_eq!(lcs_len(&a, &b), 4);
    }

    #[test]
    fn examples() {
        assert_eq!(token_set_ratio_str("wool blend", "hyaluronic acid"), 24);
        assert_eq!(ratio("!!!", "!!!"), 100);
        assert_eq!(token_set_ratio_str("!!!", "!!!"), 0);
        assert_eq!(full_process("DUMMY_ATTR"), "dummy_attr");
    }
}
