//! flannel's VXLAN intent: for every pair of nodes, the route, neighbour
//! and FDB entry flannel programs on one for the other (`<peer podCIDR> via
//! <peer .0> dev flannel.1 onlink`, `<peer .0> lladdr <peer VtepMAC>
//! PERMANENT`, `<peer VtepMAC> dst <peer public-ip> self permanent`).

use super::{Fact, FactTable, ev};
use crate::Snapshot;
use crate::inventory::{Evidence, NetworkInventory, NodeNetwork};
use ipnet::IpNet;
use schemars::JsonSchema;
use serde::Serialize;
use std::net::IpAddr;

const DEV: &str = "flannel.1";

/// `flannel.routes`: on one node, the route flannel programs for one peer
/// node's pod CIDR (VXLAN or host-gw backend).
#[derive(Debug, Serialize, JsonSchema)]
pub struct FlannelRouteRecord {
    /// The node whose routing table is checked.
    pub node: String,
    /// The peer node the route leads to.
    pub peer: String,
    /// The peer's IPv4 pod CIDR, e.g. `10.244.2.0/24`: the route's destination.
    pub cidr: String,
    /// The next hop the route must have: with VXLAN the peer CIDR's network
    /// address (`10.244.2.0`), with host-gw the peer's public IP.
    pub gateway: String,
    /// The node's flannel backend: `vxlan` or `host-gw`.
    pub backend: String,
    /// The route flannel programs, as `ip route` prints it, e.g.
    /// `10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink` (host-gw:
    /// `10.244.2.0/24 via 192.168.1.12`).
    pub expected: String,
    /// `present` (as expected), `missing` (no route to `cidr`) or `wrong`
    /// (a route to `cidr` with another gateway or device).
    pub route: String,
}

/// `flannel.vxlan`: on one node, the neighbour and FDB entries flannel's
/// VXLAN backend programs for one peer node.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FlannelVxlanRecord {
    /// The node whose tables are checked.
    pub node: String,
    /// The peer node the entries are for.
    pub peer: String,
    /// The peer's IPv4 pod CIDR, e.g. `10.244.2.0/24`.
    pub cidr: String,
    /// The peer CIDR's network address (`10.244.2.0`): the neighbour
    /// entry's address on `flannel.1`.
    pub gateway: String,
    /// The peer's flannel public IP (its `public-ip` annotation), the FDB
    /// entry's `dst`; null when the annotation is absent.
    pub peer_ip: Option<String>,
    /// The peer's VTEP MAC (its `backend-data` VtepMAC annotation), e.g.
    /// `6e:2f:1a:00:00:01`.
    pub vtep_mac: String,
    /// The neighbour entry `<gateway> lladdr <vtep_mac>` on `flannel.1`:
    /// `present`, `missing`, or `wrong-mac` (another MAC).
    pub neighbor: String,
    /// The FDB entry `<vtep_mac> dst <peer_ip>` on `flannel.1`: `present`,
    /// `missing`, or `wrong-dst` (another destination).
    pub fdb: String,
}

/// `flannel.stale-entries`: one `flannel.1` route, neighbour or FDB entry
/// on a node that points at no current node.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FlannelStaleRecord {
    /// The node that holds the entry.
    pub node: String,
    /// Which table: `route`, `neighbor` or `fdb`.
    pub table: String,
    /// The entry: a route's destination (`10.244.9.0/24`), a neighbour's
    /// address (`10.244.9.0`) or an FDB entry's MAC.
    pub value: String,
    /// Why it is stale: `no node has this pod CIDR`, `no node has this VTEP
    /// MAC` or `no node has this public IP`.
    pub reason: String,
}

fn vxlan_nodes(inv: &NetworkInventory) -> Vec<&NodeNetwork> {
    inv.nodes
        .iter()
        .filter(|n| n.flannel_backend.as_deref() == Some("vxlan") && !n.pod_cidrs.is_empty())
        .collect()
}

fn v4_cidr(n: &NodeNetwork) -> Option<IpNet> {
    n.pod_cidrs.iter().find(|c| c.addr().is_ipv4()).copied()
}

/// What the node printed on `flannel.1` for one table: up to two real
/// lines, or the table's first line when nothing uses `flannel.1`, so that
/// the evidence of an absence is still lines a reader can check.
fn context<T>(
    file: &str,
    rows: &[T],
    on_dev: impl Fn(&T) -> bool,
    line: impl Fn(&T) -> (u32, &str),
) -> Vec<Evidence> {
    let shown: Vec<&T> = rows.iter().filter(|r| on_dev(r)).take(2).collect();
    let shown = if shown.is_empty() {
        rows.iter().take(1).collect()
    } else {
        shown
    };
    shown
        .into_iter()
        .map(|r| {
            let (n, t) = line(r);
            ev(file, n, t.trim_end())
        })
        .collect()
}

fn peer_evidence(peer: &NodeNetwork, cidr: IpNet) -> Evidence {
    ev(
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
    )
}

/// Per node and peer: the route flannel programs — with the VXLAN backend
/// `<peer podCIDR> via <peer .0> dev flannel.1 onlink`, with host-gw
/// `<peer podCIDR> via <peer public-ip>` over the underlay.
pub(super) fn routes(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::of(snap);
    let nodes: Vec<&NodeNetwork> = inv
        .nodes
        .iter()
        .filter(|n| {
            matches!(n.flannel_backend.as_deref(), Some("vxlan" | "host-gw"))
                && !n.pod_cidrs.is_empty()
        })
        .collect();
    let mut table = FactTable::default();
    for node in &nodes {
        let Some(r) = snap.nodes.get(&node.name).and_then(|t| t.routes.as_ref()) else {
            table.missing.push(super::node_input(
                &node.name,
                kdiag_bundle::NodeInput::Routes,
            ));
            continue;
        };
        let host_gw = node.flannel_backend.as_deref() == Some("host-gw");
        for peer in nodes.iter().filter(|p| p.name != node.name) {
            let Some(cidr) = v4_cidr(peer) else { continue };
            let gateway = if host_gw {
                match peer.flannel_public_ip {
                    Some(ip) => ip,
                    None => continue,
                }
            } else {
                cidr.network()
            };
            let mut evidence = vec![peer_evidence(peer, cidr)];
            let status = match r.value.iter().find(|x| x.dst == cidr) {
                None => {
                    evidence.extend(context(
                        &r.file,
                        &r.value,
                        |x| {
                            if host_gw {
                                x.gateway.is_some()
                            } else {
                                x.dev.as_deref() == Some(DEV)
                            }
                        },
                        |x| (x.line, x.text.as_str()),
                    ));
                    "missing"
                }
                Some(x) => {
                    evidence.push(ev(&r.file, x.line, x.text.trim_end()));
                    let dev_ok = if host_gw {
                        x.dev.as_deref() != Some(DEV)
                    } else {
                        x.dev.as_deref() == Some(DEV)
                    };
                    if x.gateway == Some(gateway) && dev_ok {
                        "present"
                    } else {
                        "wrong"
                    }
                }
            };
            let expected = if host_gw {
                format!("{cidr} via {gateway}")
            } else {
                format!("{cidr} via {gateway} dev {DEV} onlink")
            };
            table.records.push(Fact {
                fields: serde_json::to_value(FlannelRouteRecord {
                    node: node.name.clone(),
                    peer: peer.name.clone(),
                    cidr: cidr.to_string(),
                    gateway: gateway.to_string(),
                    // Always set: only nodes with a vxlan or host-gw backend are listed.
                    backend: node.flannel_backend.clone().unwrap_or_default(),
                    expected,
                    route: status.to_owned(),
                })
                .unwrap_or_default(),
                evidence,
                first_seen: None,
            });
        }
    }
    table
}

/// Whether the entry `find` looks for is in a node table: `present`,
/// `wrong` (found, but `correct` says otherwise), or `missing`; the lines
/// that show it are added to `evidence`.
fn entry_state<T>(
    table: &crate::Sourced<Vec<T>>,
    evidence: &mut Vec<Evidence>,
    find: impl Fn(&T) -> bool,
    on_dev: impl Fn(&T) -> bool,
    line: impl Fn(&T) -> (u32, &str),
    correct: impl Fn(&T) -> bool,
    wrong: &'static str,
) -> &'static str {
    match table.value.iter().find(|x| find(x)) {
        None => {
            evidence.extend(context(&table.file, &table.value, on_dev, &line));
            "missing"
        }
        Some(x) => {
            let (n, t) = line(x);
            evidence.push(ev(&table.file, n, t.trim_end()));
            if correct(x) { "present" } else { wrong }
        }
    }
}

/// Per node and peer: the PERMANENT neighbour and the FDB entry flannel programs.
pub(super) fn vxlan(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::of(snap);
    let nodes = vxlan_nodes(&inv);
    let mut table = FactTable::default();
    for node in &nodes {
        let t = snap.nodes.get(&node.name);
        let (Some(n), Some(f)) = (
            t.and_then(|t| t.neighbors.as_ref()),
            t.and_then(|t| t.fdb.as_ref()),
        ) else {
            if t.and_then(|t| t.neighbors.as_ref()).is_none() {
                table.missing.push(super::node_input(
                    &node.name,
                    kdiag_bundle::NodeInput::Neighbors,
                ));
            }
            if t.and_then(|t| t.fdb.as_ref()).is_none() {
                table
                    .missing
                    .push(super::node_input(&node.name, kdiag_bundle::NodeInput::Fdb));
            }
            continue;
        };
        for peer in nodes.iter().filter(|p| p.name != node.name) {
            let (Some(cidr), Some(mac)) = (v4_cidr(peer), peer.flannel_vtep_mac.as_deref()) else {
                continue;
            };
            let gateway = cidr.network();
            let mut evidence = vec![peer_evidence(peer, cidr)];
            let neighbor = entry_state(
                n,
                &mut evidence,
                |x| x.ip == gateway && x.dev.as_deref() == Some(DEV),
                |x| x.dev.as_deref() == Some(DEV),
                |x| (x.line, x.text.as_str()),
                |x| x.lladdr.as_deref() == Some(mac),
                "wrong-mac",
            );
            let fdb = entry_state(
                f,
                &mut evidence,
                |x| x.mac == mac && x.dev.as_deref() == Some(DEV),
                |x| x.dev.as_deref() == Some(DEV),
                |x| (x.line, x.text.as_str()),
                |x| x.dst == peer.flannel_public_ip,
                "wrong-dst",
            );
            table.records.push(Fact {
                fields: serde_json::to_value(FlannelVxlanRecord {
                    node: node.name.clone(),
                    peer: peer.name.clone(),
                    cidr: cidr.to_string(),
                    gateway: gateway.to_string(),
                    peer_ip: peer.flannel_public_ip.map(|i| i.to_string()),
                    vtep_mac: mac.to_owned(),
                    neighbor: neighbor.to_owned(),
                    fdb: fdb.to_owned(),
                })
                .unwrap_or_default(),
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
            table.missing.push(super::node_input(
                &node.name,
                kdiag_bundle::NodeInput::Routes,
            ));
            continue;
        };
        let mut push =
            |file: &str, line: u32, text: &str, kind: &str, value: String, reason: &str| {
                table.records.push(Fact {
                    fields: serde_json::to_value(FlannelStaleRecord {
                        node: node.name.clone(),
                        table: kind.to_owned(),
                        value,
                        reason: reason.to_owned(),
                    })
                    .unwrap_or_default(),
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
