//! The default question generator: Jeopardy-style clues over the embedded Wikipedia summaries,
//! in the spirit of the original SearchQA dataset (a clue; the answer is an article title).
//!
//! Three forms, one question per answer article:
//! - [`Form::Lead`] (easy): the article's lead sentence with its subject replaced by "This"
//!   (`Pizza is an Italian dish …` → `This is an Italian dish …`).
//! - [`Form::Later`] (hard): a later sentence of the summary, which defines less.
//! - [`Form::Bridge`] (hard, two searches): a sentence that names a second article, whose title
//!   is replaced by that article's short description in brackets, so the agent must first find
//!   the second article and then the answer.
//!
//! In every clue the answer is masked: each word sharing a BM25 term (stem) with the title or
//! the lead subject becomes "this", and a clue that still contains a normalised answer is
//! dropped. Every kept question is verified answerable at generation time: searching the clue
//! (for bridges: the description, then the clue with the second title restored) retrieves a
//! passage of the answer article in the top [`TOP_K`]; a bridge is kept only when the clue alone
//! does not already retrieve it. Train and test share no answer (after normalisation). Every
//! random choice comes from one seeded ChaCha8 stream over articles in title order, and the
//! BM25 ranking is deterministic, so the same seed gives the same bytes.

use std::collections::{BTreeMap, HashMap, HashSet};

use crossgym_env_core::Split;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tantivy::tokenizer::TextAnalyzer;

use crate::Result;
use crate::env::TOP_K;
use crate::index::{SearchIndex, analyzer};
use crate::scoring::normalize_answer;
use crate::text::sentences;
use crate::wiki::{Article, WikiCorpus};

/// What the agent is asked after the clue.
pub const QUESTION_SUFFIX: &str = "Who or what is this?";

/// The three clue forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// The lead sentence (easy).
    Lead,
    /// A later sentence (hard).
    Later,
    /// Names a second article by its description (hard, two searches).
    Bridge,
}

impl Form {
    /// All forms.
    pub const ALL: [Form; 3] = [Form::Lead, Form::Later, Form::Bridge];

    /// Whether the form is one of the hard ones.
    pub fn is_hard(self) -> bool {
        self != Form::Lead
    }
}

/// One generated question, as stored in `data/questions.jsonl.gz`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratedQuestion {
    /// Task id.
    pub id: usize,
    /// Which half of the split it belongs to.
    pub split: Split,
    /// The clue form.
    pub form: Form,
    /// The answer article's title.
    pub answer: String,
    /// For bridges: the title of the article named by its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge: Option<String>,
    /// The question text (clue, then [`QUESTION_SUFFIX`]).
    pub question: String,
    /// The title and its aliases.
    pub golden_answers: Vec<String>,
}

/// Generator settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GeneratorConfig {
    /// Seed of the one ChaCha8 stream.
    pub seed: u64,
    /// Train questions (the paper's 4,000).
    pub n_train: usize,
    /// Test questions (the paper's 400).
    pub n_test: usize,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            seed: 2026,
            n_train: crossgym_env_core::paper::SEARCHQA.train_tasks,
            n_test: crossgym_env_core::paper::SEARCHQA.test_tasks,
        }
    }
}

/// Counts of one form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FormStats {
    /// Candidate clues built.
    pub generated: usize,
    /// Candidates that passed the give-away and answerability checks.
    pub kept: usize,
    /// Chosen for the train half.
    pub train: usize,
    /// Chosen for the test half.
    pub test: usize,
}

/// What generation did, for the README.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GenerationStats {
    /// Articles in the corpus.
    pub articles: usize,
    /// Per form.
    pub forms: BTreeMap<Form, FormStats>,
    /// Articles left out of train because an answer normalises like a test answer.
    pub excluded_shared_answer: usize,
}

impl GenerationStats {
    /// Kept over generated, all forms together.
    pub fn kept_ratio(&self) -> f64 {
        let generated: usize = self.forms.values().map(|f| f.generated).sum();
        let kept: usize = self.forms.values().map(|f| f.kept).sum();
        if generated == 0 {
            0.0
        } else {
            kept as f64 / generated as f64
        }
    }
}

/// A verified clue for one article.
#[derive(Clone, Debug)]
struct Candidate {
    form: Form,
    clue: String,
    bridge: Option<String>,
}

/// Copulas that end a lead sentence's subject.
const COPULAS: &[&str] = &[
    " is ",
    " was ",
    " are ",
    " were ",
    " refers to ",
    " has been ",
];

/// Splits a lead sentence into (subject, rest starting with the copula), outside brackets.
fn split_subject(sentence: &str) -> Option<(&str, &str)> {
    let mut depth = 0i32;
    for (at, c) in sentence.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ' ' if depth <= 0 => {
                if let Some(copula) = COPULAS.iter().find(|c| sentence[at..].starts_with(**c)) {
                    let subject = &sentence[..at];
                    let words = subject.split_whitespace().count();
                    return (words > 0 && words <= 25).then(|| {
                        (
                            subject,
                            &sentence[at + copula.len() - copula.trim_start().len()..],
                        )
                    });
                }
            }
            _ => {}
        }
    }
    None
}

/// Text without bracketed parts, whitespace collapsed.
fn without_brackets(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0i32;
    for c in text.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = (depth - 1).max(0),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// BM25 terms of a text.
fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// The title and its aliases: the title without a bracketed qualifier, and the short parts of
/// the lead subject (`The Tao or Dao` → `The Tao`, `Dao`). Deduplicated after normalisation.
fn golden_answers(
    analyzer: &mut TextAnalyzer,
    article: &Article,
    subject: Option<&str>,
) -> Vec<String> {
    let mut answers = vec![article.title.clone()];
    let bare = without_brackets(&article.title);
    if !bare.is_empty() {
        answers.push(bare);
    }
    if let Some(subject) = subject {
        let subject = without_brackets(subject);
        let subject = match subject.split_once(", ") {
            Some((prefix, rest)) if prefix.starts_with("In ") => rest.to_owned(),
            _ => subject,
        };
        if !subject.contains(',') {
            for part in subject.split(" or ") {
                let part = part.trim();
                // A part made only of stop words ("There") is no name.
                if part.split_whitespace().count() <= 6 && !terms(analyzer, part).is_empty() {
                    answers.push(part.to_owned());
                }
            }
        }
    }
    let mut seen = HashSet::new();
    answers.retain(|answer| {
        let normal = normalize_answer(answer);
        !normal.is_empty() && seen.insert(normal)
    });
    answers
}

/// Replaces every word that shares a term with `stems` by "this" (runs of such words become
/// one; an article just before the run is dropped; a possessive becomes "this one's").
fn mask(analyzer: &mut TextAnalyzer, text: &str, stems: &HashSet<String>) -> String {
    // Tokens: maximal runs of alphanumeric characters, and everything between them.
    let mut pieces: Vec<(bool, &str)> = Vec::new();
    let mut start = 0;
    let mut in_word = false;
    for (at, c) in text.char_indices() {
        let word = c.is_alphanumeric();
        if word != in_word && at > start {
            pieces.push((in_word, &text[start..at]));
            start = at;
        }
        in_word = word;
    }
    if start < text.len() {
        pieces.push((in_word, &text[start..]));
    }
    let masked: Vec<bool> = pieces
        .iter()
        .map(|(word, piece)| *word && terms(analyzer, piece).iter().any(|t| stems.contains(t)))
        .collect();
    let mut out = String::new();
    let mut i = 0;
    while i < pieces.len() {
        if !masked[i] {
            out.push_str(pieces[i].1);
            i += 1;
            continue;
        }
        // Extend the run over masked words joined by spaces or hyphens.
        let mut end = i + 1;
        while end + 1 < pieces.len()
            && masked[end + 1]
            && pieces[end].1.chars().all(|c| c == ' ' || c == '-')
        {
            end += 2;
        }
        // Drop an article right before the run.
        let trimmed = out.trim_end_matches(' ');
        for article in ["the", "The", "a", "A", "an", "An"] {
            if let Some(before) = trimmed.strip_suffix(article)
                && (before.is_empty() || before.ends_with(' '))
                && trimmed.len() < out.len()
            {
                out.truncate(before.len());
                break;
            }
        }
        let at_start = out.trim().is_empty() || out.trim_end().ends_with(['.', '!', '?']);
        out.push_str(if at_start { "This" } else { "this" });
        i = end;
        // A possessive after the run.
        let apostrophe = pieces.get(i).is_some_and(|p| p.1 == "'" || p.1 == "’");
        if apostrophe && pieces.get(i + 1).is_some_and(|p| p.1 == "s") {
            out.push_str(" one's");
            i += 2;
        }
    }
    out
}

/// Whether the normalised `clue` contains any normalised answer as whole words.
fn gives_away(clue: &str, answers: &[String]) -> bool {
    let clue = format!(" {} ", normalize_answer(clue));
    answers.iter().any(|answer| {
        let answer = normalize_answer(answer);
        !answer.is_empty() && clue.contains(&format!(" {answer} "))
    })
}

fn finish_clue(clue: &str) -> String {
    let clue = clue.trim();
    if clue.ends_with(['.', '!', '?']) {
        clue.to_owned()
    } else {
        format!("{clue}.")
    }
}

/// Whether a search for `query` retrieves a passage of `title` in the top [`TOP_K`].
fn retrieves(index: &SearchIndex, query: &str, title: &str) -> Result<bool> {
    Ok(index
        .search(query, TOP_K)?
        .iter()
        .any(|hit| hit.title() == title))
}

/// Titles other articles can be named by in a sentence: first word → (title, article), longest
/// first.
fn mention_table(articles: &[Article]) -> HashMap<String, Vec<(String, usize)>> {
    let mut table: HashMap<String, Vec<(String, usize)>> = HashMap::new();
    for (index, article) in articles.iter().enumerate() {
        let name = without_brackets(&article.title);
        let first = name.split_whitespace().next().unwrap_or("");
        let capitalised = first.chars().next().is_some_and(char::is_uppercase);
        if !capitalised
            || name.chars().count() < 4
            || article.description.split_whitespace().count() < 2
        {
            continue;
        }
        table
            .entry(first.to_owned())
            .or_default()
            .push((name, index));
    }
    for titles in table.values_mut() {
        titles.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
    }
    table
}

/// The first mention in `sentence` of another article, as (byte range, article index).
fn find_mention(
    sentence: &str,
    table: &HashMap<String, Vec<(String, usize)>>,
    exclude: &dyn Fn(usize) -> bool,
) -> Option<(std::ops::Range<usize>, usize)> {
    let mut at = 0;
    for word in sentence.split(' ') {
        let key = word.trim_end_matches(|c: char| !c.is_alphanumeric());
        if let Some(titles) = table.get(key) {
            for (name, index) in titles {
                if !sentence[at..].starts_with(name.as_str()) {
                    continue;
                }
                let end = at + name.len();
                let boundary = sentence[end..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric());
                if boundary && !exclude(*index) {
                    return Some((at..end, *index));
                }
            }
        }
        at += word.len() + 1;
    }
    None
}

/// Generates, verifies and splits the default questions.
pub fn generate(
    corpus: &WikiCorpus,
    index: &SearchIndex,
    config: GeneratorConfig,
) -> Result<(Vec<GeneratedQuestion>, GenerationStats)> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut analyzer = analyzer();
    let articles = &corpus.articles;
    let table = mention_table(articles);
    let mut stats = GenerationStats {
        articles: articles.len(),
        ..GenerationStats::default()
    };
    for form in Form::ALL {
        stats.forms.insert(form, FormStats::default());
    }

    // Per article: its answers and its verified candidates.
    let mut answers_of: Vec<Vec<String>> = Vec::with_capacity(articles.len());
    let mut candidates_of: Vec<Vec<Candidate>> = Vec::with_capacity(articles.len());
    for (article_index, article) in articles.iter().enumerate() {
        let sentences = sentences(&article.extract);
        let split = sentences.first().and_then(|lead| split_subject(lead));
        let subject = split.map(|(subject, _)| subject);
        let answers = golden_answers(&mut analyzer, article, subject);
        let mut stems: HashSet<String> = HashSet::new();
        for answer in &answers {
            stems.extend(terms(&mut analyzer, answer));
        }
        if let Some(subject) = subject {
            for word in without_brackets(subject).split_whitespace() {
                if word.chars().next().is_some_and(char::is_uppercase) && word != "In" {
                    stems.extend(terms(&mut analyzer, word));
                }
            }
        }
        let title_stems: HashSet<String> =
            terms(&mut analyzer, &article.title).into_iter().collect();
        let mut candidates = Vec::new();
        let mut clue_sentences: Vec<(Form, String)> = Vec::new();

        // Lead: the subject becomes "This" (an "In <field>," opening is kept).
        if let Some((subject, rest)) = split {
            let opening = match subject.split_once(", ") {
                Some((prefix, _)) if prefix.starts_with("In ") => format!("{prefix}, this "),
                _ => "This ".to_owned(),
            };
            clue_sentences.push((Form::Lead, format!("{opening}{rest}")));
        }
        // Later: one later sentence with enough content, chosen at random.
        let later: Vec<&str> = sentences
            .iter()
            .skip(1)
            .copied()
            .filter(|s| s.split_whitespace().count() >= 8)
            .collect();
        if !later.is_empty() {
            let pick = later[rng.random_range(0..later.len())];
            clue_sentences.push((Form::Later, pick.to_owned()));
        }
        for (form, sentence) in clue_sentences {
            let clue = finish_clue(&mask(&mut analyzer, &sentence, &stems));
            stats.forms.entry(form).or_default().generated += 1;
            let content = terms(&mut analyzer, &clue)
                .into_iter()
                .filter(|t| t != "this")
                .count();
            if content < 4 || gives_away(&clue, &answers) {
                continue;
            }
            if retrieves(index, &clue, &article.title)? {
                stats.forms.entry(form).or_default().kept += 1;
                candidates.push(Candidate {
                    form,
                    clue,
                    bridge: None,
                });
            }
        }

        // Bridge: the first sentence naming another article.
        let exclude = |other: usize| {
            other == article_index
                || terms(&mut analyzer.clone(), &articles[other].title)
                    .iter()
                    .any(|t| title_stems.contains(t) || stems.contains(t))
        };
        let mention = sentences
            .iter()
            .enumerate()
            .find_map(|(position, sentence)| {
                let sentence = if position == 0 {
                    split.map(|(subject, rest)| {
                        let opening = match subject.split_once(", ") {
                            Some((prefix, _)) if prefix.starts_with("In ") => {
                                format!("{prefix}, this ")
                            }
                            _ => "This ".to_owned(),
                        };
                        format!("{opening}{rest}")
                    })?
                } else {
                    (*sentence).to_owned()
                };
                find_mention(&sentence, &table, &exclude)
                    .map(|(range, other)| (sentence, range, other))
            });
        if let Some((sentence, range, other)) = mention {
            stats.forms.entry(Form::Bridge).or_default().generated += 1;
            let other_article = &articles[other];
            let description = format!("[{}]", other_article.description.trim());
            let bridged = format!(
                "{}{}{}",
                &sentence[..range.start],
                description,
                &sentence[range.end..]
            );
            let bridged = finish_clue(&mask(&mut analyzer, &bridged, &stems));
            let restored = finish_clue(&mask(&mut analyzer, &sentence, &stems));
            let other_answers = golden_answers(&mut analyzer, other_article, None);
            let content = terms(&mut analyzer, &bridged)
                .into_iter()
                .filter(|t| t != "this")
                .count();
            let valid = content >= 4
                && !gives_away(&bridged, &answers)
                && !gives_away(&bridged, &other_answers)
                && !gives_away(&restored, &answers);
            if valid
                && (retrieves(index, &description, &other_article.title)?
                    || retrieves(index, &bridged, &other_article.title)?)
                && retrieves(index, &restored, &article.title)?
                && !retrieves(index, &bridged, &article.title)?
            {
                stats.forms.entry(Form::Bridge).or_default().kept += 1;
                candidates.push(Candidate {
                    form: Form::Bridge,
                    clue: bridged,
                    bridge: Some(other_article.title.clone()),
                });
            }
        }
        answers_of.push(answers);
        candidates_of.push(candidates);
    }

    // Choose one question per article: test first, then train without shared answers.
    let mut order: Vec<usize> = (0..articles.len())
        .filter(|&a| !candidates_of[a].is_empty())
        .collect();
    order.shuffle(&mut rng);
    let quota = |n: usize| {
        [
            (Form::Lead, n / 2),
            (Form::Later, n / 4),
            (Form::Bridge, n - n / 2 - n / 4),
        ]
    };
    let mut used = vec![false; articles.len()];
    let mut test_answers: HashSet<String> = HashSet::new();
    let mut chosen: Vec<(Split, usize, Candidate)> = Vec::new();
    for (split, n) in [(Split::Test, config.n_test), (Split::Train, config.n_train)] {
        let mut remaining: BTreeMap<Form, usize> = quota(n).into_iter().collect();
        let mut picked = 0;
        // Two passes: first honour the per-form quotas, then fill with any form.
        for strict in [true, false] {
            for &article in &order {
                if picked == n {
                    break;
                }
                if used[article] {
                    continue;
                }
                if split == Split::Train
                    && answers_of[article]
                        .iter()
                        .any(|a| test_answers.contains(&normalize_answer(a)))
                {
                    continue;
                }
                let pick = candidates_of[article]
                    .iter()
                    .filter(|c| !strict || remaining.get(&c.form).copied().unwrap_or(0) > 0)
                    .max_by_key(|c| {
                        (
                            remaining.get(&c.form).copied().unwrap_or(0),
                            std::cmp::Reverse(c.form),
                        )
                    });
                let Some(candidate) = pick else { continue };
                if let Some(left) = remaining.get_mut(&candidate.form) {
                    *left = left.saturating_sub(1);
                }
                used[article] = true;
                picked += 1;
                if split == Split::Test {
                    test_answers.extend(answers_of[article].iter().map(|a| normalize_answer(a)));
                }
                chosen.push((split, article, candidate.clone()));
            }
        }
    }
    stats.excluded_shared_answer = order
        .iter()
        .filter(|&&a| {
            !used[a]
                && answers_of[a]
                    .iter()
                    .any(|x| test_answers.contains(&normalize_answer(x)))
        })
        .count();

    // Train first (ids 0..n_train), then test, as the reference orders its ranges.
    chosen.sort_by_key(|(split, _, _)| *split == Split::Test);
    let questions = chosen
        .into_iter()
        .enumerate()
        .map(|(id, (split, article, candidate))| {
            let form_stats = stats.forms.entry(candidate.form).or_default();
            match split {
                Split::Train => form_stats.train += 1,
                Split::Test => form_stats.test += 1,
            }
            GeneratedQuestion {
                id,
                split,
                form: candidate.form,
                answer: articles[article].title.clone(),
                bridge: candidate.bridge,
                question: format!("{} {QUESTION_SUFFIX}", candidate.clue),
                golden_answers: answers_of[article].clone(),
            }
        })
        .collect();
    Ok((questions, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_split_at_the_first_copula_outside_brackets() {
        assert_eq!(
            split_subject("Albert Einstein (born 1879 is odd) was a physicist."),
            Some(("Albert Einstein (born 1879 is odd)", "was a physicist."))
        );
        assert_eq!(split_subject("No copula here."), None);
    }

    #[test]
    fn masking_hides_the_title_stems() {
        let mut analyzer = analyzer();
        let stems: HashSet<String> = terms(&mut analyzer, "The Beatles").into_iter().collect();
        assert_eq!(
            mask(
                &mut analyzer,
                "The Beatles' fans loved the Beatles.",
                &stems
            ),
            "This' fans loved this."
        );
        let stems: HashSet<String> = terms(&mut analyzer, "Stanley Kubrick")
            .into_iter()
            .collect();
        assert_eq!(
            mask(&mut analyzer, "A film by Stanley Kubrick's studio.", &stems),
            "A film by this one's studio."
        );
    }

    #[test]
    fn aliases_come_from_title_and_subject() {
        let article = Article {
            title: "Tao (philosophy)".into(),
            extract: String::new(),
            description: String::new(),
            topic: String::new(),
        };
        assert_eq!(
            golden_answers(&mut analyzer(), &article, Some("The Tao or Dao")),
            vec!["Tao (philosophy)", "Tao", "Dao"]
        );
        assert!(gives_away("This is the dao of it.", &["Dao".to_owned()]));
        assert!(!gives_away("This is the daoism.", &["Dao".to_owned()]));
    }
}
