//! Settings that disagree: the networks components believe in, and pods'
//! and nodes' DNS resolvers against the DNS Service.

use super::{Fact, FactTable};
use crate::Snapshot;
use crate::inventory::{NetworkInventory, NetworkKind};
use schemars::JsonSchema;
use serde::Serialize;

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
