//! The pod networks in use against the ones components believe in, and
//! addresses (cni0, pods) outside their node's pod CIDR.

use super::{Fact, FactTable, ev, node_path};
use crate::Snapshot;
use crate::inventory::{NetworkInventory, NetworkKind};
use ipnet::IpNet;
use serde_json::json;
use std::net::IpAddr;

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
    let inv = NetworkInventory::of(snap);
    let mut table = FactTable::default();
    if inv.nodes.is_empty() {
        table.missing.push("cluster/nodes.yaml".into());
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
    let current = current_network(&inv, &in_use);
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
        let tunnel: Vec<_> = snap
            .nodes
            .values()
            .filter_map(|t| t.neighbors.as_ref())
            .flat_map(|n| {
                n.value
                    .iter()
                    .filter(|x| x.dev.as_deref() == Some("flannel.1") && net.contains(&x.ip))
                    .map(move |x| ev(&n.file, x.line, x.text.trim_end()))
            })
            .collect();
        evidence.extend(tunnel.iter().take(3).cloned());
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
            fields: json!({
                "cidr": net.to_string(),
                "current": current == Some(*net),
                "current_cidr": current.map(|c| c.to_string()),
                "networks_in_use": used,
                "nodes": nodes,
                "node_count": nodes.len(),
                "pods": pods,
                "believed_by": believers,
                "tunnel_entries": tunnel.len(),
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
    let inv = NetworkInventory::of(snap);
    let mut table = FactTable::default();
    for n in inv.nodes.iter().filter(|n| !n.pod_cidrs.is_empty()) {
        let Some(addrs) = snap
            .nodes
            .get(&n.name)
            .and_then(|t| t.addrs.as_ref().or(t.links.as_ref()))
        else {
            table.missing.push(node_path(&n.name, "ip-addr.txt"));
            continue;
        };
        for i in addrs.value.iter().filter(|i| i.name == "cni0") {
            for a in i.addrs.iter().filter(|a| a.addr.addr().is_ipv4()) {
                let inside = contains_any(&n.pod_cidrs, a.addr.addr());
                table.records.push(Fact {
                    fields: json!({
                        "node": n.name,
                        "dev": i.name,
                        "addr": a.addr.to_string(),
                        "network": a.addr.trunc().to_string(),
                        "node_cidrs": n.pod_cidrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        "inside": inside,
                    }),
                    evidence: vec![ev(&addrs.file, a.line, &a.text), ev(&n.evidence.file, n.evidence.line, format!("Node {} podCIDR {}", n.name, n.pod_cidrs.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")))],
                    first_seen: None,
                });
            }
        }
    }
    table
}

/// Pod IPs against their node's pod CIDRs (host-network pods excluded).
pub(super) fn pod_addresses(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::of(snap);
    let mut table = FactTable::default();
    if !snap.has_resource("pods") {
        table.missing.push("cluster/pods.yaml".into());
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
            fields: json!({
                "namespace": ns,
                "name": name,
                "node": node.name,
                "ip": p.ip.to_string(),
                "network": network.to_string(),
                "node_cidrs": node.pod_cidrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "inside": inside,
            }),
            evidence: vec![p.evidence.clone()],
            first_seen: None,
        });
    }
    table
}
