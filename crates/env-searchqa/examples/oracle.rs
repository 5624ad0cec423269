//! The oracle's success rate on the default test set, by clue form.
//!
//! ```text
//! cargo run --release -p crossgym-env-searchqa --example oracle
//! ```

use std::collections::BTreeMap;

use crossgym_env_searchqa::SearchQaEnv;
use crossgym_env_searchqa::defaults::default_data;
use crossgym_env_searchqa::oracle::solve;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = default_data()?;
    let mut env = SearchQaEnv::new()?;
    for (name, tasks) in [
        ("test", data.tasks.split().test()),
        ("train", data.tasks.split().train()),
    ] {
        let mut by_form: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for &task in tasks {
            let form = format!("{:?}", data.generated[task.0].form).to_lowercase();
            let entry = by_form.entry(form).or_default();
            entry.0 += usize::from(solve(&mut env, task)?);
            entry.1 += 1;
        }
        let (solved, total) = by_form
            .values()
            .fold((0, 0), |(s, t), (a, b)| (s + a, t + b));
        println!(
            "{name}: oracle solved {solved}/{total} ({:.1}%)",
            100.0 * solved as f64 / total as f64
        );
        for (form, (s, t)) in by_form {
            println!("  {form}: {s}/{t} ({:.1}%)", 100.0 * s as f64 / t as f64);
        }
    }
    Ok(())
}
