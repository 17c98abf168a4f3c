//! A small block-style YAML writer for the lists the double filters (the
//! sample's own text is returned whenever nothing was filtered). Scalars
//! are written as JSON, which YAML reads as the same values.

use serde_json::Value;

/// `v` as block YAML.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    write(v, 0, &mut out);
    out
}

fn scalar(v: &Value) -> String {
    v.to_string()
}

fn is_scalar(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => true,
    }
}

fn write(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (k, val) in o {
                let key = serde_json::to_string(k).unwrap_or_default();
                if is_scalar(val) {
                    out.push_str(&format!("{pad}{key}: {}\n", scalar(val)));
                } else {
                    out.push_str(&format!("{pad}{key}:\n"));
                    write(val, indent + 2, out);
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for item in a {
                if is_scalar(item) {
                    out.push_str(&format!("{pad}- {}\n", scalar(item)));
                } else {
                    // "- " then the item's first line; the rest indented under it.
                    let mut inner = String::new();
                    write(item, indent + 2, &mut inner);
                    let body = inner.get(indent + 2..).unwrap_or("");
                    out.push_str(&format!("{pad}- {body}"));
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_through_a_yaml_reader() {
        let v = json!({"items": [{"metadata": {"name": "a", "labels": {"k8s-app": "kube-dns"}},
                                  "spec": {"args": ["--x=1", "y: z"], "empty": {}}}, 3, "s"],
                       "kind": "List"});
        let text = to_yaml(&v);
        let back: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back, v, "{text}");
    }
}
