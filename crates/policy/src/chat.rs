//! Chat messages and the ChatML template both model families use.

use serde::{Deserialize, Serialize};

use crate::tokenizer::{IM_END, IM_START};

/// Who speaks a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The system prompt.
    System,
    /// The user; in a rollout, the env (instruction, observations).
    User,
    /// The model.
    Assistant,
}

impl Role {
    /// The role's name in the template (`system`, `user`, `assistant`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One chat message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub content: String,
}

impl Message {
    /// A message.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }

    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }
}

/// The ChatML template: `<|im_start|>{role}\n{content}<|im_end|>\n` per message, then
/// `<|im_start|>assistant\n` as the generation prompt.
///
/// Both SmolLM2's and Qwen2.5's templates insert a default system message when the chat does not
/// start with one; [`ChatTemplate::default_system`] holds it (`None`: nothing is inserted).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChatTemplate {
    /// The system prompt inserted when the first message is not a system message.
    pub default_system: Option<String>,
}

impl ChatTemplate {
    /// ChatML with an optional default system prompt.
    pub fn chatml(default_system: Option<String>) -> Self {
        Self { default_system }
    }

    /// Reads the default system prompt out of a model's Jinja ChatML template (GGUF
    /// `tokenizer.chat_template` or `tokenizer_config.json`): the text of the literal
    /// `<|im_start|>system\n…<|im_end|>` block, with `\n` escapes resolved. Returns `None` when the
    /// template is not ChatML.
    pub fn from_jinja(template: &str) -> Option<Self> {
        if !template.contains(IM_START) || !template.contains(IM_END) {
            return None;
        }
        let opener = format!("{IM_START}system");
        let default_system = template.match_indices(&opener).find_map(|(at, _)| {
            let rest = &template[at + opener.len()..];
            let rest = rest
                .strip_prefix('\n')
                .or_else(|| rest.strip_prefix("\\n"))?;
            let text = &rest[..rest.find(IM_END)?];
            // Only a literal counts, not a stretch of Jinja code between two literals.
            (!text.contains(['\'', '{', '}', '%'])).then(|| text.replace("\\n", "\n"))
        });
        Some(Self { default_system })
    }

    /// The rendered chat, identical to HF `apply_chat_template(.., tokenize=False)` for
    /// system/user/assistant messages.
    pub fn render(&self, messages: &[Message], add_generation_prompt: bool) -> String {
        let mut out = String::new();
        if let Some(system) = &self.default_system
            && messages.first().is_some_and(|m| m.role != Role::System)
        {
            out.push_str(&Self::turn(Role::System, system));
        }
        for m in messages {
            out.push_str(&Self::turn(m.role, &m.content));
        }
        if add_generation_prompt {
            out.push_str(&Self::generation_prompt());
        }
        out
    }

    /// One whole turn: `<|im_start|>{role}\n{content}<|im_end|>\n`.
    pub fn turn(role: Role, content: &str) -> String {
        format!("{IM_START}{}\n{content}{IM_END}\n", role.as_str())
    }

    /// The generation prompt `<|im_start|>assistant\n`.
    pub fn generation_prompt() -> String {
        format!("{IM_START}assistant\n")
    }
}
