//! A rendered table in one of the paper's layouts, written as Markdown, CSV or JSON.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One cell: a number printed with fixed decimals, or text. Missing numbers print as `–`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Cell {
    /// A number (or none) with the decimals to print.
    Num(Option<f64>, usize),
    /// A signed number (deltas): printed with `+` or `−`.
    Signed(Option<f64>, usize),
    /// Text.
    Text(String),
}

impl Cell {
    /// A text cell.
    pub fn text(text: impl Into<String>) -> Self {
        Cell::Text(text.into())
    }

    /// The cell as printed in Markdown and CSV.
    pub fn render(&self) -> String {
        match self {
            Cell::Num(Some(v), d) => format!("{v:.d$}"),
            Cell::Signed(Some(v), d) => {
                let s = format!("{:.d$}", v.abs());
                // A value that rounds to zero gets no sign.
                if s.chars().all(|c| c == '0' || c == '.') {
                    s
                } else if *v < 0.0 {
                    format!("−{s}")
                } else {
                    format!("+{s}")
                }
            }
            Cell::Num(None, _) | Cell::Signed(None, _) => "–".to_owned(),
            Cell::Text(t) => t.clone(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Cell::Num(v, _) | Cell::Signed(v, _) => v.map_or(Value::Null, |v| json!(v)),
            Cell::Text(t) => json!(t),
        }
    }
}

/// A table: title, column names, rows of cells, and notes printed below it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// File-safe name (`table3-qwen2.5-3b-instruct`).
    pub name: String,
    /// Title.
    pub title: String,
    /// Column names.
    pub header: Vec<String>,
    /// Rows (each as long as the header).
    pub rows: Vec<Vec<Cell>>,
    /// Notes (provenance, what "ours" is, tolerances).
    pub notes: Vec<String>,
}

fn markdown_escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

impl Table {
    /// GitHub-flavoured Markdown: a heading, the table and the notes.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("### {}\n\n", self.title);
        out.push_str(&format!(
            "| {} |\n|{}\n",
            self.header
                .iter()
                .map(|h| markdown_escape(h))
                .collect::<Vec<_>>()
                .join(" | "),
            "---|".repeat(self.header.len())
        ));
        for row in &self.rows {
            out.push_str(&format!(
                "| {} |\n",
                row.iter()
                    .map(|c| markdown_escape(&c.render()))
                    .collect::<Vec<_>>()
                    .join(" | ")
            ));
        }
        for note in &self.notes {
            out.push_str(&format!("\n{note}\n"));
        }
        out
    }

    /// RFC 4180 CSV: the header and the rows as printed (notes left out).
    pub fn to_csv(&self) -> String {
        let line = |cells: Vec<String>| {
            cells
                .iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(",")
                + "\r\n"
        };
        let mut out = line(self.header.clone());
        for row in &self.rows {
            out.push_str(&line(row.iter().map(Cell::render).collect()));
        }
        out
    }

    /// JSON: `{name, title, columns, rows: [{column: value}], notes}` with numbers as numbers
    /// (unrounded) and missing values as `null`.
    pub fn to_json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let object: serde_json::Map<String, Value> = self
                    .header
                    .iter()
                    .cloned()
                    .zip(row.iter().map(Cell::json))
                    .collect();
                Value::Object(object)
            })
            .collect();
        json!({
            "name": self.name,
            "title": self.title,
            "columns": self.header,
            "rows": rows,
            "notes": self.notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            name: "t".into(),
            title: "T".into(),
            header: vec!["row".into(), "a|b".into(), "Δ".into()],
            rows: vec![
                vec![
                    Cell::text("x, y"),
                    Cell::Num(Some(1.234), 1),
                    Cell::Signed(Some(-0.004), 2),
                ],
                vec![
                    Cell::text("z"),
                    Cell::Num(None, 1),
                    Cell::Signed(Some(6.2825), 2),
                ],
            ],
            notes: vec!["note".into()],
        }
    }

    #[test]
    fn renders_markdown_csv_and_json() {
        let t = table();
        let md = t.to_markdown();
        assert!(md.contains("| row | a\\|b | Δ |"), "{md}");
        assert!(md.contains("| x, y | 1.2 | 0.00 |"), "{md}");
        assert!(md.contains("| z | – | +6.28 |"), "{md}");
        assert_eq!(
            t.to_csv(),
            "row,a|b,Δ\r\n\"x, y\",1.2,0.00\r\nz,–,+6.28\r\n"
        );
        let j = t.to_json();
        assert_eq!(j["rows"][1]["a|b"], Value::Null);
        assert_eq!(j["rows"][0]["a|b"], json!(1.234));
        assert_eq!(Cell::Signed(Some(-0.66), 2).render(), "−0.66");
    }
}
