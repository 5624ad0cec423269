//! The one error type of the trainer.

use std::path::PathBuf;

/// A specialised `Result` for training operations.
pub type Result<T, E = GrpoError> = std::result::Result<T, E>;

/// What can go wrong while configuring, training or checkpointing.
///
/// Messages name the file, field or step at fault. A non-finite loss or gradient is *not* an
/// error: the update is skipped and recorded in the step's metrics.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GrpoError {
    /// A tensor operation failed (shape mismatch, device error, …).
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// An environment failed (bad task id, misuse); never caused by reply text.
    #[error(transparent)]
    Env(#[from] crossgym_env_core::EnvError),
    /// A configuration value is invalid.
    #[error("invalid configuration: {field}: {message}")]
    Config {
        /// The field at fault, dotted (`optimizer.lr`).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A TOML configuration file could not be parsed.
    #[error("{path}: {source}")]
    Toml {
        /// The file being read (or `<string>`).
        path: String,
        /// The parser's message, with line and column.
        #[source]
        source: toml::de::Error,
    },
    /// Inputs of a computation do not fit together (lengths, shapes, empty batches).
    #[error("{0}")]
    Input(String),
    /// A checkpoint is missing a piece or holds inconsistent data.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The checkpoint directory or file at fault.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The policy (model, tokenizer, rollout) failed.
    #[error("policy: {0}")]
    Policy(#[from] crossgym_policy::PolicyError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// JSON (de)serialisation failed.
    #[error("{context}: {source}")]
    Json {
        /// What was being read or written.
        context: String,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
}

impl GrpoError {
    /// A [`GrpoError::Config`] for `field`.
    pub fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Config {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A [`GrpoError::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// A [`GrpoError::Checkpoint`] for `path`.
    pub fn checkpoint(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Checkpoint {
            path: path.into(),
            message: message.into(),
        }
    }
}
