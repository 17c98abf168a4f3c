//! The network components' workloads and Services' endpoints.

use super::{Fact, FactTable, ev, row};
use crate::Snapshot;
use crate::inventory::NetworkInventory;
use kdiag_parse::kube::types::{DaemonSet, Deployment, Pod, Service};
use schemars::JsonSchema;
use serde::Serialize;

/// `components.workloads`: one network component's DaemonSet or Deployment,
/// with its pods' state.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WorkloadRecord {
    /// Which component, by the workload's name and labels: `kube-proxy`,
    /// `flannel`, `coredns`, `calico`, `cilium` or `nodelocaldns`.
    pub component: String,
    /// `DaemonSet` or `Deployment`.
    pub kind: String,
    /// The workload's namespace.
    pub namespace: String,
    /// The workload's name.
    pub name: String,
    /// Pods wanted: a DaemonSet's `status.desiredNumberScheduled`, a
    /// Deployment's `spec.replicas` (else `status.replicas`).
    pub desired: u64,
    /// Pods ready: a DaemonSet's `status.numberReady`, a Deployment's
    /// `status.readyReplicas`.
    pub ready: u64,
    /// The workload's pods (by its selector, in its namespace) that are not
    /// Ready or have a waiting container; restarts alone do not count.
    pub unhealthy_pods: Vec<UnhealthyPod>,
    /// How many of `unhealthy_pods` are waiting in `CrashLoopBackOff`.
    pub crashlooping: usize,
    /// For a DaemonSet, the nodes that run none of its pods (empty for a
    /// Deployment, and when the bundle holds no pods).
    pub nodes_without_pod: Vec<String>,
}

/// One pod of `components.workloads`' `unhealthy_pods`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UnhealthyPod {
    /// Pod name (in the workload's namespace).
    pub pod: String,
    /// The node it is scheduled on; null when it is not scheduled.
    pub node: Option<String>,
    /// Whether its `Ready` condition is `True`.
    pub ready: bool,
    /// The reason of the first waiting container (`CrashLoopBackOff`,
    /// `ImagePullBackOff`, `ContainerCreating`, ...); null when no container
    /// is waiting, or the waiting one gives no reason.
    pub waiting: Option<String>,
    /// Container restarts, summed over its containers.
    pub restarts: u64,
}

/// `services.endpoints`: one Service with a selector and a ClusterIP, with
/// its ready endpoints.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ServiceEndpointsRecord {
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub name: String,
    /// Its `spec.clusterIP`, e.g. `10.96.0.10` (Services without one, or
    /// with `None`, are left out).
    pub ip: String,
    /// Number of ready endpoint addresses (from its EndpointSlices, else its
    /// Endpoints object); null when no EndpointSlice or Endpoints object names the
    /// Service.
    pub endpoints_ready: Option<usize>,
    /// Whether it is the cluster DNS Service.
    pub dns: bool,
    /// `coredns` for the cluster DNS Service, else empty.
    pub component: String,
}

/// Which network component of `rules/components.yaml` a workload runs:
/// the first whose pod selectors match its pod template (namespace, labels,
/// image).
fn component_of(
    workload: &crate::Located<kdiag_parse::kube::KubeObject>,
    template_labels: &std::collections::BTreeMap<String, String>,
) -> Option<&'static str> {
    let template = workload
        .object
        .value
        .pointer("/spec/template")
        .cloned()
        .unwrap_or_default();
    crate::components::catalog()
        .iter()
        .find(|c| {
            c.recognise.pods.iter().any(|sel| {
                sel.namespace
                    .as_deref()
                    .is_none_or(|ns| workload.object.namespace.as_deref() == Some(ns))
                    && sel
                        .selector
                        .iter()
                        .all(|(k, v)| template_labels.get(k) == Some(v))
                    && crate::components::image_matches(&template, sel.image.as_deref())
            })
        })
        .map(|c| c.name.as_str())
}

/// Network component workloads (DaemonSets, Deployments) with their pods' state.
pub(super) fn workloads(snap: &Snapshot) -> FactTable {
    let mut table = FactTable::default();
    if !snap.has_resource("daemonsets") && !snap.has_resource("deployments") {
        table.missing.push(super::resource("daemonsets"));
        table.missing.push(super::resource("deployments"));
        return table;
    }
    let pods: Vec<(&crate::Located<kdiag_parse::kube::KubeObject>, Pod)> = snap
        .objects_of("Pod")
        .filter_map(|o| o.object.view::<Pod>().ok().map(|p| (o, p)))
        .collect();
    let node_names: Vec<String> = NetworkInventory::cached(snap)
        .nodes
        .iter()
        .map(|n| n.name.clone())
        .collect();
    for o in snap
        .objects
        .iter()
        .filter(|o| matches!(o.object.kind.as_str(), "DaemonSet" | "Deployment"))
    {
        let (_labels, selector, desired, ready, template_labels) = if o.object.kind == "DaemonSet" {
            let Ok(d) = o.object.view::<DaemonSet>() else {
                continue;
            };
            (
                d.metadata.labels,
                d.spec.selector,
                d.status.desired_number_scheduled,
                d.status.number_ready,
                d.spec.template.metadata.labels,
            )
        } else {
            let Ok(d) = o.object.view::<Deployment>() else {
                continue;
            };
            (
                d.metadata.labels,
                d.spec.selector,
                d.spec.replicas.unwrap_or(d.status.replicas),
                d.status.ready_replicas,
                d.spec.template.metadata.labels,
            )
        };
        let Some(component) = component_of(o, &template_labels) else {
            continue;
        };
        let ns = o.object.namespace.clone().unwrap_or_default();
        let mut evidence = vec![ev(
            &o.file,
            o.object.line,
            format!(
                "{} {ns}/{} desired {desired}, ready {ready}",
                o.object.kind, o.object.name
            ),
        )];
        let mut bad = Vec::new();
        let mut on_nodes = Vec::new();
        for (po, p) in pods.iter().filter(|(_, p)| {
            p.metadata.namespace.as_deref() == Some(ns.as_str())
                && !(selector.match_labels.is_empty() && selector.match_expressions.is_empty())
                && selector.matches(&p.metadata.labels)
        }) {
            if let Some(n) = &p.spec.node_name {
                on_nodes.push(n.clone());
            }
            let ready = p
                .status
                .conditions
                .iter()
                .any(|c| c.kind == "Ready" && c.status == "True");
            let waiting = p
                .status
                .container_statuses
                .iter()
                .find_map(|c| c.state.get("waiting").and_then(|w| w.reason.clone()));
            let restarts: u64 = p
                .status
                .container_statuses
                .iter()
                .map(|c| c.restart_count)
                .sum();
            // Restarts alone are history (a laptop cluster resumed 96 times is healthy now).
            if !ready || waiting.is_some() {
                evidence.push(ev(
                    &po.file,
                    po.object.line,
                    format!(
                        "Pod {ns}/{} on {}: {}{}, {restarts} restarts",
                        p.metadata.name,
                        p.spec.node_name.clone().unwrap_or_default(),
                        if ready { "ready" } else { "not ready" },
                        waiting
                            .as_ref()
                            .map(|w| format!(" ({w})"))
                            .unwrap_or_default()
                    ),
                ));
                bad.push(UnhealthyPod {
                    pod: p.metadata.name.clone(),
                    node: p.spec.node_name.clone(),
                    ready,
                    waiting,
                    restarts,
                });
            }
        }
        let missing_nodes: Vec<String> = if o.object.kind == "DaemonSet" && !pods.is_empty() {
            node_names
                .iter()
                .filter(|n| !on_nodes.contains(n))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        table.records.push(Fact {
            record: row(WorkloadRecord {
                component: component.to_owned(),
                kind: o.object.kind.clone(),
                namespace: ns,
                name: o.object.name.clone(),
                desired,
                ready,
                crashlooping: bad
                    .iter()
                    .filter(|b| b.waiting.as_deref() == Some("CrashLoopBackOff"))
                    .count(),
                unhealthy_pods: bad,
                nodes_without_pod: missing_nodes,
            }),
            evidence,
            first_seen: None,
        });
    }
    table
}

/// Every Service with a selector and a ClusterIP, with its ready endpoints.
pub(super) fn service_endpoints(snap: &Snapshot) -> FactTable {
    let mut table = FactTable::default();
    if !snap.has_resource("endpointslices") && !snap.has_resource("endpoints") {
        table.missing.push(super::resource("endpointslices"));
        return table;
    }
    let ready = super::kube_proxy::ready_endpoints(snap);
    // The DNS Service's component is what serves it (the kube-dns addon on
    // old clusters, OpenShift's DNS), CoreDNS when the pods do not say.
    let dns = NetworkInventory::cached(snap)
        .dns_service
        .as_ref()
        .map(|d| {
            (
                d.namespace.as_str(),
                d.name.as_str(),
                d.server.as_deref().unwrap_or("coredns"),
            )
        });
    for o in snap.objects_of("Service") {
        let Ok(s) = o.object.view::<Service>() else {
            continue;
        };
        if s.spec.selector.is_empty()
            || s.spec
                .cluster_ip
                .as_deref()
                .is_none_or(|ip| ip == "None" || ip.is_empty())
        {
            continue;
        }
        let ns = s.metadata.namespace.clone().unwrap_or_default();
        let key = format!("{ns}/{}", s.metadata.name);
        let dns_server = dns
            .as_ref()
            .filter(|(n, m, _)| *n == ns && *m == s.metadata.name)
            .map(|(_, _, server)| *server);
        let is_dns = dns_server.is_some();
        // The network component whose pods the Service selects (a CNI's
        // own Service, a DNS cache), if any.
        let component = if let Some(server) = dns_server {
            server
        } else {
            snap.pods_matching(Some(&ns), &s.spec.selector)
                .find_map(crate::components::of_pod)
                .unwrap_or("")
        };
        table.records.push(Fact {
            record: row(ServiceEndpointsRecord {
                namespace: ns,
                name: s.metadata.name.clone(),
                ip: s.spec.cluster_ip.clone().unwrap_or_default(),
                endpoints_ready: ready.get(&key).copied(),
                dns: is_dns,
                component: component.to_owned(),
            }),
            evidence: vec![ev(
                &o.file,
                o.object.line,
                format!(
                    "Service {key} selector {}",
                    s.spec
                        .selector
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            )],
            first_seen: None,
        });
    }
    table
}
