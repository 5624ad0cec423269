//! Small file helpers shared by the modules that read and write study files.

use std::fs;
use std::path::Path;

use crate::{Result, StudyError};

/// Reads a whole UTF-8 file, naming it in the error.
pub fn read_text(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| StudyError::io(path, e))
}

/// Writes `bytes` to `path` through a temporary file and a rename, creating parent folders, so a
/// crash never leaves a half-written file for a resumed run to trust.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| StudyError::io(parent, e))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    fs::write(&tmp, bytes).map_err(|e| StudyError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| StudyError::io(path, e))
}
