//! flannel's VXLAN intent: for every pair of nodes, the route, neighbour
//! and FDB entry flannel programs on one for the other (`<peer podCIDR> via
//! <peer .0> dev flannel.1 onlink`, `<peer .0> lladdr <peer VtepMAC>
//! PERMANENT`, `<peer VtepMAC> dst <peer public-ip> self permanent`).

use super::{Fact, FactTable, ev, node_path};
use crate::Snapshot;
use crate::inventory::{NetworkInventory, NodeNetwork};
use ipnet::IpNet;
use serde_json::json;
use std::net::IpAddr;

const DEV: &str = "flannel.1";

fn vxlan_nodes(inv: &NetworkInventory) -> Vec<&NodeNetwork> {
    inv.nodes
        .iter()
        .filter(|n| n.flannel_backend.as_deref() == Some("vxlan") && !n.pod_cidrs.is_empty())
        .collect()
}

fn v4_cidr(n: &NodeNetwork) -> Option<IpNet> {
    n.pod_cidrs.iter().find(|c| c.addr().is_ipv4()).copied()
}

/// Per node and peer: is each of the three entries there?
pub(super) fn peers(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::of(snap);
    let nodes = vxlan_nodes(&inv);
    let mut table = FactTable::default();
    for node in &nodes {
        let tables = snap.nodes.get(&node.name);
        let routes = tables.and_then(|t| t.routes.as_ref());
        let neighbors = tables.and_then(|t| t.neighbors.as_ref());
        let fdb = tables.and_then(|t| t.fdb.as_ref());
        for (present, file) in [
            (routes.is_some(), "ip-route.txt"),
            (neighbors.is_some(), "ip-neigh.txt"),
            (fdb.is_some(), "bridge-fdb.txt"),
        ] {
            if !present {
                table.missing.push(node_path(&node.name, file));
            }
        }
        if routes.is_none() && neighbors.is_none() && fdb.is_none() {
            continue;
        }
        for peer in nodes.iter().filter(|p| p.name != node.name) {
            let Some(cidr) = v4_cidr(peer) else { continue };
            let gateway = cidr.network();
            let mut evidence = vec![ev(
                &peer.evidence.file,
                peer.evidence.line,
                format!(
                    "Node {} podCIDR {cidr}, VtepMAC {}, public-ip {}",
                    peer.name,
                    peer.flannel_vtep_mac.as_deref().unwrap_or("?"),
                    peer.flannel_public_ip
                        .map(|i| i.to_string())
                        .unwrap_or_else(|| "?".into())
                ),
            )];
            let route = match routes {
                None => "unknown",
                Some(r) => match r.value.iter().find(|x| x.dst == cidr) {
                    None => {
                        let shown: Vec<_> = r
                            .value
                            .iter()
                            .filter(|x| x.dev.as_deref() == Some(DEV))
                            .take(2)
                            .collect();
                        match shown.as_slice() {
                            [] => evidence.push(ev(
                                &r.file,
                                r.value.first().map_or(1, |x| x.line),
                                format!("no route to {cidr}; no route uses {DEV}"),
                            )),
                            some => evidence.extend(
                                some.iter().map(|x| ev(&r.file, x.line, x.text.trim_end())),
                            ),
                        }
                        "missing"
                    }
                    Some(x) => {
                        evidence.push(ev(&r.file, x.line, x.text.trim_end()));
                        if x.gateway == Some(gateway) && x.dev.as_deref() == Some(DEV) {
                            "present"
                        } else {
                            "wrong"
                        }
                    }
                },
            };
            let neighbor = match (neighbors, &peer.flannel_vtep_mac) {
                (None, _) => "unknown",
                (Some(_), None) => "unknown",
                (Some(n), Some(mac)) => match n
                    .value
                    .iter()
                    .find(|x| x.ip == gateway && x.dev.as_deref() == Some(DEV))
                {
                    None => "missing",
                    Some(x) => {
                        if x.lladdr.as_deref() == Some(mac.as_str()) {
                            "present"
                        } else {
                            evidence.push(ev(&n.file, x.line, x.text.trim_end()));
                            "wrong-mac"
                        }
                    }
                },
            };
            let fdb_state = match (fdb, &peer.flannel_vtep_mac) {
                (None, _) | (Some(_), None) => "unknown",
                (Some(f), Some(mac)) => match f
                    .value
                    .iter()
                    .find(|x| &x.mac == mac && x.dev.as_deref() == Some(DEV))
                {
                    None => "missing",
                    Some(x) => {
                        if x.dst == peer.flannel_public_ip {
                            "present"
                        } else {
                            evidence.push(ev(&f.file, x.line, x.text.trim_end()));
                            "wrong-dst"
                        }
                    }
                },
            };
            if neighbor == "missing"
                && let Some(n) = neighbors
            {
                {
                    evidence.push(ev(
                        &n.file,
                        n.value
                            .iter()
                            .find(|x| x.dev.as_deref() == Some(DEV))
                            .map_or(1, |x| x.line),
                        format!("no {DEV} neighbour for {gateway}"),
                    ));
                }
            }
            table.records.push(Fact {
                fields: json!({
                    "node": node.name,
                    "peer": peer.name,
                    "cidr": cidr.to_string(),
                    "gateway": gateway.to_string(),
                    "peer_ip": peer.flannel_public_ip.map(|i| i.to_string()),
                    "vtep_mac": peer.flannel_vtep_mac,
                    "route": route,
                    "neighbor": neighbor,
                    "fdb": fdb_state,
                }),
                evidence,
                first_seen: None,
            });
        }
    }
    table
}

/// flannel.1 entries that point at no current node.
pub(super) fn stale_entries(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::of(snap);
    let nodes = vxlan_nodes(&inv);
    let cidrs: Vec<IpNet> = nodes.iter().filter_map(|n| v4_cidr(n)).collect();
    let macs: Vec<&str> = nodes
        .iter()
        .filter_map(|n| n.flannel_vtep_mac.as_deref())
        .collect();
    let ips: Vec<IpAddr> = nodes.iter().filter_map(|n| n.flannel_public_ip).collect();
    let mut table = FactTable::default();
    for node in &nodes {
        let Some(t) = snap.nodes.get(&node.name) else {
            table.missing.push(node_path(&node.name, "ip-route.txt"));
            continue;
        };
        let mut push =
            |file: &str, line: u32, text: &str, kind: &str, value: String, reason: &str| {
                table.records.push(Fact {
                fields: json!({"node": node.name, "table": kind, "value": value, "reason": reason}),
                evidence: vec![ev(file, line, text.trim_end())],
                first_seen: None,
            });
            };
        if let Some(r) = &t.routes {
            for x in r
                .value
                .iter()
                .filter(|x| x.dev.as_deref() == Some(DEV) && !cidrs.contains(&x.dst))
            {
                push(
                    &r.file,
                    x.line,
                    &x.text,
                    "route",
                    x.dst.to_string(),
                    "no node has this pod CIDR",
                );
            }
        }
        if let Some(n) = &t.neighbors {
            for x in n.value.iter().filter(|x| x.dev.as_deref() == Some(DEV)) {
                if !cidrs.iter().any(|c| c.network() == x.ip) {
                    push(
                        &n.file,
                        x.line,
                        &x.text,
                        "neighbor",
                        x.ip.to_string(),
                        "no node has this pod CIDR",
                    );
                } else if x.lladdr.as_deref().is_some_and(|m| !macs.contains(&m)) {
                    push(
                        &n.file,
                        x.line,
                        &x.text,
                        "neighbor",
                        x.ip.to_string(),
                        "no node has this VTEP MAC",
                    );
                }
            }
        }
        if let Some(f) = &t.fdb {
            for x in f
                .value
                .iter()
                .filter(|x| x.dev.as_deref() == Some(DEV) && x.dst.is_some())
            {
                if !macs.contains(&x.mac.as_str()) {
                    push(
                        &f.file,
                        x.line,
                        &x.text,
                        "fdb",
                        x.mac.clone(),
                        "no node has this VTEP MAC",
                    );
                } else if x.dst.is_some_and(|d| !ips.contains(&d)) {
                    push(
                        &f.file,
                        x.line,
                        &x.text,
                        "fdb",
                        x.mac.clone(),
                        "no node has this public IP",
                    );
                }
            }
        }
    }
    table
}
