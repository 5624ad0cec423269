//! Asking for an env by name.
//!
//! env-core cannot know the env crates (they depend on it), so the registry is filled at run time
//! by whoever links them (the study harness, a user's binary).

use std::collections::BTreeMap;

use crate::{Env, EnvError, Result};

/// Builds a fresh env.
pub type EnvFactory = Box<dyn Fn() -> Result<Box<dyn Env>> + Send + Sync>;

/// Env factories by name.
#[derive(Default)]
pub struct Registry {
    factories: BTreeMap<String, EnvFactory>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("names", &self.names().collect::<Vec<_>>())
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a factory under `name`; fails if the name is taken.
    pub fn register<F>(&mut self, name: &str, factory: F) -> Result<()>
    where
        F: Fn() -> Result<Box<dyn Env>> + Send + Sync + 'static,
    {
        if self.factories.contains_key(name) {
            return Err(EnvError::Config {
                env: name.to_owned(),
                message: "an env of this name is already registered".to_owned(),
            });
        }
        self.factories.insert(name.to_owned(), Box::new(factory));
        Ok(())
    }

    /// Builds the env registered as `name`.
    pub fn make(&self, name: &str) -> Result<Box<dyn Env>> {
        match self.factories.get(name) {
            Some(factory) => factory(),
            None => Err(EnvError::UnknownEnv {
                name: name.to_owned(),
                known: self.names().collect::<Vec<_>>().join(", "),
            }),
        }
    }

    /// The registered names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.factories.keys().map(String::as_str)
    }

    /// Whether `name` is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.factories.contains_key(name)
    }
}
