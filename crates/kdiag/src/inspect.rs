//! `kdiag inspect`: what a support engineer runs first.

use kdiag_model::inventory::{Components, DnsService, NetworkBelief, NetworkInventory};
use kdiag_model::{Diagnostic, FileInfo, Snapshot};
use serde::Serialize;
use std::io::{self, Write};

/// The `kdiag-inspect/v1` document.
#[derive(Serialize)]
pub struct InspectReport {
    format: &'static str,
    sources: Vec<SourceReport>,
    kubernetes_version: Option<String>,
    collected_at: Option<String>,
    files: Vec<FileInfo>,
    nodes: Vec<NodeReport>,
    networks: Vec<NetworkBelief>,
    dns_service: Option<DnsService>,
    components: Components,
    pod_networks_in_use: Vec<CidrUse>,
    logs: Vec<LogReport>,
    failed_commands: Vec<FailedCommand>,
    diagnostics: Vec<Diagnostic>,
}

#[derive(Serialize)]
struct SourceReport {
    source: String,
    container: kdiag_bundle::Container,
    /// The layout the bundle was read as; `None` when nothing was read.
    layout: Option<kdiag_bundle::Layout>,
    root: String,
    entries: u64,
    files: u64,
    bytes: u64,
    stopped: Option<String>,
}

#[derive(Serialize)]
struct NodeReport {
    name: String,
    pod_cidrs: Vec<String>,
    internal_ips: Vec<String>,
    ready: Option<bool>,
    flannel_backend: Option<String>,
    flannel_vtep_mac: Option<String>,
    flannel_public_ip: Option<String>,
    tables: Vec<&'static str>,
    /// Host state only: no Node object of this name was read.
    host_only: bool,
}

#[derive(Serialize)]
struct CidrUse {
    network: String,
    nodes: Vec<String>,
    pods: usize,
}

#[derive(Serialize)]
struct LogReport {
    file: String,
    namespace: String,
    pod: String,
    container: String,
    previous: bool,
    lines: u64,
    first_time: Option<String>,
    last_time: Option<String>,
    errors: u64,
    warnings: u64,
}

#[derive(Serialize)]
struct FailedCommand {
    argv: Vec<String>,
    node: Option<String>,
    output: Option<String>,
    exit_code: Option<i64>,
    stderr: Option<String>,
}

impl InspectReport {
    /// Summarises a snapshot.
    pub fn of(snap: &Snapshot) -> Self {
        let inv = NetworkInventory::cached(snap);
        let mut nodes: Vec<NodeReport> = inv
            .nodes
            .iter()
            .map(|n| NodeReport {
                name: n.name.clone(),
                pod_cidrs: n.pod_cidrs.iter().map(ToString::to_string).collect(),
                internal_ips: n.internal_ips.iter().map(ToString::to_string).collect(),
                ready: n.ready,
                flannel_backend: n.flannel_backend.clone(),
                flannel_vtep_mac: n.flannel_vtep_mac.clone(),
                flannel_public_ip: n.flannel_public_ip.map(|i| i.to_string()),
                tables: snap
                    .nodes
                    .get(&n.name)
                    .map(|t| t.present())
                    .unwrap_or_default(),
                host_only: false,
            })
            .collect();
        // Hosts whose state was read but that are not Node objects (a
        // sosreport, a node-only bundle).
        for (name, tables) in &snap.nodes {
            if !nodes.iter().any(|n| n.name == *name) {
                nodes.push(NodeReport {
                    name: name.clone(),
                    pod_cidrs: Vec::new(),
                    internal_ips: Vec::new(),
                    ready: None,
                    flannel_backend: None,
                    flannel_vtep_mac: None,
                    flannel_public_ip: None,
                    tables: tables.present(),
                    host_only: true,
                });
            }
        }
        let logs = snap
            .logs
            .iter()
            .map(|l| LogReport {
                file: l.file.clone(),
                namespace: l.namespace.clone(),
                pod: l.pod.clone(),
                container: l.container.clone(),
                previous: l.previous,
                lines: l.lines,
                first_time: l.first_time.map(|t| t.to_string()),
                last_time: l.last_time.map(|t| t.to_string()),
                errors: l.severities.get("error").copied().unwrap_or(0)
                    + l.severities.get("fatal").copied().unwrap_or(0),
                warnings: l.severities.get("warning").copied().unwrap_or(0),
            })
            .collect();
        let failed_commands = snap
            .manifest
            .iter()
            .flat_map(|m| m.value.commands.iter())
            .filter(|c| !c.succeeded())
            .map(|c| FailedCommand {
                argv: c.argv.clone(),
                node: c.node.clone(),
                output: c.output.clone(),
                exit_code: c.exit_code,
                stderr: c.stderr.clone(),
            })
            .collect();
        InspectReport {
            format: "kdiag-inspect/v1",
            sources: snap
                .sources
                .iter()
                .zip(&snap.reads)
                .enumerate()
                .map(|(i, (s, r))| SourceReport {
                    source: s.clone(),
                    container: r.container,
                    layout: snap.layouts.get(i).copied().flatten(),
                    root: r.root.clone(),
                    entries: r.entries,
                    files: r.files,
                    bytes: r.bytes,
                    stopped: r.stopped.as_ref().map(ToString::to_string),
                })
                .collect(),
            kubernetes_version: snap.version.as_ref().and_then(|v| v.value.server.clone()),
            collected_at: snap
                .manifest
                .as_ref()
                .and_then(|m| m.value.collected_at.clone()),
            files: snap.files.clone(),
            nodes,
            pod_networks_in_use: cidr_use(snap),
            networks: inv.beliefs.clone(),
            dns_service: inv.dns_service.clone(),
            components: inv.components.clone(),
            logs,
            failed_commands,
            diagnostics: snap.diagnostics.clone(),
        }
    }
}

/// The pod networks in use, as the analysis sees them: the model's
/// `cidr.pod-networks` table (believed networks, or each node CIDR's /16
/// where none is believed), with the nodes and pods in each.
fn cidr_use(snap: &kdiag_model::Snapshot) -> Vec<CidrUse> {
    let table = kdiag_model::tables::build(snap, "cidr.pod-networks").unwrap_or_default();
    table
        .records
        .iter()
        .map(|r| r.fields())
        .map(|r| CidrUse {
            network: r["cidr"].as_str().unwrap_or_default().to_owned(),
            nodes: r["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect(),
            pods: r["pods"]
                .as_u64()
                .and_then(|p| usize::try_from(p).ok())
                .unwrap_or(0),
        })
        .filter(|u| !u.nodes.is_empty() || u.pods > 0)
        .collect()
}

/// Writes the report for a person.
pub fn write_text(r: &InspectReport, out: &mut impl Write) -> io::Result<()> {
    for s in &r.sources {
        writeln!(
            out,
            "Bundle    {} ({}, read as {}, {} files, {} bytes{})",
            s.source,
            s.container.label(),
            s.layout
                .map_or("nothing (no layout recognised)", |l| l.label()),
            s.files,
            s.bytes,
            s.stopped
                .as_ref()
                .map(|x| format!("; STOPPED: {x}"))
                .unwrap_or_default()
        )?;
    }
    writeln!(
        out,
        "Kubernetes {}",
        r.kubernetes_version
            .as_deref()
            .unwrap_or("unknown (no version file)")
    )?;
    if let Some(t) = &r.collected_at {
        writeln!(out, "Collected {t}")?;
    }
    writeln!(out, "\nNodes ({})", r.nodes.len())?;
    let flannel = r
        .components
        .cni
        .iter()
        .any(|c| c == "flannel" || c == "canal");
    for n in &r.nodes {
        let ready = match (n.ready, n.host_only) {
            (_, true) => "host",
            (Some(true), _) => "Ready",
            (Some(false), _) => "NotReady",
            (None, _) => "ready?",
        };
        let overlay = if flannel {
            format!(
                " flannel {} {}",
                n.flannel_backend.as_deref().unwrap_or("-"),
                n.flannel_vtep_mac.as_deref().unwrap_or("")
            )
        } else {
            String::new()
        };
        writeln!(
            out,
            "  {:<24} {:<9} podCIDR {:<18} ip {:<15}{}  tables: {}",
            n.name,
            ready,
            if n.pod_cidrs.is_empty() {
                "-".to_owned()
            } else {
                n.pod_cidrs.join(",")
            },
            n.internal_ips.first().map(String::as_str).unwrap_or("-"),
            overlay,
            if n.tables.is_empty() {
                "none collected".to_owned()
            } else {
                n.tables.join(" ")
            }
        )?;
    }
    writeln!(out, "\nPod networks in use")?;
    for u in &r.pod_networks_in_use {
        writeln!(
            out,
            "  {:<18} nodes: {:<40} pods: {}",
            u.network,
            if u.nodes.is_empty() {
                "-".to_owned()
            } else {
                u.nodes.join(", ")
            },
            u.pods
        )?;
    }
    writeln!(out, "\nNetworks each component believes in")?;
    if r.networks.is_empty() {
        writeln!(out, "  (none found)")?;
    }
    for b in &r.networks {
        writeln!(
            out,
            "  {:<24} {:<24} {:<18} {}:{}",
            b.component, b.setting, b.value, b.evidence.file, b.evidence.line
        )?;
    }
    match &r.dns_service {
        Some(d) => writeln!(
            out,
            "  {:<24} {:<24} {:<18} {}:{}",
            format!(
                "DNS Service ({})",
                d.server.as_deref().unwrap_or("server unknown")
            ),
            format!("{}/{}", d.namespace, d.name),
            d.cluster_ip
                .map(|i| i.to_string())
                .unwrap_or_else(|| "-".into()),
            d.evidence.file,
            d.evidence.line
        )?,
        None => writeln!(out, "  DNS Service: not found")?,
    }
    let c = &r.components;
    writeln!(out, "\nComponents")?;
    writeln!(
        out,
        "  kube-proxy  {} pod(s), mode {}",
        c.kube_proxy_pods,
        c.kube_proxy_mode
            .as_deref()
            .map(|m| if m.is_empty() {
                "iptables (default)"
            } else {
                m
            })
            .unwrap_or("unknown")
    )?;
    writeln!(
        out,
        "  CNI         {}",
        if c.cni.is_empty() {
            "unknown".to_owned()
        } else {
            c.cni.join(", ")
        }
    )?;
    writeln!(
        out,
        "  DNS         {}/{} pod(s) ready",
        c.dns_pods_ready, c.dns_pods
    )?;
    if !c.distribution.is_empty() {
        writeln!(out, "  distribution {}", c.distribution.join(", "))?;
    }
    writeln!(out, "\nLogs ({})", r.logs.len())?;
    for l in &r.logs {
        writeln!(
            out,
            "  {:<70} {:>6} lines {:>5} errors {:>5} warnings",
            l.file, l.lines, l.errors, l.warnings
        )?;
    }
    writeln!(out, "\nFiles ({})", r.files.len())?;
    for f in &r.files {
        writeln!(
            out,
            "  {:<70} {:<28} {:>6} records{}",
            f.path,
            f.kind,
            f.records,
            if f.diagnostics > 0 {
                format!("  {} diagnostic(s)", f.diagnostics)
            } else {
                String::new()
            }
        )?;
    }
    if !r.failed_commands.is_empty() {
        writeln!(
            out,
            "\nCommands that failed during collection ({})",
            r.failed_commands.len()
        )?;
        for c in &r.failed_commands {
            writeln!(
                out,
                "  {}{} → exit {}: {}",
                c.node
                    .as_ref()
                    .map(|n| format!("[{n}] "))
                    .unwrap_or_default(),
                c.argv.join(" "),
                c.exit_code
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "none".into()),
                c.stderr.as_deref().unwrap_or("").trim()
            )?;
        }
    }
    writeln!(out, "\nDiagnostics ({})", r.diagnostics.len())?;
    for d in &r.diagnostics {
        writeln!(out, "  {d}")?;
    }
    Ok(())
}
