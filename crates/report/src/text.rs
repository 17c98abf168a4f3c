//! The report for a person: root causes first, each followed by the tree of
//! what it explains, every finding with its evidence (path:line and the
//! text); the fix under each root cause; then the other findings, the checks
//! that could not run for lack of data, and a one-line summary.

use kdiag_rules::def::Severity;
use kdiag_rules::eval::{Analysis, Finding};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Terminal styling; [`Style::plain`] when the output is not a terminal.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    /// No colour.
    pub fn plain() -> Self {
        Style { color: false }
    }
    /// ANSI colour.
    pub fn color() -> Self {
        Style { color: true }
    }
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    fn sev(&self, s: Severity) -> String {
        match s {
            Severity::Critical => self.paint("1;31", "CRITICAL"),
            Severity::Warning => self.paint("1;33", "WARNING"),
            Severity::Info => self.paint("36", "INFO"),
        }
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
}

/// Evidence lines shown per finding in the tree.
const EVIDENCE_SHOWN: usize = 4;
/// Children of one rule under one parent beyond which they are listed one line each.
const FOLD_AFTER: usize = 3;

fn subject(f: &Finding) -> String {
    let s = &f.subject;
    let mut parts = Vec::new();
    match (s.get("kind"), s.get("namespace"), s.get("name")) {
        (Some(k), Some(ns), Some(n)) => parts.push(format!("{k} {ns}/{n}")),
        (Some(k), None, Some(n)) => parts.push(format!("{k} {n}")),
        (None, Some(ns), Some(n)) => parts.push(format!("{ns}/{n}")),
        (None, None, Some(n)) => parts.push(n.clone()),
        _ => {}
    }
    for key in ["serviceaccount", "node", "cidr", "ip", "verb", "resource"] {
        if let Some(v) = s.get(key) {
            let label = if key == "serviceaccount" {
                "serviceaccount".to_owned()
            } else {
                key.to_owned()
            };
            parts.push(format!("{label} {v}"));
        }
    }
    parts.join(", ")
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.lines() {
        let mut cur = String::new();
        for word in para.split_whitespace() {
            if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut cur));
            }
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
        lines.push(cur);
    }
    lines
}

struct Printer<'a, W: Write> {
    out: &'a mut W,
    style: Style,
    by_id: BTreeMap<&'a str, &'a Finding>,
    printed: Vec<String>,
}

impl<'a, W: Write> Printer<'a, W> {
    fn header(&mut self, f: &Finding, prefix: &str) -> io::Result<()> {
        let seen = f
            .first_seen
            .map(|t| format!("  first seen {t}"))
            .unwrap_or_default();
        writeln!(
            self.out,
            "{prefix}{} {}  {}  {}{}",
            self.style.sev(f.severity),
            self.style.bold(&f.class),
            subject(f),
            self.style.dim(&format!("[{}]", f.id)),
            self.style.dim(&seen)
        )
    }

    fn body(&mut self, f: &Finding, indent: &str, evidence: usize) -> io::Result<()> {
        for l in wrap(&f.message, 100) {
            writeln!(self.out, "{indent}{l}")?;
        }
        if evidence > 0 && !f.evidence.is_empty() {
            writeln!(self.out, "{indent}{}", self.style.dim("evidence:"))?;
            for e in f.evidence.iter().take(evidence) {
                writeln!(
                    self.out,
                    "{indent}  {}  {}",
                    self.style.dim(&format!("{}:{}", e.file, e.line)),
                    e.text.trim()
                )?;
            }
            if f.evidence.len() > evidence {
                writeln!(
                    self.out,
                    "{indent}  {}",
                    self.style.dim(&format!(
                        "… {} more (--format json shows all)",
                        f.evidence.len() - evidence
                    ))
                )?;
            }
        }
        Ok(())
    }

    fn fix(&mut self, f: &Finding, indent: &str) -> io::Result<()> {
        writeln!(self.out, "{indent}{}", self.style.bold("fix:"))?;
        for l in f.remediation.lines() {
            writeln!(self.out, "{indent}  {l}")?;
        }
        Ok(())
    }

    fn children(&mut self, parent: &Finding, indent: &str) -> io::Result<()> {
        self.effects(&parent.causes, indent)
    }

    /// The findings `ids` names, under a cause (or a folded group of
    /// causes). Findings already shown under another cause are named once;
    /// the others are grouped by rule, in report order.
    fn effects(&mut self, ids: &[String], indent: &str) -> io::Result<()> {
        let mut repeated = Vec::new();
        let mut groups: Vec<(String, Vec<&'a Finding>)> = Vec::new();
        for id in ids {
            let Some(&c) = self.by_id.get(id.as_str()) else {
                continue;
            };
            if self.printed.contains(&c.id) {
                if !repeated.contains(&c.id) {
                    repeated.push(c.id.clone());
                }
                continue;
            }
            match groups.iter_mut().find(|(r, _)| *r == c.rule) {
                Some((_, v)) => {
                    if !v.iter().any(|k| k.id == c.id) {
                        v.push(c);
                    }
                }
                None => groups.push((c.rule.clone(), vec![c])),
            }
        }
        if !repeated.is_empty() {
            let branch = if groups.is_empty() {
                "└─ "
            } else {
                "├─ "
            };
            let ids: Vec<String> = repeated.iter().map(|i| format!("[{i}]")).collect();
            writeln!(
                self.out,
                "{indent}{branch}{}",
                self.style
                    .dim(&format!("also explains {} (shown above)", ids.join(" ")))
            )?;
        }
        let n = groups.len();
        for (gi, (_, kids)) in groups.into_iter().enumerate() {
            let last = gi + 1 == n;
            let (branch, cont) = if last {
                ("└─ ", "   ")
            } else {
                ("├─ ", "│  ")
            };
            if kids.len() > FOLD_AFTER {
                self.folded(&kids, indent, branch, cont)?;
            } else {
                for (ki, k) in kids.iter().enumerate() {
                    let (b, c) = if last && ki + 1 == kids.len() {
                        ("└─ ", "   ")
                    } else {
                        ("├─ ", "│  ")
                    };
                    self.printed.push(k.id.clone());
                    self.header(k, &format!("{indent}{b}"))?;
                    self.body(k, &format!("{indent}{c}  "), EVIDENCE_SHOWN)?;
                    self.children(k, &format!("{indent}{c}"))?;
                }
            }
        }
        Ok(())
    }

    /// Many findings of one rule under one cause: one block, a table of
    /// their subjects with the line that shows each, then what they explain
    /// together.
    fn folded(
        &mut self,
        kids: &[&'a Finding],
        indent: &str,
        branch: &str,
        cont: &str,
    ) -> io::Result<()> {
        let f0 = kids[0];
        writeln!(
            self.out,
            "{indent}{branch}{} {} ×{}  {}",
            self.style.sev(f0.severity),
            self.style.bold(&f0.class),
            kids.len(),
            self.style
                .dim(&format!("[{}…{}]", f0.id, kids[kids.len() - 1].id))
        )?;
        let first = wrap(&f0.message, 1000)
            .into_iter()
            .next()
            .unwrap_or_default();
        writeln!(
            self.out,
            "{indent}{cont}  {}",
            self.style.dim(&format!("e.g. [{}] {first}", f0.id))
        )?;
        // Columns: the subject fields every finding of the group has.
        let keys: Vec<&String> = f0
            .subject
            .keys()
            .filter(|k| kids.iter().all(|x| x.subject.contains_key(*k)))
            .collect();
        let rows: Vec<Vec<String>> = kids
            .iter()
            .map(|k| {
                let mut row: Vec<String> = keys.iter().map(|c| k.subject[*c].clone()).collect();
                row.push(
                    k.evidence
                        .iter()
                        .find(|e| e.file.starts_with("nodes/"))
                        .or(k.evidence.first())
                        .map(|e| format!("{}:{}", e.file, e.line))
                        .unwrap_or_default(),
                );
                row.push(format!("[{}]", k.id));
                row
            })
            .collect();
        let mut header: Vec<String> = keys.iter().map(|k| (*k).clone()).collect();
        header.push("evidence".into());
        header.push(String::new());
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([header[i].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| -> String {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_owned()
        };
        writeln!(
            self.out,
            "{indent}{cont}  {}",
            self.style.dim(&line(&header))
        )?;
        for (k, r) in kids.iter().zip(&rows) {
            self.printed.push(k.id.clone());
            writeln!(self.out, "{indent}{cont}  {}", line(r))?;
        }
        // What the group explains, once for all of it.
        let mut effects: Vec<String> = Vec::new();
        for k in kids {
            for c in &k.causes {
                if !effects.contains(c) {
                    effects.push(c.clone());
                }
            }
        }
        if !effects.is_empty() {
            self.effects(&effects, &format!("{indent}{cont}"))?;
        }
        Ok(())
    }
}

/// Writes the report.
pub fn render(analysis: &Analysis, out: &mut impl Write, style: Style) -> io::Result<()> {
    let info = &analysis.bundle;
    let mut head = format!("kdiag analyze: {}", info.source);
    if let Some(v) = &info.kubernetes_version {
        head.push_str(&format!(" — Kubernetes {v}"));
    }
    if let Some(t) = &info.collected_at {
        head.push_str(&format!(", collected {t}"));
    }
    writeln!(out, "{}", style.bold(&head))?;
    let roots: Vec<&Finding> = analysis.findings.iter().filter(|f| f.root).collect();
    let others: Vec<&Finding> = analysis
        .findings
        .iter()
        .filter(|f| !f.root && f.caused_by.is_empty())
        .collect();
    let mut p = Printer {
        out,
        style,
        by_id: analysis
            .findings
            .iter()
            .map(|f| (f.id.as_str(), f))
            .collect(),
        printed: Vec::new(),
    };
    for (i, r) in roots.iter().enumerate() {
        writeln!(p.out)?;
        writeln!(
            p.out,
            "{}",
            style.bold(&format!("ROOT CAUSE {} of {}", i + 1, roots.len()))
        )?;
        p.printed.push(r.id.clone());
        p.header(r, "")?;
        p.body(r, "  ", EVIDENCE_SHOWN)?;
        p.fix(r, "  ")?;
        p.children(r, "  ")?;
    }
    if !others.is_empty() {
        writeln!(p.out)?;
        writeln!(p.out, "{}", style.bold("OTHER FINDINGS"))?;
        for f in &others {
            p.printed.push(f.id.clone());
            p.header(f, "")?;
            p.body(f, "  ", EVIDENCE_SHOWN)?;
            p.fix(f, "  ")?;
        }
    }
    if !analysis.unknown.is_empty() {
        writeln!(p.out)?;
        writeln!(
            p.out,
            "{}",
            style.bold("NOT CHECKED (data missing — unknown, not healthy)")
        )?;
        for u in &analysis.unknown {
            let shown: Vec<&str> = u.missing.iter().take(4).map(String::as_str).collect();
            let more = if u.missing.len() > 4 {
                format!(" and {} more", u.missing.len() - 4)
            } else {
                String::new()
            };
            writeln!(p.out, "  {}  missing {}{more}", u.rule, shown.join(", "))?;
            for w in &u.why {
                writeln!(
                    p.out,
                    "    {}",
                    style.dim(&format!(
                        "collection failed on {} of them: {}",
                        w.inputs, w.reason
                    ))
                )?;
            }
        }
    }
    if !analysis.not_applicable.is_empty() {
        writeln!(p.out)?;
        writeln!(
            p.out,
            "{}",
            style.bold("NOT APPLICABLE (about a CNI this cluster does not run)")
        )?;
        for n in &analysis.not_applicable {
            writeln!(p.out, "  {}  {}", n.rule, style.dim(&n.reason))?;
        }
    }
    if !analysis.problems.is_empty() {
        writeln!(p.out)?;
        writeln!(p.out, "{}", style.bold("RULE PROBLEMS"))?;
        for pr in &analysis.problems {
            writeln!(p.out, "  {pr}")?;
        }
    }
    let count = |s: Severity| analysis.findings.iter().filter(|f| f.severity == s).count();
    writeln!(p.out)?;
    writeln!(
        p.out,
        "{}",
        style.bold(&format!(
            "{} root cause{} · {} finding{} ({} critical, {} warning, {} info) · {} check{} unknown",
            roots.len(),
            if roots.len() == 1 { "" } else { "s" },
            analysis.findings.len(),
            if analysis.findings.len() == 1 { "" } else { "s" },
            count(Severity::Critical),
            count(Severity::Warning),
            count(Severity::Info),
            analysis.unknown.len(),
            if analysis.unknown.len() == 1 { "" } else { "s" },
        ))
    )?;
    Ok(())
}
