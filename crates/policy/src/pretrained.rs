//! [`Pretrained`]: a model with its tokenizer and chat template, from a directory or a GGUF file.

use std::path::Path;

use candle_core::{DType, Device};

use crate::{CausalLm, ChatTemplate, PolicyError, Result, Tokenizer};

/// A model together with the tokenizer and chat template it was trained with.
#[derive(Clone, Debug)]
pub struct Pretrained {
    /// The trainable model.
    pub model: CausalLm,
    /// Its tokenizer.
    pub tokenizer: Tokenizer,
    /// Its chat template.
    pub template: ChatTemplate,
}

impl Pretrained {
    /// Loads a model directory: `config.json`, `*.safetensors`, `tokenizer.json`, and the chat
    /// template from `tokenizer_config.json` (plain ChatML without a default system prompt when
    /// that file or its `chat_template` is absent). A hub snapshot directory works as is.
    pub fn load_dir(dir: impl AsRef<Path>, dtype: DType, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let model = CausalLm::load_dir(dir, dtype, device)?;
        let tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))?;
        let template = read_template(&dir.join("tokenizer_config.json"))?;
        Ok(Self {
            model,
            tokenizer,
            template,
        })
    }

    /// Loads a model directory ([`Pretrained::load_dir`]) or a `.gguf` file
    /// ([`Pretrained::load_gguf`]), whichever `path` is.
    pub fn load(path: impl AsRef<Path>, dtype: DType, device: &Device) -> Result<Self> {
        let path = path.as_ref();
        if path.is_dir() {
            Self::load_dir(path, dtype, device)
        } else if path.extension().is_some_and(|e| e == "gguf") {
            Self::load_gguf(path, dtype, device)
        } else {
            Err(PolicyError::Config(format!(
                "{} is neither a model directory nor a .gguf file",
                path.display()
            )))
        }
    }

    /// Saves as [`Pretrained::save`] does, atomically: into `DIR.tmp`, then renamed over `dir`,
    /// so an interrupted save leaves the previous model (or none), never a partial one.
    pub fn save_atomic(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        let tmp = dir.with_extension("tmp");
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| PolicyError::io(&tmp, e))?;
        }
        std::fs::create_dir_all(&tmp).map_err(|e| PolicyError::io(&tmp, e))?;
        self.save(&tmp)?;
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| PolicyError::io(dir, e))?;
        }
        std::fs::rename(&tmp, dir).map_err(|e| PolicyError::io(dir, e))
    }

    /// Loads a GGUF file (see [`crate::load_gguf`]).
    pub fn load_gguf(path: impl AsRef<Path>, dtype: DType, device: &Device) -> Result<Self> {
        crate::load_gguf(path, dtype, device)
    }

    /// Saves model, `tokenizer.json` and a `tokenizer_config.json` holding the ChatML template,
    /// so [`Pretrained::load_dir`] (and transformers) read the directory back.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        self.model.save(dir)?;
        self.tokenizer.save(dir.join("tokenizer.json"))?;
        let path = dir.join("tokenizer_config.json");
        let config = serde_json::json!({
            "chat_template": chatml_jinja(&self.template),
            "eos_token": crate::tokenizer::IM_END,
            "pad_token": crate::tokenizer::IM_END,
            "add_bos_token": false,
        });
        let text = serde_json::to_string_pretty(&config).unwrap_or_default();
        std::fs::write(&path, text).map_err(|e| PolicyError::io(&path, e))
    }
}

fn read_template(path: &Path) -> Result<ChatTemplate> {
    if !path.exists() {
        return Ok(ChatTemplate::chatml(None));
    }
    let text = std::fs::read_to_string(path).map_err(|e| PolicyError::io(path, e))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| PolicyError::json(path, e))?;
    match value.get("chat_template").and_then(|v| v.as_str()) {
        Some(jinja) => ChatTemplate::from_jinja(jinja)
            .ok_or_else(|| PolicyError::json(path, "chat_template is not a ChatML template")),
        None => Ok(ChatTemplate::chatml(None)),
    }
}

/// A Jinja ChatML template equivalent to `template` (SmolLM2's form).
fn chatml_jinja(template: &ChatTemplate) -> String {
    let default = match &template.default_system {
        Some(system) => format!(
            "{{% if loop.first and messages[0]['role'] != 'system' %}}{{{{ '<|im_start|>system\n{}<|im_end|>\n' }}}}{{% endif %}}",
            system.replace('\'', "\\'")
        ),
        None => String::new(),
    };
    format!(
        "{{% for message in messages %}}{default}{{{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}}}{{% endfor %}}{{% if add_generation_prompt %}}{{{{ '<|im_start|>assistant\n' }}}}{{% endif %}}"
    )
}
