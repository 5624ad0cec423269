//! Models from the Hugging Face hub: the cache layout (read offline) and, with the `hub` feature,
//! downloads through `hf-hub`.
//!
//! The hub cache keeps `models--{owner}--{name}/refs/{revision}` (a commit hash) and
//! `models--{owner}--{name}/snapshots/{commit}/` (the files). [`cached_snapshot`] resolves a repo
//! and revision to that snapshot directory without any network, which is what offline machines
//! and tests use; [`Pretrained::load_dir`](crate::Pretrained::load_dir) then reads it.

use std::path::{Path, PathBuf};

use crate::{PolicyError, Result};

/// The hub cache directory: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
/// `~/.cache/huggingface/hub`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HF_HUB_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(home) = std::env::var_os("HF_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(home).join("hub");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache").join("huggingface").join("hub")
}

/// The cache folder of a model repo id (`Qwen/Qwen2.5-3B-Instruct` →
/// `models--Qwen--Qwen2.5-3B-Instruct`).
pub fn repo_folder(repo_id: &str) -> String {
    format!("models--{}", repo_id.replace('/', "--"))
}

/// The snapshot directory of `repo_id` at `revision` (a ref such as `main`, or a commit hash)
/// in the hub cache at `cache_dir`, or an error naming what is missing.
pub fn cached_snapshot(cache_dir: &Path, repo_id: &str, revision: &str) -> Result<PathBuf> {
    let repo = cache_dir.join(repo_folder(repo_id));
    if !repo.is_dir() {
        return Err(PolicyError::model(
            &repo,
            format!("{repo_id} is not in the hub cache"),
        ));
    }
    let ref_file = repo.join("refs").join(revision);
    let commit = if ref_file.is_file() {
        std::fs::read_to_string(&ref_file)
            .map_err(|e| PolicyError::io(&ref_file, e))?
            .trim()
            .to_owned()
    } else {
        revision.to_owned()
    };
    let snapshot = repo.join("snapshots").join(&commit);
    if snapshot.is_dir() {
        Ok(snapshot)
    } else {
        Err(PolicyError::model(
            &snapshot,
            format!("no snapshot for {repo_id} at revision {revision}"),
        ))
    }
}

/// Downloads (or finds in the cache) the config, tokenizer and safetensors files of `repo_id`
/// and returns the snapshot directory. Needs the `hub` feature and network access.
#[cfg(feature = "hub")]
pub fn download(repo_id: &str, revision: Option<&str>) -> Result<PathBuf> {
    let (owner, name) = repo_id
        .split_once('/')
        .ok_or_else(|| PolicyError::Fetch(format!("repo id {repo_id:?} is not owner/name")))?;
    let client = hf_hub::HFClientBuilder::new()
        .cache_dir(default_cache_dir())
        .build_sync()
        .map_err(|e| PolicyError::Fetch(format!("{repo_id}: {e}")))?;
    let patterns = ["*.json", "*.safetensors"].map(String::from).to_vec();
    client
        .model(owner, name)
        .snapshot_download()
        .maybe_revision(revision.map(String::from))
        .allow_patterns(patterns)
        .send()
        .map_err(|e| PolicyError::Fetch(format!("{repo_id}: {e}")))
}
