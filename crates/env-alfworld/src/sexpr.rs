//! A small s-expression reader for PDDL text: atoms and parenthesised lists, `;` comments.

use std::fmt;

/// One PDDL form: an atom (lower-cased, as fast-downward reads PDDL) or a list of forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sexpr {
    /// A symbol, variable (`?x`) or number, lower-cased.
    Atom(String),
    /// A parenthesised list, with the 1-based line where it opens.
    List(Vec<Sexpr>, usize),
}

impl Sexpr {
    /// The atom's text, if this is an atom.
    pub fn atom(&self) -> Option<&str> {
        match self {
            Sexpr::Atom(text) => Some(text),
            Sexpr::List(..) => None,
        }
    }

    /// The list's items, if this is a list.
    pub fn list(&self) -> Option<&[Sexpr]> {
        match self {
            Sexpr::Atom(_) => None,
            Sexpr::List(items, _) => Some(items),
        }
    }

    /// The head atom of a list (`and` in `(and ...)`).
    pub fn head(&self) -> Option<&str> {
        self.list()
            .and_then(|items| items.first())
            .and_then(Sexpr::atom)
    }

    /// The line where a list opens (0 for atoms).
    pub fn line(&self) -> usize {
        match self {
            Sexpr::Atom(_) => 0,
            Sexpr::List(_, line) => *line,
        }
    }

    /// The form as PDDL text, cut to about 120 characters (for error messages).
    pub fn snippet(&self) -> String {
        let text = self.to_string();
        if text.chars().count() > 120 {
            let cut: String = text.chars().take(117).collect();
            format!("{cut}...")
        } else {
            text
        }
    }
}

impl fmt::Display for Sexpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sexpr::Atom(text) => f.write_str(text),
            Sexpr::List(items, _) => {
                f.write_str("(")?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Reads every top-level form of `text`. Errors name the line.
pub fn parse_all(text: &str) -> Result<Vec<Sexpr>, String> {
    let mut stack: Vec<(Vec<Sexpr>, usize)> = Vec::new();
    let mut top = Vec::new();
    let mut line = 1usize;
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            '\n' => line += 1,
            ';' => {
                while let Some(&(_, next)) = chars.peek() {
                    if next == '\n' {
                        break;
                    }
                    chars.next();
                }
            }
            '(' => stack.push((Vec::new(), line)),
            ')' => {
                let (items, opened) = stack
                    .pop()
                    .ok_or_else(|| format!("line {line}: unbalanced ')'"))?;
                let list = Sexpr::List(items, opened);
                match stack.last_mut() {
                    Some((parent, _)) => parent.push(list),
                    None => top.push(list),
                }
            }
            c if c.is_whitespace() => {}
            _ => {
                let mut end = start + c.len_utf8();
                while let Some(&(at, next)) = chars.peek() {
                    if next.is_whitespace() || matches!(next, '(' | ')' | ';') {
                        break;
                    }
                    end = at + next.len_utf8();
                    chars.next();
                }
                let atom = Sexpr::Atom(text[start..end].to_lowercase());
                match stack.last_mut() {
                    Some((parent, _)) => parent.push(atom),
                    None => top.push(atom),
                }
            }
        }
    }
    if let Some((_, opened)) = stack.last() {
        return Err(format!("line {opened}: '(' is never closed"));
    }
    Ok(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_lists_comments_and_lowercases() {
        let forms = parse_all("(define (Problem p) ; comment\n (:init (At A1 L)))").unwrap();
        assert_eq!(forms.len(), 1);
        assert_eq!(forms[0].head(), Some("define"));
        assert_eq!(
            forms[0].to_string(),
            "(define (problem p) (:init (at a1 l)))"
        );
        assert_eq!(forms[0].list().unwrap()[2].line(), 2);
    }

    #[test]
    fn reports_unbalanced_parentheses() {
        assert!(parse_all("(a (b)").unwrap_err().contains("line 1"));
        assert!(parse_all("a)\n").unwrap_err().contains("unbalanced"));
    }
}
