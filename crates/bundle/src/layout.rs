//! What a bundle path means. kdiag's own layout (BUNDLE-FORMAT.md) and the
//! troubleshoot.sh support-bundle layout both map onto [`FileRole`], so that
//! the rest of kdiag sees one meaning whatever collected the bundle.

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
    /// troubleshoot.sh's `dns/debug.json` (a DNS probe from one pod).
    TroubleshootDnsDebug,
    /// troubleshoot.sh's `version.yaml` (the collector's version).
    TroubleshootVersion,
    /// Anything kdiag does not read.
    Other,
}

impl FileRole {
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
        NodeFile::Cni(_) => "cni config",
        NodeFile::FlannelSubnetEnv => "flannel subnet.env",
        NodeFile::Firewalld => "firewalld",
        NodeFile::Selinux => "selinux",
        NodeFile::Other(_) => "other",
    }
}

/// Says what a path (relative to the bundle root) holds.
pub fn classify(path: &str) -> FileRole {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
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
        // troubleshoot.sh layout
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
        _ => FileRole::Other,
    }
}

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
