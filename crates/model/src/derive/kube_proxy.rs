//! kube-proxy's intent: every ClusterIP:port of every Service with ready
//! endpoints must be in
//! each node's `KUBE-SERVICES` chain (iptables mode) or be an IPVS virtual
//! server (ipvs mode), leading to the Service's ready endpoints.

use super::{Fact, FactTable, ev, row};
use crate::Snapshot;
use crate::inventory::Evidence;
use crate::inventory::NetworkInventory;
use kdiag_parse::Name;
use kdiag_parse::kube::types::{EndpointSlice, Endpoints, Service};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

/// Ready endpoint addresses per `namespace/name`, from EndpointSlices, or
/// from Endpoints when no slice names the Service.
pub(crate) fn ready_endpoints(snap: &Snapshot) -> BTreeMap<String, usize> {
    let mut from_slices: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for o in snap.objects_of("EndpointSlice") {
        let Ok(s) = o.object.view::<EndpointSlice>() else {
            continue;
        };
        let Some(svc) = s.metadata.labels.get("kubernetes.io/service-name") else {
            continue;
        };
        let key = format!("{}/{svc}", s.metadata.namespace.clone().unwrap_or_default());
        let entry = from_slices.entry(key).or_default();
        for e in s
            .endpoints
            .iter()
            .filter(|e| e.conditions.ready != Some(false))
        {
            entry.extend(e.addresses.iter().cloned());
        }
    }
    let mut out: BTreeMap<String, usize> =
        from_slices.into_iter().map(|(k, v)| (k, v.len())).collect();
    for o in snap.objects_of("Endpoints") {
        let Ok(e) = o.object.view::<Endpoints>() else {
            continue;
        };
        let key = format!(
            "{}/{}",
            e.metadata.namespace.clone().unwrap_or_default(),
            e.metadata.name
        );
        out.entry(key)
            .or_insert_with(|| e.subsets.iter().map(|s| s.addresses.len()).sum());
    }
    out
}

/// At most this many nodes' dumps are cited as evidence of one Service port
/// that is not programmed (the record lists every node).
pub const EVIDENCE_NODES: usize = 10;

/// `kube-proxy.services`: one port of one Service with a ClusterIP, and how
/// the nodes' kube-proxy rules program it. One record per Service port, not
/// per node: the nodes are counted, and listed where something is wrong.
#[derive(Debug, Serialize, JsonSchema)]
pub struct KubeProxyServiceRecord {
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub name: String,
    /// Its ClusterIP, e.g. `10.96.0.10`.
    #[schemars(with = "String")]
    pub ip: IpAddr,
    /// The Service port (`spec.ports[].port`), 1-65535.
    pub port: u16,
    /// The port's protocol as the Service writes it: `TCP` (the default),
    /// `UDP` or `SCTP`.
    pub protocol: String,
    /// Number of the Service's ready endpoint addresses; null when no
    /// EndpointSlice or Endpoints object names it.
    pub endpoints: Option<usize>,
    /// Whether it is the cluster DNS Service.
    pub dns: bool,
    /// How the checked nodes' kube-proxy programs Services: `iptables`
    /// and/or `ipvs`.
    pub modes: Vec<&'static str>,
    /// Number of nodes whose rules (a `KUBE-SERVICES` rule, or an IPVS
    /// virtual server) lead this port to endpoints.
    pub programmed: usize,
    /// Nodes with no rule or virtual server for this ClusterIP:port while
    /// the Service has (or may have) ready endpoints.
    pub missing: Vec<Name>,
    /// Nodes where the rule or virtual server leads to no endpoint while the
    /// Service has ready ones.
    pub no_endpoints: Vec<Name>,
    /// Number of nodes with nothing programmed for a Service that has no
    /// ready endpoints (kube-proxy then only rejects): not a fault.
    pub endpointless: usize,
    /// Number of nodes that cannot be judged: their iptables or IPVS dump
    /// was not collected (listed in the table's unknowns).
    pub unknown: usize,
    /// The nodes counted in `programmed`, kept only when asked for (the
    /// DNS Service's record); not a field rules see.
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) programmed_on: Vec<Name>,
}

/// What one node's dump says of one Service port.
enum PortState {
    Programmed,
    Missing,
    NoEndpoints,
    Endpointless,
}

/// A Service port's protocol, as a key (kube-proxy writes `-p tcp`,
/// ipvsadm `TCP`, a Service `TCP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Proto {
    Tcp,
    Udp,
    Sctp,
    Other,
}

impl Proto {
    fn of(s: &str) -> Proto {
        if s.eq_ignore_ascii_case("tcp") {
            Proto::Tcp
        } else if s.eq_ignore_ascii_case("udp") {
            Proto::Udp
        } else if s.eq_ignore_ascii_case("sctp") {
            Proto::Sctp
        } else {
            Proto::Other
        }
    }
}

/// One node's kube-proxy rules, indexed once.
struct NodeRules<'a> {
    ipvs: bool,
    file: &'a str,
    /// (ClusterIP, lowercase protocol, port) -> rule or virtual server line
    /// and text, and whether it leads to an endpoint.
    entries: HashMap<(IpAddr, Proto, u16), (u32, &'a str, bool)>,
    /// Cited when an entry is missing: the `KUBE-SERVICES` chain, or a note
    /// that there is none (ipvs: the first virtual server's line, and how
    /// many there are).
    absent: (u32, String),
}

fn node_rules<'a>(
    t: Option<&'a crate::NodeTables>,
    ipvs_mode: bool,
) -> Result<NodeRules<'a>, kdiag_bundle::NodeInput> {
    let ipt = t.and_then(|t| t.iptables.as_ref());
    let ipvs = t.and_then(|t| t.ipvs.as_ref());
    // The data plane tells the mode too: ipvs mode matches ipsets in KUBE-SERVICES.
    let node_ipvs = ipvs_mode
        || ipt.is_some_and(|i| {
            i.value
                .chain_rules(Some("nat"), "KUBE-SERVICES")
                .any(|r| r.text.contains("KUBE-CLUSTER-IP"))
        });
    let mut entries = HashMap::new();
    if node_ipvs {
        let Some(v) = ipvs else {
            return Err(kdiag_bundle::NodeInput::Ipvs);
        };
        for x in &v.value {
            if let (Some(ip), Some(port)) = (x.ip(), x.port()) {
                entries.entry((ip, Proto::of(&x.proto), port)).or_insert((
                    x.line,
                    x.text.as_str(),
                    !x.reals.is_empty(),
                ));
            }
        }
        let absent = (
            v.value.first().map_or(1, |x| x.line),
            v.value.len().to_string(),
        );
        return Ok(NodeRules {
            ipvs: true,
            file: &v.file,
            entries,
            absent,
        });
    }
    let Some(i) = ipt else {
        return Err(kdiag_bundle::NodeInput::Iptables);
    };
    let mut sep_counts: HashMap<&str, usize> = HashMap::new();
    let nat = || {
        i.value
            .rules
            .iter()
            .filter(|r| r.table.as_deref() == Some("nat"))
    };
    for r in nat() {
        if r.target
            .as_deref()
            .is_some_and(|t| t.starts_with("KUBE-SEP-"))
        {
            *sep_counts.entry(r.chain.as_str()).or_default() += 1;
        }
    }
    for r in nat().filter(|r| r.chain == "KUBE-SERVICES") {
        let target = r.target.as_deref().unwrap_or_default();
        if (target.starts_with("KUBE-SVC-") || target.starts_with("KUBE-EXT-"))
            && let (Some(d), Some(p), Some(port)) = (r.destination(), r.protocol(), r.dport())
        {
            let seps = sep_counts.get(target).copied().unwrap_or(0);
            entries.entry((d.addr(), Proto::of(p), port)).or_insert((
                r.line,
                r.text.as_str(),
                seps > 0,
            ));
        }
    }
    let absent = match i
        .value
        .chains
        .iter()
        .find(|c| c.table.as_deref() == Some("nat") && c.name == "KUBE-SERVICES")
    {
        Some(c) => (c.line, c.text.to_string()),
        None => (1, "no KUBE-SERVICES chain in the nat table".to_owned()),
    };
    Ok(NodeRules {
        ipvs: false,
        file: &i.file,
        entries,
        absent,
    })
}

pub(super) fn services(snap: &Snapshot) -> FactTable {
    let (records, missing) = check(snap, |_, _| true, false);
    FactTable {
        records: records
            .into_iter()
            .map(|(r, evidence)| Fact {
                record: row(r),
                evidence,
                first_seen: None,
            })
            .collect(),
        missing,
    }
}

/// Checked Service ports with their evidence, and the inputs missing.
pub(super) type Checked = (
    Vec<(KubeProxyServiceRecord, Vec<Evidence>)>,
    Vec<kdiag_bundle::Input>,
);

/// The Service ports `keep(namespace, name)` selects, checked against every
/// node's rules; `list_programmed` also names the nodes that program each.
pub(super) fn check(
    snap: &Snapshot,
    keep: impl Fn(&str, &str) -> bool,
    list_programmed: bool,
) -> Checked {
    let inv = NetworkInventory::cached(snap);
    let mut missing_inputs = Vec::new();
    // Cilium's kube-proxy replacement programs Services in eBPF: no kube-proxy
    // pods beside Cilium means there are no kube-proxy rules to expect.
    if inv.components.kube_proxy_pods == 0 && inv.components.cni.iter().any(|c| c == "cilium") {
        return (Vec::new(), missing_inputs);
    }
    let ipvs_mode = inv.components.kube_proxy_mode.as_deref() == Some("ipvs");
    let endpoints = ready_endpoints(snap);
    let dns = inv
        .dns_service
        .as_ref()
        .map(|d| (d.namespace.clone(), d.name.clone()));
    let services: Vec<_> = snap
        .objects_of("Service")
        .filter_map(|o| o.object.view::<Service>().ok().map(|s| (o, s)))
        .filter_map(|(o, s)| {
            let ip = s.spec.cluster_ip.as_deref()?.parse::<IpAddr>().ok()?;
            Some((o, s, ip))
        })
        .collect();
    if services.is_empty() {
        if !snap.has_resource("services") {
            missing_inputs.push(super::resource("services"));
        }
        return (Vec::new(), missing_inputs);
    }
    // One record per selected Service port; the nodes are folded into it.
    let mut records: Vec<(KubeProxyServiceRecord, Vec<Evidence>)> = Vec::new();
    for (o, s, ip) in &services {
        let ns = s.metadata.namespace.clone().unwrap_or_default();
        if !keep(&ns, &s.metadata.name) {
            continue;
        }
        let key = format!("{ns}/{}", s.metadata.name);
        for port in &s.spec.ports {
            records.push((
                KubeProxyServiceRecord {
                    namespace: ns.clone(),
                    name: s.metadata.name.clone(),
                    ip: *ip,
                    port: port.port,
                    protocol: port.protocol.clone().unwrap_or_else(|| "TCP".into()),
                    endpoints: endpoints.get(&key).copied(),
                    dns: dns
                        .as_ref()
                        .is_some_and(|(n, m)| *n == ns && *m == s.metadata.name),
                    modes: Vec::new(),
                    programmed: 0,
                    missing: Vec::new(),
                    no_endpoints: Vec::new(),
                    endpointless: 0,
                    unknown: 0,
                    programmed_on: Vec::new(),
                },
                vec![ev(
                    &o.file,
                    o.object.line,
                    format!("Service {key} clusterIP {ip}"),
                )],
            ));
        }
    }
    let mut node_names: BTreeSet<String> = inv.nodes.iter().map(|n| n.name.clone()).collect();
    node_names.extend(snap.nodes.keys().cloned());
    for node in &node_names {
        let rules = match node_rules(snap.nodes.get(node), ipvs_mode) {
            Ok(r) => r,
            Err(input) => {
                missing_inputs.push(super::node_input(node, input));
                for (r, _) in &mut records {
                    r.unknown += 1;
                }
                continue;
            }
        };
        let name = Name::from(node.as_str());
        let mode = if rules.ipvs { "ipvs" } else { "iptables" };
        for (r, evidence) in &mut records {
            if !r.modes.contains(&mode) {
                r.modes.push(mode);
            }
            let ready = r.endpoints;
            let found = rules.entries.get(&(r.ip, Proto::of(&r.protocol), r.port));
            let state = match found {
                None if ready == Some(0) => PortState::Endpointless,
                None => PortState::Missing,
                Some((_, _, false)) if ready.unwrap_or(0) > 0 => PortState::NoEndpoints,
                Some(_) => PortState::Programmed,
            };
            let cite = evidence.len() <= EVIDENCE_NODES;
            match state {
                PortState::Programmed => {
                    r.programmed += 1;
                    if list_programmed {
                        r.programmed_on.push(name.clone());
                    }
                }
                PortState::Endpointless => r.endpointless += 1,
                PortState::Missing => {
                    r.missing.push(name.clone());
                    if cite {
                        let (line, text) = &rules.absent;
                        let text = if rules.ipvs {
                            format!("no virtual server {}:{} among {text}", r.ip, r.port)
                        } else {
                            text.clone()
                        };
                        evidence.push(ev(rules.file, *line, text));
                    }
                }
                PortState::NoEndpoints => {
                    r.no_endpoints.push(name.clone());
                    if let (true, Some((line, text, _))) = (cite, found) {
                        evidence.push(ev(rules.file, *line, *text));
                    }
                }
            }
        }
    }
    // A port no node could be checked for says nothing; the unknowns do.
    records.retain(|(r, _)| {
        r.programmed + r.missing.len() + r.no_endpoints.len() + r.endpointless > 0
    });
    (records, missing_inputs)
}
