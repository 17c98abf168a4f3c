//! Kubernetes objects from `kubectl get -o yaml|json` output: one object, a
//! `kind: List` (or `PodList`, ...), a bare YAML sequence, or several YAML
//! documents. Every object keeps the line where it starts.
//!
//! Objects are kept as [`serde_json::Value`] and read through the lenient
//! typed views in [`types`]: a dump from any Kubernetes version, with odd or
//! missing fields, still yields what it has.

mod content;
mod fast;
mod internal;
mod json;
pub mod types;
mod yaml;

pub use content::{Content, LogSection, parse_content};
pub(crate) use json::array_element_lines;
pub use json::{parse_json, parse_json_as};
pub(crate) use yaml::options as yaml_options;
pub use yaml::parse_yaml;

use serde::Serialize;
use serde_json::Value;

/// One Kubernetes object and where it starts in its file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KubeObject {
    /// `apiVersion`, e.g. `rbac.authorization.k8s.io/v1`.
    pub api_version: String,
    /// `kind`, e.g. `ClusterRole`.
    pub kind: String,
    /// `metadata.namespace`, for namespaced objects.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// 1-based line where the object starts.
    pub line: u32,
    /// The whole object.
    #[serde(skip)]
    pub value: Value,
    /// The object is in the file but could not be read (a duplicate key, a
    /// wrong type): only its kind, namespace and name are known, found in its
    /// text. Checks over its content must answer *unknown*.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unreadable: bool,
}

impl KubeObject {
    /// Builds an object from a parsed value; `list_kind` (e.g. `PodList`)
    /// supplies the kind when an item lacks one.
    pub(crate) fn from_value(
        value: Value,
        line: u32,
        list_kind: Option<&str>,
        list_api_version: Option<&str>,
    ) -> Result<Self, String> {
        if !value.is_object() {
            return Err(format!("expected an object, found {}", json_type(&value)));
        }
        let text = |v: &Value, path: &[&str]| -> Option<String> {
            let mut cur = v;
            for p in path {
                cur = cur.get(p)?;
            }
            cur.as_str().map(str::to_owned)
        };
        let kind = text(&value, &["kind"])
            .or_else(|| {
                list_kind
                    .and_then(|k| k.strip_suffix("List"))
                    .filter(|k| !k.is_empty())
                    .map(str::to_owned)
            })
            .ok_or("object has no 'kind'")?;
        let api_version = text(&value, &["apiVersion"])
            .or_else(|| list_api_version.map(str::to_owned))
            .unwrap_or_default();
        let name = text(&value, &["metadata", "name"])
            .ok_or_else(|| format!("{kind} has no metadata.name"))?;
        let namespace = text(&value, &["metadata", "namespace"]);
        Ok(KubeObject {
            api_version,
            kind,
            namespace,
            name,
            line,
            value,
            unreadable: false,
        })
    }

    /// `metadata.labels`, or an empty map.
    pub fn labels(&self) -> std::collections::BTreeMap<String, String> {
        string_map(self.value.pointer("/metadata/labels"))
    }

    /// `metadata.annotations`, or an empty map.
    pub fn annotations(&self) -> std::collections::BTreeMap<String, String> {
        string_map(self.value.pointer("/metadata/annotations"))
    }

    /// Reads the object through one of the typed views in [`types`].
    pub fn view<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        T::deserialize(&self.value).map_err(|e| format!("{} {}: {e}", self.kind, self.name))
    }
}

/// The plural resource name of a kind: `NetworkPolicy` → `networkpolicies`.
pub fn resource_of_kind(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    match lower.as_str() {
        "endpoints" => lower,
        k if ["ss", "ch", "sh", "us", "x"].iter().any(|e| k.ends_with(e)) => format!("{k}es"),
        k if k.ends_with('s') => lower,
        k if k.ends_with('y') && !k.ends_with("ay") && !k.ends_with("ey") => {
            format!("{}ies", &k[..k.len() - 1])
        }
        _ => format!("{lower}s"),
    }
}

/// The kind of the objects of a well-known resource, for lists whose items
/// do not say.
pub fn kind_of_resource(resource: &str) -> Option<&'static str> {
    Some(match resource {
        "customresourcedefinitions" => "CustomResourceDefinition",
        "nodes" => "Node",
        "pods" => "Pod",
        "services" => "Service",
        "endpoints" => "Endpoints",
        "endpointslices" => "EndpointSlice",
        "daemonsets" => "DaemonSet",
        "deployments" => "Deployment",
        "replicasets" => "ReplicaSet",
        "replicationcontrollers" => "ReplicationController",
        "statefulsets" => "StatefulSet",
        "controllerrevisions" => "ControllerRevision",
        "configmaps" => "ConfigMap",
        "serviceaccounts" => "ServiceAccount",
        "clusterroles" => "ClusterRole",
        "clusterrolebindings" => "ClusterRoleBinding",
        "roles" => "Role",
        "rolebindings" => "RoleBinding",
        "events" => "Event",
        "namespaces" => "Namespace",
        "storageclasses" => "StorageClass",
        "persistentvolumes" => "PersistentVolume",
        "persistentvolumeclaims" => "PersistentVolumeClaim",
        "networkpolicies" => "NetworkPolicy",
        "ingresses" => "Ingress",
        "jobs" => "Job",
        "cronjobs" => "CronJob",
        "secrets" => "Secret",
        "componentstatuses" => "ComponentStatus",
        "certificatesigningrequests" => "CertificateSigningRequest",
        "limitranges" => "LimitRange",
        "resourcequotas" => "ResourceQuota",
        "poddisruptionbudgets" => "PodDisruptionBudget",
        "priorityclasses" => "PriorityClass",
        "leases" => "Lease",
        "apiservices" => "APIService",
        _ => return None,
    })
}

fn string_map(v: Option<&Value>) -> std::collections::BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Whether a top-level object is a list of objects (`kind: List`, `PodList`, ...).
pub(crate) fn is_list(value: &Value) -> bool {
    let kind = value.get("kind").and_then(Value::as_str);
    match value.get("items") {
        Some(Value::Array(_)) => kind.is_none_or(|k| k.ends_with("List")),
        // `"items": null` in an empty list of client-go's making.
        Some(Value::Null) | None => {
            kind.is_some_and(|k| k.ends_with("List"))
                && value
                    .get("metadata")
                    .is_none_or(|m| m.get("name").is_none())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_resources_round_trip() {
        for r in [
            "pods",
            "endpoints",
            "networkpolicies",
            "ingresses",
            "storageclasses",
            "clusterrolebindings",
            "componentstatuses",
            "priorityclasses",
        ] {
            let kind = kind_of_resource(r).unwrap();
            assert_eq!(resource_of_kind(kind), r, "{kind}");
        }
    }
}
