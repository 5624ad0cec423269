//! Tokenizers: a hub `tokenizer.json`, one rebuilt from a GGUF file's vocabulary, or a small
//! byte-level BPE trained here.

use std::path::Path;

use serde_json::{Value, json};
use tokenizers::AddedToken;
use tokenizers::models::TrainerWrapper;
use tokenizers::models::bpe::BpeTrainerBuilder;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;

use crate::{PolicyError, Result};

/// ChatML's turn opener.
pub const IM_START: &str = "<|im_start|>";
/// ChatML's turn closer (also the end of an assistant reply).
pub const IM_END: &str = "<|im_end|>";

/// GPT-2's pre-tokenizer regex as Qwen2 extends it (contractions case-insensitive, single digits).
const QWEN2_SPLIT_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Parses a `tokenizer.json`. `tokenizers` 0.23 panics (`expect("Helper")`) on some malformed
/// `decoder` objects instead of failing; that panic is caught here and becomes an error.
fn parse_json(json: &str) -> std::result::Result<tokenizers::Tokenizer, String> {
    match std::panic::catch_unwind(|| json.parse::<tokenizers::Tokenizer>()) {
        Ok(parsed) => parsed.map_err(|e| e.to_string()),
        Err(payload) => {
            let why = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            Err(format!("malformed tokenizer JSON ({why})"))
        }
    }
}

/// A text tokenizer (the `tokenizers` crate) with the ChatML ids looked up once.
///
/// [`Tokenizer::encode`] never adds BOS/EOS or template tokens, and recognises special tokens
/// written in the text (so a rendered ChatML string encodes to the template's ids).
#[derive(Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("vocab_size", &self.vocab_size())
            .finish()
    }
}

impl Tokenizer {
    /// Reads a `tokenizer.json`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path)
            .map_err(|e| PolicyError::model(path, format!("tokenizer: {e}")))?;
        let inner =
            parse_json(&json).map_err(|e| PolicyError::model(path, format!("tokenizer: {e}")))?;
        Ok(Self { inner })
    }

    /// Parses the JSON text of a `tokenizer.json`.
    pub fn from_json(json: &str) -> Result<Self> {
        let inner = parse_json(json).map_err(PolicyError::tokenizer)?;
        Ok(Self { inner })
    }

    /// Wraps a `tokenizers` tokenizer.
    pub fn from_inner(inner: tokenizers::Tokenizer) -> Self {
        Self { inner }
    }

    /// Builds a byte-level BPE tokenizer from a GGUF vocabulary.
    ///
    /// `tokens`, `merges` (`"a b"` strings) and `token_types` are GGUF's `tokenizer.ggml.*`
    /// arrays; `pre` is `tokenizer.ggml.pre`. Control (3) and user-defined (4) tokens become added
    /// tokens (control ones special). Pre-tokenizers: `smollm` is llama.cpp's
    /// `["\p{N}", GPT-2 regex]` = HF `Sequence[Digits(individual), ByteLevel(no prefix space)]`
    /// (candle's and transformers' converters both get this one wrong); `qwen2` the Qwen2 split
    /// regex; `gpt2`/`default` plain GPT-2 byte-level.
    pub fn from_gguf_vocab(
        tokens: &[String],
        merges: &[String],
        token_types: &[i32],
        pre: &str,
    ) -> Result<Self> {
        let pre_tokenizer = match pre {
            "smollm" => json!({"type": "Sequence", "pretokenizers": [
                {"type": "Digits", "individual_digits": true},
                {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}
            ]}),
            "qwen2" => json!({"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": QWEN2_SPLIT_REGEX}, "behavior": "Isolated", "invert": false},
                {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}
            ]}),
            "gpt2" | "default" => {
                json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true})
            }
            other => {
                return Err(PolicyError::tokenizer(format!(
                    "GGUF pre-tokenizer {other:?} is not supported (smollm, qwen2, gpt2)"
                )));
            }
        };
        let vocab: serde_json::Map<String, Value> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), json!(i)))
            .collect();
        let merges: Vec<Value> = merges
            .iter()
            .map(|m| {
                m.split_once(' ')
                    .map(|(a, b)| json!([a, b]))
                    .ok_or_else(|| PolicyError::tokenizer(format!("GGUF merge {m:?} has no space")))
            })
            .collect::<Result<_>>()?;
        let added: Vec<Value> = tokens
            .iter()
            .enumerate()
            .filter(|(i, _)| matches!(token_types.get(*i), Some(3 | 4)))
            .map(|(i, t)| {
                json!({"id": i, "content": t, "single_word": false, "lstrip": false,
                       "rstrip": false, "normalized": false, "special": token_types[i] == 3})
            })
            .collect();
        let doc = json!({
            "version": "1.0", "truncation": null, "padding": null,
            "added_tokens": added, "normalizer": null, "pre_tokenizer": pre_tokenizer,
            "post_processor": null,
            "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
            "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false,
                      "ignore_merges": false, "vocab": vocab, "merges": merges}
        });
        Self::from_json(&doc.to_string())
    }

    /// Trains a byte-level BPE (GPT-2 regex, no prefix space) of at most `vocab_size` tokens on
    /// `texts`, with `special_tokens` (e.g. [`IM_START`], [`IM_END`]) first in the vocabulary.
    /// Deterministic for the same inputs.
    pub fn train_bpe<S: AsRef<str> + Send>(
        texts: impl Iterator<Item = S> + Send,
        vocab_size: usize,
        special_tokens: &[&str],
    ) -> Result<Self> {
        let doc = json!({
            "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
            "normalizer": null,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
            "post_processor": null,
            "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
            "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false,
                      "ignore_merges": false, "vocab": {}, "merges": []}
        });
        let mut inner: tokenizers::Tokenizer =
            doc.to_string().parse().map_err(PolicyError::tokenizer)?;
        let specials: Vec<AddedToken> = special_tokens
            .iter()
            .map(|s| AddedToken::from(s.to_string(), true))
            .collect();
        let mut trainer: TrainerWrapper = BpeTrainerBuilder::new()
            .vocab_size(vocab_size)
            .min_frequency(1)
            .show_progress(false)
            .special_tokens(specials.clone())
            .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
            .build()
            .into();
        inner
            .train(&mut trainer, texts)
            .map_err(PolicyError::tokenizer)?;
        inner
            .add_special_tokens(specials)
            .map_err(PolicyError::tokenizer)?;
        Ok(Self { inner })
    }

    /// Writes the tokenizer as `tokenizer.json` text to `path`.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        self.inner
            .save(path, false)
            .map_err(|e| PolicyError::model(path, format!("tokenizer: {e}")))
    }

    /// Token ids of `text`; no BOS/EOS added; special tokens in the text are recognised.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        Ok(self
            .inner
            .encode(text, false)
            .map_err(PolicyError::tokenizer)?
            .get_ids()
            .to_vec())
    }

    /// The byte-level token strings of `text`.
    pub fn tokens(&self, text: &str) -> Result<Vec<String>> {
        Ok(self
            .inner
            .encode(text, false)
            .map_err(PolicyError::tokenizer)?
            .get_tokens()
            .to_vec())
    }

    /// Text of `ids`; special tokens kept unless `skip_special`.
    pub fn decode(&self, ids: &[u32], skip_special: bool) -> Result<String> {
        self.inner
            .decode(ids, skip_special)
            .map_err(PolicyError::tokenizer)
    }

    /// The id of a token string (vocabulary or added token).
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// The token string of an id.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// Vocabulary size including added tokens.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The id of `<|im_end|>`, which ends every assistant turn.
    pub fn im_end_id(&self) -> Result<u32> {
        self.token_to_id(IM_END)
            .ok_or_else(|| PolicyError::tokenizer("the vocabulary has no <|im_end|> token"))
    }

    /// The id of `<|im_start|>`.
    pub fn im_start_id(&self) -> Result<u32> {
        self.token_to_id(IM_START)
            .ok_or_else(|| PolicyError::tokenizer("the vocabulary has no <|im_start|> token"))
    }

    /// The wrapped `tokenizers` tokenizer.
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `policy_tokenizer` fuzz target: a syntax error inside `decoder` made
    /// `tokenizers` panic (`expect("Helper")`) instead of failing.
    #[test]
    fn a_malformed_decoder_is_an_error_not_a_panic() {
        let json = r#"{"decoder": {"type": "ByteLevel", "add_prefix_space": tru}, "model": {}}"#;
        let error = Tokenizer::from_json(json).expect_err("malformed");
        assert!(
            error.to_string().contains("malformed tokenizer JSON"),
            "{error}"
        );
        let dir = std::env::temp_dir().join(format!("crossgym-tok-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokenizer.json");
        std::fs::write(&path, json).unwrap();
        let error = Tokenizer::from_file(&path).expect_err("malformed");
        assert!(error.to_string().contains("tokenizer.json"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
