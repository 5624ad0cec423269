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

/// Reads a JSON file into `T`, naming the file in the error.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = read_text(path)?;
    serde_json::from_str(&text).map_err(|e| StudyError::parse(path.display().to_string(), e))
}

/// Reads a TOML file into `T`, naming the file in the error.
pub fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = read_text(path)?;
    toml::from_str(&text).map_err(|e| StudyError::parse(path.display().to_string(), e))
}

/// Writes `value` as pretty-printed TOML with [`write_atomic`].
pub fn write_toml_atomic<T: serde::Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let text = toml::to_string_pretty(value)
        .map_err(|e| StudyError::parse(path.display().to_string(), e))?;
    write_atomic(path, text.as_bytes())
}

/// Reads a JSON Lines file into one `T` a line (blank lines skipped); an error names the file and
/// the line.
pub fn read_jsonl_of<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let text = read_text(path)?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line)
                .map_err(|e| StudyError::parse(format!("{}:{}", path.display(), index + 1), e))
        })
        .collect()
}

/// Writes `value` as pretty-printed JSON with [`write_atomic`].
pub fn write_json_atomic<T: serde::Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| StudyError::parse(path.display().to_string(), e))?;
    write_atomic(path, text.as_bytes())
}

/// Drops a torn last line of the JSON Lines file at `path`: every append ends with a newline, so
/// bytes after the last newline are a write that a crash cut short (a kill mid-append). The
/// complete lines before it stay; the next append starts on a clean line, and the resumed run
/// redoes what the torn line held. A missing file is fine. Says on stderr what it dropped, and
/// returns the number of bytes cut.
pub fn drop_torn_tail(path: &Path) -> Result<u64> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(StudyError::io(path, e)),
    };
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(0);
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let cut = (bytes.len() - keep) as u64;
    let file = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| StudyError::io(path, e))?;
    file.set_len(keep as u64)
        .and_then(|()| file.sync_all())
        .map_err(|e| StudyError::io(path, e))?;
    eprintln!(
        "crossgym: {}: dropped a torn last line ({cut} bytes) left by an interrupted write",
        path.display()
    );
    Ok(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_dropped_and_complete_lines_stay() {
        let dir = std::env::temp_dir().join(format!("crossgym-io-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.jsonl");
        assert_eq!(drop_torn_tail(&path).unwrap(), 0);
        fs::write(&path, "{\"a\":1}\n{\"a\":2}\n{\"a\"").unwrap();
        assert_eq!(drop_torn_tail(&path).unwrap(), 4);
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\"a\":1}\n{\"a\":2}\n");
        assert_eq!(drop_torn_tail(&path).unwrap(), 0);
        fs::write(&path, "{\"a\"").unwrap();
        assert_eq!(drop_torn_tail(&path).unwrap(), 4);
        assert_eq!(fs::read_to_string(&path).unwrap(), "");
        fs::remove_dir_all(&dir).ok();
    }
}
