//! The pod networks in use against the ones components believe in, and
//! addresses (cni0, pods) outside their node's pod CIDR.

use super::{Fact, FactTable, ev, row};
use crate::Snapshot;
use crate::inventory::{NetworkInventory, NetworkKind};
use ipnet::IpNet;
use schemars::JsonSchema;
use serde::Serialize;
use std::net::IpAddr;

/// `cidr.pod-networks`: one pod network, in use by nodes or pods or believed
/// in by a component's setting.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PodNetworkRecord {
    /// The network, e.g. `10.244.0.0/16`: a component's pod-network setting,
    /// or the /16 of a node podCIDR that no setting covers.
    pub cidr: String,
    /// Whether this is the network the cluster allocates pod CIDRs from now
    /// (the controller-manager's `--cluster-cidr`, else kubeadm's
    /// `podSubnet`, else kube-proxy's `clusterCIDR`, else the network holding
    /// most nodes).
    pub current: bool,
    /// That current network, e.g. `10.244.0.0/16` (the same in every record);
    /// null when it cannot be told.
    pub current_cidr: Option<String>,
    /// How many of the listed pod networks hold at least one node podCIDR or
    /// pod IP (the same in every record); more than 1 means a split cluster.
    pub networks_in_use: usize,
    /// Names of the nodes whose podCIDR is inside this network.
    pub nodes: Vec<String>,
    /// Number of those nodes (the length of `nodes`).
    pub node_count: usize,
    /// Number of pod IPs inside this network.
    pub pods: usize,
    /// The pod-network settings that overlap this network, each as
    /// `component setting` (e.g. `kube-controller-manager --cluster-cidr`).
    pub believed_by: Vec<String>,
    /// Number of `flannel.1` neighbour entries, over all nodes, whose address
    /// is inside this network.
    pub tunnel_entries: usize,
}

/// `node.bridge-addresses`: one IPv4 address of a node's `cni0` bridge,
/// against the node's pod CIDRs.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BridgeAddressRecord {
    /// Node name.
    pub node: String,
    /// The interface: always `cni0`.
    pub dev: String,
    /// The address with its prefix, as `ip addr` prints it, e.g. `10.244.1.1/24`.
    pub addr: String,
    /// The network the address is in, e.g. `10.244.1.0/24`.
    pub network: String,
    /// The node's pod CIDRs (`spec.podCIDRs`), e.g. `["10.244.1.0/24"]`.
    pub node_cidrs: Vec<String>,
    /// Whether the address is inside one of `node_cidrs`.
    pub inside: bool,
}

/// `pods.addresses`: one pod IP (host-network pods excluded), against its
/// node's pod CIDRs.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PodAddressRecord {
    /// The pod's namespace (empty when the pod was not named `namespace/name`).
    pub namespace: String,
    /// The pod's name.
    pub name: String,
    /// The node the pod runs on.
    pub node: String,
    /// The pod IP, e.g. `10.244.1.7`.
    pub ip: String,
    /// The network the address sits in: the network of the node's `cni0`
    /// address holding it (e.g. `10.244.1.0/24`), else the address alone as
    /// a host network (`10.244.1.7/32`, `/128` for IPv6).
    pub network: String,
    /// The node's pod CIDRs (`spec.podCIDRs`), e.g. `["10.244.1.0/24"]`.
    pub node_cidrs: Vec<String>,
    /// Whether the pod IP is inside one of `node_cidrs`.
    pub inside: bool,
}

/// The pod network the cluster allocates from now: the controller-manager's
/// `--cluster-cidr`, else kubeadm's `podSubnet`, else kube-proxy's
/// `clusterCIDR`, else the network holding most nodes.
fn current_network(
    inv: &NetworkInventory,
    in_use: &[(IpNet, Vec<String>, usize)],
) -> Option<IpNet> {
    for (component, setting) in [
        ("kube-controller-manager", "--cluster-cidr"),
        ("kubeadm", "podSubnet"),
        ("kube-proxy", "clusterCIDR"),
    ] {
        if let Some(c) = inv
            .beliefs
            .iter()
            .find(|b| b.component == component && b.setting == setting)
            .and_then(|b| b.cidr)
        {
            return Some(c);
        }
    }
    in_use
        .iter()
        .max_by_key(|(_, nodes, pods)| (nodes.len(), *pods))
        .map(|(c, _, _)| *c)
}

pub(super) fn pod_networks(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::cached(snap);
    let mut table = FactTable::default();
    if inv.nodes.is_empty() {
        table.missing.push(super::resource("nodes"));
        return table;
    }
    let mut networks: Vec<IpNet> = inv.believed_pod_networks();
    for n in &inv.nodes {
        for c in &n.pod_cidrs {
            if !networks.iter().any(|net| net.contains(c)) {
                // Not covered by any belief: its /16 stands for it.
                networks.push(
                    IpNet::new(c.addr(), c.prefix_len().min(16))
                        .map(|x| x.trunc())
                        .unwrap_or(*c),
                );
            }
        }
    }
    networks.sort();
    networks.dedup();
    // A believed network inside another believed one is the same network seen narrower.
    let networks: Vec<IpNet> = networks
        .iter()
        .filter(|n| !networks.iter().any(|o| o != *n && o.contains(*n)))
        .copied()
        .collect();
    let in_use: Vec<(IpNet, Vec<String>, usize)> = networks
        .iter()
        .map(|net| {
            let nodes: Vec<String> = inv
                .nodes
                .iter()
                .filter(|n| n.pod_cidrs.iter().any(|c| net.contains(c)))
                .map(|n| n.name.clone())
                .collect();
            let pods = inv.pod_ips.iter().filter(|p| net.contains(&p.ip)).count();
            (*net, nodes, pods)
        })
        .collect();
    let used = in_use
        .iter()
        .filter(|(_, nodes, pods)| !nodes.is_empty() || *pods > 0)
        .count();
    let current = current_network(inv, &in_use);
    for (net, nodes, pods) in &in_use {
        let mut evidence = Vec::new();
        for n in inv
            .nodes
            .iter()
            .filter(|n| n.pod_cidrs.iter().any(|c| net.contains(c)))
        {
            let cidrs: Vec<String> = n.pod_cidrs.iter().map(ToString::to_string).collect();
            evidence.push(ev(
                &n.evidence.file,
                n.evidence.line,
                format!("Node {} podCIDR {}", n.name, cidrs.join(",")),
            ));
        }
        for p in inv.pod_ips.iter().filter(|p| net.contains(&p.ip)).take(3) {
            evidence.push(p.evidence.clone());
        }
        // Tunnel entries that still point into this network: flannel.1 neighbours.
        // Counted all; only the first three are printed as evidence.
        let tunnel = || {
            snap.nodes
                .values()
                .filter_map(|t| t.neighbors.as_ref())
                .flat_map(|n| {
                    n.value
                        .iter()
                        .filter(|x| x.dev.as_deref() == Some("flannel.1") && net.contains(&x.ip))
                        .map(move |x| (n, x))
                })
        };
        let tunnel_entries = tunnel().count();
        evidence.extend(
            tunnel()
                .take(3)
                .map(|(n, x)| ev(&n.file, x.line, x.text().trim_end())),
        );
        let believers: Vec<String> = inv
            .beliefs
            .iter()
            .filter(|b| {
                b.kind == NetworkKind::PodNetwork
                    && b.cidr.is_some_and(|c| net.contains(&c) || c.contains(net))
            })
            .map(|b| format!("{} {}", b.component, b.setting))
            .collect();
        for b in inv.beliefs.iter().filter(|b| {
            b.kind == NetworkKind::PodNetwork
                && b.cidr.is_some_and(|c| net.contains(&c) || c.contains(net))
        }) {
            evidence.push(b.evidence.clone());
        }
        table.records.push(Fact {
            record: row(PodNetworkRecord {
                cidr: net.to_string(),
                current: current == Some(*net),
                current_cidr: current.map(|c| c.to_string()),
                networks_in_use: used,
                nodes: nodes.clone(),
                node_count: nodes.len(),
                pods: *pods,
                believed_by: believers,
                tunnel_entries,
            }),
            evidence,
            first_seen: None,
        });
    }
    table
}

fn contains_any(cidrs: &[IpNet], ip: IpAddr) -> bool {
    cidrs.iter().any(|c| c.contains(&ip))
}

/// cni0's addresses against the node's pod CIDRs.
pub(super) fn bridge_addresses(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::cached(snap);
    let mut table = FactTable::default();
    for n in inv.nodes.iter().filter(|n| !n.pod_cidrs.is_empty()) {
        let Some(addrs) = snap
            .nodes
            .get(&n.name)
            .and_then(|t| t.addrs.as_ref().or(t.links.as_ref()))
        else {
            table.missing.push(super::node_input(
                &n.name,
                kdiag_bundle::NodeInput::Addresses,
            ));
            continue;
        };
        for i in addrs.value.iter().filter(|i| i.name == "cni0") {
            for a in i.addrs.iter().filter(|a| a.addr.addr().is_ipv4()) {
                let inside = contains_any(&n.pod_cidrs, a.addr.addr());
                table.records.push(Fact {
                    record: row(BridgeAddressRecord {
                        node: n.name.clone(),
                        dev: i.name.clone(),
                        addr: a.addr.to_string(),
                        network: a.addr.trunc().to_string(),
                        node_cidrs: n.pod_cidrs.iter().map(ToString::to_string).collect(),
                        inside,
                    }),
                    evidence: vec![
                        ev(&addrs.file, a.line, &a.text),
                        ev(
                            &n.evidence.file,
                            n.evidence.line,
                            format!(
                                "Node {} podCIDR {}",
                                n.name,
                                n.pod_cidrs
                                    .iter()
                                    .map(ToString::to_string)
                                    .collect::<Vec<_>>()
                                    .join(",")
                            ),
                        ),
                    ],
                    first_seen: None,
                });
            }
        }
    }
    table
}

/// Pod IPs against their node's pod CIDRs (host-network pods excluded).
pub(super) fn pod_addresses(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::cached(snap);
    let mut table = FactTable::default();
    if !snap.has_resource("pods") {
        table.missing.push(super::resource("pods"));
    }
    for p in &inv.pod_ips {
        let Some(node) = p
            .node
            .as_deref()
            .and_then(|name| inv.nodes.iter().find(|n| n.name == name))
        else {
            continue;
        };
        if node.pod_cidrs.is_empty() {
            continue;
        }
        let inside = contains_any(&node.pod_cidrs, p.ip);
        // The network the address sits in: cni0's, when the node printed it.
        let bridge = snap
            .nodes
            .get(&node.name)
            .and_then(|t| t.addrs.as_ref())
            .and_then(|a| a.value.iter().find(|i| i.name == "cni0"))
            .and_then(|i| i.addrs.iter().find(|a| a.addr.contains(&p.ip)))
            .map(|a| a.addr.trunc());
        let network = bridge.unwrap_or_else(|| IpNet::from(p.ip));
        let (ns, name) = p.pod.split_once('/').unwrap_or(("", p.pod.as_str()));
        table.records.push(Fact {
            record: row(PodAddressRecord {
                namespace: ns.to_owned(),
                name: name.to_owned(),
                node: node.name.clone(),
                ip: p.ip.to_string(),
                network: network.to_string(),
                node_cidrs: node.pod_cidrs.iter().map(ToString::to_string).collect(),
                inside,
            }),
            evidence: vec![p.evidence.clone()],
            first_seen: None,
        });
    }
    table
}
