//! flannel's VXLAN intent: for every pair of nodes, the route, neighbour
//! and FDB entry flannel programs on one for the other (`<peer podCIDR> via
//! <peer .0> dev flannel.1 onlink`, `<peer .0> lladdr <peer VtepMAC>
//! PERMANENT`, `<peer VtepMAC> dst <peer public-ip> self permanent`).

use super::{Fact, FactTable, ev, row};
use crate::Snapshot;
use crate::inventory::{Evidence, NetworkInventory, NodeNetwork};
use ipnet::IpNet;
use kdiag_parse::Mac;
use rustc_hash::FxHashMap as HashMap;
use schemars::JsonSchema;
use serde::Serialize;
use std::net::IpAddr;

const DEV: &str = "flannel.1";

/// `flannel.routes`: on one node, the route flannel programs for one peer
/// node's pod CIDR (VXLAN or host-gw backend), where it is not as expected.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FlannelRouteRecord {
    /// The node whose routing table is checked.
    pub node: String,
    /// The peer node the route leads to.
    pub peer: String,
    /// The peer's IPv4 pod CIDR, e.g. `10.244.2.0/24`: the route's destination.
    #[schemars(with = "String")]
    pub cidr: IpNet,
    /// The next hop the route must have: with VXLAN the peer CIDR's network
    /// address (`10.244.2.0`), with host-gw the peer's public IP.
    #[schemars(with = "String")]
    pub gateway: IpAddr,
    /// The node's flannel backend: `vxlan` or `host-gw`.
    pub backend: String,
    /// The route flannel programs, as `ip route` prints it, e.g.
    /// `10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink` (host-gw:
    /// `10.244.2.0/24 via 192.168.1.12`).
    pub expected: String,
    /// `missing` (no route to `cidr`) or `wrong` (a route to `cidr` with
    /// another gateway or device). Peers whose route is as expected have no
    /// record; `flannel.nodes` counts them.
    pub route: &'static str,
}

/// `flannel.vxlan`: on one node, the neighbour and FDB entries flannel's
/// VXLAN backend programs for one peer node, where either is not as expected.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FlannelVxlanRecord {
    /// The node whose tables are checked.
    pub node: String,
    /// The peer node the entries are for.
    pub peer: String,
    /// The peer's IPv4 pod CIDR, e.g. `10.244.2.0/24`.
    #[schemars(with = "String")]
    pub cidr: IpNet,
    /// The peer CIDR's network address (`10.244.2.0`): the neighbour
    /// entry's address on `flannel.1`.
    #[schemars(with = "String")]
    pub gateway: IpAddr,
    /// The peer's flannel public IP (its `public-ip` annotation), the FDB
    /// entry's `dst`; null when the annotation is absent.
    #[schemars(with = "Option<String>")]
    pub peer_ip: Option<IpAddr>,
    /// The peer's VTEP MAC (its `backend-data` VtepMAC annotation), e.g.
    /// `6e:2f:1a:00:00:01`.
    pub vtep_mac: String,
    /// The neighbour entry `<gateway> lladdr <vtep_mac>` on `flannel.1`:
    /// `present`, `missing`, or `wrong-mac` (another MAC).
    pub neighbor: &'static str,
    /// The FDB entry `<vtep_mac> dst <peer_ip>` on `flannel.1`: `present`,
    /// `missing`, or `wrong-dst` (another destination). A peer whose
    /// neighbour and FDB entry are both present has no record;
    /// `flannel.nodes` counts them.
    pub fdb: &'static str,
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
    line: impl Fn(&T) -> (u32, std::borrow::Cow<'_, str>),
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

/// The nodes flannel programs routes between (VXLAN or host-gw, with a pod CIDR).
fn route_nodes(inv: &NetworkInventory) -> Vec<&NodeNetwork> {
    inv.nodes
        .iter()
        .filter(|n| {
            matches!(n.flannel_backend.as_deref(), Some("vxlan" | "host-gw"))
                && !n.pod_cidrs.is_empty()
        })
        .collect()
}

/// How one node's entries compare with what flannel programs: counts, and
/// the records of the peers whose entry is not as expected.
#[derive(Default)]
struct Compared {
    present: usize,
    missing: usize,
    wrong: usize,
    records: Vec<Fact>,
}

impl Compared {
    fn count(&mut self, status: &str) {
        match status {
            "present" => self.present += 1,
            "missing" => self.missing += 1,
            _ => self.wrong += 1,
        }
    }
}

/// One node's routes against the route flannel programs for each peer —
/// with the VXLAN backend `<peer podCIDR> via <peer .0> dev flannel.1
/// onlink`, with host-gw `<peer podCIDR> via <peer public-ip>` over the
/// underlay. `None` when the node's `ip route` was not collected.
fn compare_routes(snap: &Snapshot, node: &NodeNetwork, nodes: &[&NodeNetwork]) -> Option<Compared> {
    let r = snap.nodes.get(&node.name).and_then(|t| t.routes.as_ref())?;
    let host_gw = node.flannel_backend.as_deref() == Some("host-gw");
    // Index the node's routes once: peers x routes would be quadratic.
    let mut by_dst: HashMap<IpNet, &kdiag_parse::iproute::Route> = HashMap::default();
    for x in &r.value {
        by_dst.entry(x.dst).or_insert(x);
    }
    let absent = context(
        &r.file,
        &r.value,
        |x| {
            if host_gw {
                x.gateway.is_some()
            } else {
                x.dev.as_deref() == Some(DEV)
            }
        },
        |x| (x.line, x.text()),
    );
    let mut out = Compared::default();
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
        let found = by_dst.get(&cidr);
        let status = match found {
            None => "missing",
            Some(x) => {
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
        out.count(status);
        if status == "present" {
            continue;
        }
        let mut evidence = vec![peer_evidence(peer, cidr)];
        match found {
            Some(x) => evidence.push(ev(&r.file, x.line, x.text().trim_end())),
            None => evidence.extend(absent.iter().cloned()),
        }
        let expected = if host_gw {
            format!("{cidr} via {gateway}")
        } else {
            format!("{cidr} via {gateway} dev {DEV} onlink")
        };
        out.records.push(Fact {
            record: row(FlannelRouteRecord {
                node: node.name.clone(),
                peer: peer.name.clone(),
                cidr,
                gateway,
                // Always set: only nodes with a vxlan or host-gw backend are listed.
                backend: node.flannel_backend.clone().unwrap_or_default(),
                expected,
                route: status,
            }),
            evidence,
            first_seen: None,
        });
    }
    Some(out)
}

/// `flannel.routes`: per node and peer whose route is not as flannel
/// programs it (the nodes' counts are in `flannel.nodes`).
pub(super) fn routes(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::cached(snap);
    let nodes = route_nodes(inv);
    let mut table = FactTable::default();
    for node in &nodes {
        match compare_routes(snap, node, &nodes) {
            Some(c) => table.records.extend(c.records),
            None => table.missing.push(super::node_input(
                &node.name,
                kdiag_bundle::NodeInput::Routes,
            )),
        }
    }
    table
}

/// One node's `flannel.1` neighbours and FDB entries against what the
/// VXLAN backend programs for each peer (a PERMANENT neighbour `<peer .0>
/// lladdr <VtepMAC>`, an FDB entry `<VtepMAC> dst <peer public-ip>`).
/// `Err` names the inputs that were not collected.
fn compare_vxlan(
    snap: &Snapshot,
    node: &NodeNetwork,
    nodes: &[&NodeNetwork],
) -> Result<(Compared, Compared), Vec<kdiag_bundle::NodeInput>> {
    let t = snap.nodes.get(&node.name);
    let n = t.and_then(|t| t.neighbors.as_ref());
    let f = t.and_then(|t| t.fdb.as_ref());
    let (Some(n), Some(f)) = (n, f) else {
        let mut lacking = Vec::new();
        if n.is_none() {
            lacking.push(kdiag_bundle::NodeInput::Neighbors);
        }
        if f.is_none() {
            lacking.push(kdiag_bundle::NodeInput::Fdb);
        }
        return Err(lacking);
    };
    let mut neighbors: HashMap<IpAddr, &kdiag_parse::iproute::Neighbor> = HashMap::default();
    for x in n.value.iter().filter(|x| x.dev.as_deref() == Some(DEV)) {
        neighbors.entry(x.ip).or_insert(x);
    }
    let mut fdb: HashMap<Mac, &kdiag_parse::iproute::FdbEntry> = HashMap::default();
    for x in f.value.iter().filter(|x| x.dev.as_deref() == Some(DEV)) {
        fdb.entry(x.mac).or_insert(x);
    }
    let on_dev = |d: &Option<kdiag_parse::Name>| d.as_deref() == Some(DEV);
    let neighbors_absent = context(
        &n.file,
        &n.value,
        |x| on_dev(&x.dev),
        |x| (x.line, x.text()),
    );
    let fdb_absent = context(
        &f.file,
        &f.value,
        |x| on_dev(&x.dev),
        |x| (x.line, x.text()),
    );
    let (mut nc, mut fc) = (Compared::default(), Compared::default());
    for peer in nodes.iter().filter(|p| p.name != node.name) {
        let (Some(cidr), Some(mac_text)) = (v4_cidr(peer), peer.flannel_vtep_mac.as_deref()) else {
            continue;
        };
        let mac = Mac::parse(mac_text);
        let gateway = cidr.network();
        let found_neighbor = neighbors.get(&gateway);
        let neighbor = match found_neighbor {
            None => "missing",
            Some(x) if mac.is_some() && x.lladdr == mac => "present",
            Some(_) => "wrong-mac",
        };
        let entry = mac.and_then(|m| fdb.get(&m));
        let fdb_state = match entry {
            None => "missing",
            Some(x) if x.dst == peer.flannel_public_ip => "present",
            Some(_) => "wrong-dst",
        };
        nc.count(neighbor);
        fc.count(fdb_state);
        if neighbor == "present" && fdb_state == "present" {
            continue;
        }
        // Evidence only for a pair that is a record.
        let mut evidence = vec![peer_evidence(peer, cidr)];
        match found_neighbor {
            None => evidence.extend(neighbors_absent.iter().cloned()),
            Some(x) => evidence.push(ev(&n.file, x.line, x.text().trim_end())),
        }
        match entry {
            None => evidence.extend(fdb_absent.iter().cloned()),
            Some(x) => evidence.push(ev(&f.file, x.line, x.text().trim_end())),
        }
        nc.records.push(Fact {
            record: row(FlannelVxlanRecord {
                node: node.name.clone(),
                peer: peer.name.clone(),
                cidr,
                gateway,
                peer_ip: peer.flannel_public_ip,
                vtep_mac: mac_text.to_ascii_lowercase(),
                neighbor,
                fdb: fdb_state,
            }),
            evidence,
            first_seen: None,
        });
    }
    Ok((nc, fc))
}

/// `flannel.vxlan`: per node and peer whose neighbour or FDB entry is not as
/// flannel's VXLAN backend programs it.
pub(super) fn vxlan(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::cached(snap);
    let nodes = vxlan_nodes(inv);
    let mut table = FactTable::default();
    for node in &nodes {
        match compare_vxlan(snap, node, &nodes) {
            Ok((n, _)) => table.records.extend(n.records),
            Err(lacking) => table.missing.extend(
                lacking
                    .into_iter()
                    .map(|i| super::node_input(&node.name, i)),
            ),
        }
    }
    table
}

/// `flannel.nodes`: one flannel node and how many of the entries flannel
/// programs for its peers it holds.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FlannelNodeRecord {
    /// The node.
    pub node: String,
    /// Its flannel backend: `vxlan` or `host-gw`.
    pub backend: String,
    /// Peers flannel programs entries for (the other flannel nodes with an
    /// IPv4 pod CIDR).
    pub peers: usize,
    /// Routes to peers' pod CIDRs as flannel programs them; null when `ip
    /// route` was not collected.
    pub routes_present: Option<usize>,
    /// Peers' pod CIDRs with no route (`flannel.routes` lists them).
    pub routes_missing: Option<usize>,
    /// Peers' pod CIDRs with a route through another gateway or device.
    pub routes_wrong: Option<usize>,
    /// VXLAN: neighbour entries as flannel programs them; null for host-gw or
    /// when `ip neigh`/`bridge fdb` was not collected.
    pub neighbors_present: Option<usize>,
    /// VXLAN: peers with no neighbour entry, or one with another MAC.
    pub neighbors_not_present: Option<usize>,
    /// VXLAN: FDB entries as flannel programs them.
    pub fdb_present: Option<usize>,
    /// VXLAN: peers with no FDB entry, or one towards another IP.
    pub fdb_not_present: Option<usize>,
}

/// Per flannel node: counts of the entries it holds and lacks.
pub(super) fn nodes(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::cached(snap);
    let nodes = route_nodes(inv);
    let vxlan = vxlan_nodes(inv);
    let mut table = FactTable::default();
    for node in &nodes {
        let routes = compare_routes(snap, node, &nodes);
        if routes.is_none() {
            table.missing.push(super::node_input(
                &node.name,
                kdiag_bundle::NodeInput::Routes,
            ));
        }
        let is_vxlan = node.flannel_backend.as_deref() == Some("vxlan");
        let entries = if is_vxlan {
            match compare_vxlan(snap, node, &vxlan) {
                Ok(v) => Some(v),
                Err(lacking) => {
                    table.missing.extend(
                        lacking
                            .into_iter()
                            .map(|i| super::node_input(&node.name, i)),
                    );
                    None
                }
            }
        } else {
            None
        };
        let peers = nodes
            .iter()
            .filter(|p| p.name != node.name && v4_cidr(p).is_some())
            .count();
        let (n, f) = entries.map_or((None, None), |(n, f)| (Some(n), Some(f)));
        table.records.push(Fact {
            record: row(FlannelNodeRecord {
                node: node.name.clone(),
                backend: node.flannel_backend.clone().unwrap_or_default(),
                peers,
                routes_present: routes.as_ref().map(|c| c.present),
                routes_missing: routes.as_ref().map(|c| c.missing),
                routes_wrong: routes.as_ref().map(|c| c.wrong),
                neighbors_present: n.as_ref().map(|c| c.present),
                neighbors_not_present: n.as_ref().map(|c| c.missing + c.wrong),
                fdb_present: f.as_ref().map(|c| c.present),
                fdb_not_present: f.as_ref().map(|c| c.missing + c.wrong),
            }),
            evidence: vec![node.evidence.clone()],
            first_seen: None,
        });
    }
    table
}

/// flannel.1 entries that point at no current node.
pub(super) fn stale_entries(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::cached(snap);
    let nodes = vxlan_nodes(inv);
    // Sets: every node's entries are checked against every node's values.
    let cidrs: std::collections::HashSet<IpNet> = nodes.iter().filter_map(|n| v4_cidr(n)).collect();
    let networks: std::collections::HashSet<IpAddr> = cidrs.iter().map(IpNet::network).collect();
    let macs: std::collections::HashSet<Mac> = nodes
        .iter()
        .filter_map(|n| n.flannel_vtep_mac.as_deref().and_then(Mac::parse))
        .collect();
    let ips: std::collections::HashSet<IpAddr> =
        nodes.iter().filter_map(|n| n.flannel_public_ip).collect();
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
                    record: row(FlannelStaleRecord {
                        node: node.name.clone(),
                        table: kind.to_owned(),
                        value,
                        reason: reason.to_owned(),
                    }),
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
                    &x.text(),
                    "route",
                    x.dst.to_string(),
                    "no node has this pod CIDR",
                );
            }
        }
        if let Some(n) = &t.neighbors {
            for x in n.value.iter().filter(|x| x.dev.as_deref() == Some(DEV)) {
                if !networks.contains(&x.ip) {
                    push(
                        &n.file,
                        x.line,
                        &x.text(),
                        "neighbor",
                        x.ip.to_string(),
                        "no node has this pod CIDR",
                    );
                } else if x.lladdr.is_some_and(|m| !macs.contains(&m)) {
                    push(
                        &n.file,
                        x.line,
                        &x.text(),
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
                if !macs.contains(&x.mac) {
                    push(
                        &f.file,
                        x.line,
                        &x.text(),
                        "fdb",
                        x.mac.to_string(),
                        "no node has this VTEP MAC",
                    );
                } else if x.dst.is_some_and(|d| !ips.contains(&d)) {
                    push(
                        &f.file,
                        x.line,
                        &x.text(),
                        "fdb",
                        x.mac.to_string(),
                        "no node has this public IP",
                    );
                }
            }
        }
    }
    table
}
