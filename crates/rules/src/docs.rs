//! A documentation page per rule, generated from the rule file (`kdiag rules
//! docs docs/rules`), and the plain-text `kdiag rules explain`.

use crate::load::{Rule, RuleSet};

/// The top-level `key:` block of the rule's YAML text, as written.
fn block(text: &str, key: &str) -> Option<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let top = !line.starts_with([' ', '-', '#']) && !line.is_empty();
        if top {
            if inside {
                break;
            }
            inside = line.starts_with(&format!("{key}:"));
        }
        if inside {
            out.push(line);
        }
    }
    (!out.is_empty()).then(|| out.join("\n"))
}

fn causes(set: &RuleSet, r: &Rule) -> (Vec<String>, Vec<String>) {
    let by: Vec<String> = r
        .def
        .caused_by
        .iter()
        .map(|c| {
            let what = c
                .rule
                .clone()
                .map(|x| format!("rule `{x}`"))
                .or_else(|| c.class.clone().map(|x| format!("class `{x}`")))
                .or_else(|| {
                    c.from
                        .clone()
                        .map(|x| format!("the finding its `{x}.*` attributes name (any class)"))
                })
                .unwrap_or_default();
            if c.on.is_empty() {
                what
            } else {
                format!(
                    "{what}, joined on {}",
                    c.on.iter()
                        .map(|o| format!("`{o}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        })
        .collect();
    let effects: Vec<String> = set
        .rules
        .iter()
        .filter(|o| {
            o.def.caused_by.iter().any(|c| {
                c.rule.as_deref() == Some(r.def.id.as_str())
                    || c.class.as_deref() == Some(r.def.class.as_str())
            })
        })
        .map(|o| format!("`{}` ({})", o.def.id, o.def.class))
        .collect();
    (by, effects)
}

/// The Markdown page of one rule.
pub fn page(set: &RuleSet, r: &Rule) -> String {
    let d = &r.def;
    let mut s = format!(
        "# {}\n\n**{}**\n\n| class | layer | severity |\n|---|---|---|\n| `{}` | {} | {} |\n\n",
        d.id,
        d.title,
        d.class,
        r.layer,
        format!("{:?}", d.severity).to_lowercase()
    );
    s.push_str(&format!(
        "{}\n\n## What it matches\n\n```yaml\n",
        d.description.trim_end()
    ));
    for key in ["match", "where", "subject", "attributes", "having"] {
        if let Some(b) = block(&r.text, key) {
            s.push_str(&b);
            s.push('\n');
        }
    }
    s.push_str("```\n\n## Fix\n\n```text\n");
    s.push_str(&d.remediation.render());
    s.push_str("\n```\n\n## Cause and effect\n\n");
    let (by, effects) = causes(set, r);
    s.push_str("Caused by: ");
    s.push_str(&if by.is_empty() {
        "nothing — its findings are root causes when they explain others.".into()
    } else {
        by.join("; ")
    });
    s.push_str("\n\nCan cause: ");
    s.push_str(&if effects.is_empty() {
        "no rule names it as a cause.".into()
    } else {
        effects.join(", ")
    });
    s.push_str("\n\n");
    if !d.references.is_empty() {
        s.push_str("## References\n\n");
        for x in &d.references {
            s.push_str(&format!("- <{x}>\n"));
        }
        s.push('\n');
    }
    let stem = r.file.strip_suffix(".yaml").unwrap_or(&r.file);
    s.push_str(&format!(
        "## Source\n\nRule file `{}`; fixtures in `{stem}/`.\n",
        r.file
    ));
    s
}

/// The index page: every rule by layer.
pub fn index(set: &RuleSet) -> String {
    let mut s = String::from(
        "# kdiag rules\n\nGenerated from `rules/` by `kdiag rules docs docs/rules`; do not edit by hand.\n\n| rule | class | severity | title |\n|---|---|---|---|\n",
    );
    let mut rules: Vec<&Rule> = set.rules.iter().collect();
    rules.sort_by(|a, b| (a.layer, &a.def.id).cmp(&(b.layer, &b.def.id)));
    for r in rules {
        s.push_str(&format!(
            "| [`{0}`]({0}.md) | `{1}` | {2} | {3} |\n",
            r.def.id,
            r.def.class,
            format!("{:?}", r.def.severity).to_lowercase(),
            r.def.title
        ));
    }
    s
}

/// The rule explained in plain text (`kdiag rules explain`).
pub fn explain(set: &RuleSet, r: &Rule) -> String {
    let d = &r.def;
    let mut s = format!(
        "{}\n{}\n\nclass {}  (layer {})  severity {}\nfile {}\n\n{}\n\nMatches:\n",
        d.id,
        d.title,
        d.class,
        r.layer,
        format!("{:?}", d.severity).to_lowercase(),
        r.file,
        d.description.trim_end()
    );
    for key in ["match", "where", "subject", "attributes", "having"] {
        if let Some(b) = block(&r.text, key) {
            for l in b.lines() {
                s.push_str(&format!("  {l}\n"));
            }
        }
    }
    s.push_str("\nFix:\n");
    for l in d.remediation.render().lines() {
        s.push_str(&format!("  {l}\n"));
    }
    let (by, effects) = causes(set, r);
    s.push_str("\nCaused by:\n");
    if by.is_empty() {
        s.push_str("  (nothing: its findings are root causes when they explain others)\n");
    }
    for b in by {
        s.push_str(&format!("  {}\n", b.replace('`', "")));
    }
    s.push_str("\nCan cause:\n");
    if effects.is_empty() {
        s.push_str("  (no rule names it as a cause)\n");
    }
    for e in effects {
        s.push_str(&format!("  {}\n", e.replace('`', "")));
    }
    if !d.references.is_empty() {
        s.push_str("\nReferences:\n");
        for x in &d.references {
            s.push_str(&format!("  {x}\n"));
        }
    }
    s
}
