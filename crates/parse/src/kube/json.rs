use super::{KubeObject, is_list, json_type};
use crate::Parsed;
use serde_json::Value;

/// Parses `kubectl get -o json` output: one object, a list, or a bare array
/// of objects.
pub fn parse_json(text: &str) -> Parsed<KubeObject> {
    parse_json_as(text, None)
}

/// Like [`parse_json`], with the kind to assume for items that carry none
/// and whose list does not say (troubleshoot.sh writes such lists).
pub fn parse_json_as(text: &str, default_kind: Option<&str>) -> Parsed<KubeObject> {
    let mut out = Parsed::default();
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            out.problem(
                u32::try_from(e.line()).unwrap_or(u32::MAX),
                format!("not valid JSON: {e}"),
            );
            return out;
        }
    };
    let value = super::internal::to_external(value, default_kind);
    if is_list(&value) {
        let lines = item_lines(text);
        let list_kind = value
            .get("kind")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| default_kind.map(|k| format!("{k}List")));
        let list_api = value
            .get("apiVersion")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let Value::Object(mut map) = value else {
            return out;
        };
        let items = match map.remove("items") {
            Some(Value::Array(items)) => items,
            _ => return out,
        };
        for (i, item) in items.into_iter().enumerate() {
            let line = lines.get(i).copied().unwrap_or(1);
            match KubeObject::from_value(item, line, list_kind.as_deref(), list_api.as_deref()) {
                Ok(o) => out.push(o),
                Err(e) => out.problem(line, format!("item {i}: {e}")),
            }
        }
    } else if let Value::Array(items) = value {
        let lines = super::json::array_element_lines(text);
        for (i, item) in items.into_iter().enumerate() {
            let line = lines.get(i).copied().unwrap_or(1);
            match KubeObject::from_value(
                item,
                line,
                default_kind.map(|k| format!("{k}List")).as_deref(),
                None,
            ) {
                Ok(o) => out.push(o),
                Err(e) => out.problem(line, format!("item {i}: {e}")),
            }
        }
    } else if value.is_object() {
        let kind = default_kind.map(|k| format!("{k}List"));
        match KubeObject::from_value(value, 1, kind.as_deref(), None) {
            Ok(o) => out.push(o),
            Err(e) => out.problem(1, e),
        }
    } else {
        out.problem(
            1,
            format!(
                "expected a Kubernetes object or list, found {}",
                json_type(&value)
            ),
        );
    }
    out
}

/// The 1-based line where each element of the top-level object's `items`
/// array starts. A small scanner over the (already validated) JSON text:
/// it tracks strings and depth, nothing else.
pub(crate) fn item_lines(text: &str) -> Vec<u32> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut line = 1u32;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    // Whether we are inside the top-level `items` array, and whether the
    // next non-blank byte starts an element.
    let mut in_items = false;
    let mut items_done = false;
    let mut expect_item = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            line += 1;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        if in_items && depth == 2 && expect_item && b != b']' {
            lines.push(line);
            expect_item = false;
        }
        match b {
            b'"' => in_string = true,
            b'[' if depth == 1
                && !items_done
                && !in_items
                && key_before(bytes, i).is_some_and(|k| k.eq_ignore_ascii_case(b"items")) =>
            {
                in_items = true;
                expect_item = true;
                depth += 1;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if in_items && depth == 1 {
                    in_items = false;
                    items_done = true;
                }
            }
            b',' if in_items && depth == 2 => expect_item = true,
            _ => {}
        }
    }
    lines
}

/// The line where each element of a top-level JSON array starts.
pub(crate) fn array_element_lines(text: &str) -> Vec<u32> {
    let mut lines = Vec::new();
    let (mut line, mut depth, mut in_str, mut esc, mut expect) =
        (1u32, 0usize, false, false, false);
    for b in text.bytes() {
        if b == b'\n' {
            line += 1;
        }
        if in_str {
            if esc {
                esc = false;
            } else if b == b'\\' {
                esc = true;
            } else if b == b'"' {
                in_str = false;
            }
            continue;
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        if depth == 1 && expect && b != b']' {
            lines.push(line);
            expect = false;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                if depth == 1 {
                    expect = true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect = true,
            _ => {}
        }
    }
    lines
}

/// For a value starting at `at`, the bytes of the key before it (`"key" :`),
/// if the key has no escapes.
fn key_before(bytes: &[u8], at: usize) -> Option<&[u8]> {
    let mut j = at;
    let skip_ws = |j: &mut usize| {
        while *j > 0 && bytes[*j - 1].is_ascii_whitespace() {
            *j -= 1;
        }
    };
    skip_ws(&mut j);
    if j == 0 || bytes[j - 1] != b':' {
        return None;
    }
    j -= 1;
    skip_ws(&mut j);
    if j == 0 || bytes[j - 1] != b'"' {
        return None;
    }
    let end = j - 1;
    let quote = bytes[..end].iter().rposition(|b| *b == b'"')?;
    if quote > 0 && bytes[quote - 1] == b'\\' {
        return None;
    }
    Some(&bytes[quote + 1..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn items_carry_their_lines() {
        let text = "{\n  \"kind\": \"PodList\",\n  \"apiVersion\": \"v1\",\n  \"items\": [\n    {\n      \"metadata\": {\"name\": \"a\", \"namespace\": \"kube-system\"}\n    },\n    {\"kind\": \"Pod\", \"metadata\": {\"name\": \"b\"}}\n  ]\n}\n";
        let parsed = parse_json(text);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(
            (parsed.records[0].line, parsed.records[0].kind.as_str()),
            (5, "Pod")
        );
        assert_eq!(parsed.records[1].line, 8);
        assert_eq!(parsed.records[0].namespace.as_deref(), Some("kube-system"));
    }

    #[test]
    fn empty_list_with_null_items_has_no_objects() {
        let parsed = parse_json(
            r#"{"kind":"PodDisruptionBudgetList","apiVersion":"policy/v1","metadata":{"resourceVersion":"1"},"items":null}"#,
        );
        assert!(
            parsed.records.is_empty() && parsed.diagnostics.is_empty(),
            "{:?}",
            parsed.diagnostics
        );
    }

    #[test]
    fn strings_with_brackets_do_not_confuse_the_scanner() {
        let text = r#"{"metadata": {"x": "items: [ {"}, "items": [{"kind": "A", "metadata": {"name": "]\"{"}}, {"kind": "B", "metadata": {"name": "b"}}]}"#;
        let parsed = parse_json(text);
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(item_lines(text).len(), 2);
    }

    #[test]
    fn bad_items_are_diagnosed_and_others_kept() {
        let parsed = parse_json(
            r#"{"kind": "List", "items": [3, {"kind": "Node"}, {"kind": "Node", "metadata": {"name": "w1"}}]}"#,
        );
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.diagnostics.len(), 2);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let parsed = parse_json(&text);
        assert!(parsed.records.is_empty());
        assert_eq!(parsed.diagnostics.len(), 1);
    }

    proptest! {
        #[test]
        fn scanner_agrees_with_pretty_printer(names in proptest::collection::vec("[a-z\\[\\]{}\"\\\\,: ]{1,12}", 0..8)) {
            let items: Vec<Value> = names.iter().map(|n| serde_json::json!({"kind": "ConfigMap", "metadata": {"name": n}, "data": {"k": n}})).collect();
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
            let text = serde_json::to_string_pretty(&list).unwrap();
            let expected: Vec<u32> = text.lines().enumerate().filter(|(_, l)| *l == "    {").map(|(i, _)| i as u32 + 1).collect();
            prop_assert_eq!(item_lines(&text), expected);
            let compact = serde_json::to_string(&list).unwrap();
            prop_assert_eq!(item_lines(&compact).len(), names.len());
        }
    }
}
