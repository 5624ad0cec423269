//! A fast path for the ReAct-single-line parser: the same result as
//! [`crossgym_env_core::parse::react_single_line`] with one allocation (the action itself).
//!
//! `step` runs once per agent turn, and the shared parser builds a list of matches, a filtered
//! copy and a word list before joining; here the first match is scanned once and cleaned straight
//! into the output. Replies with several `Action:` lines (rare) go through the shared parser so
//! the error is exactly its error. A property test checks the two agree on arbitrary replies.

use crossgym_env_core::parse::{self, ACTION_MARKER, MultipleActions};
use crossgym_env_core::py;

/// The action of `reply`, cleaned, as [`parse::react_single_line`] computes it.
pub fn single_line_action(reply: &str) -> Result<String, MultipleActions> {
    let Some(at) = reply.find(ACTION_MARKER) else {
        return Ok(String::new());
    };
    let after = reply[at + ACTION_MARKER.len()..].trim_start_matches(py::is_space);
    let end = after.find('\n').unwrap_or(after.len());
    if after[end..].contains(ACTION_MARKER) {
        return parse::react_single_line(reply);
    }
    Ok(clean(&after[..end]))
}

/// Keeps ASCII letters, digits, commas and spaces; collapses and trims the spaces.
fn clean(capture: &str) -> String {
    let mut out = String::with_capacity(capture.len());
    let mut pending_space = false;
    for byte in capture.bytes() {
        if byte == b' ' {
            pending_space = !out.is_empty();
        } else if byte.is_ascii_alphanumeric() || byte == b',' {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(char::from(byte));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn agree(reply: &str) {
        assert_eq!(
            single_line_action(reply),
            parse::react_single_line(reply),
            "{reply:?}"
        );
    }

    #[test]
    fn agrees_on_known_cases() {
        for reply in [
            "",
            "Action:",
            "Action:   \nThought: later",
            "Thought:\nx\n\nAction:\n\nget 1  oak\tlogs!!\nmore",
            "Action: a\nAction: b",
            "Action: Action: pickup",
            "Action:\u{1f} craft 1 x using 2 y \u{e9}",
            "  Action: get 1 stick  ",
        ] {
            agree(reply);
        }
    }

    proptest! {
        #[test]
        fn agrees_on_arbitrary_replies(reply in any::<String>()) {
            agree(&reply);
        }

        #[test]
        fn agrees_on_action_heavy_replies(
            parts in proptest::collection::vec(
                prop_oneof!["Action:", "\n", " ", "\t", "\u{1c}", "get 1 oak", ",", "é", "x"],
                0..12,
            )
        ) {
            agree(&parts.concat());
        }
    }
}
