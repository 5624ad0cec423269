//! The one error type of the environment contract.

use crate::TaskId;

/// A specialised `Result` for environment operations.
pub type Result<T, E = EnvError> = std::result::Result<T, E>;

/// What can go wrong when driving an environment.
///
/// Every message names the environment, and the task where one is involved, so a failure inside a
/// study of thousands of episodes can be traced back to its cause. A *reply* the agent writes is
/// never an error: bad replies get the reference's error observation through [`crate::Step`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvError {
    /// The task id is outside the env's task list.
    #[error("{env}: unknown task {task} (the env has {num_tasks} tasks, ids 0..{num_tasks})")]
    UnknownTask {
        /// Env name.
        env: String,
        /// The id that was asked for.
        task: TaskId,
        /// How many tasks the env has.
        num_tasks: usize,
    },
    /// `step` was called before any `reset`.
    #[error("{env}: step called before reset")]
    NotReset {
        /// Env name.
        env: String,
    },
    /// `step` was called after the episode had ended; call `reset` first.
    #[error("{env}: step called after task {task} ended (done); call reset")]
    EpisodeFinished {
        /// Env name.
        env: String,
        /// The task whose episode ended.
        task: TaskId,
    },
    /// A task could not be built (e.g. a generator or game file failed for this task).
    #[error("{env}: task {task}: {message}")]
    Task {
        /// Env name.
        env: String,
        /// The task at fault.
        task: TaskId,
        /// What went wrong.
        message: String,
    },
    /// A data file (recipes, catalogue, corpus, game file, fixture) is missing or malformed.
    #[error("{env}: {path}: {message}")]
    Data {
        /// Env name.
        env: String,
        /// The file at fault (or a description of the in-memory source).
        path: String,
        /// What is wrong with it, naming the record and field where possible.
        message: String,
    },
    /// A configuration value is invalid.
    #[error("{env}: invalid configuration: {message}")]
    Config {
        /// Env name.
        env: String,
        /// What is wrong.
        message: String,
    },
    /// A train/test split was asked for that cannot be built.
    #[error("{env}: invalid task split: {message}")]
    Split {
        /// Env name.
        env: String,
        /// What is wrong.
        message: String,
    },
    /// The registry has no env of this name.
    #[error("no env named {name:?} is registered (known: {known})")]
    UnknownEnv {
        /// The name that was asked for.
        name: String,
        /// The registered names, comma-separated.
        known: String,
    },
    /// An I/O error while reading the env's data.
    #[error("{env}: {path}: {source}")]
    Io {
        /// Env name.
        env: String,
        /// The file being read or written.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl EnvError {
    /// A [`EnvError::Data`] for `env` and `path`.
    pub fn data(env: &str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Data {
            env: env.to_owned(),
            path: path.into(),
            message: message.into(),
        }
    }

    /// A [`EnvError::Task`] for `env` and `task`.
    pub fn task(env: &str, task: TaskId, message: impl Into<String>) -> Self {
        Self::Task {
            env: env.to_owned(),
            task,
            message: message.into(),
        }
    }

    /// An [`EnvError::Io`] for `env` and `path`.
    pub fn io(env: &str, path: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            env: env.to_owned(),
            path: path.into(),
            source,
        }
    }
}
