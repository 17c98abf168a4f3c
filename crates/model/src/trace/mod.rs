//! An offline packet tracer: walks one packet through the state the bundle
//! holds, hop by hop, the way the kernel would — the source node's nat
//! rules (kube-proxy's DNAT, or IPVS), its route table, forwarding and
//! filter chains, the flannel VXLAN neighbour and FDB entries towards the
//! peer, the peer's filter, forwarding, route to `cni0` and the pod.
//!
//! Every hop says pass, drop or unknown, with the lines it read. Unknown is
//! never a pass: a table that was not collected, or a match that cannot be
//! evaluated offline, makes the hop (and the flow) unknown, naming which.

pub mod netfilter;
pub mod route;

use crate::Snapshot;
use crate::inventory::{Evidence, NetworkInventory, NodeNetwork, PodAddress};
use kdiag_parse::Name;
use kdiag_parse::kube::types::Service;
use kdiag_parse::sysctl::Sysctl;
use netfilter::Outcome;
use route::Lookup;
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};

/// The flannel VXLAN device.
const VXLAN_DEV: &str = "flannel.1";
/// flannel's VXLAN UDP port, unless the device says otherwise.
const VXLAN_PORT: u16 = 8472;
/// Nodes a packet may cross before the trace gives up (a routing loop).
const MAX_NODES: usize = 4;

/// A transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Proto {
    /// `tcp`, `UDP`, `sctp` (any case).
    pub fn of(s: &str) -> Option<Proto> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" | "6" => Some(Proto::Tcp),
            "udp" | "17" => Some(Proto::Udp),
            "sctp" | "132" => Some(Proto::Sctp),
            _ => None,
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Sctp => "sctp",
        })
    }
}

/// The packet as it travels: addresses, ports, and what the rules on the
/// way did to it.
#[derive(Debug, Clone)]
pub struct Packet {
    /// Source address.
    pub src: IpAddr,
    /// Destination address (rewritten by a DNAT).
    pub dst: IpAddr,
    /// Protocol.
    pub proto: Proto,
    /// Source port, when known.
    pub sport: Option<u16>,
    /// Destination port, when known.
    pub dport: Option<u16>,
    /// The packet mark (`MARK --set-xmark`).
    pub mark: u32,
    /// Whether a DNAT rewrote the destination (conntrack state `DNAT`).
    pub dnat: bool,
    /// Interface it came in on, when known.
    pub in_dev: Option<Name>,
    /// Interface it leaves by, once routed.
    pub out_dev: Option<Name>,
    /// The node's own addresses (for `-m addrtype --dst-type LOCAL`);
    /// `None` when `ip addr` was not collected.
    pub local: Option<Arc<[IpAddr]>>,
}

/// Where the traced packet starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum From {
    /// An ordinary pod on this node's pod network.
    Node(String),
    /// The node's own network namespace.
    Host(String),
    /// A named pod.
    Pod(String, String),
}

/// Where the traced packet goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum To {
    /// An address, with a port and protocol when given.
    Addr(IpAddr, Option<u16>, Proto),
    /// A Service's ClusterIP (a port number or name; the first port without).
    Service(String, String, Option<String>),
    /// A pod's IP.
    Pod(String, String),
}

/// A command-line endpoint that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EndpointError(pub String);

impl std::str::FromStr for From {
    type Err = EndpointError;
    fn from_str(s: &str) -> Result<From, EndpointError> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            ["node", n] if !n.is_empty() => Ok(From::Node((*n).to_owned())),
            ["host", n] if !n.is_empty() => Ok(From::Host((*n).to_owned())),
            ["pod", ns, n] if !ns.is_empty() && !n.is_empty() => {
                Ok(From::Pod((*ns).to_owned(), (*n).to_owned()))
            }
            _ => Err(EndpointError(format!(
                "'{s}': expected node/NAME, host/NAME or pod/NAMESPACE/NAME"
            ))),
        }
    }
}

impl std::str::FromStr for To {
    type Err = EndpointError;
    fn from_str(s: &str) -> Result<To, EndpointError> {
        let bad = || {
            EndpointError(format!(
                "'{s}': expected IP[:PORT[/udp|tcp]], service/NAMESPACE/NAME[:PORT] or pod/NAMESPACE/NAME"
            ))
        };
        if let Some(rest) = s.strip_prefix("service/") {
            let (ns, name) = rest.split_once('/').ok_or_else(bad)?;
            let (name, port) = match name.split_once(':') {
                Some((n, p)) => (n, Some(p.to_owned())),
                None => (name, None),
            };
            if ns.is_empty() || name.is_empty() {
                return Err(bad());
            }
            return Ok(To::Service(ns.to_owned(), name.to_owned(), port));
        }
        if let Some(rest) = s.strip_prefix("pod/") {
            let (ns, name) = rest.split_once('/').ok_or_else(bad)?;
            if ns.is_empty() || name.is_empty() {
                return Err(bad());
            }
            return Ok(To::Pod(ns.to_owned(), name.to_owned()));
        }
        let (addr, proto) = match s.rsplit_once('/') {
            Some((a, p)) => (a, Proto::of(p).ok_or_else(bad)?),
            None => (s, Proto::Tcp),
        };
        if let Ok(ip) = addr.parse::<IpAddr>() {
            return Ok(To::Addr(ip, None, proto));
        }
        let sa: SocketAddr = addr.parse().map_err(|_| bad())?;
        Ok(To::Addr(sa.ip(), Some(sa.port()), proto))
    }
}

/// A hop's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The packet goes on.
    Pass,
    /// The packet is dropped here.
    Drop,
    /// The bundle cannot say.
    Unknown,
}

/// One step of the packet's path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hop {
    /// The node it happens on.
    pub node: String,
    /// What was checked: `source`, `nat`, `ipvs`, `route`, `forwarding`,
    /// `filter FORWARD`, `vxlan neighbor`, `vxlan fdb`, `pod`, ...
    pub step: String,
    /// Pass, drop or unknown.
    pub verdict: Verdict,
    /// What was decided and why.
    pub detail: String,
    /// The lines it read.
    pub evidence: Vec<Evidence>,
    /// At a drop: what would fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// How a flow ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowVerdict {
    /// It reached its destination.
    Delivered,
    /// A hop dropped it.
    Dropped,
    /// A hop could not be decided.
    Unknown,
}

/// One way the packet can go after the source node's nat (one endpoint of
/// a Service).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Branch {
    /// The destination after DNAT (`10.244.1.3:53`), or the original one.
    pub to: String,
    /// How this branch ended.
    pub verdict: FlowVerdict,
    /// Its hops, after the ones every branch shares.
    pub hops: Vec<Hop>,
    /// The hop that dropped it, if any.
    pub drop: Option<Hop>,
}

/// A traced flow (`kdiag-trace/v1`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    /// `kdiag-trace/v1`.
    pub format: &'static str,
    /// The source as given.
    pub from: String,
    /// The destination as given.
    pub to: String,
    /// Delivered when every branch is, dropped when one is, else unknown.
    pub verdict: FlowVerdict,
    /// The hops every branch shares, then those of the branch that decides
    /// the verdict (the first dropped, else the first unknown, else the
    /// first).
    pub hops: Vec<Hop>,
    /// The hop that dropped the packet, if any.
    pub drop: Option<Hop>,
    /// Every way the packet can go (one per Service endpoint).
    pub branches: Vec<Branch>,
}

/// Traces one packet from `from` to `to` through the snapshot.
pub fn trace(snap: &Snapshot, from: &From, to: &To) -> Trace {
    let inv = NetworkInventory::cached(snap);
    Tracer::new(snap, inv).trace(from, to)
}

/// Traces packets through one snapshot: the indexes it needs (pods and
/// Services by address, nodes by underlay address, each node's rules) are
/// built once, so tracing many flows costs little more than walking them.
pub struct Tracer<'a> {
    snap: &'a Snapshot,
    pods: HashMap<IpAddr, &'a PodAddress>,
    pods_by_name: HashMap<&'a str, &'a PodAddress>,
    pods_by_node: HashMap<&'a str, Vec<&'a PodAddress>>,
    ready: HashMap<String, bool>,
    services: HashMap<IpAddr, String>,
    endpoints: std::collections::BTreeMap<String, usize>,
    node_ips: HashMap<IpAddr, &'a NodeNetwork>,
    /// The inventory's nodes by name.
    nets: HashMap<&'a str, &'a NodeNetwork>,
    /// Each node's tables by name (the snapshot's map is ordered, for
    /// listings; a trace looks nodes up many times).
    tables: HashMap<&'a str, &'a crate::NodeTables>,
    /// Every node's pod CIDRs.
    pod_cidrs: route::NetSet,
    /// Every node's InternalIPs.
    internal_ips: rustc_hash::FxHashSet<IpAddr>,
    /// `cni0` and `flannel.1`, shared by every packet.
    cni0: Name,
    vxlan_dev: Name,
    /// Per node: its sysctls by key, its own addresses, the pods a flow
    /// from it starts at (an application's first), its rules, its VXLAN
    /// entries and its routes (a flannel node has one per peer), each
    /// built once by the first thread that needs it and shared by all.
    sysctls: PerNode<'a, HashMap<&'a str, &'a Sysctl>>,
    locals: PerNode<'a, Option<Arc<[IpAddr]>>>,
    sources: PerNode<'a, Box<[&'a PodAddress]>>,
    rulesets: PerNode<'a, netfilter::Ruleset<'a>>,
    vteps: PerNode<'a, Vteps<'a>>,
    route_index: PerNode<'a, route::RouteIndex<'a>>,
    /// What a node without tables has: no VXLAN entries.
    no_vteps: Vteps<'a>,
}

/// One value per node, built on first use by whichever thread asks first;
/// the others wait for it and then share it. The nodes are fixed when the
/// tracer is made, so lookups take no lock.
struct PerNode<'a, V>(HashMap<&'a str, OnceLock<V>>);

impl<'a, V> PerNode<'a, V> {
    fn new(names: impl IntoIterator<Item = &'a str>) -> Self {
        PerNode(names.into_iter().map(|n| (n, OnceLock::new())).collect())
    }

    /// The node's value, built by `init` the first time; `None` for a node
    /// the tracer was not made with.
    fn get(&self, node: &str, init: impl FnOnce() -> V) -> Option<&V> {
        self.0.get(node).map(|slot| slot.get_or_init(init))
    }
}

/// One node's `flannel.1` neighbours by address and FDB entries (with a
/// destination) by MAC, the first of each as the kernel would use.
#[derive(Default)]
struct Vteps<'a> {
    neighbors: HashMap<IpAddr, &'a kdiag_parse::iproute::Neighbor>,
    fdb: HashMap<kdiag_parse::Mac, &'a kdiag_parse::iproute::FdbEntry>,
}

impl<'a> Tracer<'a> {
    /// Indexes the snapshot for tracing.
    pub fn new(snap: &'a Snapshot, inv: &'a NetworkInventory) -> Tracer<'a> {
        let mut pods = HashMap::default();
        let mut pods_by_name = HashMap::default();
        let mut pods_by_node: HashMap<&str, Vec<&PodAddress>> = HashMap::default();
        for p in &inv.pod_ips {
            pods.entry(p.ip).or_insert(p);
            pods_by_name.entry(p.pod.as_str()).or_insert(p);
            if let Some(n) = &p.node {
                pods_by_node.entry(n.as_str()).or_default().push(p);
            }
        }
        let ready = snap
            .objects_of("Pod")
            .map(|o| {
                (
                    format!(
                        "{}/{}",
                        o.object.namespace.as_deref().unwrap_or_default(),
                        o.object.name
                    ),
                    crate::components::pod_ready(o),
                )
            })
            .collect();
        let services = snap
            .objects_of("Service")
            .filter_map(|o| {
                let ip = o
                    .object
                    .value
                    .pointer("/spec/clusterIP")?
                    .as_str()?
                    .parse()
                    .ok()?;
                Some((
                    ip,
                    format!(
                        "{}/{}",
                        o.object.namespace.as_deref().unwrap_or_default(),
                        o.object.name
                    ),
                ))
            })
            .collect();
        let mut node_ips = HashMap::default();
        let mut nets = HashMap::default();
        let mut pod_cidrs = route::NetSet::default();
        let mut internal_ips = rustc_hash::FxHashSet::default();
        for n in &inv.nodes {
            for ip in n.internal_ips.iter().chain(n.flannel_public_ip.as_ref()) {
                node_ips.entry(*ip).or_insert(n);
            }
            nets.entry(n.name.as_str()).or_insert(n);
            for c in &n.pod_cidrs {
                pod_cidrs.insert(*c);
            }
            internal_ips.extend(n.internal_ips.iter().copied());
        }
        let names = || snap.nodes.keys().map(String::as_str);
        Tracer {
            snap,
            pods,
            pods_by_name,
            ready,
            services,
            endpoints: crate::derive::kube_proxy::ready_endpoints(snap),
            node_ips,
            nets,
            tables: snap.nodes.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            pod_cidrs,
            internal_ips,
            cni0: Name::from("cni0"),
            vxlan_dev: Name::from(VXLAN_DEV),
            sysctls: PerNode::new(names()),
            locals: PerNode::new(names()),
            sources: PerNode::new(pods_by_node.keys().copied()),
            rulesets: PerNode::new(names()),
            vteps: PerNode::new(names()),
            route_index: PerNode::new(names()),
            no_vteps: Vteps::default(),
            pods_by_node,
        }
    }

    /// Traces one packet from `from` to `to`.
    pub fn trace(&self, from: &From, to: &To) -> Trace {
        self.run(from, to, true)
    }

    /// Traces one flow keeping only what a dropped flow needs: its verdict,
    /// the hops that drop, and (when dropped) the endpoints and branch
    /// destinations. Pass and unknown hops are not built.
    pub fn trace_drops(&self, from: &From, to: &To) -> Trace {
        self.run(from, to, false)
    }

    /// The Service (`namespace/name`) whose ClusterIP this is.
    pub fn service_at(&self, ip: IpAddr) -> Option<&str> {
        self.services.get(&ip).map(String::as_str)
    }

    /// Ready endpoint addresses of a Service (`namespace/name`), when an
    /// EndpointSlice or Endpoints object names it.
    pub fn ready_endpoints(&self, service: &str) -> Option<usize> {
        self.endpoints.get(service).copied()
    }

    /// The pod (`namespace/name`) with its address, when it has one.
    pub fn pod_named(&self, pod: &str) -> Option<&'a PodAddress> {
        self.pods_by_name.get(pod).copied()
    }

    /// The pod that has this address.
    pub fn pod_with_ip(&self, ip: IpAddr) -> Option<&'a PodAddress> {
        self.pods.get(&ip).copied()
    }

    /// The pods scheduled on a node (with an address).
    pub fn pods_on(&self, node: &str) -> &[&'a PodAddress] {
        self.pods_by_node
            .get(node)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Whether a pod (`namespace/name`) of the bundle is Ready.
    pub fn pod_ready(&self, pod: &str) -> Option<bool> {
        self.ready.get(pod).copied()
    }

    /// An unknown hop: the input it needs was not collected.
    fn not_collected(&self, node: &str, step: &str, input: kdiag_bundle::NodeInput) -> Hop {
        let input = kdiag_bundle::Input::node(node, input);
        hop(
            node,
            step,
            Verdict::Unknown,
            format!("{} was not collected", self.snap.path_of(&input)),
            vec![],
        )
    }

    /// A node's routes, indexed once; `None` when they were not collected.
    fn routes(&self, node: &str) -> Option<&route::RouteIndex<'a>> {
        let (name, t) = self.entry(node)?;
        let routes = t.routes.as_ref()?;
        self.route_index
            .get(name, || route::RouteIndex::new(&routes.value))
    }

    /// A node's VXLAN entries, indexed once.
    fn vteps(&self, node: &str) -> &Vteps<'a> {
        let Some((name, t)) = self.entry(node) else {
            return &self.no_vteps;
        };
        self.vteps
            .get(name, || {
                let mut v = Vteps::default();
                let on_dev = |d: &Option<kdiag_parse::Name>| d.as_deref() == Some(VXLAN_DEV);
                for x in t
                    .neighbors
                    .iter()
                    .flat_map(|n| &n.value)
                    .filter(|x| on_dev(&x.dev))
                {
                    v.neighbors.entry(x.ip).or_insert(x);
                }
                for x in t
                    .fdb
                    .iter()
                    .flat_map(|f| &f.value)
                    .filter(|x| on_dev(&x.dev) && x.dst.is_some())
                {
                    v.fdb.entry(x.mac).or_insert(x);
                }
                v
            })
            .unwrap_or(&self.no_vteps)
    }

    /// A node's rules, indexed once.
    fn ruleset(&self, node: &str) -> Option<&netfilter::Ruleset<'a>> {
        let (name, t) = self.entry(node)?;
        let ipt = t.iptables.as_ref()?;
        self.rulesets
            .get(name, || netfilter::Ruleset::new(&ipt.value, &ipt.file))
    }
}

/// A node's `sysctl -a`, as read.
type Sysctls = crate::node::Sourced<Vec<Sysctl>>;

/// A sysctl's value and the line that states it.
fn sysctl_line<'a>(s: &'a Sysctls, x: &'a Sysctl) -> (&'a str, Line<'a>) {
    (
        x.value.trim(),
        Line {
            file: &s.file,
            line: x.line,
            text: &x.text,
        },
    )
}

fn hop(
    node: &str,
    step: &str,
    verdict: Verdict,
    detail: impl Into<String>,
    evidence: Vec<Evidence>,
) -> Hop {
    Hop {
        node: node.to_owned(),
        step: step.to_owned(),
        verdict,
        detail: detail.into(),
        evidence,
        fix: None,
    }
}

fn with_fix(mut h: Hop, fix: impl Into<String>) -> Hop {
    h.fix = Some(fix.into());
    h
}

fn ev(file: &str, line: u32, text: &str) -> Evidence {
    Evidence {
        file: file.to_owned(),
        line,
        text: text.trim_end().to_owned(),
    }
}

/// Where a trace puts its hops. A full record keeps every hop (`kdiag
/// trace`, the report); a drops-only one builds just the hops that drop and
/// notes that some were unknown: the flows `analyze` checks between every
/// pair of nodes nearly all pass, and a pass then costs no text at all.
#[derive(Debug)]
pub(crate) struct Hops {
    all: bool,
    list: Vec<Hop>,
    dropped: bool,
    unknown: bool,
}

impl Hops {
    fn new(all: bool) -> Hops {
        Hops {
            all,
            list: Vec::new(),
            dropped: false,
            unknown: false,
        }
    }

    /// An empty record of the same kind (a branch's).
    fn child(&self) -> Hops {
        Hops::new(self.all)
    }

    /// Records a hop with this verdict; `make` runs only when it is kept.
    fn add(&mut self, verdict: Verdict, make: impl FnOnce() -> Hop) {
        match verdict {
            Verdict::Drop => self.dropped = true,
            Verdict::Unknown => self.unknown = true,
            Verdict::Pass => {}
        }
        if self.all || verdict == Verdict::Drop {
            self.list.push(make());
        }
    }

    /// Records a hop already built.
    fn push(&mut self, h: Hop) {
        let verdict = h.verdict;
        self.add(verdict, || h);
    }

    /// How the path ended.
    fn verdict(&self) -> FlowVerdict {
        if self.dropped {
            FlowVerdict::Dropped
        } else if self.unknown {
            FlowVerdict::Unknown
        } else {
            FlowVerdict::Delivered
        }
    }
}

/// A source as the command line writes it.
fn endpoint_from(from: &From) -> String {
    match from {
        From::Node(n) => format!("node/{n}"),
        From::Host(n) => format!("host/{n}"),
        From::Pod(ns, n) => format!("pod/{ns}/{n}"),
    }
}

/// A destination as the command line writes it.
fn endpoint_to(to: &To) -> String {
    match to {
        To::Addr(ip, Some(p), proto) => format!("{}/{proto}", SocketAddr::new(*ip, *p)),
        To::Addr(ip, None, proto) => format!("{ip}/{proto}"),
        To::Service(ns, n, Some(p)) => format!("service/{ns}/{n}:{p}"),
        To::Service(ns, n, None) => format!("service/{ns}/{n}"),
        To::Pod(ns, n) => format!("pod/{ns}/{n}"),
    }
}

/// A line of a node's file, made evidence only for a hop that is kept.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    file: &'a str,
    line: u32,
    text: &'a str,
}

impl Line<'_> {
    fn ev(&self) -> Evidence {
        ev(self.file, self.line, self.text)
    }
}

/// The source as the trace needs it: node, address, first chain, input device.
struct Source {
    node: String,
    ip: IpAddr,
    pod: bool,
}

impl<'a> Tracer<'a> {
    /// Traces one flow. With `all` every hop is kept; without, only the
    /// hops that drop (see [`Hops`]) and, unless it is dropped, neither
    /// the endpoints' text nor the branches' destinations.
    fn run(&self, from: &From, to: &To, all: bool) -> Trace {
        let mut common = Hops::new(all);
        let start = match from {
            From::Node(n) | From::Host(n) => n.clone(),
            From::Pod(ns, n) => self
                .pods_by_name
                .get(format!("{ns}/{n}").as_str())
                .and_then(|p| p.node.clone())
                .unwrap_or_default(),
        };
        let mut branches = Vec::new();
        'trace: {
            let Some((dst, dport, proto)) = self.destination(to, &start, &mut common) else {
                break 'trace;
            };
            let Some(src) = self.source(from, dst, &mut common) else {
                break 'trace;
            };
            let packet = Packet {
                src: src.ip,
                dst,
                proto,
                sport: Some(40000),
                dport,
                mark: 0,
                dnat: false,
                in_dev: src.pod.then(|| self.cni0.clone()),
                out_dev: None,
                local: self.local_addresses(&src.node),
            };
            let service_ip = self.is_service_ip(dst);
            for (pkt, mut hops) in self.nat(&src, packet, service_ip, &mut common) {
                let (dst, dport) = (pkt.dst, pkt.dport);
                self.forward(&src.node, pkt, src.pod, &mut hops, 0);
                let verdict = hops.verdict();
                let to = if all || verdict == FlowVerdict::Dropped {
                    match dport {
                        Some(p) => SocketAddr::new(dst, p).to_string(),
                        None => dst.to_string(),
                    }
                } else {
                    String::new()
                };
                let drop = hops
                    .list
                    .iter()
                    .find(|h| h.verdict == Verdict::Drop)
                    .cloned();
                branches.push(Branch {
                    to,
                    verdict,
                    hops: hops.list,
                    drop,
                });
            }
        }
        let common_verdict = common.verdict();
        let verdict = if common_verdict == FlowVerdict::Dropped
            || branches.iter().any(|b| b.verdict == FlowVerdict::Dropped)
        {
            FlowVerdict::Dropped
        } else if common_verdict == FlowVerdict::Delivered
            && !branches.is_empty()
            && branches.iter().all(|b| b.verdict == FlowVerdict::Delivered)
        {
            FlowVerdict::Delivered
        } else {
            FlowVerdict::Unknown
        };
        let shown = branches
            .iter()
            .find(|b| b.verdict == FlowVerdict::Dropped)
            .or_else(|| branches.iter().find(|b| b.verdict == FlowVerdict::Unknown))
            .or(branches.first());
        let mut hops = common.list;
        hops.extend(shown.map(|b| b.hops.clone()).unwrap_or_default());
        let drop = hops.iter().find(|h| h.verdict == Verdict::Drop).cloned();
        let (from_s, to_s) = if all || verdict == FlowVerdict::Dropped {
            (endpoint_from(from), endpoint_to(to))
        } else {
            (String::new(), String::new())
        };
        Trace {
            format: "kdiag-trace/v1",
            from: from_s,
            to: to_s,
            verdict,
            hops,
            drop,
            branches,
        }
    }

    fn node_net(&self, name: &str) -> Option<&'a NodeNetwork> {
        self.nets.get(name).copied()
    }

    fn node_known(&self, name: &str) -> bool {
        self.node_net(name).is_some() || self.entry(name).is_some()
    }

    fn source(&self, from: &From, dst: IpAddr, hops: &mut Hops) -> Option<Source> {
        match from {
            From::Node(n) | From::Host(n) if !self.node_known(n) => {
                hops.add(Verdict::Unknown, || {
                    hop(
                        n,
                        "source",
                        Verdict::Unknown,
                        format!("the bundle knows no node {n}"),
                        vec![],
                    )
                });
                None
            }
            From::Node(n) => {
                let net = self.node_net(n);
                let cidr =
                    net.and_then(|x| x.pod_cidrs.iter().find(|c| c.addr().is_ipv4()).copied());
                let Some(cidr) = cidr else {
                    hops.add(Verdict::Unknown, || hop(
                        n,
                        "source",
                        Verdict::Unknown,
                        format!(
                            "{n} has no IPv4 podCIDR in the bundle: no pod address to start from"
                        ),
                        net.map(|x| vec![x.evidence.clone()]).unwrap_or_default(),
                    ));
                    return None;
                };
                // A real pod of the node when there is one (an application's
                // rather than a system pod, and not the destination), else an
                // address of its pod CIDR.
                let pod = self
                    .source_pods(n, cidr)
                    .iter()
                    .find(|p| p.ip != dst)
                    .copied();
                let ip = match pod {
                    Some(p) => p.ip,
                    None => cidr.hosts().nth(1).unwrap_or(cidr.addr()),
                };
                // Described only when the hop is kept (a trace of drops keeps no pass).
                hops.add(Verdict::Pass, || {
                    let (detail, evidence) = match pod {
                        Some(p) => (
                            format!("a pod on {n}: {} ({})", p.pod, p.ip),
                            vec![p.evidence.clone()],
                        ),
                        None => (
                            format!(
                                "a pod on {n} at {ip} (no pod of the bundle runs there; an address of its podCIDR {cidr})"
                            ),
                            net.map(|x| vec![x.evidence.clone()]).unwrap_or_default(),
                        ),
                    };
                    hop(n, "source", Verdict::Pass, detail, evidence)
                });
                Some(Source {
                    node: n.clone(),
                    ip,
                    pod: true,
                })
            }
            From::Host(n) => {
                let ip = self
                    .node_net(n)
                    .and_then(|x| x.internal_ips.iter().find(|i| i.is_ipv4()).copied());
                let Some(ip) = ip else {
                    hops.add(Verdict::Unknown, || {
                        hop(
                            n,
                            "source",
                            Verdict::Unknown,
                            format!("{n} has no InternalIP in the bundle"),
                            vec![],
                        )
                    });
                    return None;
                };
                let evidence = self
                    .node_net(n)
                    .map(|x| vec![x.evidence.clone()])
                    .unwrap_or_default();
                hops.add(Verdict::Pass, || {
                    hop(
                        n,
                        "source",
                        Verdict::Pass,
                        format!("{n}'s own network namespace ({ip})"),
                        evidence,
                    )
                });
                Some(Source {
                    node: n.clone(),
                    ip,
                    pod: false,
                })
            }
            From::Pod(ns, name) => {
                let key = format!("{ns}/{name}");
                let Some(p) = self.pods_by_name.get(key.as_str()).copied() else {
                    hops.add(Verdict::Unknown, || {
                        hop(
                            "",
                            "source",
                            Verdict::Unknown,
                            format!("no pod {key} with an IP in the bundle"),
                            vec![],
                        )
                    });
                    return None;
                };
                let Some(node) = p.node.clone() else {
                    hops.add(Verdict::Unknown, || {
                        hop(
                            "",
                            "source",
                            Verdict::Unknown,
                            format!("pod {key} is on no node"),
                            vec![p.evidence.clone()],
                        )
                    });
                    return None;
                };
                let host_net = self
                    .node_net(&node)
                    .is_some_and(|x| x.internal_ips.contains(&p.ip));
                hops.add(Verdict::Pass, || {
                    hop(
                        &node,
                        "source",
                        Verdict::Pass,
                        format!("pod {key} ({}) on {node}", p.ip),
                        vec![p.evidence.clone()],
                    )
                });
                Some(Source {
                    node,
                    ip: p.ip,
                    pod: !host_net,
                })
            }
        }
    }

    fn destination(
        &self,
        to: &To,
        node: &str,
        hops: &mut Hops,
    ) -> Option<(IpAddr, Option<u16>, Proto)> {
        match to {
            To::Addr(ip, port, proto) => Some((*ip, *port, *proto)),
            To::Pod(ns, name) => {
                let key = format!("{ns}/{name}");
                match self.pods_by_name.get(key.as_str()).copied() {
                    Some(p) => Some((p.ip, None, Proto::Tcp)),
                    None => {
                        hops.add(Verdict::Unknown, || {
                            hop(
                                node,
                                "destination",
                                Verdict::Unknown,
                                format!("no pod {key} with an IP in the bundle"),
                                vec![],
                            )
                        });
                        None
                    }
                }
            }
            To::Service(ns, name, port) => {
                let Some(o) = self.snap.object("Service", ns, name) else {
                    hops.add(Verdict::Unknown, || {
                        hop(
                            node,
                            "destination",
                            Verdict::Unknown,
                            format!("no Service {ns}/{name} in the bundle"),
                            vec![],
                        )
                    });
                    return None;
                };
                let s = o.object.view::<Service>().ok();
                let ip = s
                    .as_ref()
                    .and_then(|s| s.spec.cluster_ip.as_deref())
                    .and_then(|ip| ip.parse::<IpAddr>().ok());
                let Some(ip) = ip else {
                    hops.add(Verdict::Unknown, || {
                        hop(
                            node,
                            "destination",
                            Verdict::Unknown,
                            format!("Service {ns}/{name} has no ClusterIP"),
                            vec![ev(&o.file, o.object.line, &format!("Service {ns}/{name}"))],
                        )
                    });
                    return None;
                };
                let ports = s.map(|s| s.spec.ports).unwrap_or_default();
                let chosen = match port {
                    None => ports.first(),
                    Some(p) => ports.iter().find(|x| {
                        x.name.as_deref() == Some(p.as_str()) || x.port.to_string() == *p
                    }),
                };
                let Some(chosen) = chosen else {
                    hops.add(Verdict::Unknown, || {
                        hop(
                            node,
                            "destination",
                            Verdict::Unknown,
                            format!(
                                "Service {ns}/{name} has no port {}",
                                port.clone().unwrap_or_default()
                            ),
                            vec![ev(
                                &o.file,
                                o.object.line,
                                &format!("Service {ns}/{name} clusterIP {ip}"),
                            )],
                        )
                    });
                    return None;
                };
                let proto = chosen
                    .protocol
                    .as_deref()
                    .and_then(Proto::of)
                    .unwrap_or(Proto::Tcp);
                Some((ip, Some(chosen.port), proto))
            }
        }
    }

    /// A node's name and tables.
    fn entry(&self, node: &str) -> Option<(&'a str, &'a crate::NodeTables)> {
        self.tables.get_key_value(node).map(|(k, v)| (*k, *v))
    }

    /// The pods of a node's pod CIDR a flow from it may start at, an
    /// application's before a system pod's; sorted once per node.
    fn source_pods(&self, node: &str, cidr: ipnet::IpNet) -> &[&'a PodAddress] {
        let Some(list) = self.pods_by_node.get(node) else {
            return &[];
        };
        let pods = self.sources.get(node, || {
            let mut pods: Vec<&PodAddress> = list
                .iter()
                .filter(|p| cidr.contains(&p.ip))
                .copied()
                .collect();
            pods.sort_by_key(|p| p.pod.starts_with("kube-system/"));
            pods.into()
        });
        pods.map(|p| &p[..]).unwrap_or_default()
    }

    /// A node's own addresses (`ip addr`), read once.
    fn local_addresses(&self, node: &str) -> Option<Arc<[IpAddr]>> {
        let (name, t) = self.entry(node)?;
        self.locals
            .get(name, || {
                let ifs = t.addrs.as_ref()?;
                Some(
                    ifs.value
                        .iter()
                        .flat_map(|i| i.addrs.iter().map(|a| a.addr.addr()))
                        .collect(),
                )
            })?
            .clone()
    }

    /// The Service (`namespace/name`) with this ClusterIP, when it has no
    /// ready endpoint.
    fn endpointless(&self, ip: IpAddr) -> Option<String> {
        let key = self.services.get(&ip)?;
        (self.endpoints.get(key) == Some(&0)).then(|| key.clone())
    }

    /// A ClusterIP of some Service of the bundle.
    fn is_service_ip(&self, ip: IpAddr) -> bool {
        self.services.contains_key(&ip)
    }

    /// The source node's nat: kube-proxy's DNAT (iptables) or IPVS. Returns
    /// one packet per way it can go, each with the hops of its branch.
    fn nat(
        &self,
        src: &Source,
        pkt: Packet,
        service_ip: bool,
        common: &mut Hops,
    ) -> Vec<(Packet, Hops)> {
        let node = src.node.as_str();
        let t = self.entry(node).map(|(_, t)| t);
        // IPVS first: a virtual server for the address decides.
        if let Some(ipvs) = t.and_then(|t| t.ipvs.as_ref())
            && let Some(vs) = ipvs.value.iter().find(|v| {
                v.ip() == Some(pkt.dst)
                    && v.port() == pkt.dport
                    && Proto::of(&v.proto) == Some(pkt.proto)
            })
        {
            let vs_ev = ev(&ipvs.file, vs.line, &vs.text);
            if vs.reals.is_empty() {
                common.add(Verdict::Drop, || with_fix(
                    hop(node, "ipvs", Verdict::Drop, format!("virtual server {} has no real server", vs.addr), vec![vs_ev]),
                    "kube-proxy programs real servers from the Service's ready endpoints: check the endpoints and kube-proxy's logs",
                ));
                return Vec::new();
            }
            common.add(Verdict::Pass, || {
                hop(
                    node,
                    "ipvs",
                    Verdict::Pass,
                    format!(
                        "virtual server {} → {} real server(s)",
                        vs.addr,
                        vs.reals.len()
                    ),
                    vec![vs_ev.clone()],
                )
            });
            return vs
                .reals
                .iter()
                .filter_map(|r| {
                    let (ip, port) = kdiag_parse::ipvs::split_addr(&r.addr)?;
                    let ip: IpAddr = ip.parse().ok()?;
                    let mut p = pkt.clone();
                    p.dst = ip;
                    p.dport = port.parse().ok();
                    p.dnat = true;
                    let mut branch = common.child();
                    branch.add(Verdict::Pass, || {
                        hop(
                            node,
                            "ipvs",
                            Verdict::Pass,
                            format!("real server {}", r.addr),
                            vec![ev(&ipvs.file, r.line, &format!("-> {}", r.addr))],
                        )
                    });
                    Some((p, branch))
                })
                .collect();
        }
        // IPVS mode without a virtual server for a ClusterIP: nothing balances it.
        if let Some(ipvs) = t.and_then(|t| t.ipvs.as_ref())
            && service_ip
            && !ipvs.value.is_empty()
        {
            let shown = ipvs
                .value
                .first()
                .map(|v| vec![ev(&ipvs.file, v.line, &v.text)])
                .unwrap_or_default();
            common.add(Verdict::Drop, || with_fix(
                hop(node, "ipvs", Verdict::Drop, format!("no IPVS virtual server for the ClusterIP {}:{}/{} among {}: nothing balances it to an endpoint", pkt.dst, pkt.dport.unwrap_or(0), pkt.proto, ipvs.value.len()), shown),
                "kube-proxy (ipvs mode) creates one virtual server per Service port: make kube-proxy healthy on this node and restart it",
            ));
            return Vec::new();
        }
        let Some(ipt) = t.and_then(|t| t.iptables.as_ref()) else {
            let input = kdiag_bundle::Input::node(node, kdiag_bundle::NodeInput::Iptables);
            let path = self.snap.path_of(&input);
            common.add(Verdict::Unknown, || {
                hop(
                    node,
                    "nat",
                    Verdict::Unknown,
                    format!("{path} was not collected: kube-proxy's rules cannot be read"),
                    vec![],
                )
            });
            // Without the rules a ClusterIP goes nowhere kdiag can follow.
            return if service_ip {
                Vec::new()
            } else {
                vec![(pkt, common.child())]
            };
        };
        let chain = if src.pod { "PREROUTING" } else { "OUTPUT" };
        let Some(rs) = self.ruleset(node) else {
            return Vec::new();
        };
        let walks = netfilter::walk(rs, "nat", chain, &pkt);
        let file = rs.file();
        let mut out = Vec::new();
        for w in walks {
            let netfilter::Walk {
                lines,
                outcome,
                packet,
            } = w;
            let cite = || {
                lines
                    .iter()
                    .map(|(l, t)| ev(file, *l, t))
                    .collect::<Vec<_>>()
            };
            match outcome {
                Outcome::Dnat(to) => {
                    let mut branch = common.child();
                    branch.add(Verdict::Pass, || {
                        hop(
                            node,
                            &format!("nat {chain}"),
                            Verdict::Pass,
                            format!(
                                "DNAT {} → {to}",
                                SocketAddr::new(pkt.dst, pkt.dport.unwrap_or(0))
                            ),
                            cite(),
                        )
                    });
                    out.push((packet, branch));
                }
                Outcome::Accept if service_ip => {
                    let mut evidence = cite();
                    match ipt
                        .value
                        .chains
                        .iter()
                        .find(|c| c.table.as_deref() == Some("nat") && c.name == "KUBE-SERVICES")
                    {
                        Some(c) => evidence.push(ev(&ipt.file, c.line, &c.text)),
                        None => evidence.push(ev(
                            &ipt.file,
                            1,
                            "no KUBE-SERVICES chain in the nat table",
                        )),
                    }
                    let target = format!("{}:{}/{}", pkt.dst, pkt.dport.unwrap_or(0), pkt.proto);
                    let h = match self.endpointless(pkt.dst) {
                        Some(svc) => with_fix(
                            hop(
                                node,
                                "kube-proxy",
                                Verdict::Drop,
                                format!(
                                    "Service {svc} ({target}) has no ready endpoint: kube-proxy has nothing to translate it to and rejects it"
                                ),
                                evidence,
                            ),
                            format!(
                                "make the Service's pods Ready: kubectl get endpointslices -n {} -l kubernetes.io/service-name={}",
                                svc.split('/').next().unwrap_or_default(),
                                svc.split('/').nth(1).unwrap_or_default()
                            ),
                        ),
                        None => with_fix(
                            hop(
                                node,
                                "kube-proxy",
                                Verdict::Drop,
                                format!(
                                    "no rule in nat KUBE-SERVICES for the ClusterIP {target}: nothing translates it to an endpoint"
                                ),
                                evidence,
                            ),
                            "kube-proxy writes one KUBE-SERVICES rule per Service port: make kube-proxy healthy (its RBAC, its pod on this node) and restart it",
                        ),
                    };
                    common.push(h);
                }
                Outcome::Accept => {
                    let mut branch = common.child();
                    branch.add(Verdict::Pass, || {
                        hop(
                            node,
                            &format!("nat {chain}"),
                            Verdict::Pass,
                            "no DNAT: the destination is unchanged",
                            cite(),
                        )
                    });
                    out.push((packet, branch));
                }
                Outcome::Drop(what) => {
                    common.add(Verdict::Drop, || {
                        hop(
                            node,
                            &format!("nat {chain}"),
                            Verdict::Drop,
                            format!("{what} in the nat table"),
                            cite(),
                        )
                    });
                }
                Outcome::Unknown(why) => {
                    common.add(Verdict::Unknown, || {
                        hop(node, &format!("nat {chain}"), Verdict::Unknown, why, cite())
                    });
                }
            }
        }
        out
    }

    /// A node's sysctl: its value (trimmed) and the line it is on.
    fn sysctl(&self, node: &str, key: &str) -> Result<(&'a str, Line<'a>), String> {
        let Some((s, index)) = self.sysctl_index(node) else {
            let input = kdiag_bundle::Input::node(node, kdiag_bundle::NodeInput::Sysctl);
            return Err(format!("{} was not collected", self.snap.path_of(&input)));
        };
        match index.get(key) {
            Some(x) => Ok(sysctl_line(s, x)),
            None => Err(format!("{} has no {key}", s.file)),
        }
    }

    /// [`Tracer::sysctl`] when only a value found matters (no reason is
    /// written for a key the node does not print).
    fn sysctl_found(&self, node: &str, key: &str) -> Option<(&'a str, Line<'a>)> {
        let (s, index) = self.sysctl_index(node)?;
        index.get(key).map(|x| sysctl_line(s, x))
    }

    /// A node's `sysctl -a` and its keys, indexed once; `None` when it was
    /// not collected.
    fn sysctl_index(&self, node: &str) -> Option<(&'a Sysctls, &HashMap<&'a str, &'a Sysctl>)> {
        let (name, t) = self.entry(node)?;
        let s = t.sysctl.as_ref()?;
        let index = self.sysctls.get(name, || {
            let mut by_key = HashMap::default();
            for x in &s.value {
                by_key.entry(x.key.as_str()).or_insert(x);
            }
            by_key
        })?;
        Some((s, index))
    }

    /// `net.ipv4.ip_forward` must be 1 for a node to pass pods' packets on,
    /// and the input device's own forwarding must not be off (`ip_forward`
    /// sets every device's; one can be turned off alone).
    fn forwarding(&self, node: &str, in_dev: Option<&str>, hops: &mut Hops) -> bool {
        let (v, e) = match self.sysctl(node, "net.ipv4.ip_forward") {
            Ok(found) => found,
            Err(why) => {
                hops.add(Verdict::Unknown, || {
                    hop(node, "forwarding", Verdict::Unknown, why, vec![])
                });
                return true;
            }
        };
        let dev = in_dev.and_then(|d| {
            let key = format!("net.ipv4.conf.{}.forwarding", d.replace('.', "/"));
            let (dv, de) = self.sysctl_found(node, &key)?;
            (dv == "0").then_some((key, de, d))
        });
        let (key, detail, evidence) = match (v == "1", dev) {
            (true, None) => {
                hops.add(Verdict::Pass, || {
                    hop(
                        node,
                        "forwarding",
                        Verdict::Pass,
                        "net.ipv4.ip_forward = 1",
                        vec![e.ev()],
                    )
                });
                return true;
            }
            (true, Some((key, de, d))) => {
                let detail = format!("{key} = 0: the node does not forward what arrives on {d}");
                (key, detail, vec![e.ev(), de.ev()])
            }
            (false, _) => (
                "net.ipv4.ip_forward".to_owned(),
                format!("net.ipv4.ip_forward = {v}: the node does not forward pods' packets"),
                vec![e.ev()],
            ),
        };
        hops.add(Verdict::Drop, || {
            with_fix(
                hop(node, "forwarding", Verdict::Drop, detail, evidence),
                format!("sysctl -w {key}=1, and persist it in /etc/sysctl.d/"),
            )
        });
        false
    }

    /// Whether the packet may leave `node`: forwarding and `filter FORWARD`
    /// for a forwarded one, `filter OUTPUT` for the node's own.
    fn leave(&self, node: &str, pkt: &Packet, forwarded: bool, hops: &mut Hops) -> bool {
        if forwarded {
            self.forwarding(node, pkt.in_dev.as_deref(), hops)
                && self.filter(node, "FORWARD", pkt, hops)
        } else {
            self.filter(node, "OUTPUT", pkt, hops)
        }
    }

    /// The filter table's verdict on one hook; false when it drops.
    fn filter(&self, node: &str, chain: &'static str, pkt: &Packet, hops: &mut Hops) -> bool {
        if self
            .entry(node)
            .and_then(|(_, t)| t.iptables.as_ref())
            .is_none()
        {
            hops.add(Verdict::Unknown, || {
                self.not_collected(
                    node,
                    &format!("filter {chain}"),
                    kdiag_bundle::NodeInput::Iptables,
                )
            });
            return true;
        };
        let step = || format!("filter {chain}");
        let Some(rs) = self.ruleset(node) else {
            return true;
        };
        let walks = netfilter::walk(rs, "filter", chain, pkt);
        let mut ok = true;
        let file = rs.file();
        for w in walks {
            let cite = || w.evidence(file);
            match &w.outcome {
                Outcome::Accept | Outcome::Dnat(_) => {
                    hops.add(Verdict::Pass, || {
                        hop(
                            node,
                            &step(),
                            Verdict::Pass,
                            format!(
                                "{} → {}:{}/{} accepted",
                                pkt.src,
                                pkt.dst,
                                pkt.dport.unwrap_or(0),
                                pkt.proto
                            ),
                            cite(),
                        )
                    });
                }
                Outcome::Drop(what) => {
                    let rule = w
                        .lines
                        .last()
                        .map(|(_, t)| t.trim_end())
                        .unwrap_or_default();
                    let fix = if rule.starts_with("-A ") {
                        format!(
                            "remove or narrow the rule: iptables -t filter -D {}",
                            rule.trim_start_matches("-A ")
                        )
                    } else {
                        format!(
                            "accept this traffic before the chain's policy (e.g. iptables -t filter -I {chain} -p {} --dport {} -j ACCEPT), or change the policy",
                            pkt.proto,
                            pkt.dport.unwrap_or(0)
                        )
                    };
                    hops.add(Verdict::Drop, || {
                        with_fix(
                            hop(
                                node,
                                &step(),
                                Verdict::Drop,
                                format!(
                                    "{what}: {} → {}:{}/{}",
                                    pkt.src,
                                    pkt.dst,
                                    pkt.dport.unwrap_or(0),
                                    pkt.proto
                                ),
                                cite(),
                            ),
                            fix,
                        )
                    });
                    ok = false;
                }
                Outcome::Unknown(why) => {
                    hops.add(Verdict::Unknown, || {
                        hop(node, &step(), Verdict::Unknown, why, cite())
                    });
                }
            }
        }
        ok
    }

    /// The node that owns an underlay address (InternalIP or flannel public-ip).
    fn node_by_ip(&self, ip: IpAddr) -> Option<&NodeNetwork> {
        self.node_ips.get(&ip).copied()
    }

    /// Routes the packet on `node` and follows it to where it is delivered
    /// or dropped. `forwarded`: the packet is not the node's own.
    fn forward(&self, node: &str, mut pkt: Packet, forwarded: bool, hops: &mut Hops, depth: usize) {
        if depth >= MAX_NODES {
            hops.add(Verdict::Unknown, || {
                hop(
                    node,
                    "route",
                    Verdict::Unknown,
                    format!("the packet crossed {MAX_NODES} nodes (a routing loop?)"),
                    vec![],
                )
            });
            return;
        }
        let (Some(routes), Some(index)) = (
            self.entry(node)
                .map(|(_, t)| t)
                .and_then(|t| t.routes.as_ref()),
            self.routes(node),
        ) else {
            hops.add(Verdict::Unknown, || {
                self.not_collected(node, "route", kdiag_bundle::NodeInput::Routes)
            });
            return;
        };
        let r =
            match index.lookup(pkt.dst) {
                Lookup::NoRoute => {
                    hops.add(Verdict::Drop, || with_fix(
                    hop(
                        node,
                        "route",
                        Verdict::Drop,
                        format!("no route to {}", pkt.dst),
                        routes
                            .value
                            .first()
                            .map(|r| vec![ev(&routes.file, r.line, &r.text())])
                            .unwrap_or_default(),
                    ),
                    "the CNI programs a route per pod network; restart its pod on this node",
                ));
                    return;
                }
                Lookup::Route(r) => r,
            };
        let rev = || ev(&routes.file, r.line, &r.text());
        if route::drops(r) {
            hops.add(Verdict::Drop, || {
                hop(
                    node,
                    "route",
                    Verdict::Drop,
                    format!(
                        "{} route to {}",
                        r.more().route_type.as_deref().unwrap_or("blackhole"),
                        r.dst
                    ),
                    vec![rev()],
                )
            });
            return;
        }
        // The node's own address: delivered to the host.
        if r.more().table.as_deref() == Some("local")
            || pkt.local.as_ref().is_some_and(|l| l.contains(&pkt.dst))
        {
            hops.add(Verdict::Pass, || {
                hop(
                    node,
                    "route",
                    Verdict::Pass,
                    format!("{} is {node}'s own address", pkt.dst),
                    vec![rev()],
                )
            });
            if self.filter(node, "INPUT", &pkt, hops) {
                hops.add(Verdict::Pass, || {
                    hop(
                        node,
                        "deliver",
                        Verdict::Pass,
                        format!("delivered to {node} itself"),
                        vec![],
                    )
                });
            }
            return;
        }
        let dev = r.dev.clone().unwrap_or_default();
        pkt.out_dev = Some(dev.clone());
        let cluster_dst = self.is_cluster_address(pkt.dst);
        // Where the route leads.
        if dev == VXLAN_DEV {
            hops.add(Verdict::Pass, || {
                hop(
                    node,
                    "route",
                    Verdict::Pass,
                    format!(
                        "{} via {} dev {VXLAN_DEV}",
                        r.dst,
                        r.gateway.map(|g| g.to_string()).unwrap_or_default()
                    ),
                    vec![rev()],
                )
            });
            if !self.leave(node, &pkt, forwarded, hops) {
                return;
            }
            let Some(peer) = self.vxlan(node, r.gateway.unwrap_or(pkt.dst), hops) else {
                return;
            };
            self.arrive(node, &peer, pkt, self.vxlan_dev.clone(), hops, depth);
            return;
        }
        if self.is_bridge(node, &dev) {
            hops.add(Verdict::Pass, || {
                hop(
                    node,
                    "route",
                    Verdict::Pass,
                    format!("{} dev {dev}: a pod on this node", r.dst),
                    vec![rev()],
                )
            });
            // Between two pods of one bridge an untranslated packet is
            // bridged, not routed: no forwarding, and iptables sees it only
            // with bridge-nf-call-iptables.
            if forwarded && !pkt.dnat && pkt.in_dev.as_deref() == Some(dev.as_str()) {
                hops.add(Verdict::Pass, || {
                    hop(
                        node,
                        "bridge",
                        Verdict::Pass,
                        format!("{} → {} on {dev}: bridged, not routed", pkt.src, pkt.dst),
                        vec![],
                    )
                });
                if matches!(self.sysctl(node, "net.bridge.bridge-nf-call-iptables"), Ok((v, _)) if v == "1")
                    && !self.filter(node, "FORWARD", &pkt, hops)
                {
                    return;
                }
                self.pod_at(node, &pkt, hops);
                return;
            }
            if forwarded && !self.forwarding(node, pkt.in_dev.as_deref(), hops) {
                return;
            }
            let chain = if forwarded { "FORWARD" } else { "OUTPUT" };
            if !self.filter(node, chain, &pkt, hops) {
                return;
            }
            // A DNAT'd packet to a pod on the client's own bridge: the reply
            // is bridged straight back, and is un-NATed only when bridged
            // packets go through iptables.
            if pkt.dnat && pkt.in_dev.as_deref() == Some(dev.as_str()) {
                match self.sysctl(node, "net.bridge.bridge-nf-call-iptables") {
                    Ok(("1", e)) => hops.add(Verdict::Pass, || hop(node, "bridge netfilter", Verdict::Pass, "net.bridge.bridge-nf-call-iptables = 1: the reply goes back through conntrack", vec![e.ev()])),
                    Ok((v, e)) => {
                        hops.add(Verdict::Drop, || with_fix(hop(node, "bridge netfilter", Verdict::Drop, format!("net.bridge.bridge-nf-call-iptables = {v}: the endpoint's reply is bridged to the client without reverse NAT, and the client drops it"), vec![e.ev()]), "modprobe br_netfilter && sysctl -w net.bridge.bridge-nf-call-iptables=1 (persist both)"));
                        return;
                    }
                    Err(_) => {
                        hops.add(Verdict::Drop, || with_fix(hop(node, "bridge netfilter", Verdict::Drop, "net.bridge.bridge-nf-call-iptables is absent: br_netfilter is not loaded, so the endpoint's reply is bridged to the client without reverse NAT", self.sysctl_file(node)), "modprobe br_netfilter && sysctl -w net.bridge.bridge-nf-call-iptables=1 (persist both)"));
                        return;
                    }
                }
            }
            self.pod_at(node, &pkt, hops);
            return;
        }
        // Through a gateway (host-gw, the underlay) or onto a directly
        // connected network.
        let next = r.gateway.unwrap_or(pkt.dst);
        match self.node_by_ip(next) {
            Some(peer) if peer.name != node => {
                hops.add(Verdict::Pass, || {
                    hop(
                        node,
                        "route",
                        Verdict::Pass,
                        format!("{} via {next} dev {dev}: {}", r.dst, peer.name),
                        vec![rev()],
                    )
                });
                if !self.leave(node, &pkt, forwarded, hops) {
                    return;
                }
                let peer = peer.name.clone();
                let in_dev = self.dev_towards(&peer, pkt.src);
                self.arrive(node, &peer, pkt, in_dev, hops, depth);
            }
            _ if cluster_dst => {
                hops.add(Verdict::Drop, || with_fix(
                    hop(node, "route", Verdict::Drop, format!("{} goes {} dev {dev}, not to the node that holds it: no route for its pod network", pkt.dst, r.gateway.map(|g| format!("via {g}")).unwrap_or_else(|| "out".into())), vec![rev()]),
                    "the CNI programs a route per peer's pod CIDR: restart its pod on this node (flannel: the kube-flannel pod)",
                ));
            }
            _ => {
                hops.add(Verdict::Unknown, || hop(
                    node,
                    "route",
                    Verdict::Unknown,
                    format!(
                        "{} leaves the cluster via {next} dev {dev}: beyond what the bundle shows",
                        pkt.dst
                    ),
                    vec![rev()],
                ));
            }
        }
    }

    fn sysctl_file(&self, node: &str) -> Vec<Evidence> {
        self.snap
            .nodes
            .get(node)
            .and_then(|t| t.sysctl.as_ref())
            .and_then(|s| s.value.first().map(|x| ev(&s.file, x.line, &x.text)))
            .into_iter()
            .collect()
    }

    /// A pod address or a node's: one the cluster should route itself.
    fn is_cluster_address(&self, ip: IpAddr) -> bool {
        self.pod_cidrs.contains(ip)
            || self.internal_ips.contains(&ip)
            || self.pods.contains_key(&ip)
    }

    /// Whether `dev` is the node's pod bridge (`cni0`, or a bridge kind).
    fn is_bridge(&self, node: &str, dev: &str) -> bool {
        if dev == "cni0" || dev == "cbr0" {
            return true;
        }
        let t = self.entry(node).map(|(_, t)| t);
        t.and_then(|t| t.links.as_ref().or(t.addrs.as_ref()))
            .is_some_and(|l| {
                l.value
                    .iter()
                    .any(|i| i.name == dev && i.kind.as_deref() == Some("bridge"))
            })
    }

    /// The device `node` would route `ip` out of (the packet's way in,
    /// for a packet from `ip`).
    fn dev_towards(&self, node: &str, ip: IpAddr) -> Name {
        self.routes(node)
            .and_then(|r| match r.lookup(ip) {
                Lookup::Route(r) => r.dev.clone(),
                Lookup::NoRoute => None,
            })
            .unwrap_or_default()
    }

    /// The VXLAN hop: neighbour entry for the gateway on flannel.1, FDB entry
    /// for its MAC, the node that owns the FDB destination.
    fn vxlan(&self, node: &str, gateway: IpAddr, hops: &mut Hops) -> Option<String> {
        let t = self.entry(node).map(|(_, t)| t);
        let Some(n) = t.and_then(|t| t.neighbors.as_ref()) else {
            hops.add(Verdict::Unknown, || {
                self.not_collected(node, "vxlan neighbor", kdiag_bundle::NodeInput::Neighbors)
            });
            return None;
        };
        let vteps = self.vteps(node);
        let Some(neigh) = vteps.neighbors.get(&gateway).copied() else {
            hops.add(Verdict::Drop, || with_fix(
                hop(node, "vxlan neighbor", Verdict::Drop, format!("no neighbour entry for {gateway} on {VXLAN_DEV}: the kernel cannot find the peer's VTEP MAC"), n.value.first().map(|x| vec![ev(&n.file, x.line, &x.text())]).unwrap_or_default()),
                "flannel programs one PERMANENT neighbour per peer: restart the flannel pod on this node",
            ));
            return None;
        };
        let Some(mac) = neigh.lladdr else {
            hops.add(Verdict::Drop, || {
                hop(
                    node,
                    "vxlan neighbor",
                    Verdict::Drop,
                    format!("the neighbour entry for {gateway} has no link-layer address"),
                    vec![ev(&n.file, neigh.line, &neigh.text())],
                )
            });
            return None;
        };
        hops.add(Verdict::Pass, || {
            hop(
                node,
                "vxlan neighbor",
                Verdict::Pass,
                format!("{gateway} is VTEP {mac}"),
                vec![ev(&n.file, neigh.line, &neigh.text())],
            )
        });
        let Some(f) = t.and_then(|t| t.fdb.as_ref()) else {
            hops.add(Verdict::Unknown, || {
                self.not_collected(node, "vxlan fdb", kdiag_bundle::NodeInput::Fdb)
            });
            return None;
        };
        let Some(entry) = vteps.fdb.get(&mac).copied() else {
            hops.add(Verdict::Drop, || with_fix(
                hop(node, "vxlan fdb", Verdict::Drop, format!("no FDB entry for {mac} on {VXLAN_DEV}: the kernel does not know which node has that VTEP"), f.value.first().map(|x| vec![ev(&f.file, x.line, &x.text())]).unwrap_or_default()),
                "flannel programs one FDB entry per peer: restart the flannel pod on this node",
            ));
            return None;
        };
        let dst = entry.dst.unwrap_or(gateway);
        // Built only for a hop that is kept (a trace of drops keeps no pass).
        let fev = || ev(&f.file, entry.line, &entry.text());
        match self.node_by_ip(dst) {
            Some(peer) => {
                hops.add(Verdict::Pass, || {
                    hop(
                        node,
                        "vxlan fdb",
                        Verdict::Pass,
                        format!(
                            "{mac} is at {dst} ({}): encapsulated in udp/{VXLAN_PORT}",
                            peer.name
                        ),
                        vec![fev()],
                    )
                });
                Some(peer.name.clone())
            }
            None => {
                hops.add(Verdict::Drop, || with_fix(
                    hop(node, "vxlan fdb", Verdict::Drop, format!("{mac} points at {dst}, which is no current node"), vec![fev()]),
                    "a stale flannel entry: restart the flannel pod on this node to reprogram its peers",
                ));
                None
            }
        }
    }

    /// The packet reaches `peer` from `from` (through `in_dev`): the outer
    /// VXLAN packet's filtering, then forwarding, route and pod on the peer.
    fn arrive(
        &self,
        from: &str,
        peer: &str,
        mut pkt: Packet,
        in_dev: Name,
        hops: &mut Hops,
        depth: usize,
    ) {
        if *in_dev == *VXLAN_DEV {
            // The encapsulated packet: out of `from`, into `peer`'s INPUT.
            let from_ip = self
                .node_net(from)
                .and_then(|n| n.flannel_public_ip.or(n.internal_ips.first().copied()));
            let peer_ip = self
                .node_net(peer)
                .and_then(|n| n.flannel_public_ip.or(n.internal_ips.first().copied()));
            if let (Some(s), Some(d)) = (from_ip, peer_ip) {
                let outer = Packet {
                    src: s,
                    dst: d,
                    proto: Proto::Udp,
                    sport: None,
                    dport: Some(VXLAN_PORT),
                    mark: 0,
                    dnat: false,
                    in_dev: None,
                    out_dev: None,
                    local: None,
                };
                if !self.filter(from, "OUTPUT", &outer, hops) {
                    return;
                }
                let mut inbound = outer;
                inbound.in_dev = Some(self.dev_towards(peer, s)).filter(|d| !d.is_empty());
                inbound.local = self.local_addresses(peer);
                if !self.filter(peer, "INPUT", &inbound, hops) {
                    return;
                }
            }
        }
        pkt.in_dev = Some(in_dev).filter(|d| !d.is_empty());
        pkt.out_dev = None;
        pkt.local = self.local_addresses(peer);
        // Strict reverse-path filtering drops a packet whose source the node
        // would not route back out of the device it came in on.
        if let Some(dev) = pkt.in_dev.clone() {
            let key = format!("net.ipv4.conf.{}.rp_filter", dev.replace('.', "/"));
            let dev_v = self.sysctl_found(peer, &key);
            let all_v = self.sysctl_found(peer, "net.ipv4.conf.all.rp_filter");
            let strict = [&dev_v, &all_v]
                .iter()
                .filter_map(|v| v.as_ref())
                .map(|(v, _)| v.parse::<u8>().unwrap_or(0))
                .max()
                == Some(1);
            if strict && self.dev_towards(peer, pkt.src) != dev {
                let evidence = [dev_v, all_v]
                    .into_iter()
                    .flatten()
                    .map(|(_, e)| e.ev())
                    .collect();
                hops.add(Verdict::Drop, || with_fix(
                    hop(peer, "rp_filter", Verdict::Drop, format!("strict rp_filter on {dev}: {peer} would not route {} back out of {dev}", pkt.src), evidence),
                    format!("sysctl -w {key}=2 (loose), or fix the route back to {}", pkt.src),
                ));
                return;
            }
        }
        self.forward(peer, pkt, true, hops, depth + 1);
    }

    /// The last hop: a pod (or the node) that has the destination address.
    fn pod_at(&self, node: &str, pkt: &Packet, hops: &mut Hops) {
        match self.pods.get(&pkt.dst).copied() {
            Some(p) if p.node.as_deref() == Some(node) => {
                let ready = self.ready.get(&p.pod).copied();
                match ready {
                    Some(false) => hops.add(Verdict::Drop, || {
                        with_fix(
                            hop(
                                node,
                                "pod",
                                Verdict::Drop,
                                format!("{} ({}) is not Ready", p.pod, p.ip),
                                vec![p.evidence.clone()],
                            ),
                            format!(
                                "kubectl describe pod -n {} {}",
                                p.pod.split('/').next().unwrap_or_default(),
                                p.pod.split('/').nth(1).unwrap_or_default()
                            ),
                        )
                    }),
                    _ => hops.add(Verdict::Pass, || {
                        hop(
                            node,
                            "pod",
                            Verdict::Pass,
                            format!("delivered to {} ({})", p.pod, p.ip),
                            vec![p.evidence.clone()],
                        )
                    }),
                }
            }
            Some(p) => hops.add(Verdict::Drop, || {
                hop(
                    node,
                    "pod",
                    Verdict::Drop,
                    format!(
                        "{} has {} but runs on {}, not {node}",
                        p.pod,
                        p.ip,
                        p.node.as_deref().unwrap_or("no node")
                    ),
                    vec![p.evidence.clone()],
                )
            }),
            None => hops.add(Verdict::Unknown, || {
                hop(
                    node,
                    "pod",
                    Verdict::Unknown,
                    format!("no pod of the bundle has {}", pkt.dst),
                    vec![],
                )
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_read_as_the_command_line_writes_them() {
        let f = |s: &str| s.parse::<From>();
        assert_eq!(f("node/w1"), Ok(From::Node("w1".into())));
        assert_eq!(f("host/w1"), Ok(From::Host("w1".into())));
        assert_eq!(
            f("pod/kube-system/coredns-1"),
            Ok(From::Pod("kube-system".into(), "coredns-1".into()))
        );
        for bad in ["w1", "node/", "pod/x", "pod//y", "svc/a/b", ""] {
            assert!(f(bad).is_err(), "{bad}");
        }
        let t = |s: &str| s.parse::<To>();
        let ip: IpAddr = [10, 96, 0, 10].into();
        assert_eq!(
            t("10.96.0.10:53/udp"),
            Ok(To::Addr(ip, Some(53), Proto::Udp))
        );
        assert_eq!(t("10.96.0.10:53"), Ok(To::Addr(ip, Some(53), Proto::Tcp)));
        assert_eq!(t("10.96.0.10"), Ok(To::Addr(ip, None, Proto::Tcp)));
        assert_eq!(t("10.96.0.10/UDP"), Ok(To::Addr(ip, None, Proto::Udp)));
        assert_eq!(
            t("[fd00::10]:53/udp")
                .map(|x| matches!(x, To::Addr(IpAddr::V6(_), Some(53), Proto::Udp))),
            Ok(true)
        );
        assert_eq!(
            t("service/kube-system/kube-dns:dns"),
            Ok(To::Service(
                "kube-system".into(),
                "kube-dns".into(),
                Some("dns".into())
            ))
        );
        assert_eq!(
            t("pod/default/web"),
            Ok(To::Pod("default".into(), "web".into()))
        );
        for bad in [
            "10.96.0.10:99999",
            "10.96.0.10:53/icmp",
            "service/x",
            "pod/a",
            "nonsense",
            "10.96.0.300",
        ] {
            assert!(t(bad).is_err(), "{bad}");
        }
    }
}
