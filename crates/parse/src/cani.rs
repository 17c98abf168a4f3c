//! `kubectl auth can-i --list` tables. Columns are found from the header's
//! positions, as kubectl aligns them.

use crate::Parsed;
use crate::diag::numbered;
use serde::Serialize;

/// One row: verbs allowed on a resource (or on non-resource URLs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CanIRow {
    /// 1-based line.
    pub line: u32,
    /// Resource without its group, e.g. `endpointslices`, `nodes/status`, `*`.
    pub resource: Option<String>,
    /// API group (`""` for core, `*` for all).
    pub group: Option<String>,
    /// Non-resource URLs.
    pub non_resource_urls: Vec<String>,
    /// Resource names the row is limited to.
    pub resource_names: Vec<String>,
    /// Verbs.
    pub verbs: Vec<String>,
}

/// Parses the table.
pub fn parse_can_i(text: &str) -> Parsed<CanIRow> {
    let mut out = Parsed::default();
    let mut cols: Option<[usize; 4]> = None;
    for (n, line) in numbered(text) {
        if line.trim().is_empty() {
            continue;
        }
        if line.trim_start().starts_with("Resources") && line.contains("Verbs") {
            let find = |h: &str| line.find(h);
            match (
                find("Resources"),
                find("Non-Resource URLs"),
                find("Resource Names"),
                find("Verbs"),
            ) {
                (Some(a), Some(b), Some(c), Some(d)) if a < b && b < c && c < d => {
                    cols = Some([a, b, c, d])
                }
                _ => out.problem(n, "header without the four can-i columns"),
            }
            continue;
        }
        let Some([_, b, c, d]) = cols else {
            out.problem(
                n,
                format!(
                    "row before the can-i header: '{}'",
                    crate::iproute::clip(line.trim())
                ),
            );
            continue;
        };
        let cell = |from: usize, to: usize| {
            line.get(from.min(line.len())..to.min(line.len()))
                .unwrap_or("")
                .trim()
        };
        let resource_full = cell(0, b);
        let list = |s: &str| -> Option<Vec<String>> {
            let inner = s.strip_prefix('[')?.strip_suffix(']')?;
            Some(inner.split_whitespace().map(str::to_owned).collect())
        };
        let (Some(urls), Some(names), Some(verbs)) = (
            list(cell(b, c)),
            list(cell(c, d)),
            list(cell(d, usize::MAX)),
        ) else {
            out.problem(
                n,
                format!(
                    "row not recognised: '{}'",
                    crate::iproute::clip(line.trim())
                ),
            );
            continue;
        };
        let (resource, group) = if resource_full.is_empty() {
            (None, None)
        } else {
            let (res, sub) = match resource_full.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (resource_full, None),
            };
            let (name, group) = match res.split_once('.') {
                Some((name, group)) => (name, group),
                None => (res, ""),
            };
            let name = match sub {
                Some(s) => format!("{name}/{s}"),
                None => name.to_owned(),
            };
            let group = if name == "*" && group.is_empty() {
                "*"
            } else {
                group
            };
            (Some(name), Some(group.to_owned()))
        };
        out.push(CanIRow {
            line: n,
            resource,
            group,
            non_resource_urls: urls,
            resource_names: names,
            verbs,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows() {
        let text = "Resources                                       Non-Resource URLs   Resource Names   Verbs\nendpointslices.discovery.k8s.io                 []                  []               [list watch]\nnodes                                           []                  []               [get list watch]\nnodes/status                                    []                  []               [patch]\n                                                [/api/*]            []               [get]\n";
        let p = parse_can_i(text);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.records.len(), 4);
        assert_eq!(p.records[0].resource.as_deref(), Some("endpointslices"));
        assert_eq!(p.records[0].group.as_deref(), Some("discovery.k8s.io"));
        assert_eq!(p.records[1].verbs, vec!["get", "list", "watch"]);
        assert_eq!(p.records[2].resource.as_deref(), Some("nodes/status"));
        assert_eq!(p.records[3].non_resource_urls, vec!["/api/*"]);
    }
}
