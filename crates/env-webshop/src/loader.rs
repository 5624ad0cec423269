//! Reading the reference's files (`items_shuffle_1000.json`, `items_ins_v2_1000.json`, an
//! optional noun table) with errors that name the file, the record and the field.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crossgym_env_core::{EnvError, Result};
use serde::Deserialize;

use crate::catalogue::{Catalogue, NounTable, PriceSource};
use crate::product::{ItemAttributes, RawProduct};

/// The environment variable naming a directory with the reference's files.
pub const DATA_ENV_VAR: &str = "CROSSGYM_WEBSHOP_DATA";

/// The products file name.
pub const PRODUCTS_FILE: &str = "items_shuffle_1000.json";
/// The attributes/instructions file name.
pub const ATTRIBUTES_FILE: &str = "items_ins_v2_1000.json";
/// The optional noun table file name.
pub const NOUNS_FILE: &str = "noun_table.json";

/// Where the reference's files are and how to load them.
#[derive(Clone, Debug, PartialEq)]
pub struct DataFiles {
    /// The products file.
    pub products: PathBuf,
    /// The attributes file.
    pub attributes: PathBuf,
    /// An optional noun table: `{title: [nouns]}` or the fixtures' `{"table": {title: {"nouns": [...]}}}`.
    pub nouns: Option<PathBuf>,
    /// Keep only the first N raw records (the reference's `num_products=1000`).
    pub num_products: Option<usize>,
}

impl DataFiles {
    /// The standard file names inside `dir` (the noun table only if present).
    pub fn in_dir(dir: impl AsRef<Path>) -> Self {
        let dir = dir.as_ref();
        let nouns = dir.join(NOUNS_FILE);
        Self {
            products: dir.join(PRODUCTS_FILE),
            attributes: dir.join(ATTRIBUTES_FILE),
            nouns: nouns.is_file().then_some(nouns),
            num_products: Some(1000),
        }
    }

    /// [`DataFiles::in_dir`] of `$CROSSGYM_WEBSHOP_DATA`, if set.
    pub fn from_env() -> Option<Self> {
        std::env::var_os(DATA_ENV_VAR)
            .filter(|dir| !dir.is_empty())
            .map(Self::in_dir)
    }

    /// Reads, checks and processes the files into a catalogue.
    pub fn load(&self, prices: &PriceSource) -> Result<Catalogue> {
        let mut raw = read_products(&self.products)?;
        if let Some(n) = self.num_products {
            raw.truncate(n);
        }
        let attributes = read_attributes(&self.attributes)?;
        let nouns = match &self.nouns {
            Some(path) => read_nouns(path)?,
            None => NounTable::new(),
        };
        Catalogue::build(
            &self.products.display().to_string(),
            &raw,
            &attributes,
            prices,
            nouns,
        )
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| EnvError::io(crate::NAME, path.display().to_string(), e))
}

/// Parses a products file (a JSON list of raw products).
pub fn parse_products(source: &str, text: &str) -> Result<Vec<RawProduct>> {
    serde_json::from_str(text).map_err(|error| {
        locate(source, text, &error, |value| {
            RawProduct::deserialize(value).map(|_| ())
        })
    })
}

/// Reads a products file.
pub fn read_products(path: &Path) -> Result<Vec<RawProduct>> {
    parse_products(&path.display().to_string(), &read(path)?)
}

/// Parses an attributes file (`{asin: {attributes, instruction, instruction_attributes}}`).
pub fn parse_attributes(source: &str, text: &str) -> Result<HashMap<String, ItemAttributes>> {
    serde_json::from_str(text).map_err(|error| {
        let detail = serde_json::from_str::<HashMap<String, serde_json::Value>>(text)
            .ok()
            .and_then(|map| {
                map.iter().find_map(|(asin, value)| {
                    ItemAttributes::deserialize(value)
                        .err()
                        .map(|e| format!("entry {asin:?}: {e}"))
                })
            });
        EnvError::data(
            crate::NAME,
            source,
            detail.unwrap_or_else(|| error.to_string()),
        )
    })
}

/// Reads an attributes file.
pub fn read_attributes(path: &Path) -> Result<HashMap<String, ItemAttributes>> {
    parse_attributes(&path.display().to_string(), &read(path)?)
}

/// Parses a noun table in either supported form.
pub fn parse_nouns(source: &str, text: &str) -> Result<NounTable> {
    #[derive(Deserialize)]
    struct Entry {
        nouns: Vec<String>,
    }
    #[derive(Deserialize)]
    struct Wrapped {
        table: HashMap<String, Entry>,
    }
    if let Ok(wrapped) = serde_json::from_str::<Wrapped>(text) {
        return Ok(wrapped
            .table
            .into_iter()
            .map(|(title, entry)| (title, entry.nouns))
            .collect());
    }
    serde_json::from_str::<NounTable>(text).map_err(|error| {
        EnvError::data(
            crate::NAME,
            source,
            format!("expected {{title: [nouns]}} or {{\"table\": {{title: {{\"nouns\": [...]}}}}}}: {error}"),
        )
    })
}

/// Reads a noun table.
pub fn read_nouns(path: &Path) -> Result<NounTable> {
    parse_nouns(&path.display().to_string(), &read(path)?)
}

/// Turns a whole-file parse error into one naming the record (index and asin) and the field.
fn locate(
    source: &str,
    text: &str,
    error: &serde_json::Error,
    check: impl Fn(&serde_json::Value) -> std::result::Result<(), serde_json::Error>,
) -> EnvError {
    let detail = serde_json::from_str::<Vec<serde_json::Value>>(text)
        .ok()
        .and_then(|records| {
            records.iter().enumerate().find_map(|(index, record)| {
                check(record).err().map(|e| {
                    let asin = record
                        .get("asin")
                        .map(|a| a.to_string())
                        .unwrap_or_else(|| "?".to_owned());
                    format!("record {index} (asin {asin}): {e}")
                })
            })
        });
    EnvError::data(
        crate::NAME,
        source,
        detail.unwrap_or_else(|| error.to_string()),
    )
}
