//! Kubernetes objects recognised by content, whatever the file is called:
//! YAML or JSON, one object or a list, several YAML documents, a stream of
//! concatenated JSON lists with container logs between them (`kubectl
//! cluster-info dump` to stdout), or kubectl 1.13's internal types.

use super::{KubeObject, parse_json_as, parse_yaml};
use crate::Parsed;
use serde_json::Value;

/// What a file turned out to hold.
#[derive(Debug, Default)]
pub struct Content {
    /// The objects, with problems of files that are Kubernetes objects.
    pub parsed: Parsed<KubeObject>,
    /// The file is Kubernetes objects (even an empty list). When false the
    /// file is something else, and `parsed` is empty.
    pub kubernetes: bool,
    /// Container logs embedded between `==== START logs for container ...`
    /// and `==== END logs ...` markers.
    pub logs: Vec<LogSection>,
}

/// One container's log inside a `cluster-info dump` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSection {
    /// Pod namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
    /// 1-based line of the first log line in the file.
    pub first_line: u32,
    /// The log's lines.
    pub text: String,
}

const START: &str = "==== START logs for container ";
const END: &str = "==== END logs for container ";

/// Reads whatever Kubernetes objects `text` holds. `kind` is what the file
/// name says the items are, for lists whose items carry no kind.
pub fn parse_content(text: &str, kind: Option<&str>) -> Content {
    let mut content = Content::default();
    let owned;
    let text = if text.contains(START) {
        let (objects, logs) = split_logs(text);
        content.logs = logs;
        content.kubernetes = !content.logs.is_empty();
        owned = objects;
        owned.as_str()
    } else {
        text
    };
    let body = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if body.is_empty() {
        return content;
    }
    if body.starts_with('{') || body.starts_with('[') {
        json_values(text, kind, &mut content);
    } else if looks_like_yaml_objects(text) {
        content.kubernetes = true;
        content.parsed = parse_yaml(text);
    }
    content
}

/// Every top-level JSON value in `text`, each read as objects.
fn json_values(text: &str, kind: Option<&str>, content: &mut Content) {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut start = 0usize;
    let mut values = Vec::new();
    loop {
        match stream.next() {
            Some(Ok(value)) => {
                let end = stream.byte_offset();
                values.push((start, end, is_kubernetes(&value)));
                start = end;
            }
            Some(Err(e)) => {
                if values.is_empty() && !text.contains("\"kind\"") && !text.contains("\"Items\"") {
                    // Not Kubernetes JSON at all (and not JSON).
                    return;
                }
                content.kubernetes = true;
                content.parsed.problem(
                    u32::try_from(e.line()).unwrap_or(u32::MAX),
                    format!("not valid JSON: {e}"),
                );
                break;
            }
            None => break,
        }
    }
    if values.len() == 1 && values[0].2 {
        content.kubernetes = true;
        let guessed;
        let kind = match kind {
            Some(k) => Some(k),
            None => {
                guessed = serde_json::from_str::<Value>(text)
                    .ok()
                    .and_then(|v| shape_kind(&v));
                guessed
            }
        };
        let parsed = parse_json_as(text, kind);
        content.parsed.records.extend(parsed.records);
        content.parsed.diagnostics.extend(parsed.diagnostics);
        return;
    }
    for (start, end, kube) in values {
        if !kube {
            continue;
        }
        content.kubernetes = true;
        let offset = line_of(text, start) - 1;
        let mut parsed = parse_json_as(&text[start..end], kind);
        for o in &mut parsed.records {
            o.line = o.line.saturating_add(offset);
        }
        for d in &mut parsed.diagnostics {
            d.line = d.line.map(|l| l.saturating_add(offset));
        }
        content.parsed.records.extend(parsed.records);
        content.parsed.diagnostics.extend(parsed.diagnostics);
    }
}

/// The kind of kind-less objects, from their shape: a Pod has
/// `spec.containers`, an Event `involvedObject` (troubleshoot.sh's run-pod
/// collector writes both without `kind`).
fn shape_kind(value: &Value) -> Option<&'static str> {
    let first = match value {
        Value::Object(m) if m.contains_key("kind") => return None,
        Value::Object(m) => match m.get("items") {
            Some(Value::Array(items)) => items.first()?,
            _ => value,
        },
        Value::Array(items) => items.first()?,
        _ => return None,
    };
    if first.get("kind").is_some() {
        None
    } else if first.pointer("/spec/containers").is_some() {
        Some("Pod")
    } else if first.get("involvedObject").is_some() {
        Some("Event")
    } else {
        None
    }
}

/// The 1-based line at a byte offset.
fn line_of(text: &str, offset: usize) -> u32 {
    let at = offset.min(text.len());
    let n = text.as_bytes()[..at]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1;
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// An object with `kind`, `apiVersion` or `metadata`, a list (`items`,
/// internal `Items`), or an array of objects with `metadata` or `name`.
fn is_kubernetes(value: &Value) -> bool {
    match value {
        Value::Object(m) => {
            m.contains_key("kind")
                || m.contains_key("apiVersion")
                || (m.contains_key("metadata") && m.get("metadata").is_some_and(Value::is_object))
                || matches!(m.get("items"), Some(Value::Array(_)))
                || matches!(m.get("Items"), Some(Value::Array(_)))
        }
        Value::Array(items) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.get("metadata").is_some_and(Value::is_object))
        }
        _ => false,
    }
}

/// YAML of Kubernetes objects has `apiVersion:`/`kind:` keys at the top of
/// a document or list item, or is a `kind: List`.
fn looks_like_yaml_objects(text: &str) -> bool {
    let mut api = false;
    let mut kind = false;
    for line in text.lines().take(20_000) {
        let key = line
            .strip_prefix("- ")
            .or_else(|| line.strip_prefix("  "))
            .unwrap_or(line);
        if key.starts_with("apiVersion:") {
            api = true;
        } else if key.starts_with("kind:") {
            kind = true;
        }
        if api && kind {
            return true;
        }
    }
    false
}

/// Splits a `cluster-info dump` stream into its JSON (log lines blanked, so
/// that line numbers stay those of the file) and its container logs.
fn split_logs(text: &str) -> (String, Vec<LogSection>) {
    let mut objects = String::with_capacity(text.len());
    let mut logs = Vec::new();
    let mut current: Option<LogSection> = None;
    for (i, line) in text.lines().enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if let Some(rest) = line.strip_prefix(START) {
            if let Some(done) = current.take() {
                logs.push(done);
            }
            current = section(rest, number + 1);
        } else if line.starts_with(END) {
            if let Some(done) = current.take() {
                logs.push(done);
            }
        } else if let Some(s) = &mut current {
            s.text.push_str(line);
            s.text.push('\n');
        } else {
            objects.push_str(line);
        }
        objects.push('\n');
    }
    if let Some(done) = current.take() {
        logs.push(done);
    }
    (objects, logs)
}

/// `coredns of pod kube-system/coredns-1 ====`
fn section(rest: &str, first_line: u32) -> Option<LogSection> {
    let rest = rest.trim_end().strip_suffix("====")?.trim_end();
    let (container, pod) = rest.split_once(" of pod ")?;
    let (namespace, pod) = pod.split_once('/')?;
    Some(LogSection {
        namespace: namespace.into(),
        pod: pod.into(),
        container: container.into(),
        first_line,
        text: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_of_lists_and_logs() {
        let text = "{\n  \"kind\": \"NodeList\",\n  \"apiVersion\": \"v1\",\n  \"items\": [\n    {\"metadata\": {\"name\": \"n1\"}}\n  ]\n}\n{\n  \"kind\": \"PodList\",\n  \"items\": [\n    {\"metadata\": {\"name\": \"p1\", \"namespace\": \"kube-system\"}}\n  ]\n}\n==== START logs for container coredns of pod kube-system/p1 ====\nplugin/ready: Still waiting on: \"kubernetes\"\n==== END logs for container coredns of pod kube-system/p1 ====\n";
        let c = parse_content(text, None);
        assert!(c.kubernetes);
        assert!(
            c.parsed.diagnostics.is_empty(),
            "{:?}",
            c.parsed.diagnostics
        );
        let names: Vec<(&str, &str, u32)> = c
            .parsed
            .records
            .iter()
            .map(|o| (o.kind.as_str(), o.name.as_str(), o.line))
            .collect();
        assert_eq!(names, [("Node", "n1", 5), ("Pod", "p1", 11)]);
        assert_eq!(c.logs.len(), 1);
        assert_eq!(c.logs[0].container, "coredns");
        assert_eq!(c.logs[0].first_line, 15);
        assert!(c.logs[0].text.contains("Still waiting"));
    }

    #[test]
    fn other_json_and_yaml_are_not_kubernetes() {
        for text in [
            "{\"major\": \"1\", \"minor\": \"21\"}",
            "plugin: e2e\nstatus: passed\n",
            "just some text\n",
            "{ not json",
        ] {
            let c = parse_content(text, None);
            assert!(!c.kubernetes, "{text}");
            assert!(c.parsed.records.is_empty() && c.parsed.diagnostics.is_empty());
        }
    }

    #[test]
    fn yaml_under_any_name() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRoleBinding\n  metadata:\n    name: flannel\n";
        let c = parse_content(text, None);
        assert!(c.kubernetes);
        assert_eq!(c.parsed.records.len(), 1);
        assert_eq!(c.parsed.records[0].kind, "ClusterRoleBinding");
    }

    #[test]
    fn kindless_pods_and_events_by_shape() {
        let c = parse_content(
            "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": []}}",
            None,
        );
        assert_eq!(c.parsed.records[0].kind, "Pod");
        let c = parse_content(
            "{\"items\": [{\"metadata\": {\"name\": \"e\"}, \"involvedObject\": {}}]}",
            None,
        );
        assert_eq!(c.parsed.records[0].kind, "Event");
    }

    #[test]
    fn bare_arrays_take_the_kind_the_name_gives() {
        let c = parse_content("[{\"metadata\": {\"name\": \"a\"}}]", Some("Service"));
        assert_eq!(c.parsed.records[0].kind, "Service");
    }
}
