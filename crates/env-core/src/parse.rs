//! The reply parsers of the reference: from the agent's whole reply to the action string.
//!
//! AgentGym's clients parse replies in two families, and each env uses one of them:
//!
//! - **ReAct-last** (WebShop, ALFWorld): the action is everything after the *last* `Action:`,
//!   trimmed ([`react_last`]). ALFWorld first removes a trailing `</s>` ([`strip_trailing_eos`]) and
//!   uses the whole trimmed reply when there is no marker ([`react_last_or_whole`]); WebShop uses the
//!   whole reply only when it contains `search[` or `click[`, else the empty action
//!   ([`react_last_or_command`]).
//! - **ReAct-single-line** (TextCraft, BabyAI): every `Action:` followed by optional whitespace and
//!   the rest of that line is a match; more than one match is an error with the exact text
//!   [`MULTIPLE_ACTIONS_ERROR`]; the match (or the empty string) is then cleaned to ASCII letters,
//!   digits, commas and spaces, with whitespace runs collapsed ([`react_single_line`]).
//!
//! SearchQA takes the whole reply and looks for its own tags ([`ParserFamily::WholeReply`]).
//!
//! Whitespace follows Python, not Rust: the reference uses `str.strip()` and the regex `\s`,
//! whose whitespace set ([`crate::py::is_space`]) includes the ASCII separators U+001C..U+001F.

use serde::{Deserialize, Serialize};

use crate::py;

/// The marker both ReAct families look for.
pub const ACTION_MARKER: &str = "Action:";

/// The observation the ReAct-single-line envs return when a reply holds more than one action.
pub const MULTIPLE_ACTIONS_ERROR: &str =
    "Error: Only one 'Action' is allowed per response. Please adjust your response.";

/// The end-of-sequence text ALFWorld's client strips from the end of a reply.
pub const EOS_TEXT: &str = "</s>";

/// How an env turns a reply into an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParserFamily {
    /// Everything after the last `Action:` (WebShop, ALFWorld).
    ReactLast,
    /// Exactly one `Action:` line, cleaned (TextCraft, BabyAI).
    ReactSingleLine,
    /// The whole reply; the env finds its own tags (SearchQA).
    WholeReply,
}

/// The reply held more than one `Action:` line (ReAct-single-line). Its `Display` is the
/// reference's observation, [`MULTIPLE_ACTIONS_ERROR`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", MULTIPLE_ACTIONS_ERROR)]
pub struct MultipleActions {
    /// How many `Action:` matches the reply held (at least 2).
    pub count: usize,
}

/// A ReAct reply in the layout the ReAct envs' instructions ask for:
/// `Thought:\n{thought}\n\nAction:\n{action}` (what an [`crate::Oracle`] of those envs writes).
pub fn react_reply(thought: &str, action: &str) -> String {
    format!("Thought:\n{thought}\n\nAction:\n{action}")
}

/// Removes one trailing `</s>` if the reply ends with it (ALFWorld's client).
///
/// Some AgentGym client versions slice five characters (`action[:-5]`), dropping the character
/// before `</s>` too; the spec (and this function) removes exactly the marker.
pub fn strip_trailing_eos(reply: &str) -> &str {
    reply.strip_suffix(EOS_TEXT).unwrap_or(reply)
}

/// The text after the last `Action:`, trimmed the Python way; `None` if the reply has no marker.
pub fn react_last(reply: &str) -> Option<&str> {
    reply
        .rfind(ACTION_MARKER)
        .map(|at| py::strip(&reply[at + ACTION_MARKER.len()..]))
}

/// ALFWorld: strip a trailing `</s>`, then [`react_last`], or the whole trimmed reply when there
/// is no `Action:` (the client's `reply.split("Action:")[-1].strip()`).
pub fn react_last_or_whole(reply: &str) -> &str {
    let reply = strip_trailing_eos(reply);
    react_last(reply).unwrap_or_else(|| py::strip(reply))
}

/// WebShop: [`react_last`], or, when there is no `Action:`, the whole trimmed reply if it
/// contains `search[` or `click[`, else the empty action.
pub fn react_last_or_command(reply: &str) -> &str {
    match react_last(reply) {
        Some(action) => action,
        None if reply.contains("search[") || reply.contains("click[") => py::strip(reply),
        None => "",
    }
}

/// Every match of the reference's `re.findall(r"Action:\s*(.*?)(?=\n|$)", reply, re.DOTALL)`,
/// uncleaned.
///
/// The leading `\s*` may cross line breaks (so `"Action:\nfoo"` captures `foo`); the capture then
/// runs to the next `\n` or the end. The search for the next marker resumes where a capture ended.
pub fn single_line_matches(reply: &str) -> Vec<&str> {
    let mut matches = Vec::new();
    let mut rest = reply;
    while let Some(at) = rest.find(ACTION_MARKER) {
        let after = rest[at + ACTION_MARKER.len()..].trim_start_matches(py::is_space);
        let end = after.find('\n').unwrap_or(after.len());
        matches.push(&after[..end]);
        rest = &after[end..];
    }
    matches
}

/// Keeps ASCII letters, digits, commas and spaces, then collapses whitespace runs to one space and
/// trims (`" ".join(re.sub(r"[^A-Za-z0-9, ]+", "", a).split())`).
pub fn clean_action(action: &str) -> String {
    let kept: String = action
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ',' || *c == ' ')
        .collect();
    kept.split(' ')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// ReAct-single-line (TextCraft, BabyAI): the one `Action:` line, cleaned; the empty action when
/// there is none; [`MultipleActions`] (whose text is the reference's observation) when there are
/// several.
pub fn react_single_line(reply: &str) -> Result<String, MultipleActions> {
    let matches = single_line_matches(reply);
    match matches.as_slice() {
        [] => Ok(String::new()),
        [only] => Ok(clean_action(only)),
        many => Err(MultipleActions { count: many.len() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts `parse(reply) == want` for every `(reply, want)`, naming the reply that failed.
    fn check<'a, T: PartialEq<W> + std::fmt::Debug, W: std::fmt::Debug>(
        parse: impl Fn(&'a str) -> T,
        cases: &[(&'a str, W)],
    ) {
        for &(reply, ref want) in cases {
            let got = parse(reply);
            assert!(got == *want, "{reply:?}: got {got:?}, want {want:?}");
        }
    }

    /// [`react_single_line`] on a reply with at most one marker line.
    fn single(reply: &str) -> String {
        react_single_line(reply).unwrap()
    }

    #[test]
    fn react_last_takes_text_after_last_marker() {
        check(
            react_last,
            &[
                ("Thought: x\nAction: click[Buy Now]", Some("click[Buy Now]")),
                (
                    "Action: search[a]\nThought: no\nAction:\n  click[b]  \n",
                    Some("click[b]"),
                ),
                ("Action:", Some("")),
                ("no marker here", None),
                ("", None),
                // Case-sensitive, like the reference's `split("Action:")`.
                ("action: go", None),
            ],
        );
    }

    #[test]
    fn react_last_trims_python_whitespace() {
        check(
            react_last,
            &[("Action:\u{1f} go to desk 1\u{3000}", Some("go to desk 1"))],
        );
    }

    #[test]
    fn alfworld_strips_eos_and_falls_back_to_whole_reply() {
        check(
            react_last_or_whole,
            &[
                ("Action: look</s>", "look"),
                ("  inventory \n", "inventory"),
                ("Action: look</s></s>", "look</s>"),
                ("", ""),
                ("</s>", ""),
            ],
        );
    }

    #[test]
    fn webshop_falls_back_to_commands_only() {
        check(
            react_last_or_command,
            &[
                ("Thought:\nok\n\nAction: \nclick[x]", "click[x]"),
                (" search[red shoes] ", "search[red shoes]"),
                ("I would click[buy now]", "I would click[buy now]"),
                ("just chatting", ""),
                ("", ""),
            ],
        );
    }

    #[test]
    fn single_line_takes_one_line_and_cleans_it() {
        check(
            single,
            &[
                (
                    "Thought: hmm\nAction: get 2 oak logs\nObservation: pending",
                    "get 2 oak logs",
                ),
                ("Action: turn   left!!", "turn left"),
                (
                    "Action: craft 4 oak planks using 1 oak logs.",
                    "craft 4 oak planks using 1 oak logs",
                ),
                ("Action:go to red ball 1\r\n", "go to red ball 1"),
            ],
        );
    }

    #[test]
    fn single_line_whitespace_crosses_newlines() {
        check(
            single,
            &[
                ("Thought:\nx\n\nAction:\n\nmove forward", "move forward"),
                // `\s*` eats the blank tail of the marker line, so the capture is the next line.
                ("Action:   \nThought: later", "Thought later"),
            ],
        );
    }

    #[test]
    fn single_line_without_marker_is_empty_action() {
        check(
            single,
            &[("I will turn left.", ""), ("", ""), ("Action:", "")],
        );
    }

    #[test]
    fn single_line_rejects_two_markers_with_reference_text() {
        let err = react_single_line("Action: turn left\nAction: turn right").unwrap_err();
        assert_eq!(err.count, 2);
        assert_eq!(err.to_string(), MULTIPLE_ACTIONS_ERROR);
        assert_eq!(
            err.to_string(),
            "Error: Only one 'Action' is allowed per response. Please adjust your response."
        );
        // Two markers on one line are ONE match: the capture swallows the second.
        assert_eq!(
            react_single_line("Action: Action: pickup").unwrap(),
            "Action pickup"
        );
        assert_eq!(
            react_single_line("Action: a\n\nAction: b\nAction: c")
                .unwrap_err()
                .count,
            3
        );
    }

    #[test]
    fn single_line_drops_unicode_and_control_characters() {
        check(
            single,
            &[
                ("Action: pick\u{e9} up \u{1f511} key\t1", "pick up key1"),
                ("Action: \u{0}\u{7}tog\u{200b}gle", "toggle"),
                ("Action: \u{65e5}\u{672c}\u{8a9e}", ""),
            ],
        );
    }

    #[test]
    fn single_line_trailing_eos_is_cleaned_away() {
        check(single, &[("Action: inventory</s>", "inventorys")]);
    }

    #[test]
    fn very_long_replies_parse() {
        let long = format!(
            "{}\nAction: {}",
            "x".repeat(1_000_000),
            "get 1 stick ".repeat(10_000)
        );
        let action = react_single_line(&long).unwrap();
        assert!(action.starts_with("get 1 stick get"));
        assert!(!action.ends_with(' '));
        assert_eq!(
            react_last(&long).map(str::len),
            Some("get 1 stick ".len() * 10_000 - 1)
        );
        let many = "Action: a\n".repeat(50_000);
        assert_eq!(react_single_line(&many).unwrap_err().count, 50_000);
    }
}
