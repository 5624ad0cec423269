//! Exact-match scoring, as the reference's `normalize_answer` and `em_check` (Search-R1's
//! `qa_em.py`, run unmodified by AgentGym).
//!
//! Normalisation, in the reference's order: lower-case (Unicode, like Python's `str.lower`), drop
//! ASCII punctuation (Python's `string.punctuation`), replace the articles `a`, `an`, `the` by a
//! space where they stand as whole words (Python's Unicode `\b`), and collapse whitespace (Python's
//! `str.split`).

use std::sync::LazyLock;

use crossgym_env_core::py;
use regex::Regex;

/// Python's `\w` on `str` patterns: letters (`L*`), numbers (`N*`) and the underscore.
///
/// Rust's regex `\w` also counts combining marks, which would move word boundaries (`the\u{301}`
/// is the article `the` followed by a mark for Python), so the class is spelled out.
static PYTHON_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[\p{L}\p{N}_]$").unwrap_or_else(|error| unreachable!("valid regex: {error}"))
});

fn is_python_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    let mut buffer = [0u8; 4];
    PYTHON_WORD.is_match(c.encode_utf8(&mut buffer))
}

/// The reference's `normalize_answer`.
pub fn normalize_answer(text: &str) -> String {
    let lowered = text.to_lowercase();
    let without_punctuation: String = lowered
        .chars()
        .filter(|c| !c.is_ascii_punctuation())
        .collect();
    let without_articles = remove_articles(&without_punctuation);
    without_articles
        .split(py::is_space)
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `re.sub(r"\b(a|an|the)\b", " ", text)`: a maximal run of word characters that is exactly one
/// of the articles becomes a space.
fn remove_articles(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run_start: Option<usize> = None;
    let flush = |out: &mut String, run: &str| {
        if matches!(run, "a" | "an" | "the") {
            out.push(' ');
        } else {
            out.push_str(run);
        }
    };
    for (at, c) in text.char_indices() {
        if is_python_word_char(c) {
            run_start.get_or_insert(at);
        } else {
            if let Some(start) = run_start.take() {
                flush(&mut out, &text[start..at]);
            }
            out.push(c);
        }
    }
    if let Some(start) = run_start {
        flush(&mut out, &text[start..]);
    }
    out
}

/// Whether `prediction` equals any of `golden_answers` after normalising both (the reference's
/// `em_check`).
pub fn exact_match<S: AsRef<str>>(prediction: &str, golden_answers: &[S]) -> bool {
    let prediction = normalize_answer(prediction);
    golden_answers
        .iter()
        .any(|gold| normalize_answer(gold.as_ref()) == prediction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_the_reference() {
        assert_eq!(normalize_answer("The U.S.A.!"), "usa");
        assert_eq!(normalize_answer("  An   apple\tpie "), "apple pie");
        assert_eq!(normalize_answer("theatre"), "theatre");
        assert_eq!(normalize_answer("the-the"), "thethe");
        assert_eq!(normalize_answer("Rock ’n’ roll"), "rock ’n’ roll");
        assert_eq!(normalize_answer("A Ångström."), "ångström");
        assert_eq!(normalize_answer("ΑΒΓ!!"), "αβγ");
        assert_eq!(normalize_answer("the\u{301}"), "\u{301}");
        assert_eq!(normalize_answer("a_b a"), "ab");
        assert_eq!(normalize_answer("x\u{1c}y"), "x y");
    }

    #[test]
    fn exact_match_accepts_any_gold() {
        assert!(exact_match(
            "the united states",
            &["U.S.A.", "United States"]
        ));
        assert!(!exact_match("united", &["United States"]));
        assert!(exact_match("the", &["a"]));
    }
}
