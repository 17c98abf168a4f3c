//! Host settings of each node that the pod network depends on: kernel
//! parameters, `br_netfilter`, the host firewall, SELinux. A node whose file
//! was not collected is reported missing (unknown), never healthy.

use super::{Fact, FactTable, ev, node_path};
use crate::Snapshot;
use crate::inventory::NetworkInventory;
use serde_json::json;
use std::collections::BTreeSet;

/// Every node the bundle knows: from Node objects and from node directories.
fn node_names(snap: &Snapshot) -> BTreeSet<String> {
    let inv = NetworkInventory::of(snap);
    let mut names: BTreeSet<String> = inv.nodes.iter().map(|n| n.name.clone()).collect();
    names.extend(snap.nodes.keys().cloned());
    names
}

/// Network-relevant kernel parameters, per node and key.
pub(super) fn sysctl(snap: &Snapshot) -> FactTable {
    let mut table = FactTable::default();
    for node in node_names(snap) {
        let Some(s) = snap.nodes.get(&node).and_then(|t| t.sysctl.as_ref()) else {
            table.missing.push(node_path(&node, "sysctl.txt"));
            continue;
        };
        for r in s.value.iter().filter(|r| {
            r.key == "net.ipv4.ip_forward"
                || r.key.starts_with("net.bridge.")
                || (r.key.starts_with("net.ipv4.conf.")
                    && (r.key.ends_with(".forwarding") || r.key.ends_with(".rp_filter")))
        }) {
            table.records.push(Fact {
                fields: json!({"node": node, "key": r.key, "value": r.value}),
                evidence: vec![ev(&s.file, r.line, &r.text)],
                first_seen: None,
            });
        }
    }
    table
}

/// `br_netfilter`: loaded (lsmod) and `net.bridge.bridge-nf-call-iptables` (sysctl), per node.
pub(super) fn br_netfilter(snap: &Snapshot) -> FactTable {
    let mut table = FactTable::default();
    for node in node_names(snap) {
        let t = snap.nodes.get(&node);
        let modules = t.and_then(|t| t.modules.as_ref());
        let sysctl = t.and_then(|t| t.sysctl.as_ref());
        if modules.is_none() && sysctl.is_none() {
            table.missing.push(node_path(&node, "lsmod.txt"));
            table.missing.push(node_path(&node, "sysctl.txt"));
            continue;
        }
        let mut evidence = Vec::new();
        let loaded = modules.map(
            |m| match m.value.iter().find(|x| x.name == "br_netfilter") {
                Some(x) => {
                    evidence.push(ev(&m.file, x.line, &x.text));
                    true
                }
                None => {
                    // An absence: show what the listing has where br_netfilter would be.
                    if let Some(x) = m
                        .value
                        .iter()
                        .find(|x| x.name == "bridge")
                        .or(m.value.first())
                    {
                        evidence.push(ev(&m.file, x.line, &x.text));
                    }
                    false
                }
            },
        );
        let value = sysctl
            .and_then(|s| {
                s.value
                    .iter()
                    .find(|x| x.key == "net.bridge.bridge-nf-call-iptables")
            })
            .map(|x| x.value.clone());
        if let (Some(s), Some(x)) = (
            sysctl,
            sysctl.and_then(|s| {
                s.value
                    .iter()
                    .find(|x| x.key == "net.bridge.bridge-nf-call-iptables")
            }),
        ) {
            evidence.push(ev(&s.file, x.line, &x.text));
        }
        table.records.push(Fact {
            fields: json!({"node": node, "module_loaded": loaded, "bridge_nf_call_iptables": value, "sysctl_collected": sysctl.is_some()}),
            evidence,
            first_seen: None,
        });
    }
    table
}

/// Host firewall: firewalld's state, the filter FORWARD policy, and rules that drop VXLAN.
pub(super) fn firewall(snap: &Snapshot) -> FactTable {
    let mut table = FactTable::default();
    let pod_nets: Vec<ipnet::IpNet> = {
        let inv = NetworkInventory::of(snap);
        let mut v = inv.believed_pod_networks();
        v.extend(inv.nodes.iter().flat_map(|n| n.pod_cidrs.iter().copied()));
        v
    };
    for node in node_names(snap) {
        let t = snap.nodes.get(&node);
        let fw = t.and_then(|t| t.firewalld.as_ref());
        let ipt = t.and_then(|t| t.iptables.as_ref());
        if fw.is_none() && ipt.is_none() {
            table.missing.push(node_path(&node, "firewalld.txt"));
            table.missing.push(node_path(&node, "iptables-save.txt"));
            continue;
        }
        let mut evidence = Vec::new();
        let firewalld = fw.map(|f| {
            evidence.push(ev(&f.file, f.value.line, &f.value.state));
            f.value.state.clone()
        });
        let mut forward_policy = None;
        let mut forward_accepts_pods = false;
        let mut vxlan_dropped = false;
        if let Some(i) = ipt {
            if let Some(c) = i.value.policy("filter", "FORWARD") {
                forward_policy = c.policy.clone();
                if forward_policy.as_deref() == Some("DROP") {
                    evidence.push(ev(&i.file, c.line, &c.text));
                }
            }
            // Pod traffic is let through by the CNI (FLANNEL-FWD) or kube-proxy (KUBE-FORWARD) chains.
            forward_accepts_pods = i.value.rules.iter().any(|r| {
                r.table.as_deref() == Some("filter")
                    && (r.target.as_deref() == Some("ACCEPT")
                        || r.target.as_deref().is_some_and(|t| {
                            t.starts_with("FLANNEL-FWD")
                                || t.starts_with("KUBE-FORWARD")
                                || t.starts_with("CNI-FORWARD")
                        }))
                    && (r.chain == "FORWARD"
                        || r.chain.starts_with("FLANNEL")
                        || r.chain.starts_with("KUBE-FORWARD")
                        || r.chain.starts_with("CNI"))
                    && (r.target.as_deref() != Some("ACCEPT")
                        || ["-s", "-d"].iter().any(|o| {
                            r.opt(o).is_some_and(|(v, neg)| {
                                !neg && v.parse::<ipnet::IpNet>().is_ok_and(|n| {
                                    pod_nets.iter().any(|p| p.contains(&n) || n.contains(p))
                                })
                            })
                        }))
            });
            for r in i.value.rules.iter().filter(|r| {
                r.table.as_deref() == Some("filter")
                    && matches!(r.target.as_deref(), Some("DROP" | "REJECT"))
                    && r.protocol() == Some("udp")
                    && r.dport() == Some(8472)
            }) {
                vxlan_dropped = true;
                evidence.push(ev(&i.file, r.line, &r.text));
            }
        }
        table.records.push(Fact {
            fields: json!({"node": node, "firewalld": firewalld, "forward_policy": forward_policy, "forward_accepts_pods": forward_accepts_pods, "vxlan_dropped": vxlan_dropped}),
            evidence,
            first_seen: None,
        });
    }
    table
}

/// SELinux mode per node.
pub(super) fn selinux(snap: &Snapshot) -> FactTable {
    let mut table = FactTable::default();
    for node in node_names(snap) {
        match snap.nodes.get(&node).and_then(|t| t.selinux.as_ref()) {
            Some(s) => table.records.push(Fact {
                fields: json!({"node": node, "mode": s.value.mode}),
                evidence: vec![ev(&s.file, s.value.line, &s.value.mode)],
                first_seen: None,
            }),
            None => table.missing.push(node_path(&node, "selinux.txt")),
        }
    }
    table
}
