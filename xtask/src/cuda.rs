//! `cargo xtask build-cuda`: the CUDA build of the `crossgym` binary on a machine with no GPU
//! and no CUDA toolkit, for a GPU machine (H100/H200, compute capability 9.0).
//!
//! The steps, each skipped when its output is already there:
//! 1. the pinned CUDA 13.0 compiler, headers and runtime wheels from PyPI, into
//!    `target/cuda-toolkit` with one `pip install --target` call (a second call into the same
//!    folder would skip packages);
//! 2. link-time stand-ins for the libraries only the GPU machine has (`scripts/cuda-link-stubs.sh`);
//! 3. `cargo build --release --features cuda,hub` of `crossgym` in its own target folder
//!    (`target/cuda`: the feature set differs from every other build), stripped;
//! 4. the binary and its launcher (`scripts/run-crossgym.sh`, which finds the GPU image's CUDA 13
//!    libraries) copied to the output folder.
//!
//! CUDA 13.0 exactly: the GPU machines' driver JIT-compiles the PTX that nvcc 13.0 emits
//! (ISA 9.0) and rejects newer PTX, and their image carries the `.so.13` libraries.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The PyPI wheels of the CUDA 13.0 toolchain (nvcc, its front end and NVVM, the runtime, CCCL).
const CUDA_WHEELS: [&str; 5] = [
    "nvidia-cuda-nvcc==13.0.88",
    "nvidia-cuda-crt==13.0.88",
    "nvidia-nvvm==13.0.88",
    "nvidia-cuda-runtime==13.0.96",
    "nvidia-cuda-cccl==13.0.85",
];

/// Compute capability of the lent GPUs (H100 and H200: 9.0).
pub const DEFAULT_COMPUTE_CAP: &str = "90";

/// Options of `build-cuda`.
pub struct BuildCuda {
    /// The workspace root.
    pub root: PathBuf,
    /// Where the binary and launcher go.
    pub out: PathBuf,
    /// Compute capability without the dot (`90`).
    pub compute_cap: String,
    /// Parallel jobs of cargo and of nvcc.
    pub jobs: usize,
    /// The cargo profile: `release` for the binary to use, `cuda-check` for CI's check that
    /// everything compiles and links (unoptimised: a fraction of the time).
    pub profile: String,
}

/// Runs `build-cuda`; returns the message for the user or why it failed.
pub fn build_cuda(options: &BuildCuda) -> Result<String, String> {
    let start = Instant::now();
    let root = &options.root;
    let toolkit = root.join("target").join("cuda-toolkit");
    let cuda_root = toolkit.join("nvidia").join("cu13");
    install_toolkit(&toolkit, &cuda_root)?;
    let toolkit_seconds = start.elapsed().as_secs_f64();

    run(Command::new(cargo())
        .args(["fetch", "--locked"])
        .current_dir(root))?;
    let cudarc = cudarc_source(root)?;
    run(Command::new("bash")
        .arg(
            root.join("xtask")
                .join("scripts")
                .join("cuda-link-stubs.sh"),
        )
        .arg(&cuda_root)
        .arg(&cudarc))?;

    let build_start = Instant::now();
    let target_dir = root.join("target").join("cuda");
    let path = format!(
        "{}:{}",
        cuda_root.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let jobs = options.jobs.to_string();
    run(Command::new(cargo())
        .current_dir(root)
        .args(["build", "--profile", &options.profile, "--locked"])
        .args(["--package", "crossgym-study"])
        .args([
            "--bin",
            "crossgym",
            "--features",
            "cuda,hub",
            "--jobs",
            &jobs,
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        .env("CUDA_ROOT", &cuda_root)
        .env("CUDA_HOME", &cuda_root)
        .env("CUDA_PATH", &cuda_root)
        .env("PATH", path)
        .env("CUDA_COMPUTE_CAP", &options.compute_cap)
        .env("CUDAFORGE_THREADS", &jobs))?;
    let build_seconds = build_start.elapsed().as_secs_f64();

    let out = &options.out;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let binary = out.join("crossgym");
    let built = target_dir.join(&options.profile).join("crossgym");
    copy(&built, &binary)?;
    run(Command::new("strip").arg(&binary))?;
    let launcher = out.join("run-crossgym.sh");
    copy(
        &root.join("xtask").join("scripts").join("run-crossgym.sh"),
        &launcher,
    )?;
    let size = std::fs::metadata(&binary)
        .map_err(|e| format!("cannot read {}: {e}", binary.display()))?
        .len();
    Ok(format!(
        "CUDA build of crossgym (CUDA 13.0, compute capability {cap}, features cuda,hub, profile \
         {profile}):\n  \
         binary:   {bin} ({mib:.1} MiB, stripped)\n  \
         launcher: {launcher}\n  \
         time: {total:.0} s ({toolkit_seconds:.0} s toolkit, {build_seconds:.0} s cargo build)\n\
         On the GPU machine (the binary needs libcuda.so.1 and CUDA 13 libraries at start-up, so \
         it cannot start without them; the launcher finds them):\n  \
         {launcher} gpu-check --device cuda\n  \
         {launcher} reproduce --preset paper-3b --device cuda --out OUT\n\
         Never copy target/cuda-toolkit there: its stub libraries are for linking only.",
        cap = options.compute_cap,
        profile = options.profile,
        bin = binary.display(),
        mib = size as f64 / (1024.0 * 1024.0),
        launcher = launcher.display(),
        total = start.elapsed().as_secs_f64(),
    ))
}

/// The time limit of a GPU check on a lent machine.
const GPU_CHECK_LIMIT: Duration = Duration::from_secs(8 * 60);

/// Runs `crossgym ARGS` of the CUDA build in `bin` through its launcher, stopping it after
/// [`GPU_CHECK_LIMIT`].
pub fn gpu_check(bin: &Path, arguments: &[String]) -> Result<(), String> {
    let launcher = bin.join("run-crossgym.sh");
    if !launcher.is_file() || !bin.join("crossgym").is_file() {
        return Err(format!(
            "no CUDA build in {} (run `cargo xtask build-cuda` first, and copy that folder to \
             the GPU machine)",
            bin.display()
        ));
    }
    eprintln!("xtask: {} {}", launcher.display(), arguments.join(" "));
    let mut child = Command::new("bash")
        .arg(&launcher)
        .args(arguments)
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", launcher.display()))?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("the GPU check failed ({status})")),
            Ok(None) if start.elapsed() > GPU_CHECK_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the GPU check ran past {} s and was stopped",
                    GPU_CHECK_LIMIT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => return Err(format!("waiting for the GPU check: {e}")),
        }
    }
}

/// Installs the wheels into `toolkit` unless nvcc is already there; a half-finished install (in
/// `cuda-toolkit.partial`) is removed first.
fn install_toolkit(toolkit: &Path, cuda_root: &Path) -> Result<(), String> {
    if cuda_root.join("bin").join("nvcc").is_file() {
        eprintln!("xtask: CUDA 13.0 toolkit present in {}", toolkit.display());
        return Ok(());
    }
    let partial = toolkit.with_extension("partial");
    for dir in [&partial, &toolkit.to_path_buf()] {
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
        }
    }
    run(Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-compile",
            // The wheels land in `toolkit` once; a second copy in pip's cache only costs disk.
            "--no-cache-dir",
        ])
        .args(["--only-binary=:all:", "--target"])
        .arg(&partial)
        .args(CUDA_WHEELS))?;
    std::fs::rename(&partial, toolkit)
        .map_err(|e| format!("cannot rename {}: {e}", partial.display()))?;
    if cuda_root.join("bin").join("nvcc").is_file() {
        Ok(())
    } else {
        Err(format!(
            "the CUDA wheels installed, but {} is missing",
            cuda_root.join("bin").join("nvcc").display()
        ))
    }
}

/// The source folder of the locked cudarc version in the cargo registry (after `cargo fetch`).
fn cudarc_source(root: &Path) -> Result<PathBuf, String> {
    let lock_path = root.join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path)
        .map_err(|e| format!("cannot read {}: {e}", lock_path.display()))?;
    let version = locked_version(&lock, "cudarc")
        .ok_or_else(|| format!("{} has no cudarc package", lock_path.display()))?;
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    let registry = cargo_home.join("registry").join("src");
    let entries = std::fs::read_dir(&registry)
        .map_err(|e| format!("cannot read {}: {e}", registry.display()))?;
    entries
        .filter_map(|entry| {
            entry
                .ok()
                .map(|e| e.path().join(format!("cudarc-{version}")))
        })
        .find(|dir| dir.is_dir())
        .ok_or_else(|| format!("cudarc-{version} is not in {}", registry.display()))
}

/// The version of `name` in a Cargo.lock text.
pub fn locked_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let version = lines.next()?.trim().strip_prefix("version = \"")?;
            return version.strip_suffix('"').map(str::to_owned);
        }
    }
    None
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

/// Runs `command` (echoed on stderr); an error names it and its exit status.
pub(crate) fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    eprintln!("xtask: {shown}");
    let status = command
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locked_versions_are_read_from_the_package_entry() {
        let lock = "[[package]]\nname = \"cudarc\"\nversion = \"0.19.10\"\n\n\
                    [[package]]\nname = \"cudarc-x\"\nversion = \"1.0.0\"\n";
        assert_eq!(locked_version(lock, "cudarc").as_deref(), Some("0.19.10"));
        assert_eq!(locked_version(lock, "cudarc-x").as_deref(), Some("1.0.0"));
        assert_eq!(locked_version(lock, "candle"), None);
    }
}
