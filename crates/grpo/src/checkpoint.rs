//! Checkpoints: weights, optimizer state, RNG state and step, written atomically.
//!
//! A run's checkpoint root is `checkpoints/` in its output folder ([`root_in`]); a checkpoint
//! is a directory `step-00000042/` under it:
//!
//! - `model.safetensors`: the trainable weights under their Hugging Face names;
//! - `optimizer.safetensors`: AdamW's moments (`exp_avg.<name>`, `exp_avg_sq.<name>`);
//! - `state.json`: [`CheckpointState`] (step, optimizer step, RNG state, task-sampler state).
//!
//! Everything is written into a hidden temporary directory, each file and the directory are
//! fsynced, and only then is it renamed into place; the root's `latest` file (also replaced by
//! rename) names the newest one. A crash leaves either the old checkpoint or the new one, never
//! a torn mix.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

pub use crate::rng::RngState;
use crate::sampler::SamplerState;
use crate::{GrpoError, Result};

/// Weights file inside a checkpoint directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// Optimizer-state file inside a checkpoint directory.
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
/// Trainer-state file inside a checkpoint directory.
pub const STATE_FILE: &str = "state.json";
/// File in the checkpoint root naming the newest checkpoint directory.
pub const LATEST_FILE: &str = "latest";

/// What `state.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Layout version of the checkpoint format.
    pub format: u32,
    /// Which loop wrote it (`"grpo"` or `"sft"`).
    pub phase: String,
    /// Completed training steps (batches) of that loop.
    pub step: u64,
    /// Optimizer updates applied so far (AdamW's bias-correction count).
    pub optimizer_step: u64,
    /// The trainer's generator.
    pub rng: RngState,
    /// Where the task sampler stands, when the loop has one.
    pub sampler: Option<SamplerState>,
}

/// The current format version.
pub const CHECKPOINT_FORMAT: u32 = 1;

/// A checkpoint in memory.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    /// Weights by Hugging Face name.
    pub weights: HashMap<String, Tensor>,
    /// Optimizer moments by name.
    pub optimizer: HashMap<String, Tensor>,
    /// Step, RNG and sampler state.
    pub state: CheckpointState,
}

/// The folder of a run's output folder that holds its checkpoint root.
const RUN_CHECKPOINTS_DIR: &str = "checkpoints";

/// The checkpoint root of a run whose outputs (metrics, final model) live in `run_dir`:
/// where its trainer writes checkpoints, and where a restarted run resumes from.
pub fn root_in(run_dir: &Path) -> PathBuf {
    run_dir.join(RUN_CHECKPOINTS_DIR)
}

/// The checkpoint root of the run in `run_dir` ([`root_in`]) when it holds a checkpoint to
/// resume from (its [`LATEST_FILE`] exists, or a checkpoint directory does), else `None`.
pub fn resumable_in(run_dir: &Path) -> Option<PathBuf> {
    let root = root_in(run_dir);
    (root.join(LATEST_FILE).exists() || newest_step_dir(&root).is_some()).then_some(root)
}

/// The checkpoint directory of the highest step under `root`. Every `step-XXXXXXXX/` is complete
/// (it is renamed into place only once written), so when `latest` is missing — a crash between
/// that rename and `latest`'s, or a lost file — this is where the run stands; resuming from it
/// instead of from scratch loses nothing.
fn newest_step_dir(root: &Path) -> Option<PathBuf> {
    fs::read_dir(root)
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let step: u64 = name.strip_prefix("step-")?.parse().ok()?;
            (step_dir_name(step) == name && entry.path().join(STATE_FILE).is_file())
                .then(|| (step, entry.path()))
        })
        .max_by_key(|(step, _)| *step)
        .map(|(_, dir)| dir)
}

/// The directory name of the checkpoint of `step`.
pub fn step_dir_name(step: u64) -> String {
    format!("step-{step:08}")
}

fn io<T>(path: &Path, result: std::io::Result<T>) -> Result<T> {
    result.map_err(|e| GrpoError::io(path, e))
}

fn fsync(path: &Path) -> Result<()> {
    io(path, File::open(path).and_then(|f| f.sync_all()))
}

fn write_file_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = io(path, File::create(path))?;
    io(path, file.write_all(bytes))?;
    io(path, file.sync_all())
}

/// Writes `checkpoint` under `root` as `step-XXXXXXXX/` (replacing one of the same step) and
/// points `root/latest` at it; returns the directory.
pub fn save(root: &Path, checkpoint: &Checkpoint) -> Result<PathBuf> {
    io(root, fs::create_dir_all(root))?;
    let name = step_dir_name(checkpoint.state.step);
    let tmp = root.join(format!(".{name}.tmp"));
    if tmp.exists() {
        io(&tmp, fs::remove_dir_all(&tmp))?;
    }
    io(&tmp, fs::create_dir(&tmp))?;

    let weights = tmp.join(WEIGHTS_FILE);
    candle_core::safetensors::save(&checkpoint.weights, &weights)?;
    fsync(&weights)?;
    let optimizer = tmp.join(OPTIMIZER_FILE);
    candle_core::safetensors::save(&checkpoint.optimizer, &optimizer)?;
    fsync(&optimizer)?;
    let state = serde_json::to_vec_pretty(&checkpoint.state).map_err(|source| GrpoError::Json {
        context: "checkpoint state".into(),
        source,
    })?;
    write_file_synced(&tmp.join(STATE_FILE), &state)?;
    fsync(&tmp)?;

    let target = root.join(&name);
    if target.exists() {
        let old = root.join(format!(".{name}.old"));
        if old.exists() {
            io(&old, fs::remove_dir_all(&old))?;
        }
        io(&target, fs::rename(&target, &old))?;
        io(&target, fs::rename(&tmp, &target))?;
        io(&old, fs::remove_dir_all(&old))?;
    } else {
        io(&target, fs::rename(&tmp, &target))?;
    }
    let latest_tmp = root.join(format!(".{LATEST_FILE}.tmp"));
    write_file_synced(&latest_tmp, name.as_bytes())?;
    io(&latest_tmp, fs::rename(&latest_tmp, root.join(LATEST_FILE)))?;
    fsync(root)?;
    Ok(target)
}

/// The checkpoint directory `path` means: itself when it holds a `state.json`, else the one its
/// `latest` file names, else (no `latest`) its highest `step-XXXXXXXX/`.
pub fn resolve(path: &Path) -> Result<PathBuf> {
    if path.join(STATE_FILE).is_file() {
        return Ok(path.to_owned());
    }
    let latest = path.join(LATEST_FILE);
    if latest.is_file() {
        let name = io(&latest, fs::read_to_string(&latest))?;
        let dir = path.join(name.trim());
        if dir.join(STATE_FILE).is_file() {
            return Ok(dir);
        }
        return Err(GrpoError::checkpoint(
            &latest,
            format!("names {:?}, which holds no {STATE_FILE}", name.trim()),
        ));
    }
    if let Some(dir) = newest_step_dir(path) {
        return Ok(dir);
    }
    Err(GrpoError::checkpoint(
        path,
        format!("neither a checkpoint ({STATE_FILE}) nor a checkpoint root ({LATEST_FILE})"),
    ))
}

/// Reads the checkpoint at `path` (a checkpoint directory or a root with `latest`) onto
/// `device`.
pub fn load(path: &Path, device: &Device) -> Result<Checkpoint> {
    let dir = resolve(path)?;
    let read_tensors = |file: &str| -> Result<HashMap<String, Tensor>> {
        let p = dir.join(file);
        if !p.is_file() {
            return Err(GrpoError::checkpoint(&p, "missing"));
        }
        candle_core::safetensors::load(&p, device)
            .map_err(|e| GrpoError::checkpoint(&p, e.to_string()))
    };
    let weights = read_tensors(WEIGHTS_FILE)?;
    let optimizer = read_tensors(OPTIMIZER_FILE)?;
    let state_path = dir.join(STATE_FILE);
    let text = io(&state_path, fs::read_to_string(&state_path))?;
    let state: CheckpointState = serde_json::from_str(&text)
        .map_err(|e| GrpoError::checkpoint(&state_path, e.to_string()))?;
    if state.format != CHECKPOINT_FORMAT {
        return Err(GrpoError::checkpoint(
            &state_path,
            format!(
                "format {} is not the supported {CHECKPOINT_FORMAT}",
                state.format
            ),
        ));
    }
    Ok(Checkpoint {
        weights,
        optimizer,
        state,
    })
}

/// Whether a run at `step` of `total` writes a checkpoint: at the end, and every `every` steps
/// (never in between when `every` is 0).
pub(crate) fn is_due(step: u64, total: u64, every: usize) -> bool {
    let every = every as u64;
    step == total || (every > 0 && step.is_multiple_of(every))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("crossgym-grpo-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_run_folder_is_resumable_once_latest_exists() {
        let run = scratch("run");
        let root = root_in(&run);
        assert_eq!(root, run.join("checkpoints"));
        assert_eq!(resumable_in(&run), None);
        fs::create_dir_all(&root).unwrap();
        assert_eq!(resumable_in(&run), None);
        fs::write(root.join(LATEST_FILE), "step-00000001").unwrap();
        assert_eq!(resumable_in(&run), Some(root));
        fs::remove_dir_all(&run).unwrap();
    }

    #[test]
    fn save_load_and_latest() {
        let root = scratch("ckpt");
        let dev = Device::Cpu;
        let mut weights = HashMap::new();
        weights.insert(
            "model.embed_tokens.weight".to_owned(),
            Tensor::new(&[[1.5f32, -2.0], [0.25, 8.0]], &dev).unwrap(),
        );
        let mut optimizer = HashMap::new();
        optimizer.insert(
            "exp_avg.model.embed_tokens.weight".to_owned(),
            Tensor::new(&[[0.1f32, 0.2], [0.3, 0.4]], &dev).unwrap(),
        );
        let mut checkpoint = Checkpoint {
            weights,
            optimizer,
            state: CheckpointState {
                format: CHECKPOINT_FORMAT,
                phase: "grpo".into(),
                step: 2,
                optimizer_step: 2,
                rng: RngState::capture(&ChaCha8Rng::seed_from_u64(1)),
                sampler: None,
            },
        };
        let dir = save(&root, &checkpoint).unwrap();
        assert!(dir.ends_with("step-00000002"));
        checkpoint.state.step = 4;
        save(&root, &checkpoint).unwrap();
        save(&root, &checkpoint).unwrap(); // same step again: replaced, not an error

        let back = load(&root, &dev).unwrap();
        assert_eq!(back.state, checkpoint.state);
        let w: Vec<Vec<f32>> = back.weights["model.embed_tokens.weight"].to_vec2().unwrap();
        assert_eq!(w, vec![vec![1.5, -2.0], vec![0.25, 8.0]]);
        let old = load(&dir, &dev).unwrap();
        assert_eq!(old.state.step, 2);
        let leftovers: Vec<_> = fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");

        fs::remove_file(dir.join(OPTIMIZER_FILE)).unwrap();
        let err = load(&dir, &dev).unwrap_err();
        assert!(err.to_string().contains(OPTIMIZER_FILE), "{err}");
        let err = load(&root.join("nope"), &dev).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        fs::remove_dir_all(&root).unwrap();
    }
}
