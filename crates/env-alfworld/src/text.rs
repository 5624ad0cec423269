//! The list rendering of TextWorld's grammar: `a X, a Y, and a Z`, or `nothing`.

/// Joins items the way `display_list` does: `nothing`, `x`, or `x, y, and z` (the last
/// separator is `, and ` even for two items).
pub fn join_list<S: AsRef<str>>(items: &[S], out: &mut String) {
    match items.len() {
        0 => out.push_str("nothing"),
        n => {
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(if index + 1 == n { ", and " } else { ", " });
                }
                out.push_str(item.as_ref());
            }
        }
    }
}

/// `a {name}` for every name (the grammar's article is always `a`), joined by [`join_list`].
pub fn join_indefinite<S: AsRef<str>>(names: &[S], out: &mut String) {
    let items: Vec<String> = names.iter().map(|n| format!("a {}", n.as_ref())).collect();
    join_list(&items, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_like_the_reference() {
        let render = |items: &[&str]| {
            let mut out = String::new();
            join_indefinite(items, &mut out);
            out
        };
        assert_eq!(render(&[]), "nothing");
        assert_eq!(render(&["egg 1"]), "a egg 1");
        assert_eq!(
            render(&["cup 1", "peppershaker 2"]),
            "a cup 1, and a peppershaker 2"
        );
        assert_eq!(render(&["a 1", "b 2", "c 3"]), "a a 1, a b 2, and a c 3");
    }
}
