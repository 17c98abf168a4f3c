//! Message templates: text with `{{ CEL }}` holes.

use crate::expr::{Expr, Scope, display};

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Expr(Expr),
}

impl Template {
    /// Parses and compiles every hole; errors name the hole.
    pub fn parse(text: &str) -> Result<Template, String> {
        Template::parse_with(text, false)
    }

    /// [`Template::parse`]; with `deferred`, holes compile on first use
    /// (for a rule already checked).
    pub fn parse_with(text: &str, deferred: bool) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            parts.push(Part::Text(rest[..start].to_owned()));
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or_else(|| {
                format!(
                    "'{{{{' at offset {} is never closed with '}}}}'",
                    text.len() - rest.len() + start
                )
            })?;
            let source = after[..end].trim();
            parts.push(Part::Expr(if deferred {
                Expr::deferred(source)
            } else {
                Expr::compile(source).map_err(|e| format!("in {{{{ {source} }}}}: {e}"))?
            }));
            rest = &after[end + 2..];
        }
        parts.push(Part::Text(rest.to_owned()));
        Ok(Template { parts })
    }

    /// Every hole's compiled expression.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.parts.iter().filter_map(|p| match p {
            Part::Expr(e) => Some(e),
            Part::Text(_) => None,
        })
    }

    /// The CEL source of every hole.
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Expr(e) => Some(e.source()),
            Part::Text(_) => None,
        })
    }

    /// Renders in `scope` (built once for all the expressions of a finding);
    /// a hole that fails renders as `?` and its error is returned beside.
    pub fn render_in(&self, scope: &Scope<'_>) -> (String, Vec<String>) {
        let mut out = String::new();
        let mut errors = Vec::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Expr(e) => match e.eval_in(scope) {
                    Ok(v) => out.push_str(&display(&v)),
                    Err(err) => {
                        out.push('?');
                        errors.push(format!("{{{{ {} }}}}: {err}", e.source()));
                    }
                },
            }
        }
        (out.trim().to_owned(), errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn holes_render() {
        let t = Template::parse("{{ subject.name }} is missing on {{ records.map(x, x.node) }}")
            .unwrap();
        let subject = json!({"name": "coredns"});
        let records = json!([{"node": "a"}, {"node": "b"}]);
        let scope = Scope::new(&[("subject", &subject), ("records", &records)]).unwrap();
        let (s, e) = t.render_in(&scope);
        assert_eq!(s, "coredns is missing on a, b");
        assert!(e.is_empty());
        assert!(Template::parse("{{ unclosed").is_err());
        assert!(Template::parse("{{ r. }}").is_err());
    }
}
