//! The cluster DNS Service's path, and what probe pods saw.

use super::{Fact, FactTable, ev};
use crate::Snapshot;
use crate::inventory::NetworkInventory;
use kdiag_parse::probe::ProbeOutcome;
use serde_json::json;

pub(super) fn service(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::of(snap);
    let mut table = FactTable::default();
    let Some(dns) = inv.dns_service.as_ref() else {
        if !snap.has_resource("services") {
            table.missing.push("cluster/services.yaml".into());
        }
        return table;
    };
    let ip = dns.cluster_ip.map(|i| i.to_string()).unwrap_or_default();
    let services = super::kube_proxy::services(snap);
    let mut programmed = Vec::new();
    let mut missing = Vec::new();
    let mut evidence = vec![dns.evidence.clone()];
    for r in services.records.iter().filter(|r| {
        r.fields["namespace"] == dns.namespace.as_str() && r.fields["name"] == dns.name.as_str()
    }) {
        let node = r.fields["node"].as_str().unwrap_or_default().to_owned();
        // A Service without ready endpoints has nothing to program: not a data-plane fault.
        if r.fields["status"] == "endpointless" {
            continue;
        }
        if r.fields["status"] == "programmed" {
            if !programmed.contains(&node) {
                programmed.push(node);
            }
        } else if !missing.contains(&node) {
            missing.push(node);
            evidence.extend(r.evidence.iter().skip(1).cloned());
        }
    }
    programmed.retain(|n| !missing.contains(n));
    let endpoints = super::kube_proxy::ready_endpoints(snap)
        .get(&format!("{}/{}", dns.namespace, dns.name))
        .copied();
    table.missing = services.missing.clone();
    let unknown: Vec<String> = services
        .missing
        .iter()
        .filter_map(|p| {
            p.strip_prefix("nodes/")
                .and_then(|r| r.split('/').next())
                .map(str::to_owned)
        })
        .collect();
    table.records.push(Fact {
        fields: json!({
            "namespace": dns.namespace,
            "name": dns.name,
            "ip": ip,
            "endpoints_ready": endpoints,
            "nodes_programmed": programmed,
            "nodes_missing": missing,
            "nodes_unknown": unknown,
        }),
        evidence,
        first_seen: None,
    });
    table
}

pub(super) fn probes(snap: &Snapshot) -> FactTable {
    let inv = NetworkInventory::of(snap);
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
                    fields: json!({"node": node, "file": f.file, "outcome": outcome, "target": target, "text": line.text, "namespace": ns, "name": name, "ip": ip}),
                    evidence: vec![ev(&f.file, line.line, &line.text)],
                    first_seen: None,
                });
            }
        }
    }
    table
}
