//! Rebuilds `data/recipes.tsv`, the compact recipe form embedded in the crate, from a directory
//! of Minecraft recipe JSON files (TextCraft's `recipes/`).
//!
//! ```text
//! cargo run -p crossgym-env-textcraft --example gen_recipes -- <recipes-dir> [out.tsv]
//! ```
//!
//! Without `out.tsv` it writes the crate's `data/recipes.tsv`.

use std::path::PathBuf;

use crossgym_env_textcraft::{RecipeBook, raw};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: gen_recipes <recipes-dir> [out.tsv]")?,
    );
    let out = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data/recipes.tsv")));
    let recipes = raw::read_json_dir(&dir)?;
    let book = RecipeBook::from_raw(&recipes)?;
    std::fs::write(&out, raw::to_compact(&recipes)?)?;
    println!(
        "{} files -> {} recipes, {} goals, depths {:?}; wrote {}",
        recipes.len(),
        book.recipes().len(),
        book.goals().len(),
        book.depth_histogram(),
        out.display()
    );
    Ok(())
}
