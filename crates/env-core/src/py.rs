//! The CPython string and number semantics the references' texts depend on: whitespace
//! (`str.isspace`, `str.strip`, the `re` module's `\s`), `str.isalnum`, and `repr` of `str`,
//! `float` and tuples of `str`.
//!
//! Env texts are compared byte for byte with recordings of Python servers, so wherever a
//! reference strips, splits or `repr`s a string, the env calls these instead of Rust's
//! near-equivalents (Rust's [`char::is_whitespace`] misses the separators U+001C..U+001F;
//! Rust's `{:?}` escapes differently from `repr`).
//!
//! ```
//! use crossgym_env_core::py;
//!
//! assert_eq!(py::strip("\u{1f} go \u{3000}"), "go");
//! assert_eq!(py::str_repr("it's"), "\"it's\"");
//! assert_eq!(py::float_repr(1e16), "1e+16");
//! ```

use unicode_categories::UnicodeCategories;

/// Python's `str.isspace()` for one character (and so `str.strip()` and the `re` module's `\s`
/// on `str`).
///
/// Rust's [`char::is_whitespace`] is Unicode `White_Space`; Python also counts the information
/// separators U+001C..U+001F.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `s.strip()`.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Python's `str.isalnum()` for one character (letters and numbers by general category).
pub fn is_alnum(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    c.is_letter() || c.is_number()
}

/// Python's `repr(float)` (`str(float)` is the same in Python 3): the shortest digits that
/// round-trip, fixed notation for exponents -4..16, else `1e+16` style.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // Rust's `{:e}` prints the shortest round-trip digits: "1.2345e3", "-5e-7".
    let sci = format!("{x:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exponent) {
        let point = exponent + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{body}")
    } else {
        let mantissa = if digits.len() == 1 {
            digits
        } else {
            format!("{}.{}", &digits[..1], &digits[1..])
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exponent.abs())
    }
}

/// Python's `str.isprintable()` for one character: not a control, format, private-use or
/// separator character (the ASCII space is printable).
fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_ascii() {
        return !c.is_ascii_control();
    }
    !(c.is_other_control() || c.is_other_format() || c.is_other_private_use() || c.is_separator())
}

/// Python's `repr(str)`: single quotes unless the text holds `'` and no `"`, backslash escapes,
/// and `\xNN` / `\uNNNN` / `\UNNNNNNNN` for non-printable characters.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
    out
}

/// Python's `str(tuple_of_str)`: `('a', "b's")`, with a trailing comma for one element.
pub fn tuple_repr(items: &[&str]) -> String {
    let inner: Vec<String> = items.iter().map(|item| str_repr(item)).collect();
    if inner.len() == 1 {
        format!("({},)", inner[0])
    } else {
        format!("({})", inner.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_matches_python() {
        let spaces = "\t\n\u{b}\u{c}\r \u{1c}\u{1f}\u{85}\u{a0}\u{3000}";
        assert!(spaces.chars().all(is_space));
        assert!(!"a\u{0}\u{200b}_".chars().any(is_space));
        assert_eq!(strip("\u{1f} go to desk 1\u{3000}"), "go to desk 1");
        assert_eq!(strip(spaces), "");
    }

    #[test]
    fn float_repr_matches_python() {
        let cases: [(f64, &str); 9] = [
            (1.0, "1.0"),
            (25.0, "25.0"),
            (1299.0, "1299.0"),
            (19.99, "19.99"),
            (0.8333333333333334, "0.8333333333333334"),
            (1e16, "1e+16"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (123456789012345.6, "123456789012345.6"),
        ];
        for (x, repr) in cases {
            assert_eq!(float_repr(x), repr);
        }
    }

    #[test]
    fn str_repr_matches_python() {
        let cases = [
            ("minecraft:stick", "'minecraft:stick'"),
            ("men's", "\"men's\""),
            ("a\nb", "'a\\nb'"),
            ("x\u{a0}y", "'x\\xa0y'"),
            ("\u{2028}", "'\\u2028'"),
            ("both ' and \"", "'both \\' and \"'"),
            ("a'b\"c", "'a\\'b\"c'"),
            ("a\\b\n\u{1}", "'a\\\\b\\n\\x01'"),
            ("\u{7f}\u{ad}é", "'\\x7f\\xadé'"),
        ];
        for (text, repr) in cases {
            assert_eq!(str_repr(text), repr, "{text:?}");
        }
        assert_eq!(tuple_repr(&["color", "men's"]), "('color', \"men's\")");
        assert_eq!(tuple_repr(&["one"]), "('one',)");
        assert!(is_alnum('é') && is_alnum('٣') && !is_alnum('_'));
    }
}
