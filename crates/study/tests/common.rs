//! Helpers the test modules share: scratch folders and checks on finished commands.

use std::path::PathBuf;
use std::process::Output;

/// The scratch folder `crossgym-<name>-<pid>` in the temp dir, emptied (and not created).
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crossgym-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    dir
}

/// [`scratch`], created.
pub fn created_scratch(name: &str) -> PathBuf {
    let dir = scratch(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Asserts that a command succeeded, showing its stderr when it did not.
pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
