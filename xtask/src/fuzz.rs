//! `cargo xtask fuzz TARGET --seconds N` (or `--all`): coverage-guided fuzzing with cargo-afl.
//!
//! For each target: its seeds are written by the `seeds` binary of `crossgym-fuzz` (the one list
//! of targets), the AFL binaries are built with `cargo afl build --profile fuzz --features afl`
//! into their own target folder (AFL's compiler flags would otherwise rebuild the normal one),
//! `afl-fuzz` runs for N seconds in persistent mode, and the executions, crashes and hangs are
//! read back from AFL's `fuzzer_stats`. Fails when a target crashed; the crashing inputs stay in
//! `target/fuzz/TARGET/out/default/crashes/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cuda::run;

/// What one `cargo xtask fuzz` call does.
pub struct FuzzOptions {
    /// The workspace root.
    pub root: PathBuf,
    /// The targets to run, in order (empty: every target).
    pub targets: Vec<String>,
    /// Seconds of fuzzing per target.
    pub seconds: u64,
}

/// What `fuzzer_stats` says about one run.
#[derive(Debug, Default)]
pub struct Stats {
    /// Executions (`execs_done`).
    pub execs: u64,
    /// Crashing inputs kept (`saved_crashes`, `unique_crashes` before AFL++ 4).
    pub crashes: u64,
    /// Hanging inputs kept (`saved_hangs`).
    pub hangs: u64,
    /// Executions per second over the run (`execs_per_sec`).
    pub per_second: f64,
}

/// Per-input timeout in milliseconds: the first input of a run also builds the env or index
/// (SearchQA's takes seconds in an instrumented build).
const TIMEOUT_MS: &str = "10000";

/// Runs the targets; returns one line per target, or why it stopped.
pub fn fuzz(options: &FuzzOptions) -> Result<Vec<String>, String> {
    check_cargo_afl()?;
    let base = target_dir(&options.root);
    let all = list_targets(&options.root)?;
    let targets = if options.targets.is_empty() {
        all
    } else {
        for name in &options.targets {
            if !all.contains(name) {
                return Err(format!(
                    "no fuzz target {name:?} (known: {})",
                    all.join(", ")
                ));
            }
        }
        options.targets.clone()
    };
    let afl_dir = base.join("afl");
    build(&options.root, &afl_dir, &targets)?;
    let mut lines = Vec::new();
    let mut crashed = Vec::new();
    for name in &targets {
        let work = base.join("fuzz").join(name);
        let stats = run_one(&options.root, &afl_dir, &work, name, options.seconds)?;
        let line = format!(
            "{name}: {} executions ({:.0}/s), {} crashes, {} hangs in {} s",
            stats.execs, stats.per_second, stats.crashes, stats.hangs, options.seconds
        );
        println!("{line}");
        if stats.crashes > 0 {
            crashed.push(format!(
                "{name} ({} in {})",
                stats.crashes,
                work.join("out/default/crashes").display()
            ));
        }
        lines.push(line);
    }
    if crashed.is_empty() {
        Ok(lines)
    } else {
        Err(format!("fuzzing found crashes: {}", crashed.join(", ")))
    }
}

/// `$CARGO_TARGET_DIR`, else `ROOT/target`.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| root.join("target"), PathBuf::from)
}

fn check_cargo_afl() -> Result<(), String> {
    let ok = Command::new("cargo")
        .args(["afl", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Ok(())
    } else {
        Err(
            "cargo-afl is not installed: `cargo install cargo-afl` then `cargo afl config \
             --build` (builds AFL++ with gcc and make)"
                .to_owned(),
        )
    }
}

/// The target names, from `crossgym-fuzz`'s `seeds list`.
fn list_targets(root: &Path) -> Result<Vec<String>, String> {
    let output = seeds_command(root, &["list"])
        .output()
        .map_err(|e| format!("running the seeds binary: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`seeds list` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split('\t').next())
        .map(str::to_owned)
        .collect())
}

fn seeds_command(root: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("cargo");
    command
        .current_dir(root)
        .args([
            "run",
            "--quiet",
            "--package",
            "crossgym-fuzz",
            "--bin",
            "seeds",
            "--",
        ])
        .args(args);
    command
}

/// Builds the AFL binaries of `targets` into `afl_dir`.
fn build(root: &Path, afl_dir: &Path, targets: &[String]) -> Result<(), String> {
    let mut command = Command::new("cargo");
    command.current_dir(root).args([
        "afl",
        "build",
        "--profile",
        "fuzz",
        "--package",
        "crossgym-fuzz",
        "--features",
        "afl",
    ]);
    for name in targets {
        command.args(["--bin", name]);
    }
    command.env("CARGO_TARGET_DIR", afl_dir);
    println!("== cargo afl build ({} targets)", targets.len());
    run(&mut command)
}

/// Fuzzes one target for `seconds` in `work` (seeds in `work/in`, AFL's output in `work/out`).
fn run_one(
    root: &Path,
    afl_dir: &Path,
    work: &Path,
    name: &str,
    seconds: u64,
) -> Result<Stats, String> {
    let seeds = work.join("in");
    let out = work.join("out");
    let scratch = work.join("scratch");
    for dir in [&seeds, &out, &scratch] {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
    }
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let seeds_arg = seeds.display().to_string();
    run(&mut seeds_command(root, &["write", name, &seeds_arg]))?;
    let binary = afl_dir.join("fuzz").join(name);
    println!("== afl-fuzz {name} for {seconds} s");
    let mut command = Command::new("cargo");
    command
        .current_dir(root)
        .args(["afl", "fuzz", "-i"])
        .arg(&seeds)
        .arg("-o")
        .arg(&out)
        .args(["-V", &seconds.to_string(), "-t", TIMEOUT_MS, "--"])
        .arg(&binary)
        // Scratch files of path-based loaders go here, not to /tmp.
        .env("TMPDIR", &scratch)
        .env("AFL_NO_UI", "1")
        // Shared machines: no CPU pinning, no frequency-governor check, any core pattern.
        .env("AFL_NO_AFFINITY", "1")
        .env("AFL_SKIP_CPUFREQ", "1")
        .env("AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1")
        .env("AFL_FORKSRV_INIT_TMOUT", TIMEOUT_MS);
    run(&mut command)?;
    let text = std::fs::read_to_string(out.join("default").join("fuzzer_stats"))
        .map_err(|e| format!("{name}: reading AFL's fuzzer_stats: {e}"))?;
    Ok(parse_stats(&text))
}

/// Reads `key : value` lines of AFL's `fuzzer_stats`.
pub fn parse_stats(text: &str) -> Stats {
    let mut stats = Stats::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let number = || value.parse::<u64>().unwrap_or(0);
        match key.trim() {
            "execs_done" => stats.execs = number(),
            "saved_crashes" | "unique_crashes" => stats.crashes = number(),
            "saved_hangs" | "unique_hangs" => stats.hangs = number(),
            "execs_per_sec" => stats.per_second = value.parse().unwrap_or(0.0),
            _ => {}
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_afl_plus_plus_stats() {
        let text = "start_time        : 1764967000\nexecs_done        : 1234567\n\
                    execs_per_sec     : 4321.50\nsaved_crashes     : 2\nsaved_hangs       : 1\n";
        let stats = parse_stats(text);
        assert_eq!((stats.execs, stats.crashes, stats.hangs), (1_234_567, 2, 1));
        assert!((stats.per_second - 4321.5).abs() < 1e-9);
    }
}
