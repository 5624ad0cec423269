//! The one error type of the study harness.

use std::path::{Path, PathBuf};

/// A specialised `Result` for the study harness.
pub type Result<T, E = StudyError> = std::result::Result<T, E>;

/// What can go wrong in the study harness.
///
/// Every message names the file, record or field at fault, so a failure in a long study can be
/// traced back to its cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StudyError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file at fault.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file's content is malformed (JSON, JSONL, TOML, CSV).
    #[error("{path}: {message}")]
    Parse {
        /// The file at fault (with `:line` for line-oriented files).
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// Data is well-formed but not usable (empty sample set, unknown env, bad plan).
    #[error("{context}: {message}")]
    Invalid {
        /// What was being checked (a plan, a result set, a split).
        context: String,
        /// What is wrong.
        message: String,
    },
    /// An environment error (from `crossgym-env-core`).
    #[error(transparent)]
    Env(#[from] crossgym_env_core::EnvError),
    /// A model error (loading, tokenizing, sampling; from `crossgym-policy`).
    #[error(transparent)]
    Policy(#[from] crossgym_policy::PolicyError),
    /// A training error (config, update, checkpoint; from `crossgym-grpo`).
    #[error(transparent)]
    Training(#[from] crossgym_grpo::GrpoError),
    /// The LLM judge endpoint failed or answered something unusable.
    #[error("LLM judge at {endpoint}: {message}")]
    Judge {
        /// The endpoint URL.
        endpoint: String,
        /// What went wrong.
        message: String,
    },
    /// A plot could not be drawn.
    #[error("plot {name}: {message}")]
    Plot {
        /// The plot's name (e.g. `figure2-turns`).
        name: String,
        /// What went wrong.
        message: String,
    },
}

impl StudyError {
    /// An [`StudyError::Io`] for `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// A [`StudyError::Parse`] for `path`.
    pub fn parse(path: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Self::Parse {
            path: path.into(),
            message: message.to_string(),
        }
    }

    /// A [`StudyError::Invalid`] for `context`.
    pub fn invalid(context: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            context: context.into(),
            message: message.into(),
        }
    }
}
