//! The network components of `rules/components.yaml` (embedded at build
//! time): how each is recognised, who it runs as, what it needs by version —
//! and the `components` table, each component as the bundle shows it. The
//! one place component identity is written.

use crate::Snapshot;
use crate::derive::{Fact, FactTable, row};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// One principal: a service account, a user, or the service accounts of matching pods.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrincipalDef {
    /// `namespace/name`.
    #[serde(default)]
    pub serviceaccount: Option<String>,
    /// A user name, e.g. `system:kube-proxy`.
    #[serde(default)]
    pub user: Option<String>,
    /// The service accounts of the pods these labels select.
    #[serde(default)]
    pub pods: Option<PodSelector>,
}

/// Pods by labels, in any namespace unless one is given.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PodSelector {
    /// Namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Labels that must all match.
    #[serde(default)]
    pub selector: BTreeMap<String, String>,
    /// A text some container image of the pod contains (tells CoreDNS from
    /// kube-dns, which share `k8s-app: kube-dns`).
    #[serde(default)]
    pub image: Option<String>,
}

/// One permission.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessDef {
    /// Verbs, e.g. `[list, watch]`.
    pub verbs: Vec<String>,
    /// Resource, with `/subresource` if any.
    pub resource: String,
    /// API group; `""` is the core group.
    #[serde(default)]
    pub group: String,
    /// Needed from this version of the component on (e.g. `"1.19"`).
    #[serde(default)]
    pub since: Option<String>,
    /// Needed only before this version of the component.
    #[serde(default)]
    pub until: Option<String>,
}

/// One network component of `rules/components.yaml`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentDef {
    /// Its name in findings and in `component(NAME)`.
    pub name: String,
    /// What it is: `service-proxy`, `cni`, `dns`, `dns-cache`.
    pub kind: String,
    /// How its pods are recognised.
    pub recognise: Recognise,
    /// Where its version comes from (see [`RbacComponent::version`]).
    #[serde(default)]
    pub version: Option<String>,
    /// The ClusterRole that normally grants it.
    #[serde(default)]
    pub role: Option<String>,
    /// Who it may run as.
    #[serde(default)]
    pub principals: Vec<PrincipalDef>,
    /// What it needs.
    #[serde(default)]
    pub needs: Vec<AccessDef>,
}

/// How a component's pods are found.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Recognise {
    /// Any of these selects its pods.
    pub pods: Vec<PodSelector>,
}

const COMPONENTS_YAML: &str = include_str!("../../../rules/components.yaml");

/// Every component of `rules/components.yaml`, in file order; empty when the
/// embedded file does not read (a test checks that it does).
pub fn catalog() -> &'static [ComponentDef] {
    static COMPONENTS: OnceLock<Vec<ComponentDef>> = OnceLock::new();
    COMPONENTS.get_or_init(|| serde_saphyr::from_str(COMPONENTS_YAML).unwrap_or_default())
}

/// Why the embedded catalog does not read, if it does not.
pub fn catalog_error() -> Option<String> {
    serde_saphyr::from_str::<Vec<ComponentDef>>(COMPONENTS_YAML)
        .err()
        .map(|e| e.to_string())
}

/// A component by name.
pub fn component(name: &str) -> Option<&'static ComponentDef> {
    catalog().iter().find(|c| c.name == name)
}

/// Whether some container image of a pod (or pod template) contains `text`
/// (any pod when `None`). A pod that lists no images at all cannot be told
/// apart, so it matches.
pub fn image_matches(pod: &Value, text: Option<&str>) -> bool {
    let Some(text) = text else { return true };
    let mut any = false;
    for i in images(pod) {
        if i.contains(text) {
            return true;
        }
        any = true;
    }
    !any
}

/// The container images of a pod object.
fn images(pod: &Value) -> impl Iterator<Item = &str> {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("image").and_then(Value::as_str))
}

/// The pods a set of selectors selects (each once).
pub fn pods_of<'a>(
    snap: &'a Snapshot,
    selectors: &'a [PodSelector],
) -> Vec<&'a crate::Located<kdiag_parse::kube::KubeObject>> {
    let mut out: Vec<&crate::Located<kdiag_parse::kube::KubeObject>> = Vec::new();
    for sel in selectors {
        for p in snap
            .pods_matching(sel.namespace.as_deref(), &sel.selector)
            .filter(|p| image_matches(&p.object.value, sel.image.as_deref()))
        {
            if !out.iter().any(|q| std::ptr::eq(*q, p)) {
                out.push(p);
            }
        }
    }
    out
}

/// Whether a pod's Ready condition is True.
pub fn pod_ready(pod: &crate::Located<kdiag_parse::kube::KubeObject>) -> bool {
    pod.object
        .value
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// The component of the catalog a pod belongs to, if any: the first whose
/// pod selectors match it.
pub fn of_pod(pod: &crate::Located<kdiag_parse::kube::KubeObject>) -> Option<&'static str> {
    let labels = pod.object.labels();
    catalog()
        .iter()
        .find(|c| {
            c.recognise.pods.iter().any(|sel| {
                sel.namespace
                    .as_deref()
                    .is_none_or(|ns| pod.object.namespace.as_deref() == Some(ns))
                    && sel.selector.iter().all(|(k, v)| labels.get(k) == Some(v))
                    && image_matches(&pod.object.value, sel.image.as_deref())
            })
        })
        .map(|c| c.name.as_str())
}

/// `(major, minor, patch)` of a version such as `v1.21.1`, `1.8.0`,
/// `v1.31.2+k3s1` or `v0.18.1`; `None` when it does not start with numbers.
pub fn parse_version(v: &str) -> Option<(u64, u64, u64)> {
    let v = v.trim().trim_start_matches('v');
    let end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let mut parts = v[..end].split('.').filter(|p| !p.is_empty());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let patch = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((major, minor, patch))
}

/// A component's version and where it was read, from its `version:` source.
pub fn version(
    snap: &Snapshot,
    source: &str,
    pods: &[PodSelector],
) -> Option<(String, crate::inventory::Evidence)> {
    let ev = |file: &str, line: u32, text: String| crate::inventory::Evidence {
        file: file.to_owned(),
        line,
        text,
    };
    if source == "kubernetes" {
        if let Some(v) = &snap.version
            && let Some(server) = &v.value.server
        {
            return Some((
                server.clone(),
                ev(
                    &v.file,
                    v.value.server_line,
                    format!("gitVersion: {server}"),
                ),
            ));
        }
        // No version file: what the kubelets report.
        return snap.objects_of("Node").find_map(|n| {
            let v = n
                .object
                .value
                .pointer("/status/nodeInfo/kubeProxyVersion")
                .or_else(|| n.object.value.pointer("/status/nodeInfo/kubeletVersion"))
                .and_then(Value::as_str)?;
            Some((
                v.to_owned(),
                ev(
                    &n.file,
                    n.object.line,
                    format!("Node {} runs {v}", n.object.name),
                ),
            ))
        });
    }
    let text = source.strip_prefix("image:")?;
    pods_of(snap, pods).into_iter().find_map(|p| {
        let image = images(&p.object.value).find(|i| i.contains(text))?;
        let name = image.split('@').next().unwrap_or(image);
        let tag = name
            .rsplit_once(':')
            .map(|(_, t)| t)
            .filter(|t| !t.contains('/'))?;
        Some((
            tag.to_owned(),
            ev(
                &p.file,
                p.object.line,
                format!(
                    "Pod {}/{} runs {image}",
                    p.object.namespace.clone().unwrap_or_default(),
                    p.object.name
                ),
            ),
        ))
    })
}

/// `components`: one record per component of `rules/components.yaml`, as
/// the bundle shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ComponentRecord {
    /// Its name (`kube-proxy`, `flannel`, `coredns`, ...).
    pub name: String,
    /// What it is: `service-proxy`, `cni`, `dns`, `dns-cache`.
    pub kind: String,
    /// Some pod of it is in the bundle.
    pub running: bool,
    /// Pods of it, or a DaemonSet/Deployment whose pod template it matches.
    pub deployed: bool,
    /// DaemonSets and Deployments whose pod template it matches.
    pub workloads: u32,
    /// Pods recognised.
    pub pods: u32,
    /// Of those, pods whose Ready condition is True.
    pub ready: u32,
    /// Its version, where its version source tells it; null otherwise.
    pub version: Option<String>,
    /// Namespaces its pods run in.
    pub namespaces: Vec<String>,
}

pub(crate) fn table(snap: &Snapshot) -> FactTable {
    let mut table = FactTable::default();
    for c in catalog() {
        let pods = pods_of(snap, &c.recognise.pods);
        let ready = pods.iter().filter(|p| pod_ready(p)).count();
        let mut namespaces: Vec<String> = pods
            .iter()
            .filter_map(|p| p.object.namespace.clone())
            .collect();
        namespaces.sort();
        namespaces.dedup();
        let workloads: Vec<_> = snap
            .objects
            .iter()
            .filter(|o| matches!(o.object.kind.as_str(), "DaemonSet" | "Deployment"))
            .filter(|o| {
                let labels = o
                    .object
                    .value
                    .pointer("/spec/template/metadata/labels")
                    .and_then(Value::as_object);
                c.recognise.pods.iter().any(|sel| {
                    sel.namespace
                        .as_deref()
                        .is_none_or(|ns| o.object.namespace.as_deref() == Some(ns))
                        && labels.is_some_and(|l| {
                            sel.selector
                                .iter()
                                .all(|(k, v)| l.get(k).and_then(Value::as_str) == Some(v))
                        })
                })
            })
            .collect();
        let version = c
            .version
            .as_deref()
            .and_then(|v| version(snap, v, &c.recognise.pods));
        let evidence = match (&version, pods.first(), workloads.first()) {
            (Some((_, e)), _, _) => vec![e.clone()],
            (None, Some(p), _) => vec![crate::inventory::Evidence {
                file: p.file.clone(),
                line: p.object.line,
                text: format!(
                    "Pod {}/{}",
                    p.object.namespace.clone().unwrap_or_default(),
                    p.object.name
                ),
            }],
            (None, None, Some(w)) => vec![crate::inventory::Evidence {
                file: w.file.clone(),
                line: w.object.line,
                text: format!(
                    "{} {}/{}",
                    w.object.kind,
                    w.object.namespace.clone().unwrap_or_default(),
                    w.object.name
                ),
            }],
            _ => Vec::new(),
        };
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        table.records.push(Fact {
            record: row(ComponentRecord {
                name: c.name.clone(),
                kind: c.kind.clone(),
                running: !pods.is_empty(),
                deployed: !pods.is_empty() || !workloads.is_empty(),
                workloads: count(workloads.len()),
                pods: count(pods.len()),
                ready: count(ready),
                version: version.map(|(v, _)| v),
                namespaces,
            }),
            evidence,
            first_seen: None,
        });
    }
    table
}
