//! Facts that need code: what the data plane *must* contain, derived from
//! the cluster's objects, compared with what each node printed. Each fact
//! table is a list of records (JSON objects) with their evidence, plus the
//! inputs that were missing — a node without `ip-route.txt` is *unknown*,
//! never healthy.
//!
//! Rules read these tables by name (`match: {fact: flannel.routes}`); the
//! fields of every table are listed in [`TABLES`].

mod bundle;
mod cidr;
mod components;
mod config;
mod dns;
mod flannel;
mod kube_proxy;
mod node;
mod rbac;

use crate::Snapshot;
use crate::inventory::Evidence;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

/// One derived record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    /// The record's fields (a JSON object).
    pub fields: Value,
    /// Where each part of it was read.
    pub evidence: Vec<Evidence>,
    /// When it first showed, when known (log line or event time).
    pub first_seen: Option<Timestamp>,
}

/// A derived table: its records, and the inputs that were missing.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FactTable {
    /// Records.
    pub records: Vec<Fact>,
    /// Bundle paths that were needed and absent (or failed).
    pub missing: Vec<String>,
}

/// Every fact table: name, and what one record holds.
pub const TABLES: &[(&str, &str)] = &[
    (
        "flannel.mtu",
        "per VXLAN node: node, dev (flannel.1), mtu, underlay, underlay_mtu, limit (underlay_mtu - 50)",
    ),
    (
        "cidr.conflicts",
        "settings that contradict the others: kind (pod-network|service-overlaps-pods|service-overlaps-nodes), component, setting, value, reference_component, reference_setting, reference",
    ),
    (
        "dns.resolvers",
        "kubelet clusterDNS per node, probe pods' resolv.conf, pods with dnsPolicy None and no dnsConfig: source (kubelet|probe|pod), node, namespace, name, nameservers[], dns_ip, search_ok, ok",
    ),
    (
        "components.workloads",
        "per network component DaemonSet or Deployment (kube-proxy, flannel, coredns, calico, cilium, nodelocaldns): component, kind, namespace, name, desired, ready, unhealthy_pods[{pod, node, ready, waiting, restarts}], crashlooping, nodes_without_pod[]",
    ),
    (
        "services.endpoints",
        "per Service with a selector and a ClusterIP: namespace, name, ip, endpoints_ready (null when unknown), dns, component (coredns for the DNS Service)",
    ),
    (
        "bundle.failed-commands",
        "per collector command that did not exit 0 (manifest.json): program, command, node, output, exit_code, stderr",
    ),
    (
        "bundle.unreadable-files",
        "per bundle file with read or parse problems: file, stage (read|parse), problems, first",
    ),
    (
        "node.sysctl",
        "per node and network kernel parameter (ip_forward, net.bridge.*, conf.*.forwarding, conf.*.rp_filter): node, key, value",
    ),
    (
        "node.br-netfilter",
        "per node: node, module_loaded (lsmod; null when not collected), bridge_nf_call_iptables (sysctl value or null), sysctl_collected",
    ),
    (
        "node.firewall",
        "per node: node, firewalld (state or null), forward_policy (filter FORWARD), forward_accepts_pods, vxlan_dropped (udp/8472 DROP or REJECT)",
    ),
    (
        "node.selinux",
        "per node: node, mode (Enforcing|Permissive|Disabled)",
    ),
    (
        "rbac.dangling-bindings",
        "a (Cluster)RoleBinding whose role does not exist: binding, binding_kind, namespace, role, role_kind, serviceaccounts[], users[], groups[]",
    ),
    (
        "flannel.routes",
        "per node and flannel (VXLAN or host-gw) peer: node, peer, cidr, gateway, backend, expected (the route as ip prints it), route (present|missing|wrong)",
    ),
    (
        "flannel.vxlan",
        "per node and flannel (VXLAN) peer: node, peer, cidr, gateway, peer_ip, vtep_mac, neighbor (present|missing|wrong-mac), fdb (present|missing|wrong-dst)",
    ),
    (
        "flannel.stale-entries",
        "flannel.1 routes, neighbours or FDB entries that point at no current node: node, table (route|neighbor|fdb), value, reason",
    ),
    (
        "kube-proxy.services",
        "per node and Service port: node, namespace, name, ip, port, protocol, mode (iptables|ipvs), status (programmed|missing|no-endpoints|endpointless: the Service has no ready endpoints, so kube-proxy only rejects), endpoints, dns (the cluster DNS Service)",
    ),
    (
        "cidr.pod-networks",
        "per pod network in use or believed: cidr, current, current_cidr, networks_in_use, nodes[], node_count, pods, believed_by[], tunnel_entries (flannel.1 neighbours into it)",
    ),
    (
        "node.bridge-addresses",
        "per node and cni0 address: node, dev, addr, network, node_cidrs[], inside",
    ),
    (
        "pods.addresses",
        "per pod IP: namespace, name, node, ip, network, node_cidrs[], inside",
    ),
    (
        "dns.service",
        "the DNS Service: namespace, name, ip, endpoints_ready, nodes_programmed[], nodes_missing[], nodes_unknown[]",
    ),
    (
        "probes.dns",
        "probe output lines that show DNS failing: node, file, outcome, name, text, and the DNS Service's namespace, name, ip",
    ),
];

/// Computes one fact table by name; `None` for an unknown name.
pub fn table(snap: &Snapshot, name: &str) -> Option<FactTable> {
    Some(match name {
        "rbac.dangling-bindings" => rbac::dangling_bindings(snap),
        "flannel.routes" => flannel::routes(snap),
        "flannel.vxlan" => flannel::vxlan(snap),
        "flannel.mtu" => flannel::mtu(snap),
        "flannel.stale-entries" => flannel::stale_entries(snap),
        "kube-proxy.services" => kube_proxy::services(snap),
        "cidr.pod-networks" => cidr::pod_networks(snap),
        "node.bridge-addresses" => cidr::bridge_addresses(snap),
        "pods.addresses" => cidr::pod_addresses(snap),
        "dns.service" => dns::service(snap),
        "probes.dns" => dns::probes(snap),
        "node.sysctl" => node::sysctl(snap),
        "cidr.conflicts" => config::network_conflicts(snap),
        "dns.resolvers" => config::resolvers(snap),
        "components.workloads" => components::workloads(snap),
        "services.endpoints" => components::service_endpoints(snap),
        "bundle.failed-commands" => bundle::failed_commands(snap),
        "bundle.unreadable-files" => bundle::unreadable_files(snap),
        "node.br-netfilter" => node::br_netfilter(snap),
        "node.firewall" => node::firewall(snap),
        "node.selinux" => node::selinux(snap),
        _ => return None,
    })
}

pub(crate) fn ev(file: &str, line: u32, text: impl Into<String>) -> Evidence {
    Evidence {
        file: file.to_owned(),
        line,
        text: text.into(),
    }
}

/// The path to cite when a node table is missing: what the layout names it.
pub(crate) fn node_path(node: &str, file: &str) -> String {
    format!("nodes/{node}/{file}")
}
