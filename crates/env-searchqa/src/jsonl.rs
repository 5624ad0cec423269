//! The reference's JSON-lines files (corpora, question sets): one record a line, blank lines
//! skipped, every error naming the file and the line.

use std::io::{BufRead, BufReader};
use std::path::Path;

use crossgym_env_core::EnvError;
use serde::de::DeserializeOwned;

use crate::{NAME, Result};

/// An error in line `number` of `source`.
pub(crate) fn line_error(source: &str, number: usize, message: impl std::fmt::Display) -> EnvError {
    EnvError::data(NAME, source, format!("line {number}: {message}"))
}

/// Calls `each` with the line number and record of every non-blank line of `reader`, in file
/// order (`what` names the record's shape in errors); returns how many records were read.
pub(crate) fn for_each_record<T: DeserializeOwned>(
    reader: impl BufRead,
    source: &str,
    what: &str,
    mut each: impl FnMut(usize, T) -> Result<()>,
) -> Result<usize> {
    let mut count = 0;
    for (index, line) in reader.lines().enumerate() {
        let number = index + 1;
        let line =
            line.map_err(|error| line_error(source, number, format!("cannot read: {error}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: T = serde_json::from_str(&line)
            .map_err(|error| line_error(source, number, format!("not a {what}: {error}")))?;
        each(number, record)?;
        count += 1;
    }
    Ok(count)
}

/// Opens `path` for [`for_each_record`]-style reading; the error names the file.
pub(crate) fn open(path: &Path) -> Result<(BufReader<std::fs::File>, String)> {
    let source = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|error| EnvError::io(NAME, &source, error))?;
    Ok((BufReader::new(file), source))
}
