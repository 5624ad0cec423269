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
    let words = text
        .split_word_bounds()
        .filter(|segment| segment.chars().any(|c| c.is_alphanumeric() || is_emoji(c)));
    for word in words {
        let chars: Vec<char> = word.chars().collect();
        for piece in chars.chunks(MAX_TOKEN_LENGTH) {
            if let Some(term) = filter_token(piece) {
                out.push(term);
            }
        }
    }
    out
}

/// Characters with the Unicode `Emoji` property outside ASCII (approximated by block ranges):
/// Lucene 8's `StandardTokenizer` emits them as `<EMOJI>` tokens (e.g. `™`).
fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0xA9 | 0xAE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x2194..=0x2199 | 0x21A9..=0x21AA
        | 0x231A..=0x231B | 0x2328 | 0x23CF | 0x23E9..=0x23F3 | 0x23F8..=0x23FA | 0x24C2
        | 0x25AA..=0x25AB | 0x25B6 | 0x25C0 | 0x25FB..=0x25FE | 0x2600..=0x27BF
        | 0x2934..=0x2935 | 0x2B05..=0x2B07 | 0x2B1B..=0x2B1C | 0x2B50 | 0x2B55 | 0x3030
        | 0x303D | 0x3297 | 0x3299 | 0x1F000..=0x1FAFF)
}

/// Possessive, lower-case, stop word and stemming filters on one token.
fn filter_token(token: &[char]) -> Option<String> {
    let mut token = token;
    let n = token.len();
    if n >= 2
        && matches!(token[n - 2], '\'' | '\u{2019}' | '\u{ff07}')
        && matches!(token[n - 1], 's' | 'S')
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
