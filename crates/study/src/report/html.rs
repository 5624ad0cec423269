//! One self-contained HTML report, in the order a reader wants it: the paper's findings with our
//! verdicts and intervals, the key figures (the transfer matrix as a heatmap, then the curves and
//! bar charts), the tables, the audit, and a trajectory browser (a few successful and failed
//! episodes per run and env). No scripts, no external resources.

use crate::findings::{Finding, Verdict};
use crate::plan::{Regime, RunKind};
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
pre{white-space:pre-wrap;background:#f7f7f7;padding:.5em;font-size:12px;border-left:3px solid #bbb}pre.agent{border-color:#36c}\
table.findings td,table.findings th{white-space:normal;text-align:left;vertical-align:top;font-size:13px}table.findings td:last-child{white-space:nowrap}\
.verdict{font-weight:bold;padding:1px 6px;border-radius:3px}.reproduced{background:#d7f0d7}.not-reproduced{background:#f6d2d2}\
.inconclusive{background:#f3ecc8}.not-measured{background:#e4e4e4}table.heat td{text-align:center;min-width:6em}";

/// The findings as a table with coloured verdicts.
fn findings_html(findings: &[Finding]) -> String {
    let mut out = String::from(
        "<h2 id=\"findings\">Findings</h2>\n<p class=\"note\">Each verdict comes from a paired bootstrap \
         interval over test tasks (points of avg@k, <code>value [lo, hi]</code>): a claim of an \
         effect is reproduced only when the interval excludes 0 in the paper's direction; a claim \
         of sameness compares the interval with a ±5-point band.</p>\n\
         <table class=\"findings\"><tr><th>finding</th><th>paper</th><th>ours</th><th>verdict</th></tr>\n",
    );
    for f in findings {
        let class = match f.verdict {
            Verdict::Reproduced => "reproduced",
            Verdict::NotReproduced => "not-reproduced",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotMeasured => "not-measured",
        };
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><span class=\"verdict {class}\">{}</span></td></tr>\n",
            escape(f.name),
            escape(f.paper),
            escape(&f.ours),
            f.verdict.text()
        ));
    }
    out.push_str("</table>\n");
    out
}

/// The transfer matrix (axis 2) as a heatmap: avg@k of the base and of each env's U run on every
/// env, each cell coloured by its change from the base (green up, red down); empty when the base
/// was not measured.
fn transfer_heatmap(results: &StudyResults) -> String {
    let envs = super::measured_envs(results);
    if envs.is_empty() {
        return String::new();
    }
    let score = |kind: &RunKind, env: &str| {
        results
            .final_of_kind(kind, env)
            .map(|b| b.all.avg_at_k.value * 100.0)
    };
    let u = |env: &str| RunKind::difficulty(env, Regime::U);
    let mut rows: Vec<(String, RunKind)> = vec![("base".to_owned(), RunKind::Base)];
    rows.extend(
        envs.iter()
            .filter(|e| envs.iter().any(|t| score(&u(e), t).is_some()))
            .map(|e| (format!("trained on {e}"), u(e))),
    );
    let changes = rows.iter().flat_map(|(_, kind)| {
        envs.iter()
            .filter_map(|e| Some(score(kind, e)? - score(&RunKind::Base, e)?))
            .collect::<Vec<_>>()
    });
    let scale = changes.fold(1.0f64, |m, d| m.max(d.abs()));
    let mut out = String::from(
        "<h3>Transfer matrix: avg@k (points) of the base and each env's U run on every env</h3>\n\
         <div class=\"scroll\"><table class=\"heat\"><tr><th>model</th>",
    );
    for e in &envs {
        out.push_str(&format!("<th>{}</th>", escape(e)));
    }
    out.push_str("</tr>\n");
    for (label, kind) in &rows {
        out.push_str(&format!("<tr><td>{}</td>", escape(label)));
        for e in &envs {
            let cell = match (score(kind, e), score(&RunKind::Base, e)) {
                (Some(v), Some(base)) => {
                    let d = v - base;
                    let alpha = (d.abs() / scale * 0.8).min(0.8);
                    let rgb = if d >= 0.0 { "0,150,0" } else { "200,0,0" };
                    format!(
                        "<td style=\"background:rgba({rgb},{alpha:.2})\" title=\"{d:+.1} vs base\">{v:.1}</td>"
                    )
                }
                _ => "<td>–</td>".to_owned(),
            };
            out.push_str(&cell);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
    out
}

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
    findings: &[Finding],
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
    out.push_str(&findings_html(findings));
    out.push_str("<h2 id=\"figures\">Key figures</h2>\n");
    out.push_str(&transfer_heatmap(results));
    for (name, svg) in figures {
        // The SVG document's XML declaration is not valid inside HTML; keep the <svg> element.
        let element = svg.find("<svg").map_or(svg.as_str(), |at| &svg[at..]);
        out.push_str(&format!(
            "<figure id=\"{}\">{element}</figure>\n",
            escape(name)
        ));
    }
    out.push_str("<h2 id=\"tables\">Tables</h2>\n");
    for table in tables {
        out.push_str(&table_html(table));
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
