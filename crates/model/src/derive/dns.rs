//! The cluster DNS Service's path, and what probe pods saw.

use super::{Fact, FactTable, ev, row};
use crate::Snapshot;
use crate::inventory::NetworkInventory;
use kdiag_parse::probe::ProbeOutcome;
use schemars::JsonSchema;
use serde::Serialize;

/// `dns.service`: the cluster DNS Service and the nodes that program it
/// (one record, none when the bundle has no DNS Service).
#[derive(Debug, Serialize, JsonSchema)]
pub struct DnsServiceRecord {
    /// The DNS Service's namespace (usually `kube-system`).
    pub namespace: String,
    /// The DNS Service's name (`kube-dns`, `coredns`, ...).
    pub name: String,
    /// Its ClusterIP, e.g. `10.96.0.10`; empty when it has none.
    pub ip: String,
    /// Number of its ready endpoint addresses; null when no EndpointSlice or
    /// Endpoints object names it.
    pub endpoints_ready: Option<usize>,
    /// Nodes whose kube-proxy rules (iptables or IPVS) program every port of
    /// it.
    pub nodes_programmed: Vec<String>,
    /// Nodes where some port of it is missing or leads to no endpoints
    /// (`kube-proxy.services` status `missing` or `no-endpoints`).
    pub nodes_missing: Vec<String>,
    /// Nodes that cannot be judged: their iptables or IPVS dump was not
    /// collected.
    pub nodes_unknown: Vec<String>,
}

/// `probes.dns`: one line of a probe pod's output that shows DNS failing.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DnsProbeRecord {
    /// The node the probe ran on.
    pub node: String,
    /// Bundle path of the probe's output file.
    pub file: String,
    /// What failed: `bad-address` (`ping: bad address '...'`),
    /// `cant-resolve` (`nslookup: can't resolve ...`, `** server can't find
    /// ...`), `no-servers` (no DNS server could be reached) or
    /// `connect-failed` (a connection refused or timed out).
    pub outcome: String,
    /// The name that did not resolve, e.g. `kubernetes.default`; empty for
    /// `no-servers` and `connect-failed`.
    pub target: String,
    /// The line as printed.
    pub text: String,
    /// The cluster DNS Service's namespace; empty when the bundle has none.
    pub namespace: String,
    /// The cluster DNS Service's name; empty when the bundle has none.
    pub name: String,
    /// The cluster DNS Service's ClusterIP; empty when it has none or the
    /// bundle has no DNS Service.
    pub ip: String,
}

pub(super) fn service(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::cached(snap);
    let mut table = FactTable::default();
    let Some(dns) = inv.dns_service.as_ref() else {
        if !snap.has_resource("services") {
            table.missing.push(super::resource("services"));
        }
        return table;
    };
    let ip = dns.cluster_ip.map(|i| i.to_string()).unwrap_or_default();
    let (ports, missing_inputs) = super::kube_proxy::check(
        snap,
        |ns, name| ns == dns.namespace && name == dns.name,
        true,
    );
    let mut missing: Vec<String> = Vec::new();
    let mut programmed: Vec<String> = Vec::new();
    let mut evidence = vec![dns.evidence.clone()];
    for (r, ev) in &ports {
        for n in r.missing.iter().chain(&r.no_endpoints) {
            if !missing.iter().any(|m| n == m) {
                missing.push(n.to_string());
            }
        }
        for n in &r.programmed_on {
            if !programmed.iter().any(|m| n == m) {
                programmed.push(n.to_string());
            }
        }
        evidence.extend(ev.iter().skip(1).cloned());
    }
    // Programmed means every port: a node missing one is not.
    programmed.retain(|n| !missing.contains(n));
    evidence.dedup();
    let endpoints = super::kube_proxy::ready_endpoints(snap)
        .get(&format!("{}/{}", dns.namespace, dns.name))
        .copied();
    let unknown: Vec<String> = missing_inputs
        .iter()
        .filter_map(|p| match p {
            kdiag_bundle::Input::Node { node, .. } => Some(node.clone()),
            _ => None,
        })
        .collect();
    table.missing = missing_inputs;
    table.records.push(Fact {
        record: row(DnsServiceRecord {
            namespace: dns.namespace.clone(),
            name: dns.name.clone(),
            ip,
            endpoints_ready: endpoints,
            nodes_programmed: programmed,
            nodes_missing: missing,
            nodes_unknown: unknown,
        }),
        evidence,
        first_seen: None,
    });
    table
}

pub(super) fn probes(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::cached(snap);
    let mut table = FactTable::default();
    let (ns, name, ip) = inv
        .dns_service
        .as_ref()
        .map(|d| {
            (
                d.namespace.clone(),
                d.name.clone(),
                d.cluster_ip.map(|i| i.to_string()).unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    for (node, files) in &snap.probes {
        for f in files {
            for line in &f.value {
                let (outcome, target) = match &line.outcome {
                    ProbeOutcome::BadAddress { name, .. } => ("bad-address", name.clone()),
                    ProbeOutcome::CantResolve { name } => ("cant-resolve", name.clone()),
                    ProbeOutcome::NoServers => ("no-servers", String::new()),
                    ProbeOutcome::ConnectFailed { .. } => ("connect-failed", String::new()),
                    _ => continue,
                };
                table.records.push(Fact {
                    record: row(DnsProbeRecord {
                        node: node.clone(),
                        file: f.file.clone(),
                        outcome: outcome.to_owned(),
                        target,
                        text: line.text.clone(),
                        namespace: ns.clone(),
                        name: name.clone(),
                        ip: ip.clone(),
                    }),
                    evidence: vec![ev(&f.file, line.line, &line.text)],
                    first_seen: None,
                });
            }
        }
    }
    table
}
