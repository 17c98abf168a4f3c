//! What a rule reaches beyond its own record: every table by name, computed
//! once per analysis and shared by all rules, and the cross-table views the
//! CEL functions return — `node(NAME)` (a node's tables), `object(KIND, NS,
//! NAME)` (one Kubernetes object), `component(NAME)` (a network component).

use kdiag_model::Snapshot;
use kdiag_model::derive::{Fact, FactTable};
use kdiag_model::inventory::NetworkInventory;
use kdiag_model::tables;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Node views kept at once.
const VIEWS_KEPT: usize = 16;

/// The snapshot and what has been computed from it so far.
pub struct World {
    snap: Arc<Snapshot>,
    tables: Mutex<HashMap<String, Arc<FactTable>>>,
    views: Mutex<std::collections::VecDeque<(String, cel::Value)>>,
    /// The view keys the rule being run reads.
    current_keys: Mutex<Option<Vec<String>>>,
    /// How many rules still read each table through `match: fact`.
    uses: Mutex<HashMap<String, usize>>,
    objects: Mutex<HashMap<(String, String, String), cel::Value>>,
    components: Mutex<Option<Arc<HashMap<String, cel::Value>>>>,
    pod_networks: Mutex<Option<cel::Value>>,
    dns_service: Mutex<Option<cel::Value>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A record as CEL sees it through a cross-table function: its fields, and
/// `at`, where it was read.
pub fn with_at(f: &Fact) -> Value {
    let mut v = f.fields();
    if let (Value::Object(o), Some(e)) = (&mut v, f.evidence.first()) {
        o.insert(
            "at".into(),
            json!({"file": e.file, "line": e.line, "text": e.text}),
        );
    }
    v
}

use crate::expr::to_cel;

impl World {
    /// A world for these rules: a table is dropped once the last rule that
    /// reads it has run ([`World::begin_rule`] narrows node views to what
    /// each rule reads).
    pub fn for_rules(snap: Arc<Snapshot>, rules: &crate::load::RuleSet) -> Arc<World> {
        let mut uses: HashMap<String, usize> = HashMap::new();
        for r in &rules.rules {
            if let Some(f) = &r.def.matcher.fact {
                *uses.entry(f.clone()).or_default() += 1;
            }
        }
        Arc::new(World {
            snap,
            tables: Mutex::default(),
            views: Mutex::default(),
            current_keys: Mutex::default(),
            uses: Mutex::new(uses),
            objects: Mutex::default(),
            components: Mutex::default(),
            pod_networks: Mutex::default(),
            dns_service: Mutex::default(),
        })
    }

    /// The rule about to run: node views then hold only the tables it reads.
    pub fn begin_rule(&self, rule: &crate::load::Rule) {
        let sources: Vec<&str> = rule.sources().collect();
        *lock(&self.current_keys) = Some(view_keys(&sources));
        lock(&self.views).clear();
    }
}

/// The node-view keys (`.modules`, `.sysctl`, ...) some expression reads.
fn view_keys(sources: &[&str]) -> Vec<String> {
    let mut keys = Vec::new();
    for t in tables::GENERIC.iter().filter(|t| t.node_table) {
        let key = tables::view_key(t.name);
        let mut candidates = vec![key.clone()];
        if key == "sysctl" {
            candidates.push("sysctl_records".into());
        }
        for k in candidates {
            let needle = format!(".{k}");
            let used = sources.iter().any(|src| {
                src.match_indices(&needle).any(|(i, _)| {
                    !src[i + needle.len()..]
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                })
            });
            if used {
                keys.push(k);
            }
        }
    }
    keys
}

impl World {
    /// The snapshot, shared (records can hold it).
    pub fn snapshot_arc(&self) -> &Arc<Snapshot> {
        &self.snap
    }

    /// The snapshot the rules read.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snap
    }

    /// A rule that read `name` through `match: fact` is done: the table is
    /// dropped when no rule is left to read it.
    pub fn done_with(&self, name: &str) {
        let mut uses = lock(&self.uses);
        if let Some(n) = uses.get_mut(name) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                lock(&self.tables).remove(name);
            }
        }
    }

    /// A table by name, computed on first use (empty for an unknown name).
    pub fn table(&self, name: &str) -> Arc<FactTable> {
        if let Some(t) = lock(&self.tables).get(name) {
            return t.clone();
        }
        // Computed outside the lock: a table may itself ask for others.
        let t = Arc::new(tables::build(&self.snap, name).unwrap_or_default());
        lock(&self.tables)
            .entry(name.to_owned())
            .or_insert(t)
            .clone()
    }

    /// One node's view: the node tables some rule reads through `node()`,
    /// built from the snapshot for that node alone. The last few views are
    /// kept (rules walk the nodes in order), so memory stays at a few nodes'
    /// tables whatever the cluster's size.
    fn view(&self, name: &str) -> cel::Value {
        if let Some((_, v)) = lock(&self.views).iter().find(|(n, _)| n == name) {
            return v.clone();
        }
        let Some(tables_of_node) = self
            .snap
            .nodes
            .get(name)
            .map(Some)
            .or_else(|| self.snap.object("Node", "", name).map(|_| None))
        else {
            return cel::Value::Null;
        };
        let have = |t: &str| tables_of_node.is_some_and(|n| tables::node::collected(n, t));
        let mut view = Map::new();
        view.insert("name".into(), json!(name));
        let collected: Vec<&str> = tables::node::NODE_INPUTS
            .iter()
            .map(|(t, _)| *t)
            .filter(|t| have(t))
            .collect();
        view.insert("collected".into(), json!(collected));
        for t in tables::GENERIC.iter().filter(|t| t.node_table) {
            let key = tables::view_key(t.name);
            let wanted: Vec<&str> = if key == "sysctl" {
                vec!["sysctl", "sysctl_records"]
            } else {
                vec![key.as_str()]
            };
            let current = lock(&self.current_keys).clone();
            let wanted: Vec<&str> = wanted
                .into_iter()
                .filter(|k| {
                    current
                        .as_ref()
                        .is_none_or(|keys| keys.iter().any(|x| x == k))
                })
                .collect();
            if wanted.is_empty() {
                continue;
            }
            let records = match (have(t.name), t.build_for_node) {
                (true, Some(build)) => Some(build(&self.snap, name).records),
                _ => None,
            };
            for k in wanted {
                let v = match (&records, k) {
                    (None, _) => Value::Null,
                    (Some(r), "sysctl") => Value::Object(
                        r.iter()
                            .filter_map(|f| {
                                let mut v = f.fields();
                                Some((
                                    v.get("key")?.as_str()?.to_owned(),
                                    v.get_mut("value")?.take(),
                                ))
                            })
                            .collect(),
                    ),
                    (Some(r), _) if tables::singleton(t.name) => {
                        r.first().map(with_at).unwrap_or(Value::Null)
                    }
                    (Some(r), _) => Value::Array(r.iter().map(with_at).collect()),
                };
                view.insert(k.to_owned(), v);
            }
        }
        let v = to_cel(&Value::Object(view));
        let mut views = lock(&self.views);
        if views.len() >= VIEWS_KEPT {
            views.pop_front();
        }
        views.push_back((name.to_owned(), v.clone()));
        v
    }

    /// `iptablesRules(NODE, TABLE)` / `iptablesChains(NODE, TABLE)`: one
    /// iptables table of one node (null when iptables-save was not collected
    /// there), each record with its `at`.
    pub fn iptables(&self, node: &str, table: &str, chains: bool) -> cel::Value {
        let key = format!("{}\u{0}{node}\u{0}{table}", if chains { "c" } else { "r" });
        if let Some((_, v)) = lock(&self.views).iter().find(|(n, _)| *n == key) {
            return v.clone();
        }
        let collected = self
            .snap
            .nodes
            .get(node)
            .is_some_and(|t| t.iptables.is_some());
        let v = if collected {
            let t = if chains {
                tables::node::iptables_chains_of(&self.snap, node, table)
            } else {
                tables::node::iptables_of(&self.snap, node, table)
            };
            to_cel(&Value::Array(t.records.iter().map(with_at).collect()))
        } else {
            cel::Value::Null
        };
        let mut views = lock(&self.views);
        if views.len() >= VIEWS_KEPT {
            views.pop_front();
        }
        views.push_back((key, v.clone()));
        v
    }

    /// `table(NAME)`: every record of a table, each with its `at` (for small
    /// tables such as `networks` or `nodes`; a rule over a large one should
    /// match it instead). Empty for an unknown name.
    pub fn table_value(&self, name: &str) -> cel::Value {
        let key = format!("t\u{0}{name}");
        if let Some((_, v)) = lock(&self.views).iter().find(|(n, _)| *n == key) {
            return v.clone();
        }
        let t = self.table(name);
        let v = to_cel(&Value::Array(t.records.iter().map(with_at).collect()));
        let mut views = lock(&self.views);
        if views.len() >= VIEWS_KEPT {
            views.pop_front();
        }
        views.push_back((key, v.clone()));
        v
    }

    /// `node(NAME)`: the node's tables, or null for a node the bundle does not know.
    pub fn node(&self, name: &str) -> cel::Value {
        self.view(name)
    }

    /// `object(KIND, NAMESPACE, NAME)`: the object as the bundle has it
    /// (`""` namespace for cluster-scoped kinds), or null.
    pub fn object(&self, kind: &str, namespace: &str, name: &str) -> cel::Value {
        let key = (kind.to_owned(), namespace.to_owned(), name.to_owned());
        if let Some(v) = lock(&self.objects).get(&key) {
            return v.clone();
        }
        let v = match self.snap.object(kind, namespace, name) {
            Some(o) => to_cel(&o.object.value),
            None => cel::Value::Null,
        };
        lock(&self.objects).insert(key, v.clone());
        v
    }

    /// `component(NAME)`: a network component of `rules/components.yaml` as
    /// the bundle shows it — `name`, `kind`, `running` (pods recognised),
    /// `deployed` (pods, or a DaemonSet/Deployment whose pod template matches),
    /// `workloads`, `pods`, `ready`, `version` (where its version source tells it, else
    /// null), `namespaces`; for kube-proxy also `mode` (from its ConfigMap,
    /// `iptables` when unset) and `mode_set`. Null for a name the catalog
    /// does not have.
    pub fn component(&self, name: &str) -> cel::Value {
        if let Some(c) = lock(&self.components).as_ref() {
            return c.get(name).cloned().unwrap_or(cel::Value::Null);
        }
        let inv = NetworkInventory::cached(&self.snap);
        let mut all: HashMap<String, cel::Value> = HashMap::new();
        for rec in &self.table("components").records {
            let fields = rec.fields();
            let Some(n) = fields.get("name").and_then(Value::as_str) else {
                continue;
            };
            let mut v = with_at(rec);
            if n == "kube-proxy" {
                let mode = inv
                    .components
                    .kube_proxy_mode
                    .clone()
                    .filter(|m| !m.is_empty());
                v["mode_set"] = json!(mode.is_some());
                v["mode"] = json!(mode.unwrap_or_else(|| "iptables".into()));
            }
            all.insert(n.to_owned(), to_cel(&v));
        }
        let all = Arc::new(all);
        *lock(&self.components) = Some(all.clone());
        all.get(name).cloned().unwrap_or(cel::Value::Null)
    }

    /// `dnsService()`: the cluster DNS Service (`namespace`, `name`, `ip`,
    /// `at`), or null when the bundle shows none.
    pub fn dns_service(&self) -> cel::Value {
        // Called per record (a rule's `let`): the inventory is built once.
        if let Some(v) = lock(&self.dns_service).as_ref() {
            return v.clone();
        }
        let inv = NetworkInventory::cached(&self.snap);
        let v = match &inv.dns_service {
            Some(d) => to_cel(&json!({
                "namespace": d.namespace,
                "name": d.name,
                "ip": d.cluster_ip.map(|ip| ip.to_string()),
                "at": {"file": d.evidence.file, "line": d.evidence.line, "text": d.evidence.text},
            })),
            None => cel::Value::Null,
        };
        *lock(&self.dns_service) = Some(v.clone());
        v
    }

    /// Whether a cluster-wide input a rule `needs` is there, and if not, the
    /// input to report missing: `cluster.dns-service` (a DNS Service with a
    /// ClusterIP) or `cluster.<resource>` (that list was read).
    pub fn cluster_input(&self, need: &str) -> Result<(), kdiag_bundle::Input> {
        match need.strip_prefix("cluster.") {
            Some("dns-service") => {
                let inv = NetworkInventory::cached(&self.snap);
                if inv
                    .dns_service
                    .as_ref()
                    .is_some_and(|d| d.cluster_ip.is_some())
                {
                    Ok(())
                } else {
                    Err(kdiag_bundle::Input::resource("services"))
                }
            }
            Some(resource) if self.snap.has_resource(resource) => Ok(()),
            Some(resource) => Err(kdiag_bundle::Input::resource(resource)),
            None => Ok(()),
        }
    }

    /// `podNetworks()`: every pod network believed in (component settings) or
    /// in use (nodes' pod CIDRs), as CIDR strings.
    pub fn pod_networks(&self) -> cel::Value {
        if let Some(v) = lock(&self.pod_networks).as_ref() {
            return v.clone();
        }
        let inv = NetworkInventory::cached(&self.snap);
        let mut v: Vec<String> = inv
            .believed_pod_networks()
            .iter()
            .map(ToString::to_string)
            .collect();
        for n in &inv.nodes {
            v.extend(n.pod_cidrs.iter().map(ToString::to_string));
        }
        v.sort();
        v.dedup();
        let v = cel::Value::from(v);
        *lock(&self.pod_networks) = Some(v.clone());
        v
    }
}
