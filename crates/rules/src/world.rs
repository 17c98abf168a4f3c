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

/// The snapshot and what has been computed from it so far.
pub struct World {
    snap: Arc<Snapshot>,
    tables: Mutex<HashMap<String, Arc<FactTable>>>,
    views: Mutex<Option<Arc<HashMap<String, cel::Value>>>>,
    objects: Mutex<HashMap<(String, String, String), cel::Value>>,
    components: Mutex<Option<Arc<HashMap<String, cel::Value>>>>,
    pod_networks: Mutex<Option<cel::Value>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A record as CEL sees it through a cross-table function: its fields, and
/// `at`, where it was read.
pub fn with_at(f: &Fact) -> Value {
    let mut v = f.fields.clone();
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
    /// A world over one snapshot.
    pub fn new(snap: Arc<Snapshot>) -> Arc<World> {
        Arc::new(World {
            snap,
            tables: Mutex::default(),
            views: Mutex::default(),
            objects: Mutex::default(),
            components: Mutex::default(),
            pod_networks: Mutex::default(),
        })
    }

    /// The snapshot.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snap
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

    fn views(&self) -> Arc<HashMap<String, cel::Value>> {
        if let Some(v) = lock(&self.views).as_ref() {
            return v.clone();
        }
        let mut per_node: HashMap<String, Map<String, Value>> = HashMap::new();
        let nodes = self.table("nodes");
        for n in &nodes.records {
            let Some(name) = n.fields.get("node").and_then(Value::as_str) else {
                continue;
            };
            let collected = n.fields.get("collected").cloned().unwrap_or(json!([]));
            let have: Vec<&str> = collected
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut view = Map::new();
            view.insert("name".into(), json!(name));
            for t in tables::GENERIC.iter().filter(|t| t.node_table) {
                let key = tables::view_key(t.name);
                let key = if key == "sysctl" {
                    "sysctl_records".to_owned()
                } else {
                    key
                };
                let empty = if have.contains(&t.name) && !tables::singleton(t.name) {
                    json!([])
                } else {
                    Value::Null
                };
                view.insert(key, empty);
            }
            view.insert(
                "sysctl".into(),
                if have.contains(&"node.sysctl") {
                    json!({})
                } else {
                    Value::Null
                },
            );
            view.insert("collected".into(), collected.clone());
            per_node.insert(name.to_owned(), view);
        }
        for t in tables::GENERIC.iter().filter(|t| t.node_table) {
            let key = tables::view_key(t.name);
            let table = self.table(t.name);
            for rec in &table.records {
                let Some(view) = rec
                    .fields
                    .get("node")
                    .and_then(Value::as_str)
                    .and_then(|n| per_node.get_mut(n))
                else {
                    continue;
                };
                if key == "sysctl" {
                    if let (Some(Value::Object(m)), Some(k), Some(v)) = (
                        view.get_mut("sysctl"),
                        rec.fields.get("key").and_then(Value::as_str),
                        rec.fields.get("value"),
                    ) {
                        m.entry(k.to_owned()).or_insert_with(|| v.clone());
                    }
                    if let Some(Value::Array(a)) = view.get_mut("sysctl_records") {
                        a.push(with_at(rec));
                    }
                } else if tables::singleton(t.name) {
                    view.insert(key.clone(), with_at(rec));
                } else if let Some(Value::Array(a)) = view.get_mut(&key) {
                    a.push(with_at(rec));
                }
            }
        }
        let views: HashMap<String, cel::Value> = per_node
            .into_iter()
            .map(|(k, v)| (k, to_cel(&Value::Object(v))))
            .collect();
        let views = Arc::new(views);
        *lock(&self.views) = Some(views.clone());
        views
    }

    /// `node(NAME)`: the node's tables, or null for a node the bundle does not know.
    pub fn node(&self, name: &str) -> cel::Value {
        self.views().get(name).cloned().unwrap_or(cel::Value::Null)
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
        let snap = &*self.snap;
        let inv = NetworkInventory::of(snap);
        let mut all: HashMap<String, cel::Value> = HashMap::new();
        for c in crate::catalog::components() {
            let pods: Vec<_> = c
                .recognise
                .pods
                .iter()
                .flat_map(|sel| {
                    snap.pods_matching(sel.namespace.as_deref(), &sel.selector)
                        .filter(|p| {
                            crate::sources::image_matches(&p.object.value, sel.image.as_deref())
                        })
                })
                .collect();
            let mut names: Vec<&str> = pods.iter().map(|p| p.object.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            let ready = pods
                .iter()
                .filter(|p| {
                    p.object
                        .value
                        .pointer("/status/conditions")
                        .and_then(Value::as_array)
                        .is_some_and(|cs| {
                            cs.iter()
                                .any(|c| c["type"] == "Ready" && c["status"] == "True")
                        })
                })
                .count();
            let mut namespaces: Vec<String> = pods
                .iter()
                .filter_map(|p| p.object.namespace.clone())
                .collect();
            namespaces.sort();
            namespaces.dedup();
            let version = c
                .version
                .as_deref()
                .and_then(|v| crate::sources::component_version(snap, v, &c.recognise.pods))
                .map(|(v, _)| v);
            // Workloads whose pod template the component's selectors match.
            let workloads = snap
                .objects
                .iter()
                .filter(|o| matches!(o.object.kind.as_str(), "DaemonSet" | "Deployment"))
                .filter(|o| {
                    let labels = o
                        .object
                        .value
                        .pointer("/spec/template/metadata/labels")
                        .and_then(Value::as_object);
                    c.recognise.pods.iter().any(|sel| {
                        sel.namespace
                            .as_deref()
                            .is_none_or(|ns| o.object.namespace.as_deref() == Some(ns))
                            && labels.is_some_and(|l| {
                                sel.selector
                                    .iter()
                                    .all(|(k, v)| l.get(k).and_then(Value::as_str) == Some(v))
                            })
                    })
                })
                .count();
            let mut v = json!({
                "name": c.name,
                "kind": c.kind,
                "running": !names.is_empty(),
                "deployed": !names.is_empty() || workloads > 0,
                "workloads": workloads,
                "pods": names.len(),
                "ready": ready,
                "version": version,
                "namespaces": namespaces,
            });
            if c.name == "kube-proxy" {
                let mode = inv
                    .components
                    .kube_proxy_mode
                    .clone()
                    .filter(|m| !m.is_empty());
                v["mode_set"] = json!(mode.is_some());
                v["mode"] = json!(mode.unwrap_or_else(|| "iptables".into()));
            }
            all.insert(c.name.clone(), to_cel(&v));
        }
        let all = Arc::new(all);
        *lock(&self.components) = Some(all.clone());
        all.get(name).cloned().unwrap_or(cel::Value::Null)
    }

    /// `dnsService()`: the cluster DNS Service (`namespace`, `name`, `ip`,
    /// `at`), or null when the bundle shows none.
    pub fn dns_service(&self) -> cel::Value {
        let inv = NetworkInventory::of(&self.snap);
        match &inv.dns_service {
            Some(d) => to_cel(&json!({
                "namespace": d.namespace,
                "name": d.name,
                "ip": d.cluster_ip.map(|ip| ip.to_string()),
                "at": {"file": d.evidence.file, "line": d.evidence.line, "text": d.evidence.text},
            })),
            None => cel::Value::Null,
        }
    }

    /// Whether a cluster-wide input a rule `needs` is there, and if not, the
    /// input to report missing: `cluster.dns-service` (a DNS Service with a
    /// ClusterIP) or `cluster.<resource>` (that list was read).
    pub fn cluster_input(&self, need: &str) -> Result<(), kdiag_bundle::Input> {
        match need.strip_prefix("cluster.") {
            Some("dns-service") => {
                let inv = NetworkInventory::of(&self.snap);
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
        let inv = NetworkInventory::of(&self.snap);
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
