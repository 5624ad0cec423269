//! Small text helpers for the default corpus: sentence splitting.

/// Words that end with a period without ending a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "mt", "ft", "vs", "etc", "e.g", "i.e", "c", "ca",
    "approx", "no", "nos", "vol", "fig", "inc", "ltd", "co", "corp", "gen", "col", "lt", "sgt",
    "capt", "gov", "sen", "rep", "rev", "prof", "u.s", "u.k", "a.d", "b.c", "op", "cf", "al",
];

/// Splits text into sentences: after `.`, `!` or `?` (optionally followed by a closing quote or
/// bracket) and whitespace, when the next word starts with an upper-case letter, a digit or an
/// opening quote, and the period does not end an abbreviation or an initial (`Arthur C. Clarke`).
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if matches!(c, '.' | '!' | '?') {
            let mut end = i + 1;
            while end < chars.len() && matches!(chars[end].1, '"' | '\'' | ')' | '”' | '’') {
                end += 1;
            }
            let mut next = end;
            while next < chars.len() && chars[next].1.is_whitespace() {
                next += 1;
            }
            let has_space = next > end;
            let starts_sentence = next < chars.len()
                && (chars[next].1.is_uppercase()
                    || chars[next].1.is_ascii_digit()
                    || matches!(chars[next].1, '"' | '“' | '\'' | '('));
            if has_space && starts_sentence && !(c == '.' && is_abbreviation(&text[start..at])) {
                let end_byte = chars.get(end).map_or(text.len(), |(b, _)| *b);
                let sentence = text[start..end_byte].trim();
                if !sentence.is_empty() {
                    out.push(sentence);
                }
                start = chars[next].0;
                i = next;
                continue;
            }
        }
        i += 1;
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// Whether the last word of `before` (the text up to a period) is an abbreviation or an initial.
fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    if word.chars().count() == 1 && word.chars().all(char::is_uppercase) {
        return true;
    }
    let lower = word.to_lowercase();
    ABBREVIATIONS.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sentences_but_not_initials_or_abbreviations() {
        let text = "It was made by Arthur C. Clarke. It is in the U.S. Army museum. Is it? \"Yes.\" (Maybe.) 1968 was a year.";
        assert_eq!(
            sentences(text),
            vec![
                "It was made by Arthur C. Clarke.",
                "It is in the U.S. Army museum.",
                "Is it?",
                "\"Yes.\"",
                "(Maybe.)",
                "1968 was a year."
            ]
        );
        assert_eq!(sentences("  "), Vec::<&str>::new());
        assert_eq!(sentences("no end"), vec!["no end"]);
    }
}
