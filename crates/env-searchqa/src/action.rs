//! Reading the agent's reply: which action it takes, and which answer is scored.
//!
//! The reference finds the action with `re.search(r"<(search|answer)>(.*?)</\1>", reply,
//! re.DOTALL)`: the first complete `<search>…</search>` or `<answer>…</answer>` (same tag name on
//! both ends, case-sensitive, across newlines) decides, and its content is stripped. An answer is
//! then scored on the **last** `<answer>…</answer>` of the reply (`extract_solution`), which is a
//! quirk kept here: `<answer>wrong</answer> <answer>right</answer>` is correct.
//!
//! Both are done by hand (Rust's regex has no back-references) in time linear in the reply.

use crossgym_env_core::py;

/// What a reply asks the env to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action<'a> {
    /// Search for the (stripped) query.
    Search(&'a str),
    /// Give a final answer; the scored text is [`last_answer`] of the reply.
    Answer(&'a str),
    /// Neither tag pair is complete.
    Invalid,
}

const SEARCH_OPEN: &str = "<search>";
const SEARCH_CLOSE: &str = "</search>";
const ANSWER_OPEN: &str = "<answer>";
const ANSWER_CLOSE: &str = "</answer>";

/// The first opening tag that has a closing tag of the same name after it, with its content up
/// to the first such closing tag.
fn first_complete<'a>(reply: &'a str, open: &str, close: &str) -> Option<(usize, &'a str)> {
    let last_close = reply.rfind(close)?;
    let start = reply.find(open)?;
    let content_start = start + open.len();
    if content_start > last_close {
        // Every later opening tag starts even further right, past the last closing tag.
        return None;
    }
    let content_end = content_start + reply[content_start..].find(close)?;
    Some((start, &reply[content_start..content_end]))
}

/// The action a reply takes (the reference's action regex).
pub fn parse_action(reply: &str) -> Action<'_> {
    let search = first_complete(reply, SEARCH_OPEN, SEARCH_CLOSE);
    let answer = first_complete(reply, ANSWER_OPEN, ANSWER_CLOSE);
    match (search, answer) {
        (Some((s, query)), Some((a, _))) if s < a => Action::Search(py::strip(query)),
        (_, Some((_, content))) => Action::Answer(py::strip(content)),
        (Some((_, query)), None) => Action::Search(py::strip(query)),
        (None, None) => Action::Invalid,
    }
}

/// The stripped content of the last `<answer>…</answer>` (non-overlapping, left to right), or
/// `None` when the reply has none (the reference's `extract_solution`).
pub fn last_answer(reply: &str) -> Option<&str> {
    let mut last = None;
    let mut rest = 0;
    while let Some(open) = reply[rest..].find(ANSWER_OPEN) {
        let content_start = rest + open + ANSWER_OPEN.len();
        let Some(close) = reply[content_start..].find(ANSWER_CLOSE) else {
            break;
        };
        last = Some(py::strip(&reply[content_start..content_start + close]));
        rest = content_start + close + ANSWER_CLOSE.len();
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_complete_tag_decides() {
        assert_eq!(
            parse_action("<search> a </search><answer>b</answer>"),
            Action::Search("a")
        );
        assert_eq!(
            parse_action("<answer>b</answer><search>a</search>"),
            Action::Answer("b")
        );
        assert_eq!(parse_action("<answer>1984</search>"), Action::Invalid);
        assert_eq!(parse_action("<ANSWER>x</ANSWER>"), Action::Invalid);
        assert_eq!(
            parse_action("<answer>x</search> <search>q</search>"),
            Action::Search("q")
        );
        assert_eq!(
            parse_action("<search><answer>x</answer></search>"),
            Action::Search("<answer>x</answer>")
        );
        assert_eq!(
            parse_action("<search>\n q \n</search>"),
            Action::Search("q")
        );
        assert_eq!(parse_action(""), Action::Invalid);
    }

    #[test]
    fn an_unclosed_opening_tag_is_skipped() {
        // Python's re.search moves on to the next start position.
        assert_eq!(
            parse_action("<search>a <search>b</search>"),
            Action::Search("a <search>b")
        );
        assert_eq!(
            parse_action("<answer>x <search>q</search>"),
            Action::Search("q")
        );
    }

    #[test]
    fn last_answer_is_scored() {
        assert_eq!(
            last_answer("<answer>a</answer> <answer> b </answer>"),
            Some("b")
        );
        assert_eq!(last_answer("<answer>a</answer> <answer> b"), Some("a"));
        assert_eq!(
            last_answer("<answer><answer>x</answer></answer>"),
            Some("<answer>x")
        );
        assert_eq!(last_answer("none"), None);
    }
}
