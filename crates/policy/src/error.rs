//! The one error type of the policy crate.

/// A specialised `Result` for policy operations.
pub type Result<T, E = PolicyError> = std::result::Result<T, E>;

/// What can go wrong when loading, running or sampling a model.
///
/// Messages name the file, tensor or field at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A tensor operation failed (shape mismatch, dtype, device).
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    /// A tokenizer could not be built, read, trained or run.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file at fault.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file (config, tokenizer, fixture) is malformed.
    #[error("{path}: {message}")]
    Json {
        /// The file at fault.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A model file (GGUF, safetensors, config) lacks something or holds something unsupported.
    #[error("{path}: {message}")]
    Model {
        /// The file (or directory) at fault.
        path: String,
        /// What is wrong, naming the tensor or field.
        message: String,
    },
    /// A configuration or argument is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The environment failed (misuse, missing data); never caused by reply text.
    #[error("env: {0}")]
    Env(#[from] crossgym_env_core::EnvError),
    /// A remote chat-completions server failed or answered something unexpected.
    #[error("{url}: {message}")]
    Remote {
        /// The endpoint.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A package registry or hub could not be reached (offline machine).
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// A model could not be fetched (registry or hub unreachable, tool missing).
    #[error("fetch: {0}")]
    Fetch(String),
}

impl PolicyError {
    /// A [`PolicyError::Io`] for `path`.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }

    /// A [`PolicyError::Model`] for `path`.
    pub fn model(path: impl AsRef<std::path::Path>, message: impl Into<String>) -> Self {
        Self::Model {
            path: path.as_ref().display().to_string(),
            message: message.into(),
        }
    }

    /// A [`PolicyError::Json`] for `path`.
    pub fn json(path: impl AsRef<std::path::Path>, message: impl std::fmt::Display) -> Self {
        Self::Json {
            path: path.as_ref().display().to_string(),
            message: message.to_string(),
        }
    }

    pub(crate) fn tokenizer(message: impl std::fmt::Display) -> Self {
        Self::Tokenizer(message.to_string())
    }
}
