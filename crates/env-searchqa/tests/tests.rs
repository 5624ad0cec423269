//! Integration tests of crossgym-env-searchqa (one test binary, ripgrep style).

mod common;
mod conformance;
mod default_tasks;
mod loaders;
mod properties;
mod scale;
