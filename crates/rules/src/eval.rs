//! Evaluating rules over a snapshot: records from each rule's source,
//! filtered by `where`, grouped by subject into findings; rules whose inputs
//! are missing come back as *unknown*, never as passing.

use crate::def::{CauseRef, Severity};
use crate::expr::{Expr, Scope, display, strings};
use crate::load::{Rule, RuleSet};
use crate::world::World;
use jiff::Timestamp;
use kdiag_model::Snapshot;
use kdiag_model::derive::FactTable;
use kdiag_model::inventory::Evidence;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Evidence kept per finding.
pub const MAX_EVIDENCE: usize = 24;

/// One finding: a rule fired for one subject.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Report-local id (`f1`, `f2`, ... in report order).
    pub id: String,
    /// The rule (the first one, when several rules found the same thing).
    pub rule: String,
    /// Every rule that found it.
    pub rules: Vec<String>,
    /// Failure class.
    pub class: String,
    /// Layer of the class.
    pub layer: String,
    /// Severity.
    pub severity: Severity,
    /// What it is about (contract fields only).
    pub subject: BTreeMap<String, String>,
    /// Join values for `caused_by`.
    pub attributes: BTreeMap<String, Vec<String>>,
    /// For the reader.
    pub message: String,
    /// Lines that show it.
    pub evidence: Vec<Evidence>,
    /// Ids of the findings that explain it.
    pub caused_by: Vec<String>,
    /// Ids of the findings it explains.
    pub causes: Vec<String>,
    /// Explains others and is explained by none.
    pub root: bool,
    /// What to do.
    pub remediation: String,
    /// When it first showed, when a log line or event says.
    pub first_seen: Option<Timestamp>,
    #[serde(skip)]
    pub(crate) cause_refs: Vec<CauseRef>,
}

/// A rule that could not be answered for lack of data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unknown {
    /// The rule.
    pub rule: String,
    /// The inputs that were missing (bundle paths).
    pub missing: Vec<String>,
    /// Why, where the collector's manifest says it tried: each distinct
    /// failure with how many of the missing inputs it explains. Empty when
    /// nothing says the inputs were collected at all.
    pub why: Vec<Why>,
}

/// One reason inputs are missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Why {
    /// `collection-failed`.
    pub status: String,
    /// The command and how it failed, e.g. ``ip route` exited 1: RTNETLINK answers``.
    pub reason: String,
    /// How many of the missing inputs it explains.
    pub inputs: usize,
}

/// A rule about CNIs the cluster does not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotApplicable {
    /// The rule.
    pub rule: String,
    /// Why, e.g. "for flannel, canal; this cluster runs calico".
    pub reason: String,
}

/// What the report says about the bundle itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BundleInfo {
    /// Where the bundles came from, as given.
    pub source: String,
    /// When the collector ran, from its manifest.
    pub collected_at: Option<String>,
    /// Files read.
    pub files: usize,
    /// The API server's version, when a version file was read.
    pub kubernetes_version: Option<String>,
}

impl BundleInfo {
    fn of(snap: &Snapshot) -> BundleInfo {
        BundleInfo {
            source: snap.sources.join(", "),
            collected_at: snap
                .manifest
                .as_ref()
                .and_then(|m| m.value.collected_at.clone()),
            files: snap.files.len(),
            kubernetes_version: snap.version.as_ref().and_then(|v| v.value.server.clone()),
        }
    }
}

/// The reasons the manifest gives for missing inputs.
fn reasons(snap: &Snapshot, missing: &[String]) -> Vec<Why> {
    let mut out: Vec<Why> = Vec::new();
    for m in missing {
        let kdiag_model::InputStatus::Failed { command } = snap.input_status(m) else {
            continue;
        };
        let outcome = command
            .exit_code
            .map_or_else(|| "did not run".to_owned(), |c| format!("exited {c}"));
        let err = command
            .stderr
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        let reason = format!("`{}` {outcome}{err}", command.argv.join(" "));
        match out.iter_mut().find(|w| w.reason == reason) {
            Some(w) => w.inputs += 1,
            None => out.push(Why {
                status: "collection-failed".into(),
                reason,
                inputs: 1,
            }),
        }
    }
    out
}

/// Everything the rules found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Analysis {
    /// Findings in report order: each root cause followed by what it explains, then the rest.
    pub findings: Vec<Finding>,
    /// Rules that could not be answered.
    pub unknown: Vec<Unknown>,
    /// Rules about CNIs this cluster does not run: not run, and not unknown.
    pub not_applicable: Vec<NotApplicable>,
    /// Rule evaluation problems (an expression that failed on some record).
    pub problems: Vec<String>,
    /// The bundle itself.
    pub bundle: BundleInfo,
}

impl Analysis {
    /// Ids of the root causes, in report order.
    pub fn root_causes(&self) -> Vec<&str> {
        self.findings
            .iter()
            .filter(|f| f.root)
            .map(|f| f.id.as_str())
            .collect()
    }
    /// A finding by id.
    pub fn finding(&self, id: &str) -> Option<&Finding> {
        self.findings.iter().find(|f| f.id == id)
    }
}

/// Runs every rule, links findings into the cause graph, and orders them.
pub fn analyze(rules: &RuleSet, snap: &Arc<Snapshot>) -> Analysis {
    let mut analysis = Analysis {
        bundle: BundleInfo::of(snap),
        ..Analysis::default()
    };
    let world = World::for_rules(snap.clone(), rules);
    // The CNIs the cluster runs; empty when none was recognised (then every
    // rule runs, and what it lacks is unknown).
    let cnis = &kdiag_model::inventory::NetworkInventory::cached(snap)
        .components
        .cni;
    for rule in &rules.rules {
        let applies = &rule.def.applies_to;
        if !applies.is_empty() && !cnis.is_empty() && !cnis.iter().any(|c| applies.contains(c)) {
            analysis.not_applicable.push(NotApplicable {
                rule: rule.def.id.clone(),
                reason: format!(
                    "for {}; this cluster runs {}",
                    applies.join(", "),
                    cnis.join(", ")
                ),
            });
            continue;
        }
        world.begin_rule(rule);
        let table = source(rule, &world);
        let (findings, problems, lacking) = kdiag_model::timing::timed(
            || format!("rule {}", rule.def.id),
            || evaluate_in(rule, &table, &world),
        );
        if !table.missing.is_empty() || !lacking.is_empty() {
            // Inputs as this bundle's layout names them.
            let mut missing: Vec<String> = table
                .missing
                .iter()
                .chain(lacking.iter())
                .map(|i| snap.path_of(i))
                .collect();
            missing.sort();
            missing.dedup();
            let why = reasons(snap, &missing);
            analysis.unknown.push(Unknown {
                rule: rule.def.id.clone(),
                missing,
                why,
            });
        }
        analysis.findings.extend(findings);
        analysis.problems.extend(problems);
        drop(table);
        if let Some(name) = &rule.def.matcher.fact {
            world.done_with(name);
        }
    }
    crate::graph::link(&mut analysis);
    analysis
}

fn source(rule: &Rule, world: &World) -> Arc<FactTable> {
    let m = &rule.def.matcher;
    let snap = world.snapshot();
    Arc::new(if let Some(o) = &m.objects {
        crate::sources::objects(world.snapshot_arc(), o)
    } else if let Some(r) = &m.rbac {
        crate::sources::rbac(snap, r)
    } else if let Some(l) = &m.logs {
        crate::sources::logs(snap, &rule.def.id, l)
    } else if let Some(name) = &m.fact {
        return world.table(name);
    } else {
        FactTable::default()
    })
}

/// Evidence from the value of an `evidence:` expression: a record of a
/// cross-table view (its `at`), a list of them, or null.
fn evidence_of(v: &Value, out: &mut Vec<Evidence>) {
    match v {
        Value::Array(items) => items.iter().for_each(|x| evidence_of(x, out)),
        Value::Object(o) => {
            let at = o.get("at").unwrap_or(v);
            if let (Some(file), Some(line), Some(text)) = (
                at.get("file").and_then(Value::as_str),
                at.get("line").and_then(Value::as_u64),
                at.get("text").and_then(Value::as_str),
            ) {
                out.push(Evidence {
                    file: file.to_owned(),
                    line: u32::try_from(line).unwrap_or(u32::MAX),
                    text: text.to_owned(),
                });
            }
        }
        _ => {}
    }
}

struct Group {
    subject: BTreeMap<String, String>,
    records: Vec<Value>,
    attributes: BTreeMap<String, Vec<String>>,
    evidence: Vec<Evidence>,
    first_seen: Option<Timestamp>,
}

/// Evaluates one rule over its records; cross-table functions answer from
/// `world`. Returns the findings, the evaluation problems, and the inputs
/// that records' nodes lacked (`needs`).
fn evaluate_in(
    rule: &Rule,
    table: &FactTable,
    world: &Arc<World>,
) -> (Vec<Finding>, Vec<String>, Vec<kdiag_bundle::Input>) {
    let mut problems = Vec::new();
    let mut needed_missing: Vec<kdiag_bundle::Input> = Vec::new();
    let mut note = |what: &str, e: String| {
        let p = format!("{}: {what}: {e}", rule.def.id);
        if !problems.contains(&p) {
            problems.push(p);
        }
    };
    let mut groups: Vec<Group> = Vec::new();
    // Subject → index in `groups`, so grouping stays linear in the records.
    let mut index: HashMap<BTreeMap<String, String>, usize> = HashMap::new();
    // Cluster-wide inputs (`cluster.*`): without them no record can be judged.
    let lacking_cluster: Vec<kdiag_bundle::Input> = rule
        .def
        .needs
        .iter()
        .filter(|n| n.starts_with("cluster."))
        .filter_map(|n| world.cluster_input(n).err())
        .collect();
    if !lacking_cluster.is_empty() {
        return (Vec::new(), Vec::new(), lacking_cluster);
    }
    let node_needs = rule.def.needs.iter().any(|n| n.starts_with("node."));
    // The functions are registered once per rule; each record gets a child
    // scope holding only what the per-record expressions read of it.
    let base = match Scope::with_world(world, &[]) {
        Ok(s) => s,
        Err(e) => {
            note("scope", e);
            return (Vec::new(), problems, needed_missing);
        }
    };
    let mut projection = crate::project::of(
        rule.lets
            .iter()
            .map(|(_, e)| e)
            .chain(rule.condition.iter())
            .chain(rule.subject.iter().map(|(_, e)| e))
            .chain(rule.attributes.iter().map(|(_, e)| e))
            .chain(rule.evidence.iter()),
    );
    if node_needs {
        projection.add(&["node"]);
    }
    for rec in &table.records {
        // What the per-record expressions read; the whole record only for
        // one that matched (the group's `records` and `first`).
        let mut r = rec.fields_projected(&projection);
        if node_needs {
            let node = r.get("node").and_then(Value::as_str).unwrap_or("");
            let tables = world.snapshot().nodes.get(node);
            // `a|b`: either input will do.
            let lacking: Vec<&String> = rule
                .def
                .needs
                .iter()
                .filter(|n| n.starts_with("node."))
                .filter(|n| {
                    !n.split('|').any(|one| {
                        tables.is_some_and(|t| kdiag_model::tables::node::collected(t, one))
                    })
                })
                .collect();
            if !lacking.is_empty() {
                needed_missing.extend(lacking.into_iter().flat_map(|n| {
                    n.split('|')
                        .filter_map(|one| kdiag_model::tables::node::input_of(node, one))
                }));
                continue;
            }
        }
        let mut scope = base.child(&[("r", &r)]);
        // `let`: computed fields join the record, then the scope is rebuilt.
        let mut let_values = Vec::new();
        if !rule.lets.is_empty() {
            for (k, e) in &rule.lets {
                let v = match e.eval_in(&scope) {
                    Ok(v) => v,
                    Err(err) => {
                        note(&format!("let.{k}"), err);
                        Value::Null
                    }
                };
                let_values.push((k.clone(), v));
            }
            if let Value::Object(o) = &mut r {
                o.extend(let_values.iter().cloned());
            }
            scope = base.child(&[("r", &r)]);
        }
        if let Some(c) = &rule.condition {
            match c.eval_bool_in(&scope) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    note("where", e);
                    continue;
                }
            }
        }
        let mut subject = BTreeMap::new();
        for (k, e) in &rule.subject {
            match e.eval_in(&scope) {
                Ok(v) => {
                    let s = display(&v);
                    if !s.is_empty() {
                        subject.insert(k.clone(), s);
                    }
                }
                Err(err) => note(&format!("subject.{k}"), err),
            }
        }
        let gi = match index.get(&subject) {
            Some(&i) => i,
            None => {
                index.insert(subject.clone(), groups.len());
                groups.push(Group {
                    subject,
                    records: Vec::new(),
                    attributes: BTreeMap::new(),
                    evidence: Vec::new(),
                    first_seen: None,
                });
                groups.len() - 1
            }
        };
        let g = &mut groups[gi];
        for (k, e) in &rule.attributes {
            match e.eval_in(&scope) {
                Ok(v) => {
                    let list = g.attributes.entry(k.clone()).or_default();
                    for s in strings(&v) {
                        if !list.contains(&s) {
                            list.push(s);
                        }
                    }
                }
                Err(err) => note(&format!("attributes.{k}"), err),
            }
        }
        let mut fields = rec.fields();
        if let Value::Object(o) = &mut fields {
            o.extend(let_values);
        }
        g.records.push(fields);
        let mut extra = Vec::new();
        for e in &rule.evidence {
            match e.eval_in(&scope) {
                Ok(v) => evidence_of(&v, &mut extra),
                Err(err) => note("evidence", err),
            }
        }
        for e in rec.evidence.iter().chain(extra.iter()) {
            if g.evidence.len() < MAX_EVIDENCE && !g.evidence.contains(e) {
                g.evidence.push(e.clone());
            }
        }
        g.first_seen = match (g.first_seen, rec.first_seen) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    let mut group_sources: Vec<&str> = rule.message.sources().collect();
    group_sources.extend(rule.having.as_ref().map(Expr::source));
    group_sources.extend(rule.escalate.as_ref().map(|(_, e)| e.source()));
    let wants_records = group_sources.iter().any(|s| s.contains("records"));
    let mut findings = Vec::new();
    for mut g in groups {
        let subject_v = Value::Object(
            g.subject
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect::<Map<_, _>>(),
        );
        let attrs_v = json!(g.attributes);
        let first_v = g.records.first().cloned().unwrap_or(Value::Null);
        let count_v = json!(g.records.len());
        let total: u64 = g
            .records
            .iter()
            .map(|r| r.get("count").and_then(Value::as_u64).unwrap_or(1))
            .sum();
        let total_v = json!(total);
        let records_v = if wants_records {
            Value::Array(std::mem::take(&mut g.records))
        } else {
            Value::Null
        };
        let vars = [
            ("subject", &subject_v),
            ("attributes", &attrs_v),
            ("records", &records_v),
            ("first", &first_v),
            ("count", &count_v),
            ("total", &total_v),
        ];
        // One scope for the group's expressions, holding only the variables
        // they name: converting `records` (hundreds of records for a Service
        // missing on every node) is the expensive part.
        let vars: Vec<(&str, &Value)> = vars
            .into_iter()
            .filter(|(name, _)| group_sources.iter().any(|src| src.contains(name)))
            .collect();
        let scope = match Scope::with_world(world, &vars) {
            Ok(s) => s,
            Err(e) => {
                note("group", e);
                continue;
            }
        };
        if let Some(h) = &rule.having {
            match h.eval_bool_in(&scope) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    note("having", e);
                    continue;
                }
            }
        }
        let mut severity = rule.def.severity;
        if let Some((to, when)) = &rule.escalate {
            match when.eval_bool_in(&scope) {
                Ok(true) => severity = severity.max(*to),
                Ok(false) => {}
                Err(e) => note("escalate.when", e),
            }
        }
        let (message, errors) = rule.message.render_in(&scope);
        for e in errors {
            note("message", e);
        }
        findings.push(Finding {
            id: String::new(),
            rule: rule.def.id.clone(),
            rules: vec![rule.def.id.clone()],
            class: rule.def.class.clone(),
            layer: rule.layer.to_owned(),
            severity,
            subject: g.subject,
            attributes: g.attributes,
            message,
            evidence: g.evidence,
            caused_by: Vec::new(),
            causes: Vec::new(),
            root: false,
            remediation: rule.def.remediation.render(),
            first_seen: g.first_seen,
            cause_refs: rule.def.caused_by.clone(),
        });
    }
    (findings, problems, needed_missing)
}
