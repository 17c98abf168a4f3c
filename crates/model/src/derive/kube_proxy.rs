//! kube-proxy's intent: every ClusterIP:port of every Service with ready
//! endpoints must be in
//! each node's `KUBE-SERVICES` chain (iptables mode) or be an IPVS virtual
//! server (ipvs mode), leading to the Service's ready endpoints.

use super::{Fact, FactTable, ev};
use crate::Snapshot;
use crate::inventory::NetworkInventory;
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

/// `kube-proxy.services`: on one node, whether kube-proxy programmed one
/// port of one Service with a ClusterIP.
#[derive(Debug, Serialize, JsonSchema)]
pub struct KubeProxyServiceRecord {
    /// The node whose iptables or IPVS dump is checked.
    pub node: String,
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub name: String,
    /// Its ClusterIP, e.g. `10.96.0.10`.
    pub ip: String,
    /// The Service port (`spec.ports[].port`), 1-65535.
    pub port: u16,
    /// The port's protocol as the Service writes it: `TCP` (the default),
    /// `UDP` or `SCTP`.
    pub protocol: String,
    /// How the node's kube-proxy programs Services: `iptables` or `ipvs`.
    pub mode: String,
    /// `programmed` (a `KUBE-SERVICES` rule or IPVS virtual server leads to
    /// endpoints), `missing` (none for this ClusterIP:port),
    /// `no-endpoints` (programmed, but with no endpoints while the Service
    /// has ready ones) or `endpointless` (nothing programmed, and the
    /// Service has no ready endpoints, so kube-proxy only rejects).
    pub status: String,
    /// Number of the Service's ready endpoint addresses; null when no
    /// EndpointSlice or Endpoints object names it.
    pub endpoints: Option<usize>,
    /// Whether it is the cluster DNS Service.
    pub dns: bool,
}

pub(super) fn services(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::of(snap);
    let mut table = FactTable::default();
    // Cilium's kube-proxy replacement programs Services in eBPF: no kube-proxy
    // pods beside Cilium means there are no kube-proxy rules to expect.
    if inv.components.kube_proxy_pods == 0 && inv.components.cni.iter().any(|c| c == "cilium") {
        return table;
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
        .filter(|(_, s)| {
            s.spec
                .cluster_ip
                .as_deref()
                .is_some_and(|ip| ip.parse::<IpAddr>().is_ok())
        })
        .collect();
    if services.is_empty() {
        if !snap.has_resource("services") {
            table.missing.push(super::resource("services"));
        }
        return table;
    }
    let mut node_names: BTreeSet<String> = inv.nodes.iter().map(|n| n.name.clone()).collect();
    node_names.extend(snap.nodes.keys().cloned());
    for node in &node_names {
        let t = snap.nodes.get(node);
        let ipt = t.and_then(|t| t.iptables.as_ref());
        let ipvs = t.and_then(|t| t.ipvs.as_ref());
        // The data plane tells the mode too: ipvs mode matches ipsets in KUBE-SERVICES.
        let node_ipvs = ipvs_mode
            || ipt.is_some_and(|i| {
                i.value
                    .chain_rules(Some("nat"), "KUBE-SERVICES")
                    .any(|r| r.text.contains("KUBE-CLUSTER-IP"))
            });
        if node_ipvs && ipvs.is_none() {
            table
                .missing
                .push(super::node_input(node, kdiag_bundle::NodeInput::Ipvs));
            continue;
        }
        if !node_ipvs && ipt.is_none() {
            table
                .missing
                .push(super::node_input(node, kdiag_bundle::NodeInput::Iptables));
            continue;
        }
        // Index the node's rules once: Services x rules would be quadratic.
        let mut svc_rules: HashMap<(IpAddr, String, u16), &kdiag_parse::iptables::Rule> =
            HashMap::new();
        let mut sep_counts: HashMap<&str, usize> = HashMap::new();
        if let Some(i) = ipt {
            for r in i
                .value
                .rules
                .iter()
                .filter(|r| r.table.as_deref() == Some("nat"))
            {
                let target = r.target.as_deref().unwrap_or_default();
                if r.chain == "KUBE-SERVICES"
                    && (target.starts_with("KUBE-SVC-") || target.starts_with("KUBE-EXT-"))
                    && let (Some(d), Some(p), Some(port)) =
                        (r.destination(), r.protocol(), r.dport())
                {
                    svc_rules
                        .entry((d.addr(), p.to_ascii_lowercase(), port))
                        .or_insert(r);
                }
                if target.starts_with("KUBE-SEP-") {
                    *sep_counts.entry(r.chain.as_str()).or_default() += 1;
                }
            }
        }
        let vservers: HashMap<(IpAddr, &str, u16), &kdiag_parse::ipvs::VirtualService> = ipvs
            .map(|v| {
                v.value
                    .iter()
                    .filter_map(|x| Some(((x.ip()?, x.proto.as_str(), x.port()?), x)))
                    .collect()
            })
            .unwrap_or_default();
        for (o, s) in &services {
            let ns = s.metadata.namespace.clone().unwrap_or_default();
            let key = format!("{ns}/{}", s.metadata.name);
            let ready = endpoints.get(&key).copied();
            let ip = s.spec.cluster_ip.clone().unwrap_or_default();
            for port in &s.spec.ports {
                let proto = port.protocol.clone().unwrap_or_else(|| "TCP".into());
                let mut evidence = vec![ev(
                    &o.file,
                    o.object.line,
                    format!("Service {key} clusterIP {ip}"),
                )];
                let (status, mode) = if node_ipvs {
                    let Some(v) = ipvs else { continue };
                    let vip: Option<IpAddr> = ip.parse().ok();
                    let vs =
                        vip.and_then(|a| vservers.get(&(a, proto.as_str(), port.port)).copied());
                    let status = match vs {
                        None => {
                            evidence.push(ev(
                                &v.file,
                                v.value.first().map_or(1, |x| x.line),
                                format!(
                                    "no virtual server {ip}:{} among {}",
                                    port.port,
                                    v.value.len()
                                ),
                            ));
                            if ready == Some(0) {
                                "endpointless"
                            } else {
                                "missing"
                            }
                        }
                        Some(x) => {
                            evidence.push(ev(&v.file, x.line, &x.text));
                            if x.reals.is_empty() && ready.unwrap_or(0) > 0 {
                                "no-endpoints"
                            } else {
                                "programmed"
                            }
                        }
                    };
                    (status, "ipvs")
                } else {
                    let Some(i) = ipt else { continue };
                    let vip: Option<IpAddr> = ip.parse().ok();
                    let rule = vip.and_then(|a| {
                        svc_rules
                            .get(&(a, proto.to_ascii_lowercase(), port.port))
                            .copied()
                    });
                    let status = match rule {
                        None => {
                            match i.value.chains.iter().find(|c| {
                                c.table.as_deref() == Some("nat") && c.name == "KUBE-SERVICES"
                            }) {
                                Some(c) => evidence.push(ev(&i.file, c.line, &c.text)),
                                None => evidence.push(ev(
                                    &i.file,
                                    1,
                                    "no KUBE-SERVICES chain in the nat table",
                                )),
                            }
                            if ready == Some(0) {
                                "endpointless"
                            } else {
                                "missing"
                            }
                        }
                        Some(r) => {
                            evidence.push(ev(&i.file, r.line, &r.text));
                            let chain = r.target.clone().unwrap_or_default();
                            let seps = sep_counts.get(chain.as_str()).copied().unwrap_or(0);
                            if seps == 0 && ready.unwrap_or(0) > 0 {
                                "no-endpoints"
                            } else {
                                "programmed"
                            }
                        }
                    };
                    (status, "iptables")
                };
                table.records.push(Fact {
                    fields: serde_json::to_value(KubeProxyServiceRecord {
                        node: node.clone(),
                        namespace: ns.clone(),
                        name: s.metadata.name.clone(),
                        ip: ip.clone(),
                        port: port.port,
                        protocol: proto,
                        mode: mode.to_owned(),
                        status: status.to_owned(),
                        endpoints: ready,
                        dns: dns
                            .as_ref()
                            .is_some_and(|(n, m)| *n == ns && *m == s.metadata.name),
                    })
                    .unwrap_or_default(),
                    evidence,
                    first_seen: None,
                });
            }
        }
    }
    table
}
