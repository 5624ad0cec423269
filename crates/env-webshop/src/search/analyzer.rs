//! Anserini's `DefaultEnglishAnalyzer`: `StandardTokenizer` (UAX#29 words, max length 255) →
//! `EnglishPossessiveFilter` → `LowerCaseFilter` → `StopFilter` (Lucene's 33 English stop
//! words) → `PorterStemFilter`.

use unicode_segmentation::UnicodeSegmentation;

use super::porter;

/// Lucene's `EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`.
pub const STOP_WORDS: [&str; 33] = [
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

/// `StandardTokenizer`'s default maximum token length.
const MAX_TOKEN_LENGTH: usize = 255;

/// The analyzed terms of `text`, in order (duplicates kept).
pub fn analyze(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.unicode_words() {
        let chars: Vec<char> = word.chars().collect();
        for piece in chars.chunks(MAX_TOKEN_LENGTH) {
            if let Some(term) = filter_token(piece) {
                out.push(term);
            }
        }
    }
    out
}

/// Possessive, lower-case, stop word and stemming filters on one token.
fn filter_token(token: &[char]) -> Option<String> {
    let mut token = token;
    let n = token.len();
    if n >= 2 && matches!(token[n - 2], '\'' | '\u{2019}' | '\u{ff07}') && matches!(token[n - 1], 's' | 'S')
    {
        token = &token[..n - 2];
    }
    if token.is_empty() {
        return None;
    }
    // Java's Character.toLowerCase is the simple (one-to-one) mapping.
    let lower: String = token
        .iter()
        .map(|c| c.to_lowercase().next().unwrap_or(*c))
        .collect();
    if STOP_WORDS.contains(&lower.as_str()) {
        return None;
    }
    Some(porter::stem(&lower))
}

#[cfg(test)]
mod tests {
    use super::analyze;

    #[test]
    fn examples_from_the_fixtures_readme() {
        assert_eq!(analyze("men's shorts"), ["men", "short"]);
        assert_eq!(analyze("t-shirt"), ["t", "shirt"]);
        assert_eq!(analyze("5.3"), ["5.3"]);
        assert_eq!(analyze("$19.99"), ["19.99"]);
        assert_eq!(analyze("example.com"), ["example.com"]);
        assert_eq!(analyze("kids'"), ["kid"]);
        assert_eq!(analyze("o'neill"), ["o'neil"]);
        assert_eq!(analyze("红色"), ["红", "色"]);
        assert_eq!(analyze("naïve"), ["naïv"]);
        assert!(analyze("the and of").is_empty());
    }
}
