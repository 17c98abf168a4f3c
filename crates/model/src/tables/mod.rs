//! Every table a rule can read, by name: the parsed inputs as generic tables
//! (`node.routes`, `node.sysctl`, `nodes`, ...) and the derivations that need
//! code (`flannel.routes`, `kube-proxy.services`, ...). Each table has a
//! description and, where its records are typed, the JSON Schema of one
//! record, which `rules lint` checks field names and types against.

pub mod node;

use crate::Snapshot;
use crate::derive::FactTable;
use schemars::JsonSchema;
use serde_json::Value;

/// One table rules can read.
pub struct TableSpec {
    /// Name, as in `match: {fact: NAME}`.
    pub name: &'static str,
    /// What one record is.
    pub description: &'static str,
    /// JSON Schema of one record, when its fields are typed.
    pub schema: Option<fn() -> Value>,
    /// Computes the table.
    pub build: fn(&Snapshot) -> FactTable,
    /// Whether the table's records are one per node input line (a generic
    /// node table), which `node(NAME)` exposes per node.
    pub node_table: bool,
    /// Computes the table's records of one node only (generic node tables).
    pub build_for_node: Option<fn(&Snapshot, &str) -> FactTable>,
}

pub(crate) fn schema_of<T: JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default()
}

macro_rules! generic {
    ($name:literal, $desc:literal, $rec:ty, $build:path) => {
        TableSpec {
            name: $name,
            description: $desc,
            schema: Some(schema_of::<$rec>),
            build: |snap| $build(snap, None),
            node_table: true,
            build_for_node: Some(|snap, node| $build(snap, Some(node))),
        }
    };
}

/// The generic tables over parsed inputs.
pub const GENERIC: &[TableSpec] = &[
    TableSpec {
        name: "nodes",
        description: "one record per node the bundle knows (Node objects and node directories), with its addresses, pod CIDRs and the node tables collected for it; reach its tables with node(r.node)",
        schema: Some(schema_of::<node::NodeRecord>),
        build: node::nodes,
        node_table: false,
        build_for_node: None,
    },
    generic!(
        "node.routes",
        "one route of a node's `ip route`",
        node::RouteRecord,
        node::routes
    ),
    generic!(
        "node.neighbors",
        "one entry of a node's `ip neigh`",
        node::NeighborRecord,
        node::neighbors
    ),
    generic!(
        "node.fdb",
        "one entry of a node's `bridge fdb`",
        node::FdbRecord,
        node::fdb
    ),
    generic!(
        "node.links",
        "one interface of a node's `ip -d link`",
        node::LinkRecord,
        node::links
    ),
    generic!(
        "node.addresses",
        "one address of a node's `ip addr`",
        node::AddressRecord,
        node::addresses
    ),
    generic!(
        "node.sysctl",
        "one kernel parameter of a node's `sysctl -a` (every key)",
        node::SysctlRecord,
        node::sysctl
    ),
    generic!(
        "node.modules",
        "one loaded module of a node's `lsmod`",
        node::ModuleRecord,
        node::modules
    ),
    generic!(
        "node.iptables",
        "one rule of a node's `iptables-save`, with its parsed matches and target",
        node::IptablesRecord,
        node::iptables
    ),
    generic!(
        "node.iptables-chains",
        "one chain of a node's `iptables-save`, with its policy",
        node::IptablesChainRecord,
        node::iptables_chains
    ),
    generic!(
        "node.ipvs",
        "one virtual server of a node's `ipvsadm -Ln`, with its real servers",
        node::IpvsRecord,
        node::ipvs
    ),
    generic!(
        "node.resolv-conf",
        "a node's own /etc/resolv.conf (one record per node)",
        node::ResolvRecord,
        node::resolv_conf
    ),
    generic!(
        "node.kubelet-config",
        "a node's kubelet configuration (one record per node)",
        node::KubeletRecord,
        node::kubelet_config
    ),
    generic!(
        "node.firewalld",
        "firewalld's state on a node (one record per node)",
        node::FirewalldRecord,
        node::firewalld
    ),
    generic!(
        "node.selinux",
        "a node's SELinux mode (one record per node)",
        node::SelinuxRecord,
        node::selinux
    ),
    TableSpec {
        name: "components",
        description: "one record per network component of rules/components.yaml, as the bundle shows it (running, deployed, pods, ready, version)",
        schema: Some(schema_of::<crate::components::ComponentRecord>),
        build: crate::components::table,
        node_table: false,
        build_for_node: None,
    },
    TableSpec {
        name: "networks",
        description: "what one component believes the pod or Service network is (a setting and its value)",
        schema: Some(schema_of::<node::NetworkBeliefRecord>),
        build: node::networks,
        node_table: false,
        build_for_node: None,
    },
    TableSpec {
        name: "probes.resolv-conf",
        description: "the /etc/resolv.conf a probe pod saw, one record per node probed",
        schema: Some(schema_of::<node::ProbeResolvRecord>),
        build: node::probe_resolv_conf,
        node_table: false,
        build_for_node: None,
    },
];

/// A table by name: a generic one or a derivation.
pub fn spec(name: &str) -> Option<&'static TableSpec> {
    GENERIC
        .iter()
        .chain(crate::derive::SPECS.iter())
        .find(|t| t.name == name)
}

/// Every table, generic ones first.
pub fn all() -> impl Iterator<Item = &'static TableSpec> {
    GENERIC.iter().chain(crate::derive::SPECS.iter())
}

/// Computes one table by name; `None` for an unknown name.
pub fn build(snap: &Snapshot, name: &str) -> Option<FactTable> {
    spec(name).map(|t| crate::timing::timed(|| format!("table {name}"), || (t.build)(snap)))
}

/// The key a generic node table has in a node view (`node.iptables-chains`
/// is `iptables_chains`).
pub fn view_key(name: &str) -> String {
    name.trim_start_matches("node.").replace('-', "_")
}

/// Whether a generic node table has one record per node (a view holds the
/// record itself, or null) rather than a list.
pub fn singleton(name: &str) -> bool {
    matches!(
        name,
        "node.resolv-conf" | "node.kubelet-config" | "node.firewalld" | "node.selinux"
    )
}

/// JSON Schema of what `node(NAME)` returns: the node's name, the inputs
/// collected, each generic node table (null when not collected) and
/// `sysctl` as a map of key to value.
pub fn node_view_schema() -> Value {
    let mut props = serde_json::Map::new();
    props.insert("name".into(), serde_json::json!({"type": "string"}));
    props.insert(
        "collected".into(),
        serde_json::json!({"type": "array", "items": {"type": "string"}}),
    );
    props.insert(
        "sysctl".into(),
        serde_json::json!({"type": ["object", "null"], "additionalProperties": {"type": "string"}}),
    );
    let mut defs = serde_json::Map::new();
    for t in GENERIC.iter().filter(|t| t.node_table) {
        let Some(schema) = t.schema.map(|f| f()) else {
            continue;
        };
        let key = view_key(t.name);
        let def = format!("{key}_record");
        if let Some(d) = schema.get("$defs").and_then(Value::as_object) {
            for (k, v) in d {
                defs.insert(k.clone(), v.clone());
            }
        }
        let mut record = schema.clone();
        if let Some(o) = record.as_object_mut() {
            o.remove("$defs");
            o.remove("$schema");
        }
        // The record also carries where it was read.
        if let Some(p) = record.get_mut("properties").and_then(Value::as_object_mut) {
            p.insert("at".into(), serde_json::json!({"$ref": "#/$defs/evidence"}));
        }
        defs.insert(def.clone(), record);
        let r = serde_json::json!({"$ref": format!("#/$defs/{def}")});
        let field = if key == "sysctl" {
            "sysctl_records".to_owned()
        } else {
            key
        };
        let v = if singleton(t.name) {
            serde_json::json!({"anyOf": [r, {"type": "null"}]})
        } else {
            serde_json::json!({"type": ["array", "null"], "items": r})
        };
        props.insert(field, v);
    }
    defs.insert(
        "evidence".into(),
        serde_json::json!({"type": "object", "properties": {
            "file": {"type": "string"}, "line": {"type": "integer"}, "text": {"type": "string"}}}),
    );
    serde_json::json!({
        "type": "object",
        "properties": props,
        "additionalProperties": false,
        "$defs": defs,
    })
}

/// One field of a table's record, for listings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Field {
    /// Dotted name; `[]` marks the items of a list (`reals[].address`).
    pub name: String,
    /// JSON type (`string`, `integer`, `boolean`, `array of string`, `object`, ...), `| null` when it may be null.
    #[serde(rename = "type")]
    pub ty: String,
    /// What it means.
    pub description: String,
}

/// The fields of a table's record, from its schema (empty without one).
pub fn fields(spec: &TableSpec) -> Vec<Field> {
    let Some(schema) = spec.schema.map(|f| f()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    collect_fields(&schema, &schema, "", &mut out, 0);
    out
}

fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => root
            .get("$defs")
            .and_then(|d| d.get(r.trim_start_matches("#/$defs/")))
            .unwrap_or(s),
        None => s,
    }
}

/// The type of a property as text, whether it may be null, and the object
/// schema to descend into (for objects and lists of objects).
fn describe<'a>(root: &'a Value, s: &'a Value) -> (String, bool, Option<&'a Value>) {
    let s = resolve(root, s);
    if let Some(alts) = s.get("anyOf").and_then(Value::as_array) {
        let non_null: Vec<&Value> = alts
            .iter()
            .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
            .collect();
        if let [one] = non_null.as_slice() {
            let (t, _, inner) = describe(root, one);
            return (t, true, inner);
        }
        return ("any".into(), true, None);
    }
    let (types, nullable): (Vec<&str>, bool) = match s.get("type") {
        Some(Value::String(t)) => (vec![t.as_str()], false),
        Some(Value::Array(a)) => {
            let all: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
            let nullable = all.contains(&"null");
            (all.into_iter().filter(|t| *t != "null").collect(), nullable)
        }
        _ => (vec![], false),
    };
    match types.as_slice() {
        ["array"] => {
            let items = s.get("items").map(|i| resolve(root, i));
            let (t, _, inner) =
                items
                    .map(|i| describe(root, i))
                    .unwrap_or(("any".into(), false, None));
            (
                format!("array of {t}"),
                nullable,
                inner.or(items.filter(|i| i.get("properties").is_some())),
            )
        }
        ["object"] if s.get("properties").is_some() => ("object".into(), nullable, Some(s)),
        ["object"] => ("map".into(), nullable, None),
        [t] => ((*t).to_owned(), nullable, None),
        _ => ("any".into(), nullable, None),
    }
}

fn collect_fields(root: &Value, s: &Value, prefix: &str, out: &mut Vec<Field>, depth: u32) {
    let s = resolve(root, s);
    let Some(props) = s.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, p) in props {
        let (ty, nullable, inner) = describe(root, p);
        let full = format!("{prefix}{name}");
        let description = resolve(root, p)
            .get("description")
            .or_else(|| p.get("description"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .replace('\n', " ");
        out.push(Field {
            name: full.clone(),
            ty: if nullable {
                format!("{ty} | null")
            } else {
                ty.clone()
            },
            description,
        });
        if let Some(inner) = inner
            && depth < 4
        {
            let sep = if ty.starts_with("array") { "[]." } else { "." };
            collect_fields(root, inner, &format!("{full}{sep}"), out, depth + 1);
        }
    }
}
