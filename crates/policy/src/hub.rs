//! Models from the Hugging Face hub: the cache layout (read offline) and, with the `hub` feature,
//! downloads through `hf-hub`.
//!
//! The hub cache keeps `models--{owner}--{name}/refs/{revision}` (a commit hash) and
//! `models--{owner}--{name}/snapshots/{commit}/` (the files). [`HubCache::resolve`] is the one
//! way the study finds a hub model: offline (`HF_HUB_OFFLINE=1`, or a build without the `hub`
//! feature) it only reads the cache; online it asks hf-hub, which fills the cache.
//! [`Pretrained::load_dir`](crate::Pretrained::load_dir) then reads the snapshot directory.

use std::path::{Path, PathBuf};

use crate::{PolicyError, Result};

/// The hub cache directory: `$HF_HUB_CACHE`, else `$HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`,
/// else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub` (hf-hub's order).
pub fn default_cache_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|d| !d.is_empty());
    if let Some(dir) = var("HF_HUB_CACHE").or_else(|| var("HUGGINGFACE_HUB_CACHE")) {
        return PathBuf::from(dir);
    }
    if let Some(home) = var("HF_HOME") {
        return PathBuf::from(home).join("hub");
    }
    if let Some(xdg) = var("XDG_CACHE_HOME") {
        return PathBuf::from(xdg).join("huggingface").join("hub");
    }
    let home = var("HOME").map(PathBuf::from).unwrap_or_default();
    home.join(".cache").join("huggingface").join("hub")
}

/// Whether `HF_HUB_OFFLINE` asks for no network (`1`, `true`, `yes` or `on`, as in
/// huggingface_hub).
pub fn offline_from_env() -> bool {
    std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    })
}

/// Where hub models are looked up: a cache directory, and whether the network may be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubCache {
    /// The cache directory (the `hub` folder under `HF_HOME`).
    pub dir: PathBuf,
    /// Read the cache only, never the network.
    pub offline: bool,
}

impl HubCache {
    /// The cache of the environment: [`default_cache_dir`] and [`offline_from_env`].
    pub fn from_env() -> Self {
        Self {
            dir: default_cache_dir(),
            offline: offline_from_env(),
        }
    }

    /// The snapshot directory of `repo_id` at `revision` (default `main`). Offline, or without
    /// the `hub` feature, it must be in the cache already (an error names the repo id and the
    /// path searched); online (`hub` feature) hf-hub downloads the config, tokenizer and
    /// safetensors files into the cache first.
    pub fn resolve(&self, repo_id: &str, revision: Option<&str>) -> Result<PathBuf> {
        #[cfg(feature = "hub")]
        {
            download_into(&self.dir, repo_id, revision, self.offline)
        }
        #[cfg(not(feature = "hub"))]
        {
            cached_snapshot(&self.dir, repo_id, revision.unwrap_or("main")).map_err(|e| match e {
                PolicyError::Model { path, message } => PolicyError::Model {
                    path,
                    message: format!(
                        "{message}; this build has no `hub` feature and cannot download it \
                         (fill the cache first, e.g. `huggingface-cli download {repo_id}`)"
                    ),
                },
                other => other,
            })
        }
    }
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
            format!(
                "{repo_id} is not in the hub cache {} (looked for this folder; set HF_HOME or \
                 HF_HUB_CACHE to the cache that holds it)",
                cache_dir.display()
            ),
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
            format!(
                "no snapshot of {repo_id} at revision {revision} in the hub cache {}",
                cache_dir.display()
            ),
        ))
    }
}

/// Downloads (or finds in the cache) the config, tokenizer and safetensors files of `repo_id`
/// into the cache of the environment and returns the snapshot directory ([`HubCache::from_env`]
/// then [`HubCache::resolve`]). Needs the `hub` feature, and network access unless
/// `HF_HUB_OFFLINE` is set and the model is cached.
#[cfg(feature = "hub")]
pub fn download(repo_id: &str, revision: Option<&str>) -> Result<PathBuf> {
    HubCache::from_env().resolve(repo_id, revision)
}

/// hf-hub's snapshot download into `cache_dir` (`local_files_only` when `offline`).
#[cfg(feature = "hub")]
fn download_into(
    cache_dir: &Path,
    repo_id: &str,
    revision: Option<&str>,
    offline: bool,
) -> Result<PathBuf> {
    let (owner, name) = repo_id
        .split_once('/')
        .ok_or_else(|| PolicyError::Fetch(format!("repo id {repo_id:?} is not owner/name")))?;
    let client = hf_hub::HFClientBuilder::new()
        .cache_dir(cache_dir.to_path_buf())
        .build_sync()
        .map_err(|e| PolicyError::Fetch(format!("{repo_id}: {e}")))?;
    let patterns = ["*.json", "*.safetensors"].map(String::from).to_vec();
    let searched = cache_dir.join(repo_folder(repo_id));
    client
        .model(owner, name)
        .snapshot_download()
        .maybe_revision(revision.map(String::from))
        .allow_patterns(patterns)
        .local_files_only(offline)
        .send()
        .map_err(|e| {
            if offline {
                PolicyError::model(
                    &searched,
                    format!(
                        "{repo_id} (revision {}) is not in the hub cache and HF_HUB_OFFLINE forbids \
                         downloading it: {e}",
                        revision.unwrap_or("main")
                    ),
                )
            } else {
                PolicyError::Fetch(format!(
                    "{repo_id}: {e} (cache {})",
                    cache_dir.display()
                ))
            }
        })
}
