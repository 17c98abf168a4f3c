//! Facts that need code: what the data plane *must* contain, derived from
//! the cluster's objects, compared with what each node printed. Each fact
//! table is a list of records (JSON objects) with their evidence, plus the
//! inputs that were missing — a node without `ip-route.txt` is *unknown*,
//! never healthy.
//!
//! Rules read these tables by name (`match: {fact: flannel.routes}`); the
//! derivations are listed in [`SPECS`], beside the generic tables of
//! [`crate::tables`].

mod bundle;
mod cidr;
mod components;
mod dns;
mod flannel;
mod flows;
pub(crate) mod kube_proxy;
mod project;
mod rbac;

pub use project::Projection;

use crate::Snapshot;
use crate::inventory::Evidence;
use crate::tables::TableSpec;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// A table record's fields, kept as the typed Rust value the table made
/// (addresses as `IpAddr`/`IpNet`, MACs as bytes, names shared): turned into
/// JSON only while a rule or a report reads that one record.
pub trait Record: std::fmt::Debug + Send + Sync {
    /// The fields, as the JSON object rules and reports see.
    fn to_json(&self) -> Value;

    /// Only the parts `keep` names: by default the whole JSON, narrowed;
    /// a record holding a large value narrows it without copying it all.
    fn to_json_projected(&self, keep: &Projection) -> Value {
        keep.apply(&self.to_json())
    }
}

impl<T: Serialize + std::fmt::Debug + Send + Sync> Record for T {
    fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// A shared, typed record.
pub type Row = Arc<dyn Record>;

/// Wraps a typed record.
pub fn row(record: impl Record + 'static) -> Row {
    Arc::new(record)
}

/// One record of a table, with where it was read.
#[derive(Debug, Clone)]
pub struct Fact {
    /// The record (see [`Fact::fields`] for its JSON).
    pub record: Row,
    /// Where each part of it was read.
    pub evidence: Vec<Evidence>,
    /// When it first showed, when known (log line or event time).
    pub first_seen: Option<Timestamp>,
}

impl Fact {
    /// The record's fields as a JSON object (computed on each call).
    pub fn fields(&self) -> Value {
        self.record.to_json()
    }

    /// Only the fields `keep` names (see [`Record::to_json_projected`]).
    pub fn fields_projected(&self, keep: &Projection) -> Value {
        if keep.is_all() {
            return self.fields();
        }
        self.record.to_json_projected(keep)
    }
}

impl PartialEq for Fact {
    fn eq(&self, other: &Fact) -> bool {
        self.evidence == other.evidence
            && self.first_seen == other.first_seen
            && self.fields() == other.fields()
    }
}

impl Serialize for Fact {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Fact", 3)?;
        st.serialize_field("fields", &self.fields())?;
        st.serialize_field("evidence", &self.evidence)?;
        st.serialize_field("first_seen", &self.first_seen)?;
        st.end()
    }
}

/// A derived table: its records, and the inputs that were missing.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FactTable {
    /// Records.
    pub records: Vec<Fact>,
    /// Inputs that were needed and absent (or failed to parse).
    pub missing: Vec<kdiag_bundle::Input>,
}

/// The derived tables: name, what one record holds, and how it is computed.
pub const SPECS: &[TableSpec] = &[
    TableSpec {
        name: "components.workloads",
        description: "per network component DaemonSet or Deployment (kube-proxy, flannel, coredns, calico, cilium, nodelocaldns): component, kind, namespace, name, desired, ready, unhealthy_pods[{pod, node, ready, waiting, restarts}], crashlooping, nodes_without_pod[]",
        schema: Some(crate::tables::schema_of::<components::WorkloadRecord>),
        build: components::workloads,
        node_table: false,
        build_for_node: None,
    },
    TableSpec {
        name: "services.endpoints",
        description: "per Service with a selector and a ClusterIP: namespace, name, ip, endpoints_ready (null when unknown), dns, component (coredns for the DNS Service)",
        schema: Some(crate::tables::schema_of::<components::ServiceEndpointsRecord>),
        build: components::service_endpoints,
        node_table: false,
        build_for_node: None,
    },
    TableSpec {
        name: "commands",
        description: "one command the collector ran (manifest.json): program, command, node, output, exit_code, duration_ms, stderr, succeeded, output_read",
        schema: Some(crate::tables::schema_of::<bundle::CommandRecord>),
        build: bundle::commands,
        node_table: false,
        build_for_node: None,
    },
    TableSpec {
        name: "bundle.unreadable-files",
        description: "per bundle file with read or parse problems: file, stage (read|parse), problems, first",
        schema: Some(crate::tables::schema_of::<bundle::UnreadableFileRecord>),
        build: bundle::unreadable_files,
        node_table: false,
        build_for_node: None,
    },
    TableSpec {
        name: "rbac.dangling-bindings",
        description: "a (Cluster)RoleBinding whose role does not exist: binding, binding_kind, namespace, role, role_kind, serviceaccounts[], users[], groups[]",
        schema: Some(crate::tables::schema_of::<rbac::DanglingBindingRecord>),
        build: rbac::dangling_bindings,
        node_table: false,
        build_for_node: None,
    },
    TableSpec {
        name: "flannel.routes",
        description: "per node and flannel (VXLAN or host-gw) peer whose route is not as flannel programs it: node, peer, cidr, gateway, backend, expected (the route as ip prints it), route (missing|wrong); flannel.nodes counts the rest",
        schema: Some(crate::tables::schema_of::<flannel::FlannelRouteRecord>),
        build: flannel::routes,
        node_table: false,
        build_for_node: None,
    },
    TableSpec {
        name: "flannel.vxlan",
        description: "per node and flannel (VXLAN) peer whose neighbour or FDB entry is not as flannel programs it: node, peer, cidr, gateway, peer_ip, vtep_mac, neighbor (present|missing|wrong-mac), fdb (present|missing|wrong-dst)",
        schema: Some(crate::tables::schema_of::<flannel::FlannelVxlanRecord>),
        build: flannel::vxlan,
        node_table: false,
        build_for_node: None,
    },
    TableSpec {
        name: "flannel.nodes",
        description: "per flannel node: backend, peers, and how many of the routes, neighbours and FDB entries flannel programs for them it holds (null where the input was not collected)",
        schema: Some(crate::tables::schema_of::<flannel::FlannelNodeRecord>),
        build: flannel::nodes,
        node_table: false,
        build_for_node: None,
    },
    TableSpec {
        name: "flannel.stale-entries",
        description: "flannel.1 routes, neighbours or FDB entries that point at no current node: node, table (route|neighbor|fdb), value, reason",
        schema: Some(crate::tables::schema_of::<flannel::FlannelStaleRecord>),
        build: flannel::stale_entries,
        node_table: false,
        build_for_node: None,
    },
    TableSpec {
        name: "kube-proxy.services",
        description: "per Service port with a ClusterIP, folded over the nodes: namespace, name, ip, port, protocol, endpoints, dns (the cluster DNS Service), modes, programmed (node count), missing[] and no_endpoints[] (nodes), endpointless and unknown (node counts)",
        schema: Some(crate::tables::schema_of::<kube_proxy::KubeProxyServiceRecord>),
        build: kube_proxy::services,
        node_table: false,
        build_for_node: None,
    },
    TableSpec {
        name: "cidr.pod-networks",
        description: "per pod network in use or believed: cidr, current, current_cidr, networks_in_use, nodes[], node_count, pods, believed_by[], tunnel_entries (flannel.1 neighbours into it)",
        schema: Some(crate::tables::schema_of::<cidr::PodNetworkRecord>),
        build: cidr::pod_networks,
        node_table: false,
        build_for_node: None,
    },
    TableSpec {
        name: "node.bridge-addresses",
        description: "per node and cni0 address: node, dev, addr, network, node_cidrs[], inside",
        schema: Some(crate::tables::schema_of::<cidr::BridgeAddressRecord>),
        build: cidr::bridge_addresses,
        node_table: false,
        build_for_node: None,
    },
    TableSpec {
        name: "pods.addresses",
        description: "per pod IP: namespace, name, node, ip, network, node_cidrs[], inside",
        schema: Some(crate::tables::schema_of::<cidr::PodAddressRecord>),
        build: cidr::pod_addresses,
        node_table: false,
        build_for_node: None,
    },
    TableSpec {
        name: "dns.service",
        description: "the DNS Service: namespace, name, ip, endpoints_ready, nodes_programmed[], nodes_missing[], nodes_unknown[]",
        schema: Some(crate::tables::schema_of::<dns::DnsServiceRecord>),
        build: dns::service,
        node_table: false,
        build_for_node: None,
    },
    TableSpec {
        name: "trace.flows",
        description: "per required flow that is not delivered (from a pod on every node to the DNS Service on 53/udp and 53/tcp, to each DNS pod, to every other node's pod network), traced hop by hop: node, flow, to, target_node, verdict, at_node, at_step, at_detail, fix, cause{class, node, cidr, namespace, name} (the failure class the dropping hop shows)",
        schema: Some(crate::tables::schema_of::<flows::FlowRecord>),
        build: flows::flows,
        node_table: false,
        build_for_node: None,
    },
    TableSpec {
        name: "probes.dns",
        description: "probe output lines that show DNS failing: node, file, outcome, name, text, and the DNS Service's namespace, name, ip",
        schema: Some(crate::tables::schema_of::<dns::DnsProbeRecord>),
        build: dns::probes,
        node_table: false,
        build_for_node: None,
    },
];

/// Computes one table (generic or derived) by name; `None` for an unknown name.
pub fn table(snap: &Snapshot, name: &str) -> Option<FactTable> {
    crate::tables::build(snap, name)
}

pub(crate) fn ev(file: &str, line: u32, text: impl Into<String>) -> Evidence {
    Evidence {
        file: file.to_owned(),
        line,
        text: text.into(),
    }
}

/// A Kubernetes resource list, as an input.
pub(crate) fn resource(name: &str) -> kdiag_bundle::Input {
    kdiag_bundle::Input::resource(name)
}

/// One node's table, as an input.
pub(crate) fn node_input(node: &str, table: kdiag_bundle::NodeInput) -> kdiag_bundle::Input {
    kdiag_bundle::Input::node(node, table)
}
