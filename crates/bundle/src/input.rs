//! Inputs, named by what they are: the model and the rules say "the Services
//! list" or "gpu-worker-2's routes", and only this module knows where a
//! layout keeps them, so an *unknown* names the file the bundle at hand
//! would have held.

use serde::Serialize;
use std::fmt;

/// Something a check needs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "input", rename_all = "kebab-case")]
pub enum Input {
    /// A list of Kubernetes objects, by resource (`services`, `clusterroles`).
    Resource {
        /// The plural resource name.
        resource: String,
    },
    /// The cluster's version.
    Version,
    /// One node's host state.
    Node {
        /// Node name.
        node: String,
        /// Which table.
        table: NodeInput,
    },
    /// The DNS probe pods' `resolv.conf`, on any node.
    ProbeResolvConf,
    /// Something no layout holds as one file, described (e.g. "the version
    /// of coredns (its image tag)").
    Described {
        /// What it is.
        what: String,
    },
}

/// A node's host table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeInput {
    /// `ip route`.
    Routes,
    /// `ip neigh`.
    Neighbors,
    /// `bridge fdb`.
    Fdb,
    /// `ip -d link`.
    Links,
    /// `ip addr`.
    Addresses,
    /// `sysctl -a`.
    Sysctl,
    /// `lsmod`.
    Modules,
    /// `iptables-save`.
    Iptables,
    /// `ipvsadm -Ln`.
    Ipvs,
    /// The node's `/etc/resolv.conf`.
    ResolvConf,
    /// The kubelet's configuration.
    KubeletConfig,
    /// firewalld's state.
    Firewalld,
    /// SELinux mode.
    Selinux,
}

impl NodeInput {
    /// The file kdiag's layout keeps it in, under `nodes/<node>/`.
    pub fn kdiag_file(self) -> &'static str {
        match self {
            NodeInput::Routes => "ip-route.txt",
            NodeInput::Neighbors => "ip-neigh.txt",
            NodeInput::Fdb => "bridge-fdb.txt",
            NodeInput::Links => "ip-link.txt",
            NodeInput::Addresses => "ip-addr.txt",
            NodeInput::Sysctl => "sysctl.txt",
            NodeInput::Modules => "lsmod.txt",
            NodeInput::Iptables => "iptables-save.txt",
            NodeInput::Ipvs => "ipvsadm.txt",
            NodeInput::ResolvConf => "resolv.conf",
            NodeInput::KubeletConfig => "kubelet-config.yaml",
            NodeInput::Firewalld => "firewalld.txt",
            NodeInput::Selinux => "selinux.txt",
        }
    }
}

/// The layouts kdiag reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// kdiag's own (BUNDLE-FORMAT.md).
    #[default]
    Kdiag,
    /// troubleshoot.sh's support bundle (current, and the older bare-array form).
    Troubleshoot,
    /// sonobuoy results.
    Sonobuoy,
    /// `kubectl cluster-info dump` (`--output-directory`, or its stdout).
    ClusterInfoDump,
    /// OpenShift `oc adm must-gather`.
    MustGather,
    /// A sosreport of one host.
    Sosreport,
    /// Files of `kubectl get -o yaml|json` output, recognised by content.
    Kubectl,
}

impl Layout {
    /// Every layout, in the order they are described.
    pub const ALL: [Layout; 7] = [
        Layout::Kdiag,
        Layout::Troubleshoot,
        Layout::Sonobuoy,
        Layout::ClusterInfoDump,
        Layout::MustGather,
        Layout::Sosreport,
        Layout::Kubectl,
    ];

    /// The layout's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Layout::Kdiag => "kdiag bundle",
            Layout::Troubleshoot => "troubleshoot.sh support bundle",
            Layout::Sonobuoy => "sonobuoy results",
            Layout::ClusterInfoDump => "kubectl cluster-info dump",
            Layout::MustGather => "OpenShift must-gather",
            Layout::Sosreport => "sosreport",
            Layout::Kubectl => "kubectl get output",
        }
    }

    /// What kdiag reads in this layout, in one line, for the message that
    /// says nothing was read.
    pub fn describe(self) -> &'static str {
        match self {
            Layout::Kdiag => "manifest.json, cluster/*.yaml, logs/, nodes/<node>/, probes/",
            Layout::Troubleshoot => "cluster-resources/, cluster-info/, sysctl/, dns/",
            Layout::Sonobuoy => {
                "resources/cluster/, resources/ns/<ns>/, podlogs/, hosts/<node>/configz.json, serverversion.json"
            }
            Layout::ClusterInfoDump => {
                "nodes.json, <ns>/<resource>.json, <ns>/<pod>/logs.txt, or its stdout as one file"
            }
            Layout::MustGather => {
                "cluster-scoped-resources/, namespaces/<ns>/, pod logs under namespaces/<ns>/pods/"
            }
            Layout::Sosreport => {
                "sos_commands/networking/, sos_commands/kernel/, sos_commands/selinux/, etc/resolv.conf"
            }
            Layout::Kubectl => {
                "any .yaml/.json file of Kubernetes objects (kind: List, objects, bare arrays), whatever its name"
            }
        }
    }

    /// The layout most of `files` were read as: the layout of the most
    /// files, a specific layout winning over plain kubectl output.
    pub fn main<I: IntoIterator<Item = Layout>>(files: I) -> Option<Layout> {
        let mut counts = std::collections::BTreeMap::<Layout, usize>::new();
        for l in files {
            *counts.entry(l).or_default() += 1;
        }
        counts
            .iter()
            .filter(|(l, _)| **l != Layout::Kubectl)
            .max_by_key(|(l, n)| (**n, std::cmp::Reverse(**l)))
            .map(|(l, _)| *l)
            .or_else(|| {
                counts
                    .contains_key(&Layout::Kubectl)
                    .then_some(Layout::Kubectl)
            })
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Resources troubleshoot.sh writes one file per namespace for.
const NAMESPACED: &[&str] = &[
    "pods",
    "services",
    "endpoints",
    "endpointslices",
    "configmaps",
    "daemonsets",
    "deployments",
    "replicasets",
    "statefulsets",
    "serviceaccounts",
    "roles",
    "rolebindings",
    "events",
    "jobs",
    "cronjobs",
    "ingresses",
    "networkpolicies",
];

impl Input {
    /// A Kubernetes resource list.
    pub fn resource(resource: &str) -> Input {
        Input::Resource {
            resource: resource.to_owned(),
        }
    }

    /// One node's table.
    pub fn node(node: &str, table: NodeInput) -> Input {
        Input::Node {
            node: node.to_owned(),
            table,
        }
    }

    /// Where this input lives in `layout`: the path a bundle of that layout
    /// would hold, or what it would be called where the layout has none.
    pub fn path_in(&self, layout: Layout) -> String {
        match (layout, self) {
            (_, Input::Described { what }) => what.clone(),
            (Layout::Kdiag, Input::Resource { resource }) => format!("cluster/{resource}.yaml"),
            (Layout::Kdiag, Input::Version) => "cluster/version.yaml".into(),
            (Layout::Kdiag, Input::Node { node, table }) => {
                format!("nodes/{node}/{}", table.kdiag_file())
            }
            (Layout::Kdiag, Input::ProbeResolvConf) => "probes/*/resolv.conf".into(),
            (
                Layout::Troubleshoot,
                Input::Node {
                    node,
                    table: NodeInput::Sysctl,
                },
            ) => {
                format!("sysctl/{node}")
            }
            (Layout::Sosreport, Input::Node { table, .. }) => match table {
                NodeInput::Routes => "sos_commands/networking/ip_route_show_table_all".into(),
                NodeInput::Neighbors => "sos_commands/networking/ip_-s_-s_neigh_show".into(),
                NodeInput::Fdb => "sos_commands/networking/bridge_-s_-s_-d_-t_fdb_show".into(),
                NodeInput::Links => "sos_commands/networking/ip_-s_-d_link".into(),
                NodeInput::Addresses => "sos_commands/networking/ip_-d_address".into(),
                NodeInput::Sysctl => "sos_commands/kernel/sysctl_-a".into(),
                NodeInput::Modules => "sos_commands/kernel/lsmod".into(),
                NodeInput::Iptables => {
                    "sos_commands/networking/iptables-save (or nft_list_ruleset)".into()
                }
                NodeInput::Ipvs => "sos_commands/networking/ipvsadm_-Ln".into(),
                NodeInput::ResolvConf => "etc/resolv.conf".into(),
                NodeInput::Selinux => "sos_commands/selinux/sestatus".into(),
                t => format!(
                    "{} (not in sosreports; kdiag's collector writes nodes/<node>/{})",
                    t.kdiag_file(),
                    t.kdiag_file()
                ),
            },
            (
                Layout::Sonobuoy,
                Input::Node {
                    node,
                    table: NodeInput::KubeletConfig,
                },
            ) => {
                format!("hosts/{node}/configz.json")
            }
            (_, Input::Node { node, table }) => format!(
                "node {node}: {} (not in {} archives; kdiag's collector writes nodes/{node}/{})",
                table.kdiag_file(),
                layout.label(),
                table.kdiag_file()
            ),
            (Layout::Troubleshoot, Input::ProbeResolvConf) => "dns/debug.json".into(),
            (_, Input::ProbeResolvConf) => format!(
                "a DNS probe pod's resolv.conf (not in {} archives; kdiag's collector writes probes/<node>/resolv.conf)",
                layout.label()
            ),
            (Layout::Troubleshoot, Input::Resource { resource }) => {
                let name = match resource.as_str() {
                    "persistentvolumes" => "pvs",
                    "persistentvolumeclaims" => "pvcs",
                    "networkpolicies" => "network-policy",
                    "storageclasses" => "storage-classes",
                    "ingresses" => "ingress",
                    other => other,
                };
                if NAMESPACED.contains(&resource.as_str()) {
                    format!("cluster-resources/{name}/<namespace>.json")
                } else {
                    format!("cluster-resources/{name}.json")
                }
            }
            (Layout::Troubleshoot, Input::Version) => "cluster-info/cluster_version.json".into(),
            (Layout::Sonobuoy, Input::Resource { resource }) => {
                if NAMESPACED.contains(&resource.as_str()) {
                    format!("resources/ns/<namespace>/<group>_<version>_{resource}.json")
                } else {
                    format!("resources/cluster/<group>_<version>_{resource}.json")
                }
            }
            (Layout::Sonobuoy, Input::Version) => "serverversion.json".into(),
            (Layout::MustGather, Input::Resource { resource }) => {
                if NAMESPACED.contains(&resource.as_str()) {
                    format!("namespaces/<namespace>/<group>/{resource}.yaml")
                } else {
                    format!("cluster-scoped-resources/<group>/{resource}/")
                }
            }
            (Layout::ClusterInfoDump, Input::Resource { resource }) => match resource.as_str() {
                "nodes" => "nodes.json".into(),
                "pods" | "services" | "events" | "daemonsets" | "deployments" | "replicasets" => {
                    format!("<namespace>/{resource}.json")
                }
                other => format!(
                    "{other} (not in cluster-info dumps; `kubectl get {other} -A -o yaml` has them)"
                ),
            },
            (_, Input::Resource { resource }) => format!(
                "{resource} (not in this {}; `kubectl get {resource} -A -o yaml` has them)",
                layout.label()
            ),
            (_, Input::Version) => format!(
                "the cluster version (not in this {}; `kubectl version -o json` has it)",
                layout.label()
            ),
        }
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path_in(Layout::Kdiag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_layout_names_its_own_files() {
        let svc = Input::resource("services");
        assert_eq!(svc.path_in(Layout::Kdiag), "cluster/services.yaml");
        assert_eq!(
            svc.path_in(Layout::Troubleshoot),
            "cluster-resources/services/<namespace>.json"
        );
        assert_eq!(
            Input::resource("clusterroles").path_in(Layout::Troubleshoot),
            "cluster-resources/clusterroles.json"
        );
        let routes = Input::node("w-2", NodeInput::Routes);
        assert_eq!(routes.path_in(Layout::Kdiag), "nodes/w-2/ip-route.txt");
        assert!(
            routes
                .path_in(Layout::Troubleshoot)
                .contains("not in troubleshoot.sh")
        );
        assert_eq!(
            Input::node("w-2", NodeInput::Sysctl).path_in(Layout::Troubleshoot),
            "sysctl/w-2"
        );
        assert_eq!(
            Layout::main([Layout::Kubectl, Layout::Kubectl, Layout::ClusterInfoDump]),
            Some(Layout::ClusterInfoDump)
        );
        assert_eq!(Layout::main([Layout::Kubectl]), Some(Layout::Kubectl));
        assert_eq!(Layout::main([]), None);
        assert!(
            Input::node("master-0", NodeInput::Routes)
                .path_in(Layout::Sosreport)
                .starts_with("sos_commands/networking/")
        );
    }
}
