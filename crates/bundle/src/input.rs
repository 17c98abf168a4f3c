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

/// The layouts kdiag reads, as far as where inputs live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// kdiag's own (BUNDLE-FORMAT.md).
    #[default]
    Kdiag,
    /// troubleshoot.sh's support bundle.
    Troubleshoot,
}

impl Layout {
    /// The layout a set of bundle paths was written in.
    pub fn of<'a>(paths: impl IntoIterator<Item = &'a str>) -> Layout {
        let troubleshoot = paths
            .into_iter()
            .any(|p| p.starts_with("cluster-resources/") || p.starts_with("cluster-info/"));
        if troubleshoot {
            Layout::Troubleshoot
        } else {
            Layout::Kdiag
        }
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
            (Layout::Kdiag, Input::Resource { resource }) => format!("cluster/{resource}.yaml"),
            (Layout::Kdiag, Input::Version) => "cluster/version.yaml".into(),
            (_, Input::Node { node, table }) => match (layout, table) {
                (Layout::Troubleshoot, NodeInput::Sysctl) => format!("sysctl/{node}"),
                (Layout::Troubleshoot, t) => format!(
                    "node {node}: {} (not in troubleshoot.sh bundles; kdiag's collector writes nodes/{node}/{})",
                    t.kdiag_file(),
                    t.kdiag_file()
                ),
                (Layout::Kdiag, t) => format!("nodes/{node}/{}", t.kdiag_file()),
            },
            (Layout::Kdiag, Input::ProbeResolvConf) => "probes/*/resolv.conf".into(),
            (Layout::Troubleshoot, Input::ProbeResolvConf) => "dns/debug.json".into(),
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
            (_, Input::Described { what }) => what.clone(),
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
                .contains("not in troubleshoot.sh bundles")
        );
        assert_eq!(
            Input::node("w-2", NodeInput::Sysctl).path_in(Layout::Troubleshoot),
            "sysctl/w-2"
        );
        assert_eq!(
            Layout::of(["cluster-resources/pods/kube-system.json"]),
            Layout::Troubleshoot
        );
        assert_eq!(Layout::of(["cluster/pods.yaml"]), Layout::Kdiag);
    }
}
