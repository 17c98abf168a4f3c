//! The subset of kubectl's JSONPath templates that kdiag-collect uses:
//! `{range <path>}...{end}`, `{<path>}` and `{"literal"}`, where a path is
//! `.field`, `[N]` and `[*]` steps from the current item.

use serde_json::Value;

#[derive(Debug)]
enum Node {
    Text(String),
    Path(Vec<Step>),
    Range(Vec<Step>, Vec<Node>),
}

#[derive(Debug, Clone)]
enum Step {
    Field(String),
    Index(usize),
    All,
}

/// Renders `template` against `root`, as `kubectl get -o jsonpath=...` does.
pub fn render(template: &str, root: &Value) -> Result<String, String> {
    let mut tokens = tokenize(template)?.into_iter();
    let nodes = parse(&mut tokens, false)?;
    let mut out = String::new();
    emit(&nodes, root, &mut out);
    Ok(out)
}

enum Token {
    Text(String),
    Expr(String),
}

fn tokenize(t: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            out.push(Token::Text(rest[..open].to_owned()));
        }
        let after = &rest[open + 1..];
        // A quoted literal may hold '}'.
        let close = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').ok_or("unterminated string literal")? + 1;
            after[end..].find('}').map(|c| c + end)
        } else {
            after.find('}')
        }
        .ok_or("unterminated {")?;
        out.push(Token::Expr(after[..close].trim().to_owned()));
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        out.push(Token::Text(rest.to_owned()));
    }
    Ok(out)
}

fn parse(tokens: &mut impl Iterator<Item = Token>, in_range: bool) -> Result<Vec<Node>, String> {
    let mut nodes = Vec::new();
    while let Some(t) = tokens.next() {
        match t {
            Token::Text(s) => nodes.push(Node::Text(s)),
            Token::Expr(e) if e == "end" => {
                return if in_range {
                    Ok(nodes)
                } else {
                    Err("{end} without {range}".into())
                };
            }
            Token::Expr(e) if e.starts_with("range ") => {
                let path = steps(e["range ".len()..].trim())?;
                let body = parse(tokens, true)?;
                nodes.push(Node::Range(path, body));
            }
            Token::Expr(e) if e.starts_with('"') => {
                let lit = e
                    .trim_matches('"')
                    .replace("\\n", "\n")
                    .replace("\\t", "\t");
                nodes.push(Node::Text(lit));
            }
            Token::Expr(e) => nodes.push(Node::Path(steps(&e)?)),
        }
    }
    if in_range {
        Err("{range} without {end}".into())
    } else {
        Ok(nodes)
    }
}

fn steps(path: &str) -> Result<Vec<Step>, String> {
    let mut out = Vec::new();
    let mut rest = path.strip_prefix('$').unwrap_or(path);
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end > 0 {
                out.push(Step::Field(r[..end].to_owned()));
            }
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r
                .find(']')
                .ok_or_else(|| format!("unterminated [ in {path}"))?;
            let inner = &r[..end];
            out.push(if inner == "*" {
                Step::All
            } else {
                Step::Index(inner.parse().map_err(|_| format!("bad index {inner}"))?)
            });
            rest = &r[end + 1..];
        } else {
            return Err(format!("cannot read path {path}"));
        }
    }
    Ok(out)
}

fn select<'a>(v: &'a Value, path: &[Step]) -> Vec<&'a Value> {
    let mut cur = vec![v];
    for s in path {
        let mut next = Vec::new();
        for c in cur {
            match s {
                Step::Field(f) => next.extend(c.get(f.as_str())),
                Step::Index(i) => next.extend(c.get(*i)),
                Step::All => match c {
                    Value::Array(a) => next.extend(a.iter()),
                    Value::Object(o) => next.extend(o.values()),
                    _ => {}
                },
            }
        }
        cur = next;
    }
    cur
}

fn emit(nodes: &[Node], ctx: &Value, out: &mut String) {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Path(p) => {
                let vals: Vec<String> = select(ctx, p).into_iter().map(scalar).collect();
                out.push_str(&vals.join(" "));
            }
            Node::Range(p, body) => {
                for item in select(ctx, p) {
                    emit(body, item, out);
                }
            }
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_nested_ranges_and_literals() {
        let v = json!({"items": [
            {"metadata": {"name": "a"}, "spec": {"containers": [{"name": "x"}, {"name": "y"}]}},
            {"metadata": {"name": "b"}, "spec": {}}
        ]});
        let t = r#"{range .items[*]}{.metadata.name}{"\t"}{range .spec.containers[*]}{.name}{" "}{end}{"\n"}{end}"#;
        assert_eq!(render(t, &v).unwrap(), "a\tx y \nb\t\n");
        assert_eq!(render("{.items[0].metadata.name}", &v).unwrap(), "a");
    }
}
