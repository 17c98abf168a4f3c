//! kubectl 1.13's `cluster-info dump` wrote Go *internal* types: a list's
//! `"Items"`, objects without `kind`/`apiVersion`, metadata fields at the
//! top of each object, and field names as in Go (`Spec`, `ClusterIP`,
//! `PodIP`). They are turned into the external form the views read.

use serde_json::{Map, Value};

/// Fields of `ObjectMeta` that internal objects carry at their top.
const META: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "initializers",
    "finalizers",
    "clusterName",
];

/// Fields whose value is a map with keys of the user's choosing: their keys
/// are kept as they are.
const FREE_MAPS: &[&str] = &[
    "Labels",
    "Annotations",
    "Selector",
    "NodeSelector",
    "MatchLabels",
    "Data",
    "BinaryData",
    "StringData",
    "Capacity",
    "Allocatable",
    "Limits",
    "Requests",
    "Hard",
    "Used",
];

/// A list in internal form (`"Items"`) becomes `{"kind": "<Kind>List",
/// "items": [...]}` with each item in external form; anything else is
/// returned as it is. `kind` is what the file name says the items are.
pub(crate) fn to_external(value: Value, kind: Option<&str>) -> Value {
    let Value::Object(mut map) = value else {
        return value;
    };
    if map.contains_key("items") || !matches!(map.get("Items"), Some(Value::Array(_))) {
        return Value::Object(map);
    }
    let items = match map.remove("Items") {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let items = items.into_iter().map(|i| item(i, kind)).collect();
    let mut out = Map::new();
    if let Some(k) = kind {
        out.insert("kind".into(), Value::String(format!("{k}List")));
    }
    out.insert("apiVersion".into(), Value::String("v1".into()));
    out.insert("items".into(), Value::Array(items));
    Value::Object(out)
}

fn item(value: Value, kind: Option<&str>) -> Value {
    let Value::Object(map) = value else {
        return value;
    };
    if map.contains_key("metadata") {
        return Value::Object(map);
    }
    let mut meta = Map::new();
    let mut out = Map::new();
    if let Some(k) = kind {
        out.insert("kind".into(), Value::String(k.into()));
        out.insert("apiVersion".into(), Value::String("v1".into()));
    }
    for (k, v) in map {
        if META.contains(&k.as_str()) {
            meta.insert(k, v);
        } else {
            let free = FREE_MAPS.contains(&k.as_str());
            out.insert(camel(&k), fields(v, free));
        }
    }
    out.insert("metadata".into(), Value::Object(meta));
    Value::Object(out)
}

/// Renames Go field names throughout a value; the keys of a free map stay.
fn fields(value: Value, free: bool) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    if free {
                        (k, v)
                    } else {
                        let inner_free = FREE_MAPS.contains(&k.as_str());
                        (camel(&k), fields(v, inner_free))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| fields(v, false)).collect()),
        other => other,
    }
}

/// `Spec` → `spec`, `ClusterIP` → `clusterIP`, `DNSPolicy` → `dnsPolicy`,
/// `IP` → `ip`, `QOSClass` → `qosClass`. Keys not starting with a capital
/// letter, or holding characters a Go field name cannot, are kept.
fn camel(key: &str) -> String {
    if !key.starts_with(|c: char| c.is_ascii_uppercase())
        || !key.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return key.to_owned();
    }
    let chars: Vec<char> = key.chars().collect();
    let upper = chars.iter().take_while(|c| c.is_ascii_uppercase()).count();
    // A run of capitals followed by lower case keeps its last capital for
    // the next word (`DNSPolicy`: `dns` + `Policy`).
    let lower_to = if upper == chars.len() || upper == 1 {
        upper
    } else {
        upper - 1
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < lower_to {
                c.to_ascii_lowercase()
            } else {
                *c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_names_become_json_names() {
        for (go, json) in [
            ("Spec", "spec"),
            ("ClusterIP", "clusterIP"),
            ("DNSPolicy", "dnsPolicy"),
            ("IP", "ip"),
            ("QOSClass", "qosClass"),
            ("PodCIDR", "podCIDR"),
            ("NodeName", "nodeName"),
            ("k8s-app", "k8s-app"),
            ("Corefile", "corefile"),
        ] {
            assert_eq!(camel(go), json);
        }
    }

    #[test]
    fn an_internal_list_reads_as_an_external_one() {
        let v = json!({"selfLink": "/api/v1/namespaces/kube-system/services", "Items": [
            {"name": "kube-dns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"},
             "Spec": {"ClusterIP": "10.96.0.10", "Selector": {"k8s-app": "kube-dns"},
                      "Ports": [{"Name": "dns", "Protocol": "UDP", "Port": 53}]}}
        ]});
        let out = to_external(v, Some("Service"));
        assert_eq!(out["kind"], "ServiceList");
        let svc = &out["items"][0];
        assert_eq!(svc["kind"], "Service");
        assert_eq!(svc["metadata"]["name"], "kube-dns");
        assert_eq!(svc["metadata"]["labels"]["k8s-app"], "kube-dns");
        assert_eq!(svc["spec"]["clusterIP"], "10.96.0.10");
        assert_eq!(svc["spec"]["selector"]["k8s-app"], "kube-dns");
        assert_eq!(svc["spec"]["ports"][0]["protocol"], "UDP");
    }

    #[test]
    fn configmap_data_keys_are_kept() {
        let v = json!({"Items": [{"name": "coredns", "Data": {"Corefile": ".:53 {}"}}]});
        let out = to_external(v, Some("ConfigMap"));
        assert_eq!(out["items"][0]["data"]["Corefile"], ".:53 {}");
    }

    #[test]
    fn external_lists_are_untouched() {
        let v = json!({"kind": "PodList", "items": []});
        assert_eq!(to_external(v.clone(), Some("Pod")), v);
    }
}
