//! The networks each component believes in, every node's pod CIDRs and
//! flannel identity, pod IPs, the DNS Service, and which network components
//! run. All CIDR logic uses `ipnet`.

use crate::Snapshot;
use ipnet::IpNet;
use kdiag_parse::flags::flag_value;
use kdiag_parse::kube::types::{ConfigMap, Node, Pod, Service};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Where a fact was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Bundle path.
    pub file: String,
    /// Line where the object (or line) starts.
    pub line: u32,
    /// The text that states it.
    pub text: String,
}

/// Pod network or Service network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkKind {
    /// Pod IPs come from here.
    PodNetwork,
    /// ClusterIPs come from here.
    ServiceNetwork,
}

/// One component's belief about a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkBelief {
    /// e.g. `kube-controller-manager`, `kube-proxy`, `flannel`, `kubeadm`.
    pub component: String,
    /// The setting, e.g. `--cluster-cidr`, `clusterCIDR`, `net-conf.json Network`.
    pub setting: String,
    /// Which network.
    pub kind: NetworkKind,
    /// The value as written.
    pub value: String,
    /// Parsed, when it is a CIDR.
    pub cidr: Option<IpNet>,
    /// Where.
    pub evidence: Evidence,
}

/// A node's network identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeNetwork {
    /// Node name.
    pub name: String,
    /// `spec.podCIDRs` (or `podCIDR`).
    pub pod_cidrs: Vec<IpNet>,
    /// `InternalIP` addresses.
    pub internal_ips: Vec<IpAddr>,
    /// flannel's `backend-type` annotation.
    pub flannel_backend: Option<String>,
    /// flannel's VTEP MAC (`backend-data` `VtepMAC`).
    pub flannel_vtep_mac: Option<String>,
    /// flannel's `public-ip` annotation.
    pub flannel_public_ip: Option<IpAddr>,
    /// Whether the node reports Ready.
    pub ready: Option<bool>,
    /// Where the Node object starts.
    pub evidence: Evidence,
}

/// The cluster DNS Service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsService {
    /// Namespace.
    pub namespace: String,
    /// Name (`kube-dns`, `coredns`, ...).
    pub name: String,
    /// ClusterIP.
    pub cluster_ip: Option<IpAddr>,
    /// What serves it, by the pods it selects (`coredns`, `kube-dns` for
    /// the old addon, `openshift-dns`); `None` when no DNS pod is selected.
    pub server: Option<String>,
    /// Where.
    pub evidence: Evidence,
}

/// A pod's address, for CIDR inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodAddress {
    /// `namespace/name`.
    pub pod: String,
    /// Node it runs on.
    pub node: Option<String>,
    /// Address.
    pub ip: IpAddr,
    /// Where the Pod object starts.
    pub evidence: Evidence,
}

/// Which network components run, as far as the bundle shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Components {
    /// kube-proxy pods found.
    pub kube_proxy_pods: usize,
    /// kube-proxy mode, from its ConfigMap (`iptables`, `ipvs`, `nftables`; empty means iptables).
    pub kube_proxy_mode: Option<String>,
    /// CNI agents seen (`flannel`, `calico`, `cilium`, `weave`, ...), from pods and CNI configs.
    pub cni: Vec<String>,
    /// CoreDNS / kube-dns pods found, and how many are ready.
    pub dns_pods: usize,
    /// Ready DNS pods.
    pub dns_pods_ready: usize,
    /// Distribution hints (`k3s`, `rke2`, `kubeadm`, ...), from versions and objects.
    pub distribution: Vec<String>,
}

/// Everything about networks that the snapshot states.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NetworkInventory {
    /// What each component believes.
    pub beliefs: Vec<NetworkBelief>,
    /// Per node.
    pub nodes: Vec<NodeNetwork>,
    /// The DNS Service.
    pub dns_service: Option<DnsService>,
    /// Every pod IP outside the host network.
    pub pod_ips: Vec<PodAddress>,
    /// Components.
    pub components: Components,
}

fn ev(file: &str, line: u32, text: impl Into<String>) -> Evidence {
    Evidence {
        file: file.to_owned(),
        line,
        text: text.into(),
    }
}

fn belief(
    component: &str,
    setting: &str,
    kind: NetworkKind,
    value: &str,
    evidence: Evidence,
) -> NetworkBelief {
    NetworkBelief {
        component: component.into(),
        setting: setting.into(),
        kind,
        value: value.into(),
        cidr: value.split(',').next().and_then(|v| v.trim().parse().ok()),
        evidence,
    }
}

impl NetworkInventory {
    /// The inventory of a snapshot (built once, then copied).
    pub fn of(snap: &Snapshot) -> Self {
        Self::cached(snap).clone()
    }

    /// The inventory of a snapshot, built once per snapshot.
    pub fn cached(snap: &Snapshot) -> &NetworkInventory {
        snap.inventory.get_or_init(|| Self::build(snap))
    }

    fn build(snap: &Snapshot) -> Self {
        let mut inv = NetworkInventory::default();
        for n in snap.objects_of("Node") {
            let Ok(node) = n.object.view::<Node>() else {
                continue;
            };
            let mut cidrs: Vec<IpNet> = node
                .spec
                .pod_cidrs
                .iter()
                .filter_map(|c| c.parse().ok())
                .collect();
            if cidrs.is_empty() {
                cidrs.extend(
                    node.spec
                        .pod_cidr
                        .as_deref()
                        .and_then(|c| c.parse::<IpNet>().ok()),
                );
            }
            let ann = &node.metadata.annotations;
            let backend: Option<Value> = ann
                .get("flannel.alpha.coreos.com/backend-data")
                .and_then(|d| serde_json::from_str(d).ok());
            inv.nodes.push(NodeNetwork {
                name: node.metadata.name.clone(),
                pod_cidrs: cidrs,
                internal_ips: node
                    .status
                    .addresses
                    .iter()
                    .filter(|a| a.kind == "InternalIP")
                    .filter_map(|a| a.address.parse().ok())
                    .collect(),
                flannel_backend: ann.get("flannel.alpha.coreos.com/backend-type").cloned(),
                flannel_vtep_mac: backend
                    .as_ref()
                    .and_then(|b| b.get("VtepMAC"))
                    .and_then(Value::as_str)
                    .map(str::to_ascii_lowercase),
                flannel_public_ip: ann
                    .get("flannel.alpha.coreos.com/public-ip")
                    .and_then(|i| i.parse().ok()),
                ready: node
                    .status
                    .conditions
                    .iter()
                    .find(|c| c.kind == "Ready")
                    .map(|c| c.status == "True"),
                evidence: ev(
                    &n.file,
                    n.object.line,
                    format!("Node {}", node.metadata.name),
                ),
            });
        }
        for p in snap.objects_of("Pod") {
            let Ok(pod) = p.object.view::<Pod>() else {
                continue;
            };
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            let id = format!("{ns}/{}", pod.metadata.name);
            if !pod.spec.host_network {
                let ips: Vec<String> = if pod.status.pod_ips.is_empty() {
                    pod.status.pod_ip.iter().cloned().collect()
                } else {
                    pod.status.pod_ips.iter().map(|i| i.ip.clone()).collect()
                };
                for ip in ips.iter().filter_map(|i| i.parse().ok()) {
                    inv.pod_ips.push(PodAddress {
                        pod: id.clone(),
                        node: pod.spec.node_name.clone(),
                        ip,
                        evidence: ev(&p.file, p.object.line, format!("Pod {id} podIP {ip}")),
                    });
                }
            }
            let labels = &pod.metadata.labels;
            for c in &pod.spec.containers {
                let argv: Vec<String> = c.command.iter().chain(c.args.iter()).cloned().collect();
                let exe = argv
                    .first()
                    .map(|a| a.rsplit('/').next().unwrap_or(a))
                    .unwrap_or_default();
                let component = if exe.starts_with("kube-controller-manager")
                    || labels.get("component").map(String::as_str)
                        == Some("kube-controller-manager")
                {
                    Some("kube-controller-manager")
                } else if exe.starts_with("kube-apiserver")
                    || labels.get("component").map(String::as_str) == Some("kube-apiserver")
                {
                    Some("kube-apiserver")
                } else if exe.starts_with("kube-proxy") {
                    Some("kube-proxy")
                } else {
                    None
                };
                if let Some(component) = component {
                    for (flag, kind) in [
                        ("cluster-cidr", NetworkKind::PodNetwork),
                        ("service-cluster-ip-range", NetworkKind::ServiceNetwork),
                    ] {
                        if let Some(v) = flag_value(&argv, flag)
                            && !inv.beliefs.iter().any(|b| {
                                b.component == component
                                    && b.setting == format!("--{flag}")
                                    && b.value == v
                            })
                        {
                            inv.beliefs.push(belief(
                                component,
                                &format!("--{flag}"),
                                kind,
                                &v,
                                ev(
                                    &p.file,
                                    p.object.line,
                                    format!("{id} container {}: --{flag}={v}", c.name),
                                ),
                            ));
                        }
                    }
                }
            }
        }
        // Which components run: rules/components.yaml says how each is recognised.
        for c in crate::components::catalog() {
            let pods = crate::components::pods_of(snap, &c.recognise.pods);
            match c.kind.as_str() {
                "service-proxy" if c.name == "kube-proxy" => {
                    inv.components.kube_proxy_pods += pods.len();
                }
                "dns" => {
                    inv.components.dns_pods += pods.len();
                    inv.components.dns_pods_ready += pods
                        .iter()
                        .filter(|p| crate::components::pod_ready(p))
                        .count();
                }
                "cni" if !pods.is_empty() && !inv.components.cni.contains(&c.name) => {
                    inv.components.cni.push(c.name.clone());
                }
                _ => {}
            }
        }
        for tables in snap.nodes.values() {
            for c in &tables.cni {
                for p in &c.value.plugins {
                    if ["flannel", "calico", "cilium", "weave-net", "antrea"].contains(&p.as_str())
                        && !inv.components.cni.iter().any(|x| x == p)
                    {
                        inv.components.cni.push(p.clone());
                    }
                }
            }
        }
        if inv.nodes.iter().any(|n| n.flannel_backend.is_some())
            && !inv.components.cni.iter().any(|c| c == "flannel")
        {
            // k3s and rke2 run flannel inside their own binary: no pods, only node annotations.
            inv.components.cni.push("flannel".into());
        }
        if inv.components.cni.is_empty() {
            inv.components.cni.extend(network_without_agent(snap));
        }
        for c in snap.objects_of("ConfigMap") {
            let Ok(cm) = c.object.view::<ConfigMap>() else {
                continue;
            };
            let name = cm.metadata.name.as_str();
            let at = |text: String| ev(&c.file, c.object.line, text);
            if let Some(net_conf) = cm.data.get("net-conf.json")
                && let Ok(conf) = kdiag_parse::flannel::parse_net_conf(net_conf)
                && let Some(net) = &conf.network
            {
                inv.beliefs.push(belief(
                    "flannel",
                    "net-conf.json Network",
                    NetworkKind::PodNetwork,
                    net,
                    at(format!(
                        "ConfigMap {name} net-conf.json: \"Network\": \"{net}\""
                    )),
                ));
            }
            if name == "kube-proxy"
                && let Some(conf) = cm.data.get("config.conf").and_then(|t| yaml_value(t))
            {
                if let Some(v) = conf
                    .get("clusterCIDR")
                    .and_then(Value::as_str)
                    .filter(|v| !v.is_empty())
                {
                    inv.beliefs.push(belief(
                        "kube-proxy",
                        "clusterCIDR",
                        NetworkKind::PodNetwork,
                        v,
                        at(format!(
                            "ConfigMap kube-proxy config.conf: clusterCIDR: {v}"
                        )),
                    ));
                }
                inv.components.kube_proxy_mode = Some(
                    conf.get("mode")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                );
            }
            if name == "kubeadm-config"
                && let Some(conf) = cm
                    .data
                    .get("ClusterConfiguration")
                    .and_then(|t| yaml_value(t))
            {
                if !inv.components.distribution.iter().any(|d| d == "kubeadm") {
                    inv.components.distribution.push("kubeadm".into());
                }
                for (key, kind) in [
                    ("podSubnet", NetworkKind::PodNetwork),
                    ("serviceSubnet", NetworkKind::ServiceNetwork),
                ] {
                    if let Some(v) = conf
                        .pointer(&format!("/networking/{key}"))
                        .and_then(Value::as_str)
                    {
                        inv.beliefs.push(belief("kubeadm", key, kind, v, at(format!("ConfigMap kubeadm-config ClusterConfiguration networking.{key}: {v}"))));
                    }
                }
            }
        }
        // OpenShift keeps the cluster's networks in its Network config.
        for n in snap.objects_of("Network").filter(|n| {
            n.object.api_version.starts_with("config.openshift.io/") && n.object.name == "cluster"
        }) {
            let spec = n.object.value.get("spec");
            let at = |text: String| ev(&n.file, n.object.line, text);
            // clusterNetwork: [{cidr: ...}]; serviceNetwork: [cidr, ...].
            for (key, kind) in [
                ("clusterNetwork", NetworkKind::PodNetwork),
                ("serviceNetwork", NetworkKind::ServiceNetwork),
            ] {
                let cidrs = spec
                    .and_then(|s| s.get(key))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c.get("cidr").unwrap_or(c).as_str());
                for cidr in cidrs {
                    inv.beliefs.push(belief(
                        "openshift network config",
                        key,
                        kind,
                        cidr,
                        at(format!("Network cluster spec.{key}: {cidr}")),
                    ));
                }
            }
            let plugin = match spec
                .and_then(|s| s.get("networkType"))
                .and_then(Value::as_str)
            {
                Some("OpenShiftSDN") => Some("openshift-sdn"),
                Some("OVNKubernetes") => Some("ovn-kubernetes"),
                _ => None,
            };
            if let Some(p) = plugin
                && !inv.components.cni.iter().any(|c| c == p)
            {
                inv.components.cni.push(p.into());
            }
            if !inv.components.distribution.iter().any(|d| d == "openshift") {
                inv.components.distribution.push("openshift".into());
            }
        }
        if let Some(v) = snap.version.as_ref().and_then(|v| v.value.server.clone()) {
            for d in ["k3s", "rke2", "eks", "gke", "aks"] {
                if v.contains(d) && !inv.components.distribution.iter().any(|x| x == d) {
                    inv.components.distribution.push(d.into());
                }
            }
        }
        inv.dns_service = dns_service(snap);
        inv
    }

    /// Distinct pod networks the beliefs name.
    pub fn believed_pod_networks(&self) -> Vec<IpNet> {
        let mut v: Vec<IpNet> = self
            .beliefs
            .iter()
            .filter(|b| b.kind == NetworkKind::PodNetwork)
            .filter_map(|b| b.cidr)
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Pod CIDRs per node name.
    pub fn node_cidrs(&self) -> BTreeMap<&str, &[IpNet]> {
        self.nodes
            .iter()
            .map(|n| (n.name.as_str(), n.pod_cidrs.as_slice()))
            .collect()
    }
}

/// The pod network of a cluster that runs no CNI agent: AKS's kubenet
/// (nodes with a `spec.podCIDR` on Azure), or the container runtime's own
/// bridge (pods on docker's default 172.17.0.0/16, as old minikube ran).
fn network_without_agent(snap: &Snapshot) -> Option<String> {
    let nodes: Vec<_> = snap.objects_of("Node").collect();
    let azure = !nodes.is_empty()
        && nodes.iter().all(|n| {
            n.object
                .value
                .pointer("/spec/providerID")
                .and_then(Value::as_str)
                .is_some_and(|p| p.starts_with("azure://"))
                && n.object.value.pointer("/spec/podCIDR").is_some()
        });
    if azure {
        return Some("kubenet".into());
    }
    let docker: IpNet = "172.17.0.0/16".parse().ok()?;
    let pod_ips: Vec<IpAddr> = snap
        .objects_of("Pod")
        // Host-network pods share the node's address (kubectl 1.13's
        // internal types keep hostNetwork elsewhere; the addresses say it).
        .filter(|p| {
            p.object.value.pointer("/status/podIP") != p.object.value.pointer("/status/hostIP")
        })
        .filter_map(|p| {
            p.object
                .value
                .pointer("/status/podIP")?
                .as_str()?
                .parse()
                .ok()
        })
        .collect();
    (!pod_ips.is_empty() && pod_ips.iter().all(|ip| docker.contains(ip)))
        .then(|| "docker bridge (no CNI plugin)".into())
}

fn yaml_value(text: &str) -> Option<Value> {
    serde_saphyr::from_str(text).ok()
}

/// The DNS Service, found by what it is rather than by name: the Service
/// whose ClusterIP the kubelets hand to pods (`clusterDNS`), else the
/// Service that selects the cluster DNS pods (`rules/components.yaml`: CoreDNS,
/// the kube-dns addon, OpenShift's dns-default), else the usual names
/// (`kube-system/kube-dns`, a `k8s-app: kube-dns` label, `coredns`).
fn dns_service(snap: &Snapshot) -> Option<DnsService> {
    let candidates: Vec<_> = snap
        .objects_of("Service")
        .filter_map(|o| o.object.view::<Service>().ok().map(|s| (o, s)))
        .collect();
    let cluster_dns: Vec<String> = snap
        .nodes
        .values()
        .filter_map(|t| t.kubelet.as_ref())
        .flat_map(|k| k.value.cluster_dns.iter().map(|(_, ip)| ip.clone()))
        .collect();
    // Each DNS component's pods, with the component's name.
    let dns_pods: Vec<(&str, Vec<_>)> = crate::components::catalog()
        .iter()
        .filter(|c| c.kind == "dns")
        .map(|c| {
            (
                c.name.as_str(),
                crate::components::pods_of(snap, &c.recognise.pods),
            )
        })
        .filter(|(_, pods)| !pods.is_empty())
        .collect();
    let selects = |s: &Service| -> Option<&str> {
        if s.spec.selector.is_empty() {
            return None;
        }
        dns_pods.iter().find_map(|(name, pods)| {
            pods.iter()
                .any(|p| {
                    p.object.namespace == s.metadata.namespace && {
                        let labels = p.object.labels();
                        s.spec
                            .selector
                            .iter()
                            .all(|(k, v)| labels.get(k) == Some(v))
                    }
                })
                .then_some(*name)
        })
    };
    let by_ip = candidates.iter().find(|(_, s)| {
        s.spec
            .cluster_ip
            .as_ref()
            .is_some_and(|ip| cluster_dns.contains(ip))
    });
    let pick = by_ip
        .or_else(|| candidates.iter().find(|(_, s)| selects(s).is_some()))
        .or_else(|| {
            candidates.iter().find(|(_, s)| {
                s.metadata.name == "kube-dns"
                    && s.metadata.namespace.as_deref() == Some("kube-system")
            })
        })
        .or_else(|| {
            candidates.iter().find(|(_, s)| {
                s.metadata.labels.get("k8s-app").map(String::as_str) == Some("kube-dns")
            })
        })
        .or_else(|| {
            candidates.iter().find(|(_, s)| {
                s.metadata.name == "coredns"
                    || (s.metadata.name == "dns-default"
                        && s.metadata.namespace.as_deref() == Some("openshift-dns"))
            })
        })?;
    let (o, s) = pick;
    let ip = s.spec.cluster_ip.clone().unwrap_or_default();
    Some(DnsService {
        namespace: s.metadata.namespace.clone().unwrap_or_default(),
        name: s.metadata.name.clone(),
        cluster_ip: ip.parse().ok(),
        server: selects(s).map(str::to_owned),
        evidence: ev(
            &o.file,
            o.object.line,
            format!(
                "Service {}/{} clusterIP: {ip}",
                s.metadata.namespace.clone().unwrap_or_default(),
                s.metadata.name
            ),
        ),
    })
}
