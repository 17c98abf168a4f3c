//! Turns the files of a bundle into a [`Snapshot`], one file at a time, as
//! the bundle reader hands them over. Logs are streamed; every other file
//! is read whole (already capped by the bundle limits) and parsed.

use crate::logs::{LogStream, scan};
use crate::node::Sourced;
use crate::snapshot::{FileInfo, Located};
use crate::{Diagnostic, LogPatterns, Snapshot, Stage};
use kdiag_bundle::{
    BundleDiagnostic, DataFormat, EntrySink, FileRole, Layout, NodeFile, classify_in,
};
use kdiag_parse::Intern as _;
use kdiag_parse::lines::decode;
use kdiag_parse::{
    Parsed, cani, cni, firewall, flannel, iproute, iproute_json, iptables, ipvs, kube, kubelet,
    lsmod, probe, resolv, sysctl, version,
};
use std::io::{self, Read};

mod offload;

/// What a file with bytes that are not UTF-8 gets told.
const NOT_UTF8: &str = "holds bytes that are not UTF-8; they were replaced";

/// Ranks of a node table's copies; see `Builder::node_slot`.
const RANK_CLEAN_TEXT: u8 = 2;
const RANK_JSON: u8 = 1;
const RANK_TEXT_WITH_DIAGNOSTICS: u8 = 0;

pub(crate) struct Builder<'p> {
    pub(crate) snapshot: Snapshot,
    patterns: &'p LogPatterns,
    /// Rank of the copy held for each (node, table); see `node_slot`.
    ranks: std::collections::HashMap<(String, &'static str), u8>,
    /// Shared copies of the lines and names node tables repeat (the same
    /// kube-proxy rule or flannel route on every node).
    names: kdiag_parse::Interner,
    /// The iptables rules read so far: a rule every node prints is held once.
    rules: iptables::RuleCache,
    /// Set by `kube_content` when the file it read was not Kubernetes objects.
    not_kubernetes: bool,
    /// Set by `kube_content` when the file held `cluster-info dump` logs.
    cluster_info_stream: bool,
    /// Parses the per-peer node tables while the stream goes on; `None`
    /// when no thread could be started (they are parsed in place).
    worker: Option<offload::Worker>,
    /// The place in the stream of the file being read (from 1).
    seq: u64,
    /// The file a diagnostic being recorded belongs to: `seq`, or that of
    /// a file the worker parsed, when its result is applied.
    diag_seq: u64,
    /// For each diagnostic: (`diag_seq`, 0) for one of a file, (`seq`, 1)
    /// for one of the reader after it. `finish` orders the diagnostics by
    /// it, as if every file had been parsed in place.
    order: Vec<(u64, u8)>,
}

impl<'p> Builder<'p> {
    pub(crate) fn new(patterns: &'p LogPatterns) -> Self {
        Builder {
            snapshot: Snapshot::default(),
            patterns,
            ranks: Default::default(),
            names: kdiag_parse::Interner::new(),
            rules: iptables::RuleCache::new(),
            not_kubernetes: false,
            cluster_info_stream: false,
            worker: offload::Worker::start(),
            seq: 0,
            diag_seq: 0,
            order: Vec::new(),
        }
    }

    pub(crate) fn begin(&mut self, source: &str) {
        self.snapshot.sources.push(source.to_owned());
    }

    pub(crate) fn finish(mut self) -> Snapshot {
        self.stop_worker();
        // Diagnostics in the order parsing each file in place gives.
        let mut keyed: Vec<((u64, u8), Diagnostic)> = self
            .order
            .drain(..)
            .zip(self.snapshot.diagnostics.drain(..))
            .collect();
        keyed.sort_by_key(|(k, _)| *k);
        self.snapshot.diagnostics = keyed.into_iter().map(|(_, d)| d).collect();
        let snap = &mut self.snapshot;
        // A bundle's layout is that of the inputs read from it: a file a
        // layout lists but kdiag does not read (sonobuoy's plugin results,
        // the collector's log) does not make a bundle "read".
        let input = |f: &&FileInfo| f.layout.is_some() && f.role.is_input();
        snap.layouts = (0..snap.sources.len())
            .map(|i| {
                Layout::main(
                    snap.files
                        .iter()
                        .filter(|f| f.source == i)
                        .filter(input)
                        .filter_map(|f| f.layout),
                )
            })
            .collect();
        snap.layout = Layout::main(snap.files.iter().filter(input).filter_map(|f| f.layout))
            .unwrap_or_default();
        if snap.version.is_none() {
            snap.version = version_from_nodes(snap);
        }
        self.snapshot
    }

    /// Notes that `file` held a list of (or objects of) `resource`.
    fn resource_read(&mut self, resource: String, file: &str) {
        let files = self.snapshot.resources.entry(resource).or_default();
        if files.last().is_none_or(|f| f != file) {
            files.push(file.to_owned());
        }
    }

    fn diag(&mut self, stage: Stage, file: &str, line: Option<u32>, message: impl Into<String>) {
        self.order.push((self.diag_seq, 0));
        self.snapshot.diagnostics.push(Diagnostic {
            stage,
            file: Some(file.to_owned()),
            line,
            message: message.into(),
        });
    }

    /// Records parse diagnostics and returns how many there were.
    fn parse_diags(&mut self, file: &str, diags: &[kdiag_parse::Diagnostic]) -> u64 {
        for d in diags {
            self.diag(Stage::Parse, file, d.line, d.message.clone());
        }
        diags.len() as u64
    }

    fn take<T>(&mut self, file: &str, parsed: Parsed<T>) -> (Vec<T>, u64, u64) {
        let n = self.parse_diags(file, &parsed.diagnostics);
        let count = parsed.records.len() as u64;
        (parsed.records, count, n)
    }

    fn add_objects(&mut self, file: &str, parsed: Parsed<kube::KubeObject>) -> (u64, u64) {
        let (objects, count, diags) = self.take(file, parsed);
        let mut dup = 0;
        // `resource_read` keeps one entry per file and resource, so a kind
        // seen again in the same file adds nothing.
        for o in &objects {
            self.resource_read(kube::resource_of_kind(&o.kind), file);
        }
        for object in objects {
            let key = (
                object.kind.clone(),
                object.namespace.clone().unwrap_or_default(),
                object.name.clone(),
            );
            if let Some(&first) = self.snapshot.index.get(&key) {
                let earlier = &self.snapshot.objects[first];
                let message = format!(
                    "{} {} appears again; the copy at {}:{} is used",
                    key.0, object.name, earlier.file, earlier.object.line
                );
                self.diag(Stage::Model, file, Some(object.line), message);
                dup += 1;
                continue;
            }
            self.snapshot.index.insert(key, self.snapshot.objects.len());
            self.snapshot.objects.push(Located {
                file: file.to_owned(),
                object,
            });
        }
        (count, diags + dup)
    }

    /// Stores a node table. When the same table comes twice — `ip route`
    /// text and `ip -j route`, or two bundles — the better copy wins: text
    /// that parsed cleanly (its lines make the best evidence), then JSON,
    /// then text with diagnostics. Two copies of equal rank: the first wins
    /// and the second is reported.
    fn node_slot<T>(
        &mut self,
        node: &str,
        file: &str,
        table: &'static str,
        value: T,
        rank: u8,
        slot: fn(&mut crate::NodeTables) -> &mut Option<Sourced<T>>,
    ) {
        let target = slot(self.snapshot.nodes.entry(node.to_owned()).or_default());
        let key = (node.to_owned(), table);
        let held = self.ranks.get(&key).copied();
        match (target.as_ref(), held) {
            (Some(existing), Some(r)) if r == rank => {
                let message = format!(
                    "node {node} already has this table from {}; this copy is ignored",
                    existing.file
                );
                self.diag(Stage::Model, file, None, message);
            }
            (Some(_), Some(r)) if r > rank => {}
            _ => {
                *target = Some(Sourced {
                    file: file.to_owned(),
                    value,
                });
                self.ranks.insert(key, rank);
            }
        }
    }

    /// Parses one non-log file; returns (records, diagnostics).
    fn parse_file(&mut self, path: &str, role: &FileRole, text: &str) -> (u64, u64) {
        match role {
            FileRole::Manifest => match kdiag_bundle::parse_manifest(text) {
                Ok(m) => {
                    let n = m.commands.len() as u64;
                    // A second bundle's manifest (node-only bundles merged
                    // into a cluster bundle) is cited with its bundle's name.
                    let label = match (&self.snapshot.manifest, self.snapshot.sources.last()) {
                        (Some(_), Some(source)) => format!("{path} [{source}]"),
                        _ => path.to_owned(),
                    };
                    // Where each command is written, for evidence: its `"exit_code"` line.
                    let lines: Vec<(String, u32, String)> = text
                        .lines()
                        .enumerate()
                        .filter(|(_, l)| l.contains("\"exit_code\""))
                        .map(|(i, l)| {
                            (
                                label.clone(),
                                u32::try_from(i + 1).unwrap_or(u32::MAX),
                                l.trim().to_owned(),
                            )
                        })
                        .collect();
                    // Lines are only usable when there is exactly one per command.
                    let lines = if lines.len() == m.commands.len() {
                        lines
                    } else {
                        m.commands
                            .iter()
                            .enumerate()
                            .map(|(i, c)| {
                                (
                                    label.clone(),
                                    1,
                                    format!("commands[{i}]: {}", c.argv.join(" ")),
                                )
                            })
                            .collect()
                    };
                    self.snapshot.manifest_lines.extend(lines);
                    match &mut self.snapshot.manifest {
                        Some(first) => first.value.merge(m),
                        None => {
                            self.snapshot.manifest = Some(Sourced {
                                file: path.to_owned(),
                                value: m,
                            })
                        }
                    }
                    (n, 0)
                }
                Err(e) => {
                    self.diag(
                        Stage::Parse,
                        path,
                        None,
                        format!("manifest cannot be read: {e}"),
                    );
                    (0, 1)
                }
            },
            FileRole::ClusterVersion { format } => {
                match version::parse_version(text, *format == DataFormat::Json) {
                    Ok(v) => {
                        self.snapshot.version.get_or_insert(Sourced {
                            file: path.to_owned(),
                            value: v,
                        });
                        (1, 0)
                    }
                    Err(d) => (0, self.parse_diags(path, &[d])),
                }
            }
            FileRole::KubeList {
                format, resource, ..
            } => {
                let parsed = match format {
                    DataFormat::Json => kube::parse_json_as(text, kube::kind_of_resource(resource)),
                    DataFormat::Yaml => kube::parse_yaml(text),
                };
                // A list that failed as a whole (no object, only problems)
                // does not count as read: checks over it are unknown.
                if !parsed.records.is_empty() || parsed.diagnostics.is_empty() {
                    self.resource_read(resource.clone(), path);
                }
                self.add_objects(path, parsed)
            }
            FileRole::CanI {
                namespace,
                serviceaccount,
            } => {
                let (rows, n, d) = self.take(path, cani::parse_can_i(text));
                self.snapshot.can_i.insert(
                    format!("{namespace}/{serviceaccount}"),
                    Sourced {
                        file: path.to_owned(),
                        value: rows,
                    },
                );
                (n, d)
            }
            FileRole::Probe { node, name } => {
                if name == "resolv.conf" {
                    let (rows, n, d) = self.take(path, resolv::parse_resolv_conf(text));
                    self.snapshot.probe_resolv.insert(
                        node.clone(),
                        Sourced {
                            file: path.to_owned(),
                            value: rows,
                        },
                    );
                    (n, d)
                } else {
                    let (rows, n, d) = self.take(path, probe::parse_probe(text));
                    self.snapshot
                        .probes
                        .entry(node.clone())
                        .or_default()
                        .push(Sourced {
                            file: path.to_owned(),
                            value: rows,
                        });
                    (n, d)
                }
            }
            FileRole::TroubleshootDnsDebug => self.troubleshoot_dns(path, text),
            FileRole::KubeContent { resource, .. } => {
                self.kube_content(path, resource.as_deref(), text)
            }
            FileRole::SectionedLogs { .. } => self.kube_content(path, None, text),
            FileRole::Node { node, file } => self.node_file(path, node, file, text),
            FileRole::CollectorLog
            | FileRole::TroubleshootVersion
            | FileRole::Known { .. }
            | FileRole::Other
            | FileRole::ContainerLog { .. } => (0, 0),
        }
    }

    /// Kubernetes objects found by content, and the container logs a
    /// `cluster-info dump` file holds between them. A file that is not
    /// Kubernetes objects at all sets `not_kubernetes` (the caller lists it
    /// as not read); one with log sections sets `cluster_info_stream`.
    fn kube_content(&mut self, path: &str, resource: Option<&str>, text: &str) -> (u64, u64) {
        let content = kube::parse_content(text, resource.and_then(kube::kind_of_resource));
        if !content.kubernetes {
            self.not_kubernetes = true;
            return (0, 0);
        }
        if !content.logs.is_empty() {
            self.cluster_info_stream = true;
        }
        let mut records = 0;
        for section in &content.logs {
            let mut stream = LogStream {
                file: path.to_owned(),
                namespace: section.namespace.clone(),
                pod: section.pod.clone(),
                container: section.container.clone(),
                line_offset: u64::from(section.first_line.saturating_sub(1)),
                ..Default::default()
            };
            // Reading from memory cannot fail.
            let _ = scan(section.text.as_bytes(), self.patterns, &mut stream);
            records += stream.lines;
            self.snapshot.logs.push(stream);
        }
        if let Some(r) = resource
            && (!content.parsed.records.is_empty() || content.parsed.diagnostics.is_empty())
            && content.logs.is_empty()
        {
            self.resource_read(r.to_owned(), path);
        }
        let (n, d) = self.add_objects(path, content.parsed);
        (n + records, d)
    }

    /// The kubelet's `/configz` answer: its configuration under `kubeletconfig`.
    fn kubelet_configz(&mut self, path: &str, node: &str, text: &str) -> (u64, u64) {
        let config = serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("kubeletconfig").cloned())
            .and_then(|c| serde_json::to_string(&c).ok());
        let Some(config) = config else {
            self.diag(
                Stage::Parse,
                path,
                None,
                "not a kubelet /configz answer (JSON with a 'kubeletconfig' object)",
            );
            return (0, 1);
        };
        let (rows, n, d) = self.take(path, kubelet::parse_kubelet_config(&config));
        if let Some(v) = rows.into_iter().next() {
            self.node_slot(node, path, "kubelet", v, RANK_JSON, |t| &mut t.kubelet);
        }
        (n, d)
    }

    /// troubleshoot.sh's `dns/debug.json` holds a probe pod's resolv.conf.
    fn troubleshoot_dns(&mut self, path: &str, text: &str) -> (u64, u64) {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => match v.get("podResolvConf").and_then(|r| r.as_str()) {
                Some(conf) => {
                    let (rows, n, d) = self.take(path, resolv::parse_resolv_conf(conf));
                    self.snapshot.probe_resolv.insert(
                        "(troubleshoot dns probe)".into(),
                        Sourced {
                            file: path.to_owned(),
                            value: rows,
                        },
                    );
                    (n, d)
                }
                None => (0, 0),
            },
            Err(e) => {
                self.diag(
                    Stage::Parse,
                    path,
                    Some(u32::try_from(e.line()).unwrap_or(1)),
                    format!("not valid JSON: {e}"),
                );
                (0, 1)
            }
        }
    }

    fn node_file(&mut self, path: &str, node: &str, file: &NodeFile, text: &str) -> (u64, u64) {
        macro_rules! table {
            ($parsed:expr, $field:ident) => {{
                let parsed = $parsed;
                let (rows, n, d) = self.take(path, parsed);
                let rank = if d == 0 {
                    RANK_CLEAN_TEXT
                } else {
                    RANK_TEXT_WITH_DIAGNOSTICS
                };
                self.node_slot(node, path, stringify!($field), rows, rank, |t| {
                    &mut t.$field
                });
                (n, d)
            }};
        }
        macro_rules! single {
            ($parsed:expr, $field:ident) => {{
                let (rows, n, d) = self.take(path, $parsed);
                if let Some(v) = rows.into_iter().next() {
                    self.node_slot(node, path, stringify!($field), v, RANK_CLEAN_TEXT, |t| {
                        &mut t.$field
                    });
                }
                (n, d)
            }};
        }
        match file {
            NodeFile::IpRoute | NodeFile::IpNeigh | NodeFile::BridgeFdb => {
                match offload::parse(file, text) {
                    Some(t) => self.per_peer_table(path, node, t),
                    None => (0, 0),
                }
            }
            NodeFile::IpAddr => table!(iproute::parse_links(text), addrs),
            NodeFile::IpLink => table!(iproute::parse_links(text), links),
            NodeFile::IpRouteJson => {
                let parsed = self.interned(iproute_json::parse_routes_json(text));
                self.json_table(path, node, "routes", parsed, |t| &mut t.routes)
            }
            NodeFile::IpNeighJson => {
                let parsed = self.interned(iproute_json::parse_neighbors_json(text));
                self.json_table(path, node, "neighbors", parsed, |t| &mut t.neighbors)
            }
            NodeFile::IpAddrJson => self.json_table(
                path,
                node,
                "addrs",
                iproute_json::parse_links_json(text),
                |t| &mut t.addrs,
            ),
            NodeFile::IpLinkJson => self.json_table(
                path,
                node,
                "links",
                iproute_json::parse_links_json(text),
                |t| &mut t.links,
            ),
            NodeFile::IptablesSave => {
                let parsed =
                    iptables::parse_iptables_save_in(text, &mut self.names, &mut self.rules);
                let d = self.parse_diags(path, &parsed.diagnostics);
                let n = parsed.rules.len() as u64;
                self.node_slot(node, path, "iptables", parsed, RANK_CLEAN_TEXT, |t| {
                    &mut t.iptables
                });
                (n, d)
            }
            NodeFile::Ipvsadm => table!(ipvs::parse_ipvsadm(text), ipvs),
            NodeFile::Sysctl => table!(sysctl::parse_sysctl(text), sysctl),
            NodeFile::Lsmod => table!(lsmod::parse_lsmod(text), modules),
            NodeFile::ResolvConf => table!(resolv::parse_resolv_conf(text), resolv_conf),
            NodeFile::KubeletConfig => single!(kubelet::parse_kubelet_config(text), kubelet),
            NodeFile::FlannelSubnetEnv => single!(flannel::parse_subnet_env(text), flannel_subnet),
            NodeFile::Firewalld => single!(firewall::parse_firewalld(text), firewalld),
            NodeFile::Selinux => single!(firewall::parse_getenforce(text), selinux),
            NodeFile::Cni(_) => match cni::parse_cni_config(text) {
                Ok(c) => {
                    self.snapshot
                        .nodes
                        .entry(node.to_owned())
                        .or_default()
                        .cni
                        .push(Sourced {
                            file: path.to_owned(),
                            value: c,
                        });
                    (1, 0)
                }
                Err(d) => (0, self.parse_diags(path, &[d])),
            },
            NodeFile::KubeletConfigz => self.kubelet_configz(path, node, text),
            // nftables' view of the same netfilter state: iptables-save,
            // when both were collected, is the better evidence and wins.
            NodeFile::NftRuleset => {
                let parsed = kdiag_parse::nft::parse_nft_ruleset_in(text, &mut self.names);
                let d = self.parse_diags(path, &parsed.diagnostics);
                let n = parsed.rules.len() as u64;
                self.node_slot(node, path, "iptables", parsed, RANK_JSON, |t| {
                    &mut t.iptables
                });
                (n, d)
            }
            NodeFile::KubeletLog | NodeFile::Other(_) => (0, 0),
        }
    }

    /// A node table read from text: held unless a better copy is (see
    /// `node_slot`); returns (records, diagnostics).
    fn text_table<T: kdiag_parse::Intern>(
        &mut self,
        path: &str,
        node: &str,
        parsed: Parsed<T>,
        table: &'static str,
        slot: fn(&mut crate::NodeTables) -> &mut Option<Sourced<Vec<T>>>,
    ) -> (u64, u64) {
        let parsed = self.interned(parsed);
        let (rows, n, d) = self.take(path, parsed);
        let rank = if d == 0 {
            RANK_CLEAN_TEXT
        } else {
            RANK_TEXT_WITH_DIAGNOSTICS
        };
        self.node_slot(node, path, table, rows, rank, slot);
        (n, d)
    }

    /// Holds one of the per-peer tables (see `offload`).
    fn per_peer_table(&mut self, path: &str, node: &str, table: offload::Table) -> (u64, u64) {
        match table {
            offload::Table::Routes(p) => {
                self.text_table(path, node, p, "routes", |t| &mut t.routes)
            }
            offload::Table::Neighbors(p) => {
                self.text_table(path, node, p, "neighbors", |t| &mut t.neighbors)
            }
            offload::Table::Fdb(p) => self.text_table(path, node, p, "fdb", |t| &mut t.fdb),
        }
    }

    /// Takes in every file still at the worker and stops it; after this,
    /// files are parsed in place. A worker that panicked fails the run here,
    /// as the same parse would have in place.
    fn stop_worker(&mut self) {
        if let Some(mut w) = self.worker.take() {
            for d in w.rest() {
                self.apply(d);
            }
        }
    }

    /// Takes in every file still at the worker, waiting for them.
    fn settle(&mut self) {
        while let Some(d) = self.worker.as_mut().and_then(offload::Worker::next) {
            self.apply(d);
        }
    }

    /// Takes in a file the worker parsed, as `file` would have in place.
    fn apply(&mut self, done: offload::Done) {
        let job = done.job;
        self.diag_seq = job.seq;
        let mut diags = 0;
        if done.lossy {
            self.diag(Stage::Parse, &job.path, None, NOT_UTF8);
            diags += 1;
        }
        let (records, d) = match done.table {
            Some(t) => self.per_peer_table(&job.path, &job.node, t),
            None => (0, 0),
        };
        let info = &mut self.snapshot.files[job.info_index];
        info.records = records;
        info.diagnostics += d + diags;
        info.layout = Some(job.layout);
        self.diag_seq = self.seq;
    }

    /// JSON (`ip -j`) is preferred: it replaces a table read from text.
    /// The records with their names and lines shared with other nodes'.
    fn interned<T: kdiag_parse::Intern>(&mut self, mut parsed: Parsed<T>) -> Parsed<T> {
        parsed.records.intern(&mut self.names);
        parsed
    }

    fn json_table<T>(
        &mut self,
        path: &str,
        node: &str,
        table: &'static str,
        parsed: Parsed<T>,
        slot: fn(&mut crate::NodeTables) -> &mut Option<Sourced<Vec<T>>>,
    ) -> (u64, u64) {
        let (rows, n, d) = self.take(path, parsed);
        self.node_slot(node, path, table, rows, RANK_JSON, slot);
        (n, d)
    }

    fn log(&mut self, path: &str, role: &FileRole, body: &mut dyn Read) -> io::Result<(u64, u64)> {
        let mut stream = match role {
            FileRole::ContainerLog {
                namespace,
                pod,
                container,
                previous,
            } => LogStream {
                file: path.to_owned(),
                namespace: namespace.clone(),
                pod: pod.clone(),
                container: container.clone(),
                previous: *previous,
                ..Default::default()
            },
            FileRole::Node { node, .. } => LogStream {
                file: path.to_owned(),
                pod: node.clone(),
                container: "kubelet".into(),
                ..Default::default()
            },
            _ => LogStream {
                file: path.to_owned(),
                ..Default::default()
            },
        };
        let result = scan(body, self.patterns, &mut stream);
        let lines = stream.lines;
        let mut diags = 0;
        if stream.long_lines > 0 {
            self.diag(
                Stage::Parse,
                path,
                None,
                format!(
                    "{} line(s) longer than {} bytes were cut",
                    stream.long_lines,
                    kdiag_parse::lines::MAX_LINE_BYTES
                ),
            );
            diags += 1;
        }
        if stream.lossy_lines > 0 {
            self.diag(
                Stage::Parse,
                path,
                None,
                format!(
                    "{} line(s) held bytes that are not UTF-8 (replaced)",
                    stream.lossy_lines
                ),
            );
            diags += 1;
        }
        self.snapshot.logs.push(stream);
        result.map(|()| (lines, diags))
    }
}

impl EntrySink for Builder<'_> {
    fn file(&mut self, path: &str, size: u64, body: &mut dyn Read) -> io::Result<()> {
        self.seq += 1;
        self.diag_seq = self.seq;
        if let Some(w) = &mut self.worker {
            for d in w.ready() {
                self.apply(d);
            }
        }
        let classified = classify_in(path);
        let role = classified.role;
        let is_log = matches!(
            role,
            FileRole::ContainerLog { .. }
                | FileRole::Node {
                    file: NodeFile::KubeletLog,
                    ..
                }
        );
        let info_index = self.snapshot.files.len();
        self.snapshot.files.push(FileInfo {
            path: path.to_owned(),
            kind: role.label(),
            role: role.clone(),
            bytes: size,
            records: 0,
            diagnostics: 0,
            layout: None,
            source: self.snapshot.sources.len().saturating_sub(1),
        });
        let mut read = true;
        let (records, diagnostics) = if is_log {
            self.log(path, &role, body)?
        } else if !role.is_input() {
            // Listed as part of its layout, or not read at all.
            read = role != FileRole::Other;
            (0, 0)
        } else {
            let mut bytes = Vec::new();
            // A file only tried as kubectl output is read whole only when
            // its first bytes look like it.
            if let FileRole::KubeContent {
                expected: false, ..
            } = role
            {
                body.take(SNIFF_BYTES).read_to_end(&mut bytes)?;
                if !might_be_objects(&bytes) {
                    self.finish_unread(info_index);
                    return Ok(());
                }
            }
            // A read error means the entry is incomplete: parse nothing of it.
            body.read_to_end(&mut bytes)?;
            if let FileRole::Node { file, .. } = &role
                && offload::shares_a_table(file)
            {
                self.settle();
            }
            if let FileRole::Node { node, file } = &role
                && offload::offloaded(file)
                && self.worker.is_some()
            {
                // Results are taken back before more bytes are sent than
                // the worker may hold.
                while self
                    .worker
                    .as_ref()
                    .is_some_and(|w| !w.room_for(bytes.len()))
                {
                    match self.worker.as_mut().and_then(offload::Worker::next) {
                        Some(d) => self.apply(d),
                        None => break,
                    }
                }
                let job = offload::Job {
                    seq: self.seq,
                    info_index,
                    path: path.to_owned(),
                    node: node.clone(),
                    file: file.clone(),
                    layout: classified.layout,
                    bytes,
                };
                let sent = match &mut self.worker {
                    Some(w) => w.send(job),
                    None => Err(job.bytes),
                };
                match sent {
                    Ok(()) => return Ok(()),
                    // The worker is gone: take in what it finished (or fail
                    // as it did), then parse in place from now on.
                    Err(back) => {
                        bytes = back;
                        self.stop_worker();
                    }
                }
            }
            let (text, lossy) = decode(&bytes);
            let mut d = 0;
            if lossy {
                self.diag(Stage::Parse, path, None, NOT_UTF8);
                d += 1;
            }
            self.not_kubernetes = false;
            self.cluster_info_stream = false;
            let (r, pd) = self.parse_file(path, &role, &text);
            if self.not_kubernetes {
                self.finish_unread(info_index);
                return Ok(());
            }
            (r, pd + d)
        };
        let layout = if self.cluster_info_stream {
            Layout::ClusterInfoDump
        } else {
            classified.layout
        };
        let info = &mut self.snapshot.files[info_index];
        info.records = records;
        info.diagnostics += diagnostics;
        if read {
            info.layout = Some(layout);
            if let FileRole::KubeContent { .. } = role
                && records == 0
                && diagnostics == 0
            {
                info.kind = "kubernetes objects (none)".into();
            }
        }
        Ok(())
    }

    fn diagnostic(&mut self, d: BundleDiagnostic) {
        if let Some(entry) = &d.entry
            && let Some(info) = self
                .snapshot
                .files
                .iter_mut()
                .rev()
                .find(|f| &f.path == entry || entry.ends_with(&f.path))
        {
            info.diagnostics += 1;
        }
        self.order.push((self.seq, 1));
        self.snapshot.diagnostics.push(Diagnostic {
            stage: Stage::Read,
            file: d.entry.clone(),
            line: None,
            message: d.message,
        });
    }
}

/// Without a version file (cluster-info dumps, must-gathers), the oldest
/// kubelet among the nodes stands for the cluster's version: the version
/// kube-proxy and the node's components run at.
fn version_from_nodes(snap: &crate::Snapshot) -> Option<Sourced<version::ClusterVersion>> {
    let (node, v) = snap
        .objects_of("Node")
        .filter_map(|n| {
            let v = n
                .object
                .value
                .pointer("/status/nodeInfo/kubeletVersion")?
                .as_str()?;
            let parsed = crate::components::parse_version(v)?;
            Some((n, v, parsed))
        })
        .min_by_key(|(_, _, parsed)| *parsed)
        .map(|(n, v, _)| (n, v.to_owned()))?;
    Some(Sourced {
        file: node.file.clone(),
        value: version::ClusterVersion {
            server: Some(v),
            client: None,
            server_line: node.object.line,
        },
    })
}

/// How much of a file only tried as kubectl output is read to decide.
const SNIFF_BYTES: u64 = 4096;

/// Whether a file's first bytes could start Kubernetes objects: JSON, or
/// YAML with `apiVersion:`/`kind:` keys, or a `cluster-info dump` stream.
fn might_be_objects(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let body = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    body.starts_with('{')
        || body.starts_with('[')
        || text.contains("apiVersion:")
        || text.contains("kind:")
        || text.contains("==== START logs for container")
}

impl Builder<'_> {
    /// A file tried as kubectl output that is something else: listed as not read.
    fn finish_unread(&mut self, index: usize) {
        let info = &mut self.snapshot.files[index];
        info.kind = "not read".into();
        info.role = FileRole::Other;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test setup
    use super::*;
    use kdiag_bundle::Limits;
    use std::path::Path;

    /// A bundle read with the parse worker and read with every file parsed in
    /// place.
    fn both(read: impl Fn(&mut Builder<'_>)) -> (Snapshot, Snapshot) {
        let patterns = LogPatterns::new([("denied", "forbidden")]).unwrap();
        let mut with = Builder::new(&patterns);
        assert!(with.worker.is_some());
        read(&mut with);
        let mut without = Builder::new(&patterns);
        without.worker = None;
        read(&mut without);
        (with.finish(), without.finish())
    }

    fn same(a: &Snapshot, b: &Snapshot, what: &str) {
        assert_eq!(a.diagnostics, b.diagnostics, "{what}: diagnostics");
        assert_eq!(a.files, b.files, "{what}: files");
        assert_eq!(a.nodes, b.nodes, "{what}: node tables");
    }

    #[test]
    fn the_worker_reads_every_sample_as_parsing_in_place_does() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-bundles");
        let mut read = 0;
        for entry in std::fs::read_dir(&root).unwrap() {
            let path = entry.unwrap().path();
            if !path.join("nodes").is_dir() {
                continue;
            }
            let (a, b) = both(|builder| {
                builder.begin("sample");
                kdiag_bundle::read_path(&path, &Limits::default(), builder).unwrap();
            });
            assert!(
                a.nodes.values().any(|t| t.routes.is_some()),
                "{}",
                path.display()
            );
            same(&a, &b, &path.display().to_string());
            read += 1;
        }
        assert!(read > 10, "only {read} sample bundles with node tables");
    }

    #[test]
    fn diagnostics_keep_the_order_of_the_files() {
        // Node tables with diagnostics (a prompt, bytes that are not UTF-8)
        // between files parsed in place that have some too, and a second
        // copy of a table, in a tar read from memory.
        let mut tar = tar::Builder::new(Vec::new());
        let files: [(&str, &[u8]); 9] = [
            (
                "b/nodes/n1/ip-route.txt",
                b"$ ip route\ndefault via 10.0.0.1 dev eth0 \n",
            ),
            (
                "b/nodes/n1/sysctl.txt",
                b"net.ipv4.ip_forward = 1\nnot a sysctl\n",
            ),
            (
                "b/nodes/n1/ip-neigh.txt",
                b"10.0.0.1 dev eth0 lladdr 52:54:00:12:34:56 \xff\n",
            ),
            ("b/nodes/n1/bridge-fdb.txt", b"...\n"),
            (
                "b/nodes/n2/ip-route.txt",
                b"10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink \n",
            ),
            (
                "b/nodes/n1/lsmod.txt",
                b"Module Size Used by\nbr_netfilter 32768 0\n",
            ),
            (
                "c/nodes/n2/ip-route.txt",
                b"default via 10.0.0.9 dev eth0\n",
            ),
            // Two JSON copies of a table a clean text copy holds: which one
            // is held, and what is said of the others, must not depend on
            // when the worker's result is in.
            (
                "b/nodes/n2/ip-route.json",
                br#"[{"dst":"default","gateway":"10.0.0.1","dev":"eth0","flags":[]}]"#,
            ),
            (
                "c/nodes/n2/ip-route.json",
                br#"[{"dst":"default","gateway":"10.0.0.2","dev":"eth0","flags":[]}]"#,
            ),
        ];
        for (name, body) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, name, body).unwrap();
        }
        let bytes = tar.into_inner().unwrap();
        let (a, b) = both(|builder| {
            builder.begin("mem");
            kdiag_bundle::read_stream(&bytes[..], "mem.tar", &Limits::default(), builder).unwrap();
        });
        same(&a, &b, "in-memory tar");
        assert!(a.diagnostics.len() >= 4, "{:?}", a.diagnostics);
    }
}
