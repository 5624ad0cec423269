//! One self-contained HTML report: tables, inline SVG plots, the audit, and a trajectory browser
//! (a few successful and failed episodes per run and env). No scripts, no external resources.

use crate::records::EpisodeRecord;
use crate::results::StudyResults;

use super::table::Table;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1400px;padding:0 1em;color:#222}\
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}h3{font-size:1.05em}\
table{border-collapse:collapse;font-size:12px;margin:.5em 0 1em}th,td{border:1px solid #ccc;padding:3px 6px;text-align:right;white-space:nowrap}\
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}tr:nth-child(even) td{background:#fafafa}\
.scroll{overflow-x:auto}.note{font-size:12px;color:#555}figure{margin:1em 0}figure svg{max-width:100%;height:auto;border:1px solid #ddd}\
details{margin:.3em 0}summary{cursor:pointer}.ok{color:#060}.fail{color:#a00}\
pre{white-space:pre-wrap;background:#f7f7f7;padding:.5em;font-size:12px;border-left:3px solid #bbb}pre.agent{border-color:#36c}";

fn table_html(table: &Table) -> String {
    let mut out = format!(
        "<h3>{}</h3>\n<div class=\"scroll\"><table>\n<tr>",
        escape(&table.title)
    );
    for h in &table.header {
        out.push_str(&format!("<th>{}</th>", escape(h)));
    }
    out.push_str("</tr>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for cell in row {
            out.push_str(&format!("<td>{}</td>", escape(&cell.render())));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
    for note in &table.notes {
        out.push_str(&format!("<p class=\"note\">{}</p>\n", escape(note)));
    }
    out
}

fn episode_html(record: &EpisodeRecord) -> String {
    let Some(episode) = &record.episode else {
        return String::new();
    };
    let class = if record.success { "ok" } else { "fail" };
    let verdict = if record.success { "success" } else { "failure" };
    let mode = record.failure.map(|m| format!(", {m}")).unwrap_or_default();
    let mut out = format!(
        "<details><summary><span class=\"{class}\">{verdict}</span> — task {} sample {}, reward {}, {} turns, {} tokens{}</summary>\n<pre>{}</pre>\n",
        record.task,
        record.sample,
        record.reward,
        record.turns,
        record.generated_tokens,
        escape(&mode),
        escape(&episode.first_observation)
    );
    for turn in &episode.turns {
        out.push_str(&format!(
            "<pre class=\"agent\">{}</pre>\n<pre>{}</pre>\n",
            escape(&turn.reply),
            escape(&turn.step.observation)
        ));
    }
    out.push_str("</details>\n");
    out
}

/// The whole report as one HTML document.
pub fn render(
    results: &StudyResults,
    tables: &[Table],
    figures: &[(String, String)],
    audit_text: &str,
) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>crossgym study: {name}</title><style>{STYLE}</style></head><body>\n\
         <h1>crossgym study: {name}</h1>\n<p>Model <b>{model}</b>, {runs} runs in the plan, {measured} (run, env) evaluations measured. \
         Every table shows this study's numbers (<i>ours</i>) beside the numbers printed in Xi et al. 2026 (<i>paper</i>).</p>\n",
        name = escape(&results.plan.name),
        model = escape(&results.plan.model),
        runs = results.plan.runs.len(),
        measured = results.finals.len(),
    );
    out.push_str("<h2>Tables</h2>\n");
    for table in tables {
        out.push_str(&table_html(table));
    }
    out.push_str("<h2>Figures</h2>\n");
    for (name, svg) in figures {
        // The SVG document's XML declaration is not valid inside HTML; keep the <svg> element.
        let element = svg.find("<svg").map_or(svg.as_str(), |at| &svg[at..]);
        out.push_str(&format!(
            "<figure id=\"{}\">{element}</figure>\n",
            escape(name)
        ));
    }
    out.push_str("<h2>Audit of the paper's tables</h2>\n<pre>");
    out.push_str(&escape(audit_text));
    out.push_str("</pre>\n<h2>Trajectories</h2>\n");
    for ((run, env), records) in &results.examples {
        if records.is_empty() {
            continue;
        }
        out.push_str(&format!("<h3>{} · {}</h3>\n", escape(run), escape(env)));
        for record in records {
            out.push_str(&episode_html(record));
        }
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }
}
