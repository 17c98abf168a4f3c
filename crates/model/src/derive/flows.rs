//! The flows every cluster needs, traced through the bundle (see
//! [`crate::trace`]): from a pod on every node whose tables were collected
//! to the DNS Service (53/udp and 53/tcp), to each DNS pod, and to every
//! other node's pod network. A flow that is not delivered is a record, with
//! the hop that dropped it and the failure class that hop shows — the
//! finding of that class is its cause, whatever rule found it.

use super::{Fact, FactTable, row};
use crate::Snapshot;
use crate::inventory::{NetworkInventory, NodeNetwork};
use crate::trace::{self, Branch, FlowVerdict, From, Hop, Proto, To, Tracer, Verdict};
use ipnet::IpNet;
use kdiag_parse::Name;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;

/// What the hop that dropped a flow shows: the failure class, and the keys
/// of the finding of that class (its subject) that explains the drop.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct Cause {
    /// The failure class, e.g. `node.ip-forward-disabled`,
    /// `service.not-programmed`, `podnet.route-missing`.
    pub class: String,
    /// The node of the cause (where the drop is, or the node the CNI never
    /// registered).
    pub node: Option<String>,
    /// The pod network the cause is about (a missing route's destination).
    pub cidr: Option<String>,
    /// The Service's namespace, for a Service cause.
    pub namespace: Option<String>,
    /// The Service's name, for a Service cause.
    pub name: Option<String>,
}

/// At most this many `source → target` pairs are listed per record (all
/// are counted).
pub const PAIRS_SHOWN: usize = 50;

/// At most this many distinct evidence lines are kept per record.
const EVIDENCE_SHOWN: usize = 12;

/// `trace.flows`: the required flows of one kind that one hop drops for one
/// cause, folded over their sources: one record per dropping hop, never one
/// per pair of nodes.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FlowRecord {
    /// Which flow: `dns-service` (to the DNS ClusterIP), `dns-pod` (to a DNS
    /// pod directly) or `pod-network` (to another node's pod network).
    pub flow: String,
    /// The nodes the dropped flows start from (a pod on each one's pod network).
    #[schemars(with = "Vec<String>")]
    pub sources: Vec<Name>,
    /// Their destinations, e.g. `10.96.0.10:53/udp`.
    pub to: Vec<String>,
    /// The nodes the destinations are on, when known (the DNS pods', the peers').
    #[schemars(with = "Vec<String>")]
    pub target_nodes: Vec<Name>,
    /// `source → target node` for each dropped flow, the first
    /// [`PAIRS_SHOWN`].
    pub pairs: Vec<String>,
    /// Number of dropped flows folded here.
    pub count: usize,
    /// `dropped`.
    pub verdict: String,
    /// The node of the hop that dropped them.
    pub at_node: String,
    /// The hop that dropped them: `kube-proxy`, `ipvs`, `route`, `forwarding`,
    /// `filter FORWARD`, `filter INPUT`, `vxlan neighbor`, `vxlan fdb`,
    /// `bridge netfilter`, `rp_filter`, `pod`.
    pub at_step: String,
    /// What that hop decided (for the first flow).
    pub at_detail: String,
    /// The fix the hop suggests.
    pub fix: Option<String>,
    /// The failure class the hop shows and its keys; null when the hop
    /// shows none kdiag names (e.g. a pod that is not Ready).
    pub cause: Option<Cause>,
}

/// Whether flannel never registered a node: the cluster runs flannel (other
/// nodes carry its annotations) and this node has a pod CIDR but none.
pub(crate) fn unregistered(inv: &NetworkInventory, n: &NodeNetwork) -> bool {
    !n.pod_cidrs.is_empty()
        && n.flannel_backend.is_none()
        && n.flannel_vtep_mac.is_none()
        && inv.nodes.iter().any(|o| o.flannel_backend.is_some())
}

fn owner(inv: &NetworkInventory, ip: IpAddr) -> Option<(&NodeNetwork, IpNet)> {
    inv.nodes.iter().find_map(|n| {
        n.pod_cidrs
            .iter()
            .find(|c| c.contains(&ip))
            .map(|c| (n, *c))
    })
}

/// The Service with this ClusterIP, as (namespace, name).
fn service_of(tr: &Tracer, ip: IpAddr) -> (Option<String>, Option<String>) {
    tr.service_at(ip)
        .and_then(|k| k.split_once('/'))
        .map_or((None, None), |(ns, n)| {
            (Some(ns.to_owned()), Some(n.to_owned()))
        })
}

/// The failure class a drop hop shows, and its keys.
fn cause_of(
    tr: &Tracer,
    inv: &NetworkInventory,
    h: &Hop,
    dst: IpAddr,
    original: IpAddr,
) -> Option<Cause> {
    let at = |class: &str| Cause {
        class: class.to_owned(),
        node: Some(h.node.clone()),
        ..Cause::default()
    };
    let step = h.step.as_str();
    let rule_text = h
        .evidence
        .last()
        .map(|e| e.text.as_str())
        .unwrap_or_default();
    Some(match step {
        "kube-proxy" | "ipvs" => {
            let (namespace, name) = service_of(tr, original);
            let key = format!(
                "{}/{}",
                namespace.clone().unwrap_or_default(),
                name.clone().unwrap_or_default()
            );
            // A Service without ready endpoints has nothing to program.
            if tr.ready_endpoints(&key) == Some(0) {
                Cause {
                    class: "service.no-endpoints".into(),
                    node: None,
                    cidr: None,
                    namespace,
                    name,
                }
            } else {
                Cause {
                    namespace,
                    name,
                    ..at("service.not-programmed")
                }
            }
        }
        _ if step.starts_with("filter") && rule_text.contains("has no endpoints") => {
            let (namespace, name) = service_of(tr, original);
            Cause {
                class: "service.no-endpoints".into(),
                node: None,
                namespace,
                name,
                cidr: None,
            }
        }
        _ if step.starts_with("filter") || step.starts_with("nat") => at("node.firewall-blocking"),
        "forwarding" => at("node.ip-forward-disabled"),
        "bridge netfilter" => at("node.br-netfilter-missing"),
        "rp_filter" => at("node.rp-filter-strict"),
        "route" | "vxlan neighbor" | "vxlan fdb" => {
            if step == "vxlan fdb" && h.detail.contains("no current node") {
                return Some(at("podnet.stale-entry"));
            }
            // A node flannel never registered has no flannel routes at all.
            if let Some(me) = inv.nodes.iter().find(|n| n.name == h.node)
                && unregistered(inv, me)
            {
                return Some(at("podnet.node-unregistered"));
            }
            let (peer, cidr) = owner(inv, dst)?;
            if unregistered(inv, peer) {
                Cause {
                    class: "podnet.node-unregistered".into(),
                    node: Some(peer.name.clone()),
                    cidr: Some(cidr.to_string()),
                    ..Cause::default()
                }
            } else {
                Cause {
                    cidr: Some(cidr.to_string()),
                    ..at(if step == "route" {
                        "podnet.route-missing"
                    } else {
                        "podnet.vxlan-peer-missing"
                    })
                }
            }
        }
        _ => return None,
    })
}

/// Where a branch went: its destination after DNAT.
fn branch_dst(b: &Branch) -> Option<IpAddr> {
    b.to.parse::<std::net::SocketAddr>()
        .map(|s| s.ip())
        .ok()
        .or_else(|| b.to.parse().ok())
}

/// A flow's kind, destination and the node it is for.
type Flow = (&'static str, To, Option<String>);

/// The DNS flows every node must have: to the DNS Service on 53/udp and
/// 53/tcp, and to each Ready DNS pod.
fn dns_flows(snap: &Snapshot, inv: &NetworkInventory, tr: &Tracer) -> Vec<Flow> {
    let mut out = Vec::new();
    if let Some(ip) = inv.dns_service.as_ref().and_then(|d| d.cluster_ip) {
        out.push(("dns-service", To::Addr(ip, Some(53), Proto::Udp), None));
        out.push(("dns-service", To::Addr(ip, Some(53), Proto::Tcp), None));
    }
    let dns_pods = ["coredns", "kube-dns"]
        .iter()
        .filter_map(|c| crate::components::component(c))
        .flat_map(|c| crate::components::pods_of(snap, &c.recognise.pods));
    for p in dns_pods {
        let key = format!(
            "{}/{}",
            p.object.namespace.as_deref().unwrap_or_default(),
            p.object.name
        );
        // A pod that is not Ready is no endpoint: what is wrong with it is
        // another finding's.
        if tr.pod_ready(&key) != Some(true) {
            continue;
        }
        if let Some(a) = tr.pod_named(&key) {
            out.push((
                "dns-pod",
                To::Addr(a.ip, Some(53), Proto::Udp),
                a.node.clone(),
            ));
        }
    }
    out
}

/// One address in every node's pod network: a Ready pod of the node when
/// there is one, else its bridge address.
fn pod_network_targets(inv: &NetworkInventory, tr: &Tracer) -> Vec<(String, IpAddr)> {
    inv.nodes
        .iter()
        .filter_map(|n| {
            let cidr = n.pod_cidrs.iter().find(|c| c.addr().is_ipv4())?;
            let ready = tr
                .pods_on(&n.name)
                .iter()
                .find(|p| cidr.contains(&p.ip) && tr.pod_ready(&p.pod) == Some(true))
                .map(|p| p.ip);
            let ip = ready.or_else(|| cidr.hosts().next())?;
            Some((n.name.clone(), ip))
        })
        .collect()
}

/// A dropped flow from one node, before folding.
struct Dropped {
    kind: &'static str,
    /// The flow's destination as given (`10.96.0.10:53/udp`).
    to: String,
    /// The hop that dropped it.
    hop: Hop,
    target_node: Option<String>,
    cause: Option<Cause>,
}

/// What tracing one node's required flows found.
enum NodeFlows {
    /// Its routes were not collected: nothing can be traced from it.
    NoRoutes,
    /// It has no pod CIDR: no pod flows start there.
    NoPods,
    /// The dropped flows, in flow order.
    Traced(Vec<Dropped>),
}

/// Traces the required flows from `node`: to the DNS Service and pods, then
/// to every other node's pod network.
fn node_flows(
    snap: &Snapshot,
    inv: &NetworkInventory,
    tracer: &Tracer<'_>,
    with_cidr: &std::collections::HashSet<&str>,
    dns: &[Flow],
    targets: &[(String, IpAddr)],
    node: &str,
) -> NodeFlows {
    if snap
        .nodes
        .get(node)
        .and_then(|t| t.routes.as_ref())
        .is_none()
    {
        return NodeFlows::NoRoutes;
    }
    if !with_cidr.contains(node) {
        return NodeFlows::NoPods;
    }
    let mut out = Vec::new();
    let from = From::Node(node.to_owned());
    let peers = targets.iter().filter(|(n, _)| n != node).map(|(n, ip)| {
        (
            "pod-network",
            To::Addr(*ip, None, Proto::Tcp),
            Some(n.as_str()),
        )
    });
    let dns = dns.iter().map(|(k, to, t)| (*k, to.clone(), t.as_deref()));
    for (kind, to, target) in dns.chain(peers) {
        let original = match &to {
            To::Addr(ip, ..) => *ip,
            _ => continue,
        };
        // Only a dropped flow is a record: the others need no hops.
        let t = tracer.trace_drops(&from, &to);
        if t.verdict != FlowVerdict::Dropped {
            continue;
        }
        let target = target.map(str::to_owned);
        // A drop before the paths split (no rule for the ClusterIP).
        if let Some(d) = t
            .hops
            .iter()
            .find(|h| h.verdict == Verdict::Drop && !t.branches.iter().any(|b| b.hops.contains(h)))
        {
            out.push(Dropped {
                kind,
                to: t.to.clone(),
                cause: cause_of(tracer, inv, d, original, original),
                hop: d.clone(),
                target_node: target.clone(),
            });
        }
        // Each dropped way through (each endpoint).
        for b in t
            .branches
            .iter()
            .filter(|b| b.verdict == FlowVerdict::Dropped)
        {
            if let Some(d) = &b.drop {
                let dst = branch_dst(b).unwrap_or(original);
                let target_node = target
                    .clone()
                    .or_else(|| tracer.pod_with_ip(dst).and_then(|p| p.node.clone()));
                out.push(Dropped {
                    kind,
                    to: t.to.clone(),
                    cause: cause_of(tracer, inv, d, dst, original),
                    hop: d.clone(),
                    target_node,
                });
            }
        }
    }
    NodeFlows::Traced(out)
}

/// Nodes below this many are traced on one thread.
const PARALLEL_AFTER: usize = 64;

/// Every required flow from every node whose routes were collected. The
/// nodes are traced on as many threads as the machine has (one tracer,
/// whose per-node indexes the first thread to need one builds for all),
/// then folded in node order, so the table is the same whatever the
/// number of threads.
pub(super) fn flows(snap: &Snapshot) -> FactTable {
    let nodes = snap
        .nodes
        .len()
        .max(NetworkInventory::cached(snap).nodes.len());
    let threads = if nodes < PARALLEL_AFTER {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .min(8)
    };
    flows_on(snap, threads)
}

/// [`flows`] on `threads` threads.
fn flows_on(snap: &Snapshot, threads: usize) -> FactTable {
    let inv = NetworkInventory::cached(snap);
    let tracer = trace::Tracer::new(snap, inv);
    let dns = dns_flows(snap, inv, &tracer);
    let targets = pod_network_targets(inv, &tracer);
    let names: Vec<String> = crate::tables::node::node_names(snap).into_iter().collect();
    let with_cidr: std::collections::HashSet<&str> = inv
        .nodes
        .iter()
        .filter(|n| !n.pod_cidrs.is_empty())
        .map(|n| n.name.as_str())
        .collect();
    let traced: Vec<NodeFlows> = if threads < 2 || names.len() < 2 {
        names
            .iter()
            .map(|n| node_flows(snap, inv, &tracer, &with_cidr, &dns, &targets, n))
            .collect()
    } else {
        let chunk = names.len().div_ceil(threads);
        let (dns, targets, with_cidr, tracer) = (&dns, &targets, &with_cidr, &tracer);
        std::thread::scope(|s| {
            let handles: Vec<_> = names
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|n| node_flows(snap, inv, tracer, with_cidr, dns, targets, n))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            // A thread that panicked fails the run as it would on one thread.
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    fold(&names, traced)
}

/// Folds the dropped flows of every node by (kind, dropping hop, cause).
fn fold(names: &[String], traced: Vec<NodeFlows>) -> FactTable {
    let mut table = FactTable::default();
    let mut groups: Vec<(FlowRecord, Vec<crate::inventory::Evidence>)> = Vec::new();
    let mut index: HashMap<(&str, String, String, String), usize> = HashMap::new();
    for (node, result) in names.iter().zip(traced) {
        let dropped = match result {
            NodeFlows::NoRoutes => {
                table
                    .missing
                    .push(super::node_input(node, kdiag_bundle::NodeInput::Routes));
                continue;
            }
            NodeFlows::NoPods => continue,
            NodeFlows::Traced(d) => d,
        };
        let source = Name::from(node.as_str());
        for Dropped {
            kind,
            to,
            hop: d,
            target_node,
            cause,
        } in dropped
        {
            let key = (
                kind,
                d.node.clone(),
                d.step.clone(),
                serde_json::to_string(&cause).unwrap_or_default(),
            );
            let slot = *index.entry(key).or_insert_with(|| {
                groups.push((
                    FlowRecord {
                        flow: kind.to_owned(),
                        sources: Vec::new(),
                        to: Vec::new(),
                        target_nodes: Vec::new(),
                        pairs: Vec::new(),
                        count: 0,
                        verdict: "dropped".into(),
                        at_node: d.node.clone(),
                        at_step: d.step.clone(),
                        at_detail: d.detail.clone(),
                        fix: d.fix.clone(),
                        cause: cause.clone(),
                    },
                    Vec::new(),
                ));
                groups.len() - 1
            });
            let (r, evidence) = &mut groups[slot];
            r.count += 1;
            if !r.sources.contains(&source) {
                r.sources.push(source.clone());
            }
            if !r.to.contains(&to) {
                r.to.push(to);
            }
            if let Some(target) = &target_node {
                if !r.target_nodes.iter().any(|n| n == target) {
                    r.target_nodes.push(Name::from(target.as_str()));
                }
                if r.pairs.len() < PAIRS_SHOWN {
                    r.pairs.push(format!("{node} → {target}"));
                }
            }
            for e in d.evidence {
                if evidence.len() < EVIDENCE_SHOWN && !evidence.contains(&e) {
                    evidence.push(e);
                }
            }
        }
    }
    for (r, evidence) in groups {
        table.records.push(Fact {
            record: row(r),
            evidence,
            first_seen: None,
        });
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On any number of threads the table is the one a single thread makes.
    #[test]
    fn threads_trace_what_one_thread_traces() {
        let root =
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample-bundles");
        let mut compared = 0;
        for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let dir = entry.path();
            if !dir.join("manifest.json").exists() {
                continue;
            }
            let Ok(snap) = Snapshot::load(&dir, &Default::default(), &crate::LogPatterns::none())
            else {
                continue;
            };
            let show = |t: &FactTable| {
                let records: Vec<_> = t
                    .records
                    .iter()
                    .map(|f| (f.fields(), f.evidence.clone()))
                    .collect();
                format!("{records:?} {:?}", t.missing)
            };
            let one = show(&flows_on(&snap, 1));
            for threads in [2, 3, 7] {
                assert_eq!(
                    show(&flows_on(&snap, threads)),
                    one,
                    "{} on {threads}",
                    dir.display()
                );
            }
            compared += 1;
        }
        assert!(compared >= 10, "{compared} bundles");
    }
}
