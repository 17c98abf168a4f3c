//! Settings that disagree: the networks components believe in, and pods'
//! and nodes' DNS resolvers against the DNS Service.

use super::{Fact, FactTable, ev};
use crate::Snapshot;
use crate::inventory::{NetworkInventory, NetworkKind};
use kdiag_parse::kube::types::Pod;
use kdiag_parse::resolv::summarize;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;
use std::net::IpAddr;

/// `cidr.conflicts`: one setting about the pod or Service network that
/// contradicts another setting, or the nodes' addresses.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NetworkConflictRecord {
    /// What disagrees: `pod-network` (a pod-network setting that neither
    /// contains nor is inside the reference pod network),
    /// `service-overlaps-pods` (the Service network overlaps a pod network)
    /// or `service-overlaps-nodes` (the Service network holds a node's
    /// InternalIP).
    pub kind: String,
    /// The component whose setting is at fault (`kube-proxy`, `flannel`,
    /// `kube-apiserver`, ...).
    pub component: String,
    /// Its setting (`clusterCIDR`, `net-conf.json Network`,
    /// `--service-cluster-ip-range`, ...).
    pub setting: String,
    /// The setting's value as written, e.g. `10.244.0.0/16`.
    pub value: String,
    /// The component it is compared with: for `pod-network` the pod
    /// network's reference (the controller-manager, else kubeadm, else the
    /// first setting found), for `service-overlaps-pods` the pod-network
    /// setting's component, for `service-overlaps-nodes` `node`.
    pub reference_component: String,
    /// The reference's setting; for `service-overlaps-nodes` the node's name.
    pub reference_setting: String,
    /// The reference's value as written; for `service-overlaps-nodes` the
    /// node's InternalIP inside the Service network.
    pub reference: String,
}

/// Beliefs about the pod or Service network that contradict the others.
pub(super) fn network_conflicts(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::of(snap);
    let mut table = FactTable::default();
    let pods: Vec<_> = inv
        .beliefs
        .iter()
        .filter(|b| b.kind == NetworkKind::PodNetwork && b.cidr.is_some())
        .collect();
    let services: Vec<_> = inv
        .beliefs
        .iter()
        .filter(|b| b.kind == NetworkKind::ServiceNetwork && b.cidr.is_some())
        .collect();
    // The allocator's own setting is the reference for the pod network.
    let reference = pods
        .iter()
        .find(|b| b.component == "kube-controller-manager")
        .or_else(|| pods.iter().find(|b| b.component == "kubeadm"))
        .or(pods.first());
    if let Some(r) = reference {
        let rc = r.cidr.unwrap_or_default();
        for b in pods.iter().filter(|b| {
            b.cidr
                .is_some_and(|c| !(c.contains(&rc) || rc.contains(&c)))
        }) {
            table.records.push(Fact {
                fields: serde_json::to_value(NetworkConflictRecord {
                    kind: "pod-network".to_owned(),
                    component: b.component.clone(),
                    setting: b.setting.clone(),
                    value: b.value.clone(),
                    reference_component: r.component.clone(),
                    reference_setting: r.setting.clone(),
                    reference: r.value.clone(),
                })
                .unwrap_or_default(),
                evidence: vec![b.evidence.clone(), r.evidence.clone()],
                first_seen: None,
            });
        }
    }
    for s in &services {
        let sc = s.cidr.unwrap_or_default();
        for p in pods
            .iter()
            .filter(|p| p.cidr.is_some_and(|c| c.contains(&sc) || sc.contains(&c)))
        {
            table.records.push(Fact {
                fields: serde_json::to_value(NetworkConflictRecord {
                    kind: "service-overlaps-pods".to_owned(),
                    component: s.component.clone(),
                    setting: s.setting.clone(),
                    value: s.value.clone(),
                    reference_component: p.component.clone(),
                    reference_setting: p.setting.clone(),
                    reference: p.value.clone(),
                })
                .unwrap_or_default(),
                evidence: vec![s.evidence.clone(), p.evidence.clone()],
                first_seen: None,
            });
        }
        for n in &inv.nodes {
            for ip in n.internal_ips.iter().filter(|ip| sc.contains(*ip)) {
                table.records.push(Fact {
                    fields: serde_json::to_value(NetworkConflictRecord {
                        kind: "service-overlaps-nodes".to_owned(),
                        component: s.component.clone(),
                        setting: s.setting.clone(),
                        value: s.value.clone(),
                        reference_component: "node".to_owned(),
                        reference_setting: n.name.clone(),
                        reference: ip.to_string(),
                    })
                    .unwrap_or_default(),
                    evidence: vec![s.evidence.clone(), n.evidence.clone()],
                    first_seen: None,
                });
            }
        }
    }
    table
}

/// Whether a node-local DNS cache runs (its link-local address is then a valid resolver).
fn node_local_dns(snap: &Snapshot) -> bool {
    snap.objects.iter().any(|o| {
        matches!(o.object.kind.as_str(), "DaemonSet" | "Pod")
            && (o.object.name.contains("nodelocaldns") || o.object.name.contains("node-local-dns"))
    })
}

/// The kubelets' `clusterDNS`, probe pods' `resolv.conf`, and pods with
/// `dnsPolicy: None` without `dnsConfig`, against the DNS Service.
pub(super) fn resolvers(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::of(snap);
    let mut table = FactTable::default();
    let Some(dns) = inv.dns_service.as_ref() else {
        table.missing.push("cluster/services.yaml".into());
        return table;
    };
    let Some(dns_ip) = dns.cluster_ip else {
        return table;
    };
    let local = node_local_dns(snap);
    let acceptable = |ip: &IpAddr| {
        *ip == dns_ip || (local && matches!(ip, IpAddr::V4(v4) if v4.is_link_local()))
    };
    for (node, t) in &snap.nodes {
        if let Some(k) = &t.kubelet {
            let servers: Vec<IpAddr> = k
                .value
                .cluster_dns
                .iter()
                .filter_map(|(_, s)| s.parse().ok())
                .collect();
            let ok = !servers.is_empty() && servers.iter().all(acceptable);
            let evidence: Vec<_> = k
                .value
                .cluster_dns
                .iter()
                .map(|(l, s)| ev(&k.file, *l, format!("- {s}")))
                .chain(std::iter::once(dns.evidence.clone()))
                .collect();
            table.records.push(Fact {
                fields: json!({"source": "kubelet", "node": node, "nameservers": servers.iter().map(ToString::to_string).collect::<Vec<_>>(), "dns_ip": dns_ip.to_string(), "search_ok": true, "ok": ok, "namespace": "", "name": ""}),
                evidence,
                first_seen: None,
            });
        }
    }
    for (node, r) in &snap.probe_resolv {
        let (servers, search, _) = summarize(&r.value);
        let domain = snap
            .nodes
            .values()
            .find_map(|t| {
                t.kubelet
                    .as_ref()
                    .and_then(|k| k.value.cluster_domain.as_ref().map(|(_, d)| d.clone()))
            })
            .unwrap_or_else(|| "cluster.local".into());
        let search_ok = search.iter().any(|s| *s == format!("svc.{domain}"));
        let ok = servers.first().is_some_and(acceptable) && search_ok;
        table.records.push(Fact {
            fields: json!({"source": "probe", "node": node, "nameservers": servers.iter().map(ToString::to_string).collect::<Vec<_>>(), "dns_ip": dns_ip.to_string(), "search_ok": search_ok, "ok": ok, "namespace": "", "name": ""}),
            evidence: r.value.iter().map(|e| match e {
                kdiag_parse::resolv::ResolvEntry::Nameserver { line, ip } => ev(&r.file, *line, format!("nameserver {ip}")),
                kdiag_parse::resolv::ResolvEntry::Search { line, domains } => ev(&r.file, *line, format!("search {}", domains.join(" "))),
                kdiag_parse::resolv::ResolvEntry::Options { line, options } => ev(&r.file, *line, format!("options {}", options.join(" "))),
            }).chain(std::iter::once(dns.evidence.clone())).collect(),
            first_seen: None,
        });
    }
    for o in snap.objects_of("Pod") {
        let Ok(p) = o.object.view::<Pod>() else {
            continue;
        };
        if p.spec.dns_policy.as_deref() == Some("None")
            && p.spec.dns_config.as_ref().is_none_or(|c| {
                c.get("nameservers")
                    .and_then(|n| n.as_array())
                    .is_none_or(Vec::is_empty)
            })
        {
            table.records.push(Fact {
                fields: json!({"source": "pod", "node": p.spec.node_name, "nameservers": [], "dns_ip": dns_ip.to_string(), "search_ok": false, "ok": false, "namespace": p.metadata.namespace, "name": p.metadata.name}),
                evidence: vec![ev(&o.file, o.object.line, format!("Pod {}/{} dnsPolicy: None, no dnsConfig nameservers", p.metadata.namespace.clone().unwrap_or_default(), p.metadata.name))],
                first_seen: None,
            });
        }
    }
    table
}
