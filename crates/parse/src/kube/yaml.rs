use super::{KubeObject, is_list, json_type};
use crate::Parsed;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use serde_saphyr::{Budget, Options, Spanned};
use std::fmt;

/// Parses `kubectl get -o yaml` output: one object, a `kind: List`, a bare
/// sequence of objects, or several `---`-separated documents. A document
/// that cannot be read is reported and the others are still returned.
pub fn parse_yaml(text: &str) -> Parsed<KubeObject> {
    parse_yaml_with(text, true)
}

/// [`parse_yaml`], with or without the fast reader for kubectl's YAML
/// (without: every document through the full parser, for comparing).
pub(crate) fn parse_yaml_with(text: &str, fast: bool) -> Parsed<KubeObject> {
    let mut out = Parsed::default();
    let mut scalars = super::fast::ScalarCache::default();
    for (offset, doc) in documents(text) {
        if doc.trim().is_empty()
            || doc
                .lines()
                .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            continue;
        }
        if fast && let Some(parts) = super::fast::parse_document(doc, &mut scalars) {
            let (parts, line) = match parts {
                super::fast::FastDoc::Map {
                    fields,
                    items,
                    line,
                } => (Parts::Map { fields, items }, line),
                super::fast::FastDoc::Seq(items) => {
                    let line = items.first().map_or(0, |(l, _)| *l);
                    (Parts::Seq(items), line)
                }
            };
            add_document(&mut out, parts, (offset + line).max(offset + 1), offset);
            continue;
        }
        match serde_saphyr::from_str_with_options::<Spanned<Doc>>(doc, options()) {
            Ok(spanned) => {
                let doc_line = offset + line_of(&spanned.referenced);
                add_document(
                    &mut out,
                    Parts::from(spanned.value),
                    doc_line.max(offset + 1),
                    offset,
                );
            }
            Err(e) => {
                // One bad item of a list must not cost the others: read the
                // items one by one (kubectl prints them as `- ` at column 0).
                if !items_one_by_one(&mut out, doc, offset) {
                    out.problem(
                        offset + 1,
                        format!(
                            "YAML document cannot be read: {}",
                            first_line(&e.to_string())
                        ),
                    );
                }
            }
        }
    }
    out
}

/// Reads a `kind: List` document item by item, after reading it whole
/// failed. Each item that cannot be read is one diagnostic at its line and,
/// where its kind and name can be found in its text, an `unreadable`
/// placeholder object. False when the document is not such a list.
fn items_one_by_one(out: &mut Parsed<KubeObject>, doc: &str, offset: u32) -> bool {
    let lines: Vec<&str> = doc.split_inclusive('\n').collect();
    let Some(start) = lines.iter().position(|l| l.trim_end() == "items:") else {
        return false;
    };
    // Item boundaries: `- ` at column 0 after `items:`, up to the next top-level key.
    let mut items: Vec<(usize, usize)> = Vec::new();
    let mut end = lines.len();
    for (i, l) in lines.iter().enumerate().skip(start + 1) {
        if l.starts_with("- ") || l.trim_end() == "-" {
            if let Some(last) = items.last_mut() {
                last.1 = i;
            }
            items.push((i, lines.len()));
        } else if !l.starts_with(' ') && !l.trim().is_empty() && !l.starts_with('#') {
            end = i;
            if let Some(last) = items.last_mut() {
                last.1 = i;
            }
            break;
        }
    }
    if items.is_empty() {
        return false;
    }
    // The list's own fields (kind, apiVersion) without the items.
    let header: String = lines[..start]
        .iter()
        .chain(lines[end..].iter())
        .copied()
        .collect();
    let header: Value =
        serde_saphyr::from_str_with_options(&header, options()).unwrap_or(Value::Null);
    let list_kind = header.get("kind").and_then(Value::as_str);
    if list_kind.is_none_or(|k| !k.ends_with("List")) {
        return false;
    }
    let list_api = header.get("apiVersion").and_then(Value::as_str);
    for (i, (from, to)) in items.iter().enumerate() {
        let line = offset + u32::try_from(from + 1).unwrap_or(u32::MAX);
        // Dedent: `- key: v` / `  key: v` become `key: v`.
        let text: String = lines[*from..*to]
            .iter()
            .map(|l| l.get(2..).unwrap_or(l.trim_start()))
            .collect();
        match serde_saphyr::from_str_with_options::<Value>(&text, options()) {
            Ok(v) => match KubeObject::from_value(v, line, list_kind, list_api) {
                Ok(o) => out.push(o),
                Err(e) => out.problem(line, format!("item {i}: {e}")),
            },
            Err(e) => {
                let message = first_line(&e.to_string()).to_owned();
                match placeholder(&text, line, list_kind, list_api) {
                    Some(o) => {
                        out.problem(
                            line,
                            format!(
                                "item {i} ({} {}) cannot be read, so checks over it are unknown: {message}",
                                o.kind, o.name
                            ),
                        );
                        out.push(o);
                    }
                    None => out.problem(line, format!("item {i} cannot be read: {message}")),
                }
            }
        }
    }
    true
}

/// The kind, namespace and name of an item found in its text: `kind:` at
/// its top level, `name:`/`namespace:` right under `metadata:`.
fn placeholder(
    text: &str,
    line: u32,
    list_kind: Option<&str>,
    list_api: Option<&str>,
) -> Option<KubeObject> {
    let scalar = |l: &str, key: &str| -> Option<String> {
        let v = l.strip_prefix(key)?.trim();
        let v = v.trim_matches(['"', '\'']);
        (!v.is_empty()).then(|| v.to_owned())
    };
    let mut kind = None;
    let mut api = None;
    let mut name = None;
    let mut namespace = None;
    let mut in_metadata = false;
    for l in text.lines() {
        if !l.starts_with(' ') {
            in_metadata = l.trim_end() == "metadata:";
            kind = kind.or_else(|| scalar(l, "kind:"));
            api = api.or_else(|| scalar(l, "apiVersion:"));
        } else if in_metadata && !l.starts_with("   ") {
            name = name.or_else(|| scalar(l.trim_start(), "name:"));
            namespace = namespace.or_else(|| scalar(l.trim_start(), "namespace:"));
        }
    }
    let kind = kind.or_else(|| {
        list_kind
            .and_then(|k| k.strip_suffix("List"))
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
    })?;
    let name = name?;
    let api = api
        .or_else(|| list_api.map(str::to_owned))
        .unwrap_or_default();
    let mut metadata = Map::new();
    metadata.insert("name".into(), Value::String(name.clone()));
    if let Some(ns) = &namespace {
        metadata.insert("namespace".into(), Value::String(ns.clone()));
    }
    let mut value = Map::new();
    value.insert("apiVersion".into(), Value::String(api.clone()));
    value.insert("kind".into(), Value::String(kind.clone()));
    value.insert("metadata".into(), Value::Object(metadata));
    Some(KubeObject {
        api_version: api,
        kind,
        namespace,
        name,
        line,
        value: Value::Object(value),
        unreadable: true,
    })
}

/// Limits for untrusted YAML: alias bombs and absurd nesting are refused,
/// while a real `kubectl get pods -A -o yaml` of a large cluster (millions
/// of nodes) still fits.
pub(crate) fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_nodes = 50_000_000;
    budget.max_events = 100_000_000;
    budget.max_total_scalar_bytes = 512 << 20;
    budget.max_reader_input_bytes = Some(512 << 20);
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_depth = 64;
    budget.max_documents = 1;
    let mut options = Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 100_000;
    options.alias_limits.max_replay_stack_depth = 16;
    // `NO`, `on`, `0755` stay strings, as Kubernetes (YAML 1.2 via JSON) reads them.
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    options
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

fn line_of(loc: &serde_saphyr::Location) -> u32 {
    u32::try_from(loc.line()).unwrap_or(0).saturating_sub(1)
}

/// A document's top level, whichever reader read it: items carry the
/// 0-based line they start on.
enum Parts {
    Map {
        fields: Map<String, Value>,
        items: Option<Vec<(u32, Value)>>,
    },
    Seq(Vec<(u32, Value)>),
    Other(Value),
}

impl From<Doc> for Parts {
    fn from(doc: Doc) -> Parts {
        let lines = |items: Vec<Spanned<Value>>| {
            items
                .into_iter()
                .map(|s| (line_of(&s.referenced), s.value))
                .collect()
        };
        match doc {
            Doc::Map { fields, items } => Parts::Map {
                fields,
                items: items.map(lines),
            },
            Doc::Seq(items) => Parts::Seq(lines(items)),
            Doc::Other(v) => Parts::Other(v),
        }
    }
}

fn add_document(out: &mut Parsed<KubeObject>, doc: Parts, doc_line: u32, offset: u32) {
    match doc {
        Parts::Map { fields, items } => {
            let value = Value::Object(fields);
            match items {
                Some(items)
                    if is_list(&Value::Object(Map::from_iter([
                        ("items".to_owned(), Value::Array(Vec::new())),
                        (
                            "kind".to_owned(),
                            value.get("kind").cloned().unwrap_or(Value::Null),
                        ),
                    ]))) =>
                {
                    let list_kind = value.get("kind").and_then(Value::as_str);
                    let list_api = value.get("apiVersion").and_then(Value::as_str);
                    for (i, (item_line, item)) in items.into_iter().enumerate() {
                        let line = offset + item_line + 1;
                        match KubeObject::from_value(item, line, list_kind, list_api) {
                            Ok(o) => out.push(o),
                            Err(e) => out.problem(line, format!("item {i}: {e}")),
                        }
                    }
                }
                Some(items) => {
                    let mut fields = match value {
                        Value::Object(m) => m,
                        _ => Map::new(),
                    };
                    fields.insert(
                        "items".into(),
                        Value::Array(items.into_iter().map(|(_, v)| v).collect()),
                    );
                    push_one(out, Value::Object(fields), doc_line);
                }
                None => push_one(out, value, doc_line),
            }
        }
        Parts::Seq(items) => {
            for (i, (item_line, item)) in items.into_iter().enumerate() {
                let line = offset + item_line + 1;
                match KubeObject::from_value(item, line, None, None) {
                    Ok(o) => out.push(o),
                    Err(e) => out.problem(line, format!("item {i}: {e}")),
                }
            }
        }
        Parts::Other(v) => out.problem(
            doc_line,
            format!(
                "expected a Kubernetes object or list, found {}",
                json_type(&v)
            ),
        ),
    }
}

fn push_one(out: &mut Parsed<KubeObject>, value: Value, line: u32) {
    match KubeObject::from_value(value, line, None, None) {
        Ok(o) => out.push(o),
        Err(e) => out.problem(line, e),
    }
}

/// Splits a multi-document stream at `---` lines; returns each document
/// with the number of lines before it.
pub(crate) fn documents(text: &str) -> Vec<(u32, &str)> {
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut start_line = 0u32;
    let mut pos = 0usize;
    for (line, l) in text.split_inclusive('\n').enumerate() {
        let bare = l.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare.starts_with("--- ") || bare == "..." {
            docs.push((start_line, &text[start..pos]));
            start = pos + l.len();
            start_line = u32::try_from(line + 1).unwrap_or(u32::MAX);
        }
        pos += l.len();
    }
    docs.push((start_line, &text[start..]));
    docs
}

/// A YAML document: a mapping whose `items` keep their positions, a bare
/// sequence of objects (troubleshoot.sh's custom resources), or anything else.
enum Doc {
    Map {
        fields: Map<String, Value>,
        items: Option<Vec<Spanned<Value>>>,
    },
    Seq(Vec<Spanned<Value>>),
    Other(Value),
}

impl<'de> Deserialize<'de> for Doc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DocVisitor)
    }
}

struct DocVisitor;

impl<'de> Visitor<'de> for DocVisitor {
    type Value = Doc;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Kubernetes object or list")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Doc, A::Error> {
        let mut fields = Map::new();
        let mut items = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" && items.is_none() {
                let value: Option<Vec<Spanned<Value>>> = map.next_value()?;
                items = Some(value.unwrap_or_default());
            } else {
                fields.insert(key, map.next_value()?);
            }
        }
        Ok(Doc::Map { fields, items })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Doc, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Value>>()? {
            items.push(item);
        }
        Ok(Doc::Seq(items))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Doc, E> {
        Ok(Doc::Other(Value::String(v.to_owned())))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Doc, E> {
        Ok(Doc::Other(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Doc, E> {
        Ok(Doc::Other(Value::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Doc, E> {
        Ok(Doc::Other(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Doc, E> {
        Ok(Doc::Other(Value::from(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Doc, E> {
        Ok(Doc::Other(Value::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<Doc, E> {
        Ok(Doc::Other(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata:\n    name: master-1\n  spec:\n    podCIDR: 10.244.0.0/24\n- apiVersion: v1\n  kind: Node\n  metadata:\n    name: gpu-worker-1\nkind: List\nmetadata:\n  resourceVersion: \"\"\n";

    #[test]
    fn list_items_keep_their_lines() {
        let parsed = parse_yaml(LIST);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let got: Vec<_> = parsed
            .records
            .iter()
            .map(|o| (o.name.as_str(), o.line))
            .collect();
        assert_eq!(got, vec![("master-1", 3), ("gpu-worker-1", 9)]);
    }

    #[test]
    fn multi_document_stream_with_a_bad_document() {
        let text = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: flannel\n  namespace: kube-flannel\n---\nkind: [unclosed\n---\n# comment only\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: flannel\n";
        let parsed = parse_yaml(text);
        let got: Vec<_> = parsed
            .records
            .iter()
            .map(|o| (o.kind.as_str(), o.line))
            .collect();
        assert_eq!(got, vec![("ServiceAccount", 1), ("ClusterRole", 11)]);
        assert_eq!(parsed.diagnostics.len(), 1);
        assert_eq!(parsed.diagnostics[0].line, Some(7));
    }

    #[test]
    fn one_bad_item_is_one_diagnostic_and_a_placeholder() {
        let text = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata:\n    name: a\n- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRole\n  metadata:\n    name: flannel\n  rules:\n  - verbs: [get]\n    verbs: [list]\n- apiVersion: v1\n  kind: Node\n  metadata:\n    name: c\nkind: List\nmetadata:\n  resourceVersion: \"\"\n";
        let parsed = parse_yaml(text);
        let got: Vec<_> = parsed
            .records
            .iter()
            .map(|o| (o.kind.as_str(), o.name.as_str(), o.line, o.unreadable))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Node", "a", 3, false),
                ("ClusterRole", "flannel", 7, true),
                ("Node", "c", 14, false)
            ]
        );
        assert_eq!(parsed.diagnostics.len(), 1, "{:?}", parsed.diagnostics);
        assert_eq!(parsed.diagnostics[0].line, Some(7));
        assert!(
            parsed.diagnostics[0]
                .message
                .contains("ClusterRole flannel")
        );
    }

    #[test]
    fn yaml_1_1_scalars_stay_strings() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  country: NO\n  mode: 0755\n  flag: on\n";
        let parsed = parse_yaml(text);
        let data = &parsed.records[0].value["data"];
        assert_eq!(data["country"], "NO");
        assert_eq!(data["mode"], "0755");
        assert_eq!(data["flag"], "on");
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for i in 1..12 {
            let prev = i - 1;
            text.push_str(&format!("  a{i}: &a{i} [*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev}]\n"));
        }
        let parsed = parse_yaml(&text);
        assert!(parsed.records.is_empty());
        assert_eq!(parsed.diagnostics.len(), 1);
    }

    #[test]
    fn absurd_nesting_is_refused() {
        let text = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata: {}{}\n",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let parsed = parse_yaml(&text);
        assert!(parsed.records.is_empty());
        assert_eq!(parsed.diagnostics.len(), 1);
    }

    #[test]
    fn bare_sequence_of_objects() {
        let text = "- apiVersion: helm.cattle.io/v1\n  kind: HelmChart\n  metadata:\n    name: traefik\n    namespace: kube-system\n";
        let parsed = parse_yaml(text);
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.records[0].line, 1);
    }
}
