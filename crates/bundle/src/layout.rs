//! What a bundle path means. Every layout kdiag reads — its own
//! (BUNDLE-FORMAT.md), troubleshoot.sh's, sonobuoy results, `kubectl
//! cluster-info dump`, OpenShift must-gather, sosreport, and any files of
//! `kubectl get` output — maps onto [`FileRole`], so that the rest of kdiag
//! sees one meaning whatever collected the bundle.
//!
//! A layout is found in each path wherever it starts (an archive may have no
//! wrapping directory, a `./` prefix, several top-level directories, or a
//! bundle nested a level or two down), never guessed from the first entry.

use crate::input::Layout;
use serde::Serialize;

/// Serialization of a structured file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DataFormat {
    /// `.yaml` / `.yml`
    Yaml,
    /// `.json`
    Json,
}

/// A host-state file under `nodes/<node>/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "name")]
pub enum NodeFile {
    /// `ip addr show`
    IpAddr,
    /// `ip -d link show`
    IpLink,
    /// `ip route show`
    IpRoute,
    /// `ip neigh show`
    IpNeigh,
    /// `bridge fdb show`
    BridgeFdb,
    /// `ip -j -d addr`
    IpAddrJson,
    /// `ip -j -d link`
    IpLinkJson,
    /// `ip -j -d route`
    IpRouteJson,
    /// `ip -j -d neigh`
    IpNeighJson,
    /// `iptables-save`
    IptablesSave,
    /// `ipvsadm -Ln`
    Ipvsadm,
    /// `sysctl -a` (or troubleshoot.sh's `/proc/sys/...` dump)
    Sysctl,
    /// `lsmod`
    Lsmod,
    /// the host's `/etc/resolv.conf`
    ResolvConf,
    /// `/var/lib/kubelet/config.yaml`
    KubeletConfig,
    /// `journalctl -u kubelet`
    KubeletLog,
    /// The kubelet's `/configz` answer (`{"kubeletconfig": {...}}`, sonobuoy).
    KubeletConfigz,
    /// `nft list ruleset`
    NftRuleset,
    /// a file of `/etc/cni/net.d/`
    Cni(String),
    /// `/run/flannel/subnet.env`
    FlannelSubnetEnv,
    /// `systemctl is-active firewalld` (+ `firewall-cmd --list-all`)
    Firewalld,
    /// `getenforce`
    Selinux,
    /// any other file under the node's directory
    Other(String),
}

/// The meaning of one file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case", tag = "role")]
pub enum FileRole {
    /// `manifest.json`
    Manifest,
    /// the collector's own log
    CollectorLog,
    /// `cluster/version.yaml`, or troubleshoot's `cluster-info/cluster_version.json`
    ClusterVersion {
        /// YAML or JSON
        format: DataFormat,
    },
    /// A list of Kubernetes objects of one resource (`cluster/pods.yaml`,
    /// troubleshoot's `cluster-resources/pods/<ns>.json`).
    KubeList {
        /// Plural resource name, e.g. `pods`, `clusterrolebindings`.
        resource: String,
        /// The namespace the file was collected for, when the layout says.
        namespace: Option<String>,
        /// YAML or JSON
        format: DataFormat,
    },
    /// `cluster/can-i/<namespace>.<serviceaccount>.txt`
    CanI {
        /// The service account's namespace.
        namespace: String,
        /// The service account's name.
        serviceaccount: String,
    },
    /// A container log (`logs/<ns>/<pod>/<container>[.previous].log`).
    ContainerLog {
        /// Pod namespace.
        namespace: String,
        /// Pod name.
        pod: String,
        /// Container name.
        container: String,
        /// The previous instance of the container.
        previous: bool,
    },
    /// A host-state file of one node.
    Node {
        /// The node's name.
        node: String,
        /// Which file.
        file: NodeFile,
    },
    /// `probes/<node>/<name>`
    Probe {
        /// The node the probe pod ran on.
        node: String,
        /// The probe's file name.
        name: String,
    },
    /// Kubernetes objects recognised by their content (`kind: List`, one
    /// object, a bare array, several documents, kubectl 1.13's internal
    /// types, `cluster-info dump`'s concatenated lists), whatever the name.
    KubeContent {
        /// The resource the path suggests (`pods` for `pods.json`), for items
        /// that do not say their kind.
        resource: Option<String>,
        /// The namespace the path suggests.
        namespace: Option<String>,
        /// The layout says this file holds objects: failing to read them is
        /// reported. Otherwise the file is only tried, and quietly left
        /// unread when it is not Kubernetes objects.
        expected: bool,
    },
    /// `kubectl cluster-info dump`'s `<ns>/<pod>/logs.txt`: each container's
    /// log between `==== START logs for container ... ====` markers.
    SectionedLogs {
        /// Pod namespace.
        namespace: String,
        /// Pod name.
        pod: String,
    },
    /// A file of a known layout that holds nothing kdiag reads (sonobuoy's
    /// plugin results, must-gather's timestamps): listed, not parsed.
    Known {
        /// What it is.
        what: String,
    },
    /// troubleshoot.sh's `dns/debug.json` (a DNS probe from one pod).
    TroubleshootDnsDebug,
    /// troubleshoot.sh's `version.yaml` (the collector's version).
    TroubleshootVersion,
    /// Anything kdiag does not read.
    Other,
}

impl FileRole {
    /// Whether the file is an input kdiag reads (not only listed: the
    /// collector's log, troubleshoot.sh's version, a layout's known files).
    pub fn is_input(&self) -> bool {
        !matches!(
            self,
            FileRole::Other
                | FileRole::Known { .. }
                | FileRole::CollectorLog
                | FileRole::TroubleshootVersion
        )
    }

    /// A short name for this kind of file, for listings.
    pub fn label(&self) -> String {
        match self {
            FileRole::Manifest => "manifest".into(),
            FileRole::CollectorLog => "collector log".into(),
            FileRole::ClusterVersion { .. } => "cluster version".into(),
            FileRole::KubeList { resource, .. } => format!("kubernetes {resource}"),
            FileRole::CanI { .. } => "can-i list".into(),
            FileRole::ContainerLog { previous: true, .. } => "container log (previous)".into(),
            FileRole::ContainerLog { .. } => "container log".into(),
            FileRole::Node { file, .. } => format!("node {}", node_file_label(file)),
            FileRole::Probe { .. } => "probe output".into(),
            FileRole::TroubleshootDnsDebug => "dns probe (troubleshoot)".into(),
            FileRole::TroubleshootVersion => "troubleshoot version".into(),
            FileRole::KubeContent {
                resource: Some(r), ..
            } => format!("kubernetes {r}"),
            FileRole::KubeContent { .. } => "kubernetes objects".into(),
            FileRole::SectionedLogs { .. } => "container logs (cluster-info dump)".into(),
            FileRole::Known { what } => format!("not read ({what})"),
            FileRole::Other => "not read".into(),
        }
    }
}

fn node_file_label(f: &NodeFile) -> &str {
    match f {
        NodeFile::IpAddr => "ip addr",
        NodeFile::IpLink => "ip link",
        NodeFile::IpRoute => "ip route",
        NodeFile::IpNeigh => "ip neigh",
        NodeFile::BridgeFdb => "bridge fdb",
        NodeFile::IpAddrJson => "ip -j addr",
        NodeFile::IpLinkJson => "ip -j link",
        NodeFile::IpRouteJson => "ip -j route",
        NodeFile::IpNeighJson => "ip -j neigh",
        NodeFile::IptablesSave => "iptables-save",
        NodeFile::Ipvsadm => "ipvsadm",
        NodeFile::Sysctl => "sysctl",
        NodeFile::Lsmod => "lsmod",
        NodeFile::ResolvConf => "resolv.conf",
        NodeFile::KubeletConfig => "kubelet config",
        NodeFile::KubeletLog => "kubelet log",
        NodeFile::KubeletConfigz => "kubelet configz",
        NodeFile::NftRuleset => "nft ruleset",
        NodeFile::Cni(_) => "cni config",
        NodeFile::FlannelSubnetEnv => "flannel subnet.env",
        NodeFile::Firewalld => "firewalld",
        NodeFile::Selinux => "selinux",
        NodeFile::Other(_) => "other",
    }
}

/// A path's layout and meaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classified {
    /// The layout the path belongs to.
    pub layout: Layout,
    /// What the file holds.
    pub role: FileRole,
}

/// How many leading directories may wrap a bundle inside an archive
/// (`must-gather.local.N/<image>/...` has two).
const MAX_WRAPPING: usize = 3;

/// Says what a path (as it is in the archive) holds.
pub fn classify(path: &str) -> FileRole {
    classify_in(path).role
}

/// Says which layout a path (as it is in the archive) belongs to and what
/// it holds. Each layout's own directories are looked for at the top and
/// under up to three wrapping directories, nearest the top first; a file
/// no layout claims is tried as `kubectl get` output by content.
pub fn classify_in(path: &str) -> Classified {
    let parts: Vec<&str> = path.split('/').collect();
    let wrapping = MAX_WRAPPING.min(parts.len().saturating_sub(1));
    for start in 0..=wrapping {
        let rest = &parts[start..];
        let wrapper = start.checked_sub(1).map(|i| parts[i]);
        let found = kdiag(rest)
            .map(|r| (Layout::Kdiag, r))
            .or_else(|| troubleshoot(rest).map(|r| (Layout::Troubleshoot, r)))
            .or_else(|| sonobuoy(rest).map(|r| (Layout::Sonobuoy, r)))
            .or_else(|| must_gather(rest).map(|r| (Layout::MustGather, r)))
            .or_else(|| sosreport(rest, wrapper).map(|r| (Layout::Sosreport, r)));
        if let Some((layout, role)) = found {
            return Classified { layout, role };
        }
    }
    if let Some(role) = cluster_info_dump(&parts) {
        return Classified {
            layout: Layout::ClusterInfoDump,
            role,
        };
    }
    let file = parts.last().copied().unwrap_or_default();
    let role = if is_binary_name(file) {
        FileRole::Other
    } else {
        FileRole::KubeContent {
            resource: resource_hint(file),
            namespace: None,
            expected: false,
        }
    };
    Classified {
        layout: Layout::Kubectl,
        role,
    }
}

fn kdiag(parts: &[&str]) -> Option<FileRole> {
    Some(match parts {
        ["manifest.json"] => FileRole::Manifest,
        ["collector.log"] => FileRole::CollectorLog,
        ["cluster", "can-i", file] => can_i(file),
        ["cluster", file] => match split_ext(file) {
            Some(("version", format)) => FileRole::ClusterVersion { format },
            Some((resource, format)) => FileRole::KubeList {
                resource: resource.to_owned(),
                namespace: None,
                format,
            },
            None => FileRole::Other,
        },
        ["logs", ns, pod, file] => match file.strip_suffix(".previous.log") {
            Some(c) => log(ns, pod, c, true),
            None => file
                .strip_suffix(".log")
                .map_or(FileRole::Other, |c| log(ns, pod, c, false)),
        },
        ["nodes", node, "cni", file] => FileRole::Node {
            node: (*node).into(),
            file: NodeFile::Cni((*file).into()),
        },
        ["nodes", node, file] => FileRole::Node {
            node: (*node).into(),
            file: node_file(file),
        },
        ["probes", node, name] => FileRole::Probe {
            node: (*node).into(),
            name: (*name).into(),
        },
        _ => return None,
    })
}

fn troubleshoot(parts: &[&str]) -> Option<FileRole> {
    Some(match parts {
        ["version.yaml"] => FileRole::TroubleshootVersion,
        ["cluster-info", "cluster_version.json"] => FileRole::ClusterVersion {
            format: DataFormat::Json,
        },
        ["cluster-resources", "pods", "logs", ns, pod, file] => {
            match file.strip_suffix("-previous.log") {
                Some(c) => log(ns, pod, c, true),
                None => file
                    .strip_suffix(".log")
                    .map_or(FileRole::Other, |c| log(ns, pod, c, false)),
            }
        }
        ["cluster-resources", file] => match split_ext(file) {
            Some((kind, format)) => troubleshoot_list(kind, None, format),
            None => FileRole::Other,
        },
        ["cluster-resources", "custom-resources", crd, file] => match split_ext(file) {
            Some((ns, format)) => FileRole::KubeList {
                resource: (*crd).into(),
                namespace: Some(ns.into()),
                format,
            },
            None => FileRole::Other,
        },
        ["cluster-resources", kind, file] => match split_ext(file) {
            Some((ns, format)) => troubleshoot_list(kind, Some(ns), format),
            None => FileRole::Other,
        },
        ["sysctl", node] => FileRole::Node {
            node: (*node).into(),
            file: NodeFile::Sysctl,
        },
        ["dns", "debug.json"] => FileRole::TroubleshootDnsDebug,
        ["analysis.json"] | ["execution-data", ..] | ["host-collectors", ..] => FileRole::Known {
            what: "troubleshoot.sh analysis".into(),
        },
        // Secrets, image pull secrets and the like: troubleshoot.sh's, not read.
        ["cluster-resources", ..] => FileRole::Other,
        _ => return None,
    })
}

/// sonobuoy results: `resources/cluster/<file>.json`,
/// `resources/ns/<ns>/<file>.json` (`core_v1_pods.json`, or `Pods.json`
/// before sonobuoy 0.14), `podlogs/`, `hosts/<node>/`, `plugins/`, `meta/`.
fn sonobuoy(parts: &[&str]) -> Option<FileRole> {
    let objects = |file: &str, namespace: Option<&str>| {
        let stem = file.strip_suffix(".json")?;
        Some(FileRole::KubeContent {
            resource: Some(sonobuoy_resource(stem)),
            namespace: namespace.map(str::to_owned),
            expected: true,
        })
    };
    let known = |what: &str| {
        Some(FileRole::Known {
            what: what.to_owned(),
        })
    };
    match parts {
        ["resources", "cluster", file] => objects(file, None),
        ["resources", "ns", ns, file] => objects(file, Some(ns)),
        ["podlogs", ns, pod, "logs", file] => {
            let container = file
                .strip_suffix(".txt")
                .or_else(|| file.strip_suffix(".log"))?;
            Some(match container.strip_suffix("-previous") {
                Some(c) => log(ns, pod, c, true),
                None => log(ns, pod, container, false),
            })
        }
        ["hosts", node, "configz.json"] => Some(FileRole::Node {
            node: (*node).into(),
            file: NodeFile::KubeletConfigz,
        }),
        ["hosts", _, "healthz.json"] => known("kubelet healthz"),
        ["serverversion.json"] => Some(FileRole::ClusterVersion {
            format: DataFormat::Json,
        }),
        ["servergroups.json"] => known("API groups"),
        [
            "meta",
            "config.json" | "run.log" | "query-time.json" | "info.json",
        ] => known("sonobuoy run metadata"),
        ["plugins", "systemd_logs" | "systemd-logs", ..] => known("systemd journal"),
        [
            "plugins",
            _,
            "sonobuoy_results.yaml" | "definition.json" | "defintion.json",
        ] => known("plugin results"),
        ["plugins", _, "results", ..] => known("plugin results"),
        _ => None,
    }
}

/// `core_v1_pods` → `pods`; `rbac.authorization.k8s.io_v1_clusterroles` →
/// `clusterroles`; `Pods` → `pods` (sonobuoy 0.10).
fn sonobuoy_resource(stem: &str) -> String {
    stem.rsplit('_').next().unwrap_or(stem).to_ascii_lowercase()
}

fn yaml_stem(file: &str) -> Option<&str> {
    file.strip_suffix(".yaml")
        .or_else(|| file.strip_suffix(".yml"))
        .or_else(|| file.strip_suffix(".json"))
}

/// OpenShift must-gather: `cluster-scoped-resources/<group>/<resource>.yaml`
/// or `.../<resource>/<name>.yaml`, `namespaces/<ns>/<group>/<resource>.yaml`
/// or `.../<resource>/<name>.yaml`, `namespaces/<ns>/pods/<pod>/<pod>.yaml`
/// and pod logs under `namespaces/<ns>/pods/<pod>/<container>/<container>/logs/`.
fn must_gather(parts: &[&str]) -> Option<FileRole> {
    let objects = |resource: &str, namespace: Option<&str>| FileRole::KubeContent {
        resource: Some(resource.to_owned()),
        namespace: namespace.map(str::to_owned),
        expected: true,
    };
    Some(match parts {
        ["namespaces", ns, "pods", pod, container, _, "logs", file] => {
            let previous = file.starts_with("previous");
            if !file.ends_with(".log") {
                return None;
            }
            log(ns, pod, container, previous)
        }
        ["namespaces", ns, "pods", _, file] => {
            yaml_stem(file)?;
            objects("pods", Some(ns))
        }
        ["namespaces", ns, file] => {
            yaml_stem(file)?;
            objects("namespaces", Some(ns))
        }
        ["namespaces", ns, _group, file] => objects(yaml_stem(file)?, Some(ns)),
        ["namespaces", ns, _group, resource, file] => {
            yaml_stem(file)?;
            objects(resource, Some(ns))
        }
        ["cluster-scoped-resources", _group, file] => objects(yaml_stem(file)?, None),
        ["cluster-scoped-resources", _group, resource, file] => {
            yaml_stem(file)?;
            objects(resource, None)
        }
        _ => return None,
    })
}

/// A sosreport: one host's state under `sos_commands/<plugin>/<command>`
/// and copies of its files (`etc/resolv.conf`). The host is named by the
/// report's directory (`sosreport-<host>...`), or `sosreport` without one.
fn sosreport(parts: &[&str], wrapper: Option<&str>) -> Option<FileRole> {
    let node = match wrapper {
        Some(w) => w.strip_prefix("sosreport-").unwrap_or(w).to_owned(),
        None => "sosreport".to_owned(),
    };
    let on_node = |file: NodeFile| {
        Some(FileRole::Node {
            node: node.clone(),
            file,
        })
    };
    match parts {
        ["sos_commands", plugin, command] => match sos_command(plugin, command) {
            Some(file) => on_node(file),
            None => Some(FileRole::Known {
                what: "sosreport command output".into(),
            }),
        },
        ["sos_commands", ..] | ["sos_reports", ..] | ["sos_logs", ..] => Some(FileRole::Known {
            what: "sosreport command output".into(),
        }),
        // `etc/resolv.conf` alone says sosreport only inside a report's
        // directory or at the top of an archive.
        ["etc", "resolv.conf"]
            if wrapper.is_none_or(|w| w.starts_with("sosreport") || w.starts_with("sos")) =>
        {
            on_node(NodeFile::ResolvConf)
        }
        _ => None,
    }
}

/// The node file a sosreport command's output is.
fn sos_command(plugin: &str, command: &str) -> Option<NodeFile> {
    Some(match (plugin, command) {
        ("networking", c)
            if c.starts_with("ip_route_show_table_all")
                || c == "ip_route"
                || c == "ip_route_show" =>
        {
            NodeFile::IpRoute
        }
        ("networking", c) if c.starts_with("ip_-s_-s_neigh") || c.starts_with("ip_neigh") => {
            NodeFile::IpNeigh
        }
        ("networking", c) if c.starts_with("bridge_") && c.contains("fdb") => NodeFile::BridgeFdb,
        ("networking", "ip_-d_address" | "ip_address" | "ip_addr" | "ip_-d_addr") => {
            NodeFile::IpAddr
        }
        ("networking", c) if c.starts_with("ip_") && c.ends_with("_link") => NodeFile::IpLink,
        ("networking", "nft_list_ruleset") | ("nftables", "nft_list_ruleset") => {
            NodeFile::NftRuleset
        }
        ("networking" | "firewalld" | "iptables", "iptables-save") => NodeFile::IptablesSave,
        ("networking" | "ipvs", c)
            if c.starts_with("ipvsadm_-Ln") || c.starts_with("ipvsadm_-L_-n") =>
        {
            NodeFile::Ipvsadm
        }
        ("kernel", "sysctl_-a") => NodeFile::Sysctl,
        ("kernel", "lsmod") => NodeFile::Lsmod,
        ("selinux", c) if c.starts_with("sestatus") || c == "getenforce" => NodeFile::Selinux,
        _ => return None,
    })
}

/// `kubectl cluster-info dump --output-directory`: `nodes.json`,
/// `<ns>/<resource>.json`, `<ns>/<pod>/logs.txt`, named by their last parts.
fn cluster_info_dump(parts: &[&str]) -> Option<FileRole> {
    const LISTS: &[&str] = &[
        "events",
        "replication-controllers",
        "services",
        "daemonsets",
        "deployments",
        "replicasets",
        "pods",
    ];
    match parts {
        [.., ns, pod, "logs.txt"] => Some(FileRole::SectionedLogs {
            namespace: (*ns).into(),
            pod: (*pod).into(),
        }),
        [.., "nodes.json"] => Some(FileRole::KubeContent {
            resource: Some("nodes".into()),
            namespace: None,
            expected: true,
        }),
        [.., ns, file] => {
            let stem = file.strip_suffix(".json")?;
            LISTS.contains(&stem).then(|| FileRole::KubeContent {
                resource: Some(stem.replace('-', "")),
                namespace: Some((*ns).into()),
                expected: true,
            })
        }
        _ => None,
    }
}

/// File names that are never Kubernetes objects or node state.
fn is_binary_name(file: &str) -> bool {
    let lower = file.to_ascii_lowercase();
    [
        ".html", ".xml", ".png", ".jpg", ".gz", ".tgz", ".xz", ".zst", ".zip", ".tar", ".pem",
        ".crt", ".key", ".db", ".so", ".bin",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext))
}

/// The resource a file name suggests, for kind-less items: `pods.json` →
/// `pods`. Names that are not a resource (`all-pods.yaml`) suggest nothing.
fn resource_hint(file: &str) -> Option<String> {
    let stem = split_ext(file).map_or(file, |(stem, _)| stem);
    let lower = stem.to_ascii_lowercase();
    KNOWN_RESOURCES.contains(&lower.as_str()).then_some(lower)
}

/// Resources whose plural name, as a file name, says what a kind-less list holds.
const KNOWN_RESOURCES: &[&str] = &[
    "nodes",
    "pods",
    "services",
    "endpoints",
    "endpointslices",
    "configmaps",
    "daemonsets",
    "deployments",
    "replicasets",
    "serviceaccounts",
    "clusterroles",
    "clusterrolebindings",
    "roles",
    "rolebindings",
    "events",
    "namespaces",
    "networkpolicies",
];

fn log(ns: &str, pod: &str, container: &str, previous: bool) -> FileRole {
    FileRole::ContainerLog {
        namespace: ns.into(),
        pod: pod.into(),
        container: container.into(),
        previous,
    }
}

fn split_ext(file: &str) -> Option<(&str, DataFormat)> {
    if let Some(stem) = file
        .strip_suffix(".yaml")
        .or_else(|| file.strip_suffix(".yml"))
    {
        Some((stem, DataFormat::Yaml))
    } else {
        file.strip_suffix(".json")
            .map(|stem| (stem, DataFormat::Json))
    }
}

fn can_i(file: &str) -> FileRole {
    match file.strip_suffix(".txt").and_then(|s| s.split_once('.')) {
        Some((namespace, serviceaccount))
            if !namespace.is_empty() && !serviceaccount.is_empty() =>
        {
            FileRole::CanI {
                namespace: namespace.into(),
                serviceaccount: serviceaccount.into(),
            }
        }
        _ => FileRole::Other,
    }
}

fn node_file(file: &str) -> NodeFile {
    match file {
        "ip-addr.txt" => NodeFile::IpAddr,
        "ip-link.txt" => NodeFile::IpLink,
        "ip-route.txt" => NodeFile::IpRoute,
        "ip-neigh.txt" => NodeFile::IpNeigh,
        "bridge-fdb.txt" => NodeFile::BridgeFdb,
        "ip-addr.json" => NodeFile::IpAddrJson,
        "ip-link.json" => NodeFile::IpLinkJson,
        "ip-route.json" => NodeFile::IpRouteJson,
        "ip-neigh.json" => NodeFile::IpNeighJson,
        "iptables-save.txt" => NodeFile::IptablesSave,
        "ipvsadm.txt" => NodeFile::Ipvsadm,
        "sysctl.txt" => NodeFile::Sysctl,
        "lsmod.txt" => NodeFile::Lsmod,
        "resolv.conf" => NodeFile::ResolvConf,
        "kubelet-config.yaml" => NodeFile::KubeletConfig,
        "kubelet.log" => NodeFile::KubeletLog,
        "flannel-subnet.env" => NodeFile::FlannelSubnetEnv,
        "firewalld.txt" => NodeFile::Firewalld,
        "selinux.txt" => NodeFile::Selinux,
        other => NodeFile::Other(other.into()),
    }
}

/// troubleshoot.sh names some resources its own way, and stores API
/// discovery, its own permissions and secrets beside the lists; only real
/// object lists are mapped.
fn troubleshoot_list(kind: &str, namespace: Option<&str>, format: DataFormat) -> FileRole {
    // Older bundles name some files in camel case (`clusterRoleBindings.json`).
    let lower = kind.to_ascii_lowercase();
    let resource = match lower.as_str() {
        "groups" | "resources" | "auth-cani-list" | "image-pull-secrets" | "secrets" => {
            return FileRole::Other;
        }
        "pvs" => "persistentvolumes",
        "pvcs" => "persistentvolumeclaims",
        "network-policy" => "networkpolicies",
        "resource-quota" => "resourcequotas",
        "pod-disruption-budgets" => "poddisruptionbudgets",
        "custom-resource-definitions" => "customresourcedefinitions",
        "storage-classes" => "storageclasses",
        "ingress" => "ingresses",
        other => other,
    };
    FileRole::KubeList {
        resource: resource.into(),
        namespace: namespace.map(str::to_owned),
        format,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kdiag_layout() {
        assert_eq!(
            classify("cluster/nodes.yaml"),
            FileRole::KubeList {
                resource: "nodes".into(),
                namespace: None,
                format: DataFormat::Yaml
            }
        );
        assert_eq!(
            classify("cluster/version.yaml"),
            FileRole::ClusterVersion {
                format: DataFormat::Yaml
            }
        );
        assert_eq!(
            classify("cluster/can-i/kube-system.kube-proxy.txt"),
            FileRole::CanI {
                namespace: "kube-system".into(),
                serviceaccount: "kube-proxy".into()
            }
        );
        assert_eq!(
            classify("logs/kube-system/kube-proxy-x/kube-proxy.previous.log"),
            FileRole::ContainerLog {
                namespace: "kube-system".into(),
                pod: "kube-proxy-x".into(),
                container: "kube-proxy".into(),
                previous: true
            }
        );
        assert_eq!(
            classify("nodes/w1/ip-route.txt"),
            FileRole::Node {
                node: "w1".into(),
                file: NodeFile::IpRoute
            }
        );
        assert_eq!(
            classify("nodes/w1/cni/10-flannel.conflist"),
            FileRole::Node {
                node: "w1".into(),
                file: NodeFile::Cni("10-flannel.conflist".into())
            }
        );
        assert_eq!(
            classify("probes/w1/dns-clusterip.txt"),
            FileRole::Probe {
                node: "w1".into(),
                name: "dns-clusterip.txt".into()
            }
        );
    }

    #[test]
    fn troubleshoot_layout() {
        assert_eq!(
            classify("cluster-resources/pods/kube-system.json"),
            FileRole::KubeList {
                resource: "pods".into(),
                namespace: Some("kube-system".into()),
                format: DataFormat::Json
            }
        );
        assert_eq!(
            classify("cluster-resources/pvs.json"),
            FileRole::KubeList {
                resource: "persistentvolumes".into(),
                namespace: None,
                format: DataFormat::Json
            }
        );
        assert_eq!(
            classify("cluster-resources/pods/logs/kube-system/coredns-1/coredns-previous.log"),
            FileRole::ContainerLog {
                namespace: "kube-system".into(),
                pod: "coredns-1".into(),
                container: "coredns".into(),
                previous: true
            }
        );
        assert_eq!(classify("cluster-resources/groups.json"), FileRole::Other);
        assert_eq!(
            classify("cluster-resources/image-pull-secrets/default/registry-creds.json"),
            FileRole::Other
        );
        assert_eq!(
            classify("sysctl/primary-node"),
            FileRole::Node {
                node: "primary-node".into(),
                file: NodeFile::Sysctl
            }
        );
        assert_eq!(
            classify("cluster-info/cluster_version.json"),
            FileRole::ClusterVersion {
                format: DataFormat::Json
            }
        );
    }
}
