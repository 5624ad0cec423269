//! Passage corpora: the wiki-18 JSON-lines layout of the reference, and the default corpus built
//! from the embedded Wikipedia summaries.

use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;

use crate::jsonl::{for_each_record, line_error, open};
use crate::{Result, text};

/// One retrievable passage in the wiki-18 layout: `contents` is `"Title"\ntext`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passage {
    /// The corpus id (a string in wiki-18; numbers are kept as their decimal text).
    pub id: String,
    /// `"Title"` on the first line, the passage text after it.
    pub contents: String,
}

impl Passage {
    /// A passage in the wiki-18 style: the title in double quotes, a newline, the text.
    pub fn from_title_text(id: impl Into<String>, title: &str, text: &str) -> Self {
        Self {
            id: id.into(),
            contents: format!("\"{title}\"\n{text}"),
        }
    }

    /// The first line of `contents` (what the reference shows as the title, quotes included).
    pub fn title_line(&self) -> &str {
        title_line(&self.contents)
    }

    /// The title without the wiki-18 double quotes around it.
    pub fn title(&self) -> &str {
        bare_title(&self.contents)
    }
}

/// The first line of a wiki-18 `contents` string.
pub fn title_line(contents: &str) -> &str {
    contents
        .split_once('\n')
        .map_or(contents, |(title, _)| title)
}

/// The title of a wiki-18 `contents` string without its surrounding double quotes.
pub fn bare_title(contents: &str) -> &str {
    let line = title_line(contents);
    line.strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(line)
}

#[derive(Deserialize)]
struct CorpusLine {
    id: serde_json::Value,
    contents: String,
}

/// Reads a corpus in the reference's layout, one JSON object `{"id", "contents"}` a line, calling
/// `each` for every passage in file order. Errors name `source` and the line.
pub fn read_jsonl(
    reader: impl BufRead,
    source: &str,
    mut each: impl FnMut(Passage) -> Result<()>,
) -> Result<usize> {
    let what = "corpus record {\"id\", \"contents\"}";
    for_each_record(reader, source, what, |number, record: CorpusLine| {
        let id = match record.id {
            serde_json::Value::String(id) => id,
            serde_json::Value::Number(id) => id.to_string(),
            other => {
                return Err(line_error(
                    source,
                    number,
                    format!("field \"id\" must be a string or a number, not {other}"),
                ));
            }
        };
        each(Passage {
            id,
            contents: record.contents,
        })
    })
}

/// Reads a whole corpus file in the reference's layout into memory.
pub fn load_jsonl(path: &Path) -> Result<Vec<Passage>> {
    let (reader, source) = open(path)?;
    let mut passages = Vec::new();
    read_jsonl(reader, &source, |passage| {
        passages.push(passage);
        Ok(())
    })?;
    Ok(passages)
}

/// The most words a default-corpus passage holds (wiki-18 passages are 100 words), unless one
/// sentence alone is longer.
pub const PASSAGE_WORDS: usize = 100;

/// Splits an article into wiki-18-style passages: whole sentences, at most [`PASSAGE_WORDS`]
/// words each (a longer sentence stands alone), each `"Title"\ntext`.
pub fn split_article(title: &str, extract: &str) -> Vec<String> {
    let mut passages = Vec::new();
    let mut current = String::new();
    let mut words = 0;
    for sentence in text::sentences(extract) {
        let sentence_words = sentence.split_whitespace().count();
        if words > 0 && words + sentence_words > PASSAGE_WORDS {
            passages.push(std::mem::take(&mut current));
            words = 0;
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(sentence);
        words += sentence_words;
    }
    if !current.is_empty() {
        passages.push(current);
    }
    passages
        .into_iter()
        .map(|text| format!("\"{title}\"\n{text}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_the_first_line() {
        let passage = Passage::from_title_text("7", "Paris", "Paris is big.\nMore.");
        assert_eq!(passage.title_line(), "\"Paris\"");
        assert_eq!(passage.title(), "Paris");
        assert_eq!(bare_title("no quotes"), "no quotes");
    }

    #[test]
    fn malformed_lines_name_the_file_and_line() {
        let text = "{\"id\": \"0\", \"contents\": \"\\\"A\\\"\\nx\"}\n\n{\"id\": 1}\n";
        let error = read_jsonl(text.as_bytes(), "corpus.jsonl", |_| Ok(())).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("corpus.jsonl") && message.contains("line 3"),
            "{message}"
        );
        let error = read_jsonl("{\"id\": [1], \"contents\": \"x\"}".as_bytes(), "c", |_| {
            Ok(())
        })
        .unwrap_err();
        assert!(
            error.to_string().contains("line 1: field \"id\""),
            "{error}"
        );
    }

    #[test]
    fn articles_split_at_sentences() {
        let sentence = format!("Word{}", " word".repeat(39));
        let extract = format!("{sentence}. {sentence}. {sentence}.");
        let passages = split_article("T", &extract);
        assert_eq!(passages.len(), 2);
        assert!(passages[0].starts_with("\"T\"\nWord"));
        assert!(
            passages
                .iter()
                .all(|p| p.split_whitespace().count() <= PASSAGE_WORDS + 1)
        );
    }
}
