use crate::logs::LogStream;
use crate::node::{NodeTables, Sourced};
use crate::{Diagnostic, LogPatterns};
use kdiag_bundle::{FileRole, Limits, Manifest, OpenError, ReadSummary};
use kdiag_parse::cani::CanIRow;
use kdiag_parse::kube::KubeObject;
use kdiag_parse::probe::ProbeLine;
use kdiag_parse::resolv::ResolvEntry;
use kdiag_parse::version::ClusterVersion;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// A record and the bundle file it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Located<T> {
    /// Bundle path.
    pub file: String,
    /// The record (which carries its own line).
    #[serde(flatten)]
    pub object: T,
}

/// What one file of the bundle was, and what came of reading it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileInfo {
    /// Bundle path.
    pub path: String,
    /// What the layout says it is.
    pub role: FileRole,
    /// A short label for the role.
    pub kind: String,
    /// Bytes read.
    pub bytes: u64,
    /// Records parsed (objects, routes, rules, log lines, ...).
    pub records: u64,
    /// Diagnostics about this file.
    pub diagnostics: u64,
    /// The layout the file was read as; `None` when nothing was read of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout: Option<kdiag_bundle::Layout>,
    /// Which bundle (index into [`Snapshot::sources`]) it came from.
    pub source: usize,
}

/// One snapshot of the cluster, built from one or more bundles.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Where each bundle came from, as given.
    pub sources: Vec<String>,
    /// How reading went, per bundle.
    pub reads: Vec<ReadSummary>,
    /// Every file seen, in reading order.
    pub files: Vec<FileInfo>,
    /// `manifest.json`, when present; with several bundles, the first
    /// manifest with the others' commands appended.
    pub manifest: Option<Sourced<Manifest>>,
    /// For each manifest command, in order: the file to cite, and the line
    /// and text of its `"exit_code"` (for evidence).
    pub manifest_lines: Vec<(String, u32, String)>,
    /// The Kubernetes version, when a version file was present.
    pub version: Option<Sourced<ClusterVersion>>,
    /// Every Kubernetes object, in reading order.
    pub objects: Vec<Located<KubeObject>>,
    pub(crate) index: HashMap<(String, String, String), usize>,
    /// Host state per node name.
    pub nodes: BTreeMap<String, NodeTables>,
    /// Container logs and node journals.
    pub logs: Vec<LogStream>,
    /// `kubectl auth can-i --list` per `namespace/serviceaccount`.
    pub can_i: BTreeMap<String, Sourced<Vec<CanIRow>>>,
    /// Probe outputs per node.
    pub probes: BTreeMap<String, Vec<Sourced<Vec<ProbeLine>>>>,
    /// resolv.conf files seen by probe pods, per node.
    pub probe_resolv: BTreeMap<String, Sourced<Vec<ResolvEntry>>>,
    /// Every problem found while reading, parsing and building.
    pub diagnostics: Vec<Diagnostic>,
    /// The layout most files were read as (where inputs live; kdiag's when
    /// nothing was read).
    pub layout: kdiag_bundle::Layout,
    /// The layout each bundle was read as, by index into `sources`; `None`
    /// for a bundle from which nothing was read.
    pub layouts: Vec<Option<kdiag_bundle::Layout>>,
    /// For each resource (`clusterroles`) the files that held a list of it
    /// or objects of it.
    pub resources: BTreeMap<String, Vec<String>>,
    /// The network inventory, built on first use (many derivations read it).
    pub(crate) inventory: std::sync::OnceLock<crate::inventory::NetworkInventory>,
}

impl Snapshot {
    /// Reads one bundle (a `.tar.gz`, `.tar` or directory) into a snapshot.
    pub fn load(
        path: &Path,
        limits: &Limits,
        patterns: &LogPatterns,
    ) -> Result<Snapshot, OpenError> {
        Self::load_many(&[path], limits, patterns)
    }

    /// Reads several bundles (e.g. a cluster bundle and node-only bundles)
    /// into one snapshot. The first copy of an object or node table wins;
    /// later copies are reported as diagnostics.
    pub fn load_many(
        paths: &[&Path],
        limits: &Limits,
        patterns: &LogPatterns,
    ) -> Result<Snapshot, OpenError> {
        Snapshot::load_observed(paths, limits, patterns, &mut |_, _| {})
    }

    /// [`Snapshot::load_many`], telling `observe` which bundle is being
    /// read and how many of its bytes have been read (for a progress bar).
    pub fn load_observed(
        paths: &[&Path],
        limits: &Limits,
        patterns: &LogPatterns,
        observe: &mut dyn FnMut(&Path, u64),
    ) -> Result<Snapshot, OpenError> {
        let mut builder = crate::build::Builder::new(patterns);
        for path in paths {
            builder.begin(&path.display().to_string());
            let summary = crate::timing::timed(
                || format!("read {}", path.display()),
                || {
                    kdiag_bundle::read_path_observed(path, limits, &mut builder, &mut |n| {
                        observe(path, n)
                    })
                },
            )?;
            builder.snapshot.reads.push(summary);
        }
        Ok(crate::timing::timed(
            || "index the snapshot".into(),
            || builder.finish(),
        ))
    }

    /// Reads a bundle from a byte stream (a tar or tar.gz in memory).
    pub fn load_stream(
        reader: impl std::io::Read,
        name: &str,
        limits: &Limits,
        patterns: &LogPatterns,
    ) -> Result<Snapshot, OpenError> {
        let mut builder = crate::build::Builder::new(patterns);
        builder.begin(name);
        let summary = kdiag_bundle::read_stream(reader, name, limits, &mut builder)?;
        builder.snapshot.reads.push(summary);
        Ok(builder.finish())
    }

    /// An object by kind, namespace (`""` for cluster-scoped) and name.
    pub fn object(&self, kind: &str, namespace: &str, name: &str) -> Option<&Located<KubeObject>> {
        self.index
            .get(&(kind.to_owned(), namespace.to_owned(), name.to_owned()))
            .map(|i| &self.objects[*i])
    }

    /// All readable objects of a kind, in reading order. An object that
    /// could not be read (`unreadable`) is left out here — its content is
    /// unknown — but [`Snapshot::object`] still finds it, so it is never
    /// taken for missing.
    pub fn objects_of<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = &'a Located<KubeObject>> + 'a {
        self.objects
            .iter()
            .filter(move |o| o.object.kind == kind && !o.object.unreadable)
    }

    /// Whether any file of the given resource list (e.g. `clusterroles`) was
    /// read. A file that failed to parse as a whole (no object, only
    /// diagnostics) does not count: checks over it answer *unknown*, never
    /// "missing".
    pub fn has_resource(&self, resource: &str) -> bool {
        self.resources.contains_key(resource)
    }

    /// The first file that held `resource`, for evidence of an absence.
    pub fn resource_file(&self, resource: &str) -> Option<&str> {
        self.resources
            .get(resource)
            .and_then(|f| f.first())
            .map(String::as_str)
    }

    /// Whether anything at all was read: a file with records, or a list
    /// that was read and found empty.
    pub fn read_anything(&self) -> bool {
        self.files
            .iter()
            .any(|f| f.layout.is_some() && f.role.is_input())
    }

    /// Pods scheduled on a node.
    pub fn pods_on<'a>(
        &'a self,
        node: &'a str,
    ) -> impl Iterator<Item = &'a Located<KubeObject>> + 'a {
        self.objects_of("Pod").filter(move |p| {
            p.object
                .value
                .pointer("/spec/nodeName")
                .and_then(|v| v.as_str())
                == Some(node)
        })
    }

    /// Pods whose labels include every pair of `selector`, optionally in one namespace.
    pub fn pods_matching<'a>(
        &'a self,
        namespace: Option<&'a str>,
        selector: &'a BTreeMap<String, String>,
    ) -> impl Iterator<Item = &'a Located<KubeObject>> + 'a {
        self.objects_of("Pod").filter(move |p| {
            namespace.is_none_or(|ns| p.object.namespace.as_deref() == Some(ns)) && {
                // Read in place: this runs per pod per selector.
                let labels = p.object.value.pointer("/metadata/labels");
                selector.iter().all(|(k, v)| {
                    labels
                        .and_then(|l| l.get(k))
                        .and_then(serde_json::Value::as_str)
                        == Some(v.as_str())
                })
            }
        })
    }

    /// Logs of one pod (all containers, current and previous).
    pub fn logs_of<'a>(
        &'a self,
        namespace: &'a str,
        pod: &'a str,
    ) -> impl Iterator<Item = &'a LogStream> + 'a {
        self.logs
            .iter()
            .filter(move |l| l.namespace == namespace && l.pod == pod)
    }

    /// Where an input lives in this bundle's layout: the path it has, or
    /// would have had.
    pub fn path_of(&self, input: &kdiag_bundle::Input) -> String {
        input.path_in(self.layout)
    }

    /// The manifest's record of the command that was to write `path`, if any.
    pub fn command_for(&self, path: &str) -> Option<&kdiag_bundle::CommandRecord> {
        self.manifest
            .as_ref()
            .and_then(|m| m.value.command_for(path))
    }
}

/// Whether an input is in the bundle, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum InputStatus<'a> {
    /// The file is in the bundle.
    Present,
    /// The collector ran the command and it failed (exit code, stderr).
    Failed {
        /// The manifest's record.
        command: &'a kdiag_bundle::CommandRecord,
    },
    /// Nothing in the bundle or its manifest says it was collected.
    NotCollected,
}

impl Snapshot {
    /// Tells "collected", "collected and failed" and "not collected" apart
    /// for a bundle path, from the files read and the manifest. A node-side
    /// command that wrote nothing is matched by node and file name.
    pub fn input_status(&self, path: &str) -> InputStatus<'_> {
        if self.files.iter().any(|f| f.path == path) {
            return InputStatus::Present;
        }
        let Some(m) = &self.manifest else {
            return InputStatus::NotCollected;
        };
        if let Some(c) = m.value.command_for(path).filter(|c| !c.succeeded()) {
            return InputStatus::Failed { command: c };
        }
        // `nodes/<node>/<file>`: a failed node command may have no output path.
        if let Some(("nodes", rest)) = path.split_once('/')
            && let Some((node, _)) = rest.split_once('/')
            && let Some(tool) = node_file_tool(path)
            && let Some(c) = m.value.commands.iter().find(|c| {
                c.node.as_deref() == Some(node)
                    && !c.succeeded()
                    && c.output.is_none()
                    && c.argv.first().is_some_and(|a| a == tool)
            })
        {
            return InputStatus::Failed { command: c };
        }
        InputStatus::NotCollected
    }
}

/// The program that writes a node file (BUNDLE-FORMAT.md), to match failed
/// commands that recorded no output path.
fn node_file_tool(path: &str) -> Option<&'static str> {
    let file = path.rsplit('/').next()?;
    Some(match file {
        "ip-addr.txt" | "ip-link.txt" | "ip-route.txt" | "ip-neigh.txt" | "ip-addr.json"
        | "ip-link.json" | "ip-route.json" | "ip-neigh.json" => "ip",
        "bridge-fdb.txt" => "bridge",
        "iptables-save.txt" => "iptables-save",
        "ipvsadm.txt" => "ipvsadm",
        "sysctl.txt" => "sysctl",
        "lsmod.txt" => "lsmod",
        "selinux.txt" => "getenforce",
        "firewalld.txt" => "systemctl",
        _ => return None,
    })
}
