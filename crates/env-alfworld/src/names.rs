//! ALFWorld's `Demangler`: the display names (`cabinet 4`, `loc 12`) of mangled PDDL ids.

use std::collections::HashMap;

/// Display names for `ids` (lower-cased PDDL ids of every entity of a game), in the same order.
///
/// Follows alfworld 0.3.3's `Demangler` with `shuffle=False`:
/// - the name is the id's prefix before the first `_bar_` (plus `basin` when the id contains
///   `basin`: `sink_bar_…_bar_sinkbasin` → `sinkbasin`), a space and a number;
/// - per name, the numbers `1..=n` are handed out over the **sorted** ids by popping from the end,
///   so the smallest id gets `n` and the largest gets `1`;
/// - an id without `_bar_` keeps its whole text and number 0, which prints as an empty string:
///   `bed ` with a trailing space (quirk: such names can never be typed, see the crate docs).
pub fn demangle(ids: &[String]) -> Vec<String> {
    let mut sorted: Vec<usize> = (0..ids.len()).collect();
    sorted.sort_by(|&a, &b| ids[a].cmp(&ids[b]));
    let prefix = |id: &str| -> Option<String> {
        let (name, _) = id.split_once("_bar_")?;
        let mut name = unmangle(name);
        if id.contains("basin") {
            name.push_str("basin");
        }
        Some(name)
    };
    let mut counts: HashMap<String, usize> = HashMap::new();
    for &index in &sorted {
        if let Some(name) = prefix(&ids[index]) {
            *counts.entry(name).or_default() += 1;
        }
    }
    let mut names = vec![String::new(); ids.len()];
    for &index in &sorted {
        let id = &ids[index];
        names[index] = match prefix(id) {
            Some(name) => {
                let left = counts.get_mut(&name).map_or(0, |count| {
                    let number = *count;
                    *count = count.saturating_sub(1);
                    number
                });
                if left == 0 {
                    format!("{name} ")
                } else {
                    format!("{name} {left}")
                }
            }
            None => format!("{} ", unmangle(id)),
        };
    }
    names
}

/// Undoes ALFRED's `fix_pddl_str_chars` for display (`_minus_` → `-`, …).
fn unmangle(text: &str) -> String {
    text.replace("_bar_", "|")
        .replace("_minus_", "-")
        .replace("_plus_", "+")
        .replace("_dot_", ".")
        .replace("_comma_", ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smallest_id_gets_the_largest_number() {
        let ids: Vec<String> = [
            "cabinet_bar__minus_01_dot_00",
            "cabinet_bar__plus_01_dot_00",
            "sink_bar_00_bar_01_bar_sinkbasin",
            "sink_bar_00_bar_01",
            "loc_bar_1_bar_2",
            "bed",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            demangle(&ids),
            [
                "cabinet 2",
                "cabinet 1",
                "sinkbasin 1",
                "sink 1",
                "loc 1",
                "bed "
            ]
        );
    }
}
