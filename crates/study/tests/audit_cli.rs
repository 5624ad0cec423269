//! `crossgym audit --json` prints the inconsistent cells as a JSON array with the agreed keys.

use std::process::Command;

fn crossgym(args: &[&str]) -> (String, String, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_crossgym"))
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.success(),
    )
}

#[test]
fn audit_json_lists_inconsistent_cells_with_exact_keys() {
    let (stdout, stderr, ok) = crossgym(&["audit", "--json"]);
    assert!(ok, "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let cells = value.as_array().unwrap();
    assert!(!cells.is_empty());
    for cell in cells {
        let mut keys: Vec<&str> = cell
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["column", "model", "printed", "recomputed", "row", "table"]
        );
    }
    assert!(cells.iter().any(|c| c["table"] == "Table 3"
        && c["model"] == "Qwen2.5-3B-Instruct"
        && c["row"] == "SearchQA"
        && c["column"] == "ΔOverall"
        && c["printed"] == 4.56
        && c["recomputed"] == 7.374));
    assert!(stderr.contains("tolerances used"), "{stderr}");
}

#[test]
fn strict_audit_adds_the_rounding_cells_and_text_mode_names_tolerances() {
    let (stdout, _, ok) = crossgym(&["audit", "--json", "--strict"]);
    assert!(ok);
    let cells: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    assert!(
        cells
            .iter()
            .any(|c| c["row"] == "WebShop" && c["column"] == "ΔHeld-Out" && c["printed"] == 6.29)
    );
    let (text, _, ok) = crossgym(&["audit"]);
    assert!(ok);
    assert!(
        text.contains("tolerance") && text.contains("n_easy = 120 of 400"),
        "{text}"
    );
}

#[test]
fn bad_input_gives_an_error_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("crossgym-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plan = dir.join("plan.toml");
    std::fs::write(&plan, "name = 3").unwrap();
    let (_, stderr, ok) = crossgym(&[
        "report",
        "--plan",
        plan.to_str().unwrap(),
        "--results",
        dir.to_str().unwrap(),
        "--out",
        dir.join("o").to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(stderr.contains("plan.toml"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}
