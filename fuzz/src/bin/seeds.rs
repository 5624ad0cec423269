//! Lists the fuzz targets or writes a target's seeds into a folder (for `cargo xtask fuzz`).
//!
//! `seeds list` prints one `NAME<TAB>ABOUT` line per target; `seeds write TARGET DIR` writes
//! the target's seeds as `DIR/seed-NNN`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["list"] => {
            for target in crossgym_fuzz::TARGETS {
                println!("{}\t{}", target.name, target.about);
            }
            ExitCode::SUCCESS
        }
        ["write", name, dir] => {
            let Some(target) = crossgym_fuzz::target(name) else {
                eprintln!("seeds: no target {name:?} (`seeds list` names them)");
                return ExitCode::FAILURE;
            };
            if let Err(e) = std::fs::create_dir_all(dir) {
                eprintln!("seeds: {dir}: {e}");
                return ExitCode::FAILURE;
            }
            for (i, seed) in (target.seeds)().iter().enumerate() {
                let path = std::path::Path::new(dir).join(format!("seed-{i:03}"));
                if let Err(e) = std::fs::write(&path, seed) {
                    eprintln!("seeds: {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: seeds list | seeds write TARGET DIR");
            ExitCode::FAILURE
        }
    }
}
