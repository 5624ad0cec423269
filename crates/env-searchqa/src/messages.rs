//! The texts of the reference interface (AgentGym's SearchQA client and server), byte for byte.

use crossgym_env_core::py;

/// The instruction the agent receives as its first user turn: the `conversation_start` human
/// message of AgentGym's `SearchQAEnvClient`.
pub const INSTRUCTION: &str = "You must always reason inside <think>...</think> first; if you lack knowledge, issue a <search>...</search> and then stop; do not generate <information> or <answer> yet; wait for external input between <information>...</information> before continuing; resume only when new <information> is given; do not skip steps or anticipate answers early.";

/// The assistant's reply to [`INSTRUCTION`] in the reference's conversation start.
pub const ACKNOWLEDGEMENT: &str = "Ok.";

/// The prompt the server's `observation` puts before every question (then `\n\n Question: `).
pub const QUESTION_PROMPT: &str = "You must reason inside <think>...</think> first. If you do not have enough knowledge, issue a <search>...</search> and then STOP. Do not generate <information> or <answer> yet. Wait for external input wrapped in <information>...</information>. After receiving information, reason again in <think>. If confident, output your final answer in <answer>...</answer>. Do not output <answer> before receiving <information> unless you are fully confident. If you find no further external knowledge needed, you can directly provide the answer inside <answer> and </answer>, without detailed illustrations. For example, <answer> Beijing </answer>. Follow this process every time.";

/// The observation after a correct answer (reward 1, done).
pub const CORRECT: &str = "Congratulations! You have answered the question correctly.";

/// The observation after a wrong answer (reward 0, not done: the agent may try again).
pub const INCORRECT: &str = "Sorry, your answer is incorrect. Please try again.";

/// The observation after a reply with neither a complete `<search>` nor `<answer>` tag pair.
pub const INVALID: &str = "Your previous action is invalid. If you want to search, you should put the query between <search> and </search>. If you want to give the final answer, you should put the answer between <answer> and </answer>. Please try again.";

/// The first observation of an episode: [`QUESTION_PROMPT`], a blank line, then
/// ` Question: {question}` with the question stripped (Python's `str.strip`).
///
/// Quirk kept from the reference: the space before `Question:`.
pub fn first_observation(question: &str) -> String {
    format!("{QUESTION_PROMPT}\n\n Question: {}", py::strip(question))
}

/// Formats retrieved passages as the reference's `_passages2string` does, then wraps the
/// stripped result in `<information>…</information>`.
///
/// Each passage's `contents` is split at its first newline: the first line is the title (in the
/// wiki-18 layout it keeps its double quotes, so the reference shows `Doc 1(Title: "Paris") …`),
/// the rest is the text. Each document ends with a newline; the whole block is stripped.
pub fn information<'a>(contents: impl IntoIterator<Item = &'a str>) -> String {
    let mut block = String::new();
    for (index, content) in contents.into_iter().enumerate() {
        let (title, text) = content.split_once('\n').unwrap_or((content, ""));
        block.push_str(&format!("Doc {}(Title: {title}) {text}\n", index + 1));
    }
    format!("<information>{}</information>", py::strip(&block))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_observation_keeps_the_reference_layout() {
        let observation = first_observation("  who wrote hamlet?\n");
        assert!(observation.starts_with("You must reason inside <think>"));
        assert!(observation.ends_with("every time.\n\n Question: who wrote hamlet?"));
    }

    #[test]
    fn information_formats_like_passages2string() {
        let docs = [
            "\"Paris\"\nParis is the capital.",
            "\"Lyon\"\nLyon.\nSecond line.  ",
        ];
        assert_eq!(
            information(docs),
            "<information>Doc 1(Title: \"Paris\") Paris is the capital.\nDoc 2(Title: \"Lyon\") Lyon.\nSecond line.</information>"
        );
        assert_eq!(information([]), "<information></information>");
        assert_eq!(
            information(["no newline"]),
            "<information>Doc 1(Title: no newline)</information>"
        );
    }
}
