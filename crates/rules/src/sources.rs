//! Where a rule's records come from. Every source answers with records
//! (JSON fields + evidence) and the inputs it needed but did not find.

use crate::def::{LogsMatch, ObjectsMatch, PrincipalDef, RbacMatch};
use kdiag_bundle::Input;
use kdiag_model::derive::{Fact, FactTable, Projection, Record, row};
use kdiag_model::inventory::Evidence;
use kdiag_model::rbac::{AccessRequest, Principal, Rbac};
use kdiag_model::{Located, Snapshot};
use kdiag_parse::kube::KubeObject;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

fn ev(file: &str, line: u32, text: impl Into<String>) -> Evidence {
    Evidence {
        file: file.to_owned(),
        line,
        text: text.into(),
    }
}

/// The list resource a kind is collected as (`cluster/<resource>.yaml`).
fn resource_of(kind: &str) -> String {
    kdiag_parse::kube::resource_of_kind(kind)
}

/// Objects of one kind, or one record when none matches and `absent` is set.
/// One object of the snapshot as a record (`kind`, `namespace`, `name`,
/// `labels`, `object`), read in place: a rule that reads a field of every
/// Pod copies that field, not the Pods.
struct ObjectRow {
    snap: Arc<Snapshot>,
    /// Index in [`Snapshot::objects`].
    at: usize,
}

impl std::fmt::Debug for ObjectRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.snap.objects.get(self.at) {
            Some(o) => write!(f, "ObjectRow({} {})", o.object.kind, o.object.name),
            None => write!(f, "ObjectRow(#{})", self.at),
        }
    }
}

impl ObjectRow {
    /// The record's field `name`, narrowed by `keep`.
    fn field(&self, name: &str, keep: &Projection) -> Option<Value> {
        let o = &self.snap.objects.get(self.at)?.object;
        Some(match name {
            "kind" => Value::String(o.kind.clone()),
            "namespace" => o.namespace.clone().map_or(Value::Null, Value::String),
            "name" => Value::String(o.name.clone()),
            "labels" => keep.apply(&json!(o.labels())),
            "object" => keep.apply(&o.value),
            _ => return None,
        })
    }
}

impl Record for ObjectRow {
    fn to_json(&self) -> Value {
        self.to_json_projected(&Projection::all())
    }

    fn to_json_projected(&self, keep: &Projection) -> Value {
        let fields = ["kind", "namespace", "name", "labels", "object"];
        Value::Object(
            fields
                .iter()
                .filter_map(|f| {
                    let k = keep.field(f)?;
                    Some(((*f).to_owned(), self.field(f, k)?))
                })
                .collect(),
        )
    }
}

pub(crate) fn objects(snap: &Arc<Snapshot>, m: &ObjectsMatch) -> FactTable {
    let resource = resource_of(&m.kind);
    let mut table = FactTable::default();
    if !snap.has_resource(&resource) {
        table.missing.push(Input::resource(&resource));
        return table;
    }
    let matched: Vec<(usize, &Located<KubeObject>)> = snap
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| o.object.kind == m.kind && !o.object.unreadable)
        .filter(|(_, o)| {
            m.namespace
                .as_ref()
                .is_none_or(|ns| o.object.namespace.as_deref() == Some(ns.as_str()))
        })
        .filter(|(_, o)| m.name.as_ref().is_none_or(|n| o.object.name == *n))
        .filter(|(_, o)| {
            let labels = o.object.labels();
            m.selector.iter().all(|(k, v)| labels.get(k) == Some(v))
        })
        .collect();
    if m.absent {
        if matched.is_empty() {
            let file = snap.resource_file(&resource).unwrap_or_default().to_owned();
            let count = snap.objects_of(&m.kind).count();
            table.records.push(Fact {
                record: row(json!({"kind": m.kind, "namespace": m.namespace, "name": m.name, "selector": m.selector})),
                evidence: vec![ev(&file, 1, format!("no {} {} among the {count} {} in this file", m.kind, m.name.clone().unwrap_or_default(), resource))],
                first_seen: None,
            });
        }
        return table;
    }
    for (at, o) in matched {
        table.records.push(Fact {
            record: Arc::new(ObjectRow {
                snap: Arc::clone(snap),
                at,
            }),
            evidence: vec![ev(
                &o.file,
                o.object.line,
                format!(
                    "{} {}{}",
                    o.object.kind,
                    o.object
                        .namespace
                        .as_ref()
                        .map(|n| format!("{n}/"))
                        .unwrap_or_default(),
                    o.object.name
                ),
            )],
            first_seen: None,
        });
    }
    table
}

/// Principals of one component, with the evidence that names each.
fn principals(
    snap: &Snapshot,
    defs: &[PrincipalDef],
) -> (Vec<(Principal, Option<Evidence>)>, bool) {
    let mut out: Vec<(Principal, Option<Evidence>)> = Vec::new();
    let mut needs_pods = false;
    for d in defs {
        if let Some(sa) = &d.serviceaccount
            && let Some((ns, name)) = sa.split_once('/')
        {
            out.push((Principal::service_account(ns, name), None));
        }
        // A user identity counts only where some binding names it: the
        // component may run as that user (k3s, bootstrap policy), or not at all.
        if let Some(user) = &d.user
            && let Some(b) = bindings_naming_user(snap, user)
        {
            out.push((Principal::User { name: user.clone() }, Some(b)));
        }
        if let Some(p) = &d.pods {
            needs_pods = true;
            for pod in snap
                .pods_matching(p.namespace.as_deref(), &p.selector)
                .filter(|pod| image_matches(&pod.object.value, p.image.as_deref()))
            {
                let ns = pod.object.namespace.clone().unwrap_or_default();
                let sa = pod
                    .object
                    .value
                    .pointer("/spec/serviceAccountName")
                    .and_then(Value::as_str)
                    .unwrap_or("default")
                    .to_owned();
                let principal = Principal::service_account(&ns, &sa);
                if !out.iter().any(|(p, _)| *p == principal) {
                    out.push((
                        principal,
                        Some(ev(
                            &pod.file,
                            pod.object.line,
                            format!(
                                "Pod {ns}/{} runs as serviceaccount {ns}/{sa}",
                                pod.object.name
                            ),
                        )),
                    ));
                }
            }
        }
    }
    (out, needs_pods)
}

use kdiag_model::components::{image_matches, parse_version};

/// Whether a need applies at `version` (`None`: the version is unknown, so
/// only needs without `since`/`until` are known to apply).
fn need_applies(need: &crate::def::AccessDef, version: Option<(u64, u64, u64)>) -> Option<bool> {
    if need.since.is_none() && need.until.is_none() {
        return Some(true);
    }
    let v = version?;
    let since_ok = need
        .since
        .as_deref()
        .and_then(parse_version)
        .is_none_or(|s| v >= s);
    let until_ok = need
        .until
        .as_deref()
        .and_then(parse_version)
        .is_none_or(|u| v < u);
    Some(since_ok && until_ok)
}

/// The first binding whose subjects name `user`, as evidence.
fn bindings_naming_user(snap: &Snapshot, user: &str) -> Option<Evidence> {
    snap.objects
        .iter()
        .filter(|o| matches!(o.object.kind.as_str(), "ClusterRoleBinding" | "RoleBinding"))
        .find_map(|o| {
            let subjects = o.object.value.get("subjects")?.as_array()?;
            subjects
                .iter()
                .any(|s| {
                    s.get("kind").and_then(Value::as_str) == Some("User")
                        && s.get("name").and_then(Value::as_str) == Some(user)
                })
                .then(|| {
                    ev(
                        &o.file,
                        o.object.line,
                        format!("{} {} binds user {user}", o.object.kind, o.object.name),
                    )
                })
        })
}

/// What `kubectl auth can-i --list --as=<service account>` says about one
/// permission, with the row that grants it (or the table's header line).
fn can_i_answer(
    snap: &Snapshot,
    p: &Principal,
    verb: &str,
    group: &str,
    resource: &str,
) -> Option<(bool, Evidence)> {
    let Principal::ServiceAccount { namespace, name } = p else {
        return None;
    };
    let table = snap.can_i.get(&format!("{namespace}/{name}"))?;
    let row = table.value.iter().find(|r| {
        let res_ok = r.resource.as_deref().is_some_and(|x| {
            x == "*"
                || x == resource
                || resource
                    .split_once('/')
                    .is_some_and(|(base, sub)| x == format!("{base}/*") || x == format!("*/{sub}"))
        });
        let group_ok = r.group.as_deref().is_some_and(|g| g == "*" || g == group);
        res_ok
            && group_ok
            && r.resource_names.is_empty()
            && r.verbs.iter().any(|v| v == "*" || v == verb)
    });
    Some(match row {
        Some(r) => (
            true,
            ev(
                &table.file,
                r.line,
                format!(
                    "{} {}",
                    r.resource.clone().unwrap_or_default(),
                    r.verbs.join(" ")
                ),
            ),
        ),
        None => (
            false,
            ev(
                &table.file,
                1,
                "Resources   Non-Resource URLs   Resource Names   Verbs",
            ),
        ),
    })
}

fn principal_name(p: &Principal) -> String {
    match p {
        Principal::ServiceAccount { namespace, name } => format!("{namespace}/{name}"),
        Principal::User { name } | Principal::Group { name } => name.clone(),
    }
}

/// One record per component and needed permission: whether any of the
/// component's principals has it, and the dangling bindings in the way.
pub(crate) fn rbac(snap: &Snapshot, m: &RbacMatch) -> FactTable {
    let mut table = FactTable::default();
    // RBAC objects, or else `kubectl auth can-i --list` output, answer the checks.
    let missing_rbac: Vec<Input> = ["clusterroles", "clusterrolebindings"]
        .iter()
        .filter(|r| !snap.has_resource(r))
        .map(|r| Input::resource(r))
        .collect();
    if !missing_rbac.is_empty() && snap.can_i.is_empty() {
        table.missing = missing_rbac;
        return table;
    }
    let evaluator = Rbac::new(snap);
    let mut components: Vec<crate::def::RbacComponent> = m.components.clone();
    if m.catalog {
        components.extend(
            crate::catalog::components()
                .iter()
                .filter(|c| !c.needs.is_empty())
                .map(crate::def::as_rbac),
        );
    }
    for c in &components {
        let (principals, needs_pods) = principals(snap, &c.principals);
        if needs_pods && !snap.has_resource("pods") {
            table.missing.push(Input::resource("pods"));
        }
        // Prefer a service account that a running pod uses for the subject.
        let Some(shown) = principals
            .iter()
            .find(|(p, e)| e.is_some() && matches!(p, Principal::ServiceAccount { .. }))
            .or_else(|| principals.first())
            .map(|(p, _)| principal_name(p))
        else {
            continue;
        };
        // The component's usual ClusterRole: does it exist, and does a binding of it reach the component?
        let (role_exists, role_bound, role_bound_to, role_evidence) = match &c.role {
            None => (Value::Null, Value::Null, Vec::new(), Vec::new()),
            Some(role) => {
                let bindings = evaluator.bindings_of_cluster_role(role);
                let bound = bindings.iter().any(|(b, subjects)| {
                    subjects.iter().any(|s| {
                        principals
                            .iter()
                            .any(|(p, _)| p.matches(s, b.namespace.as_deref()))
                    })
                });
                let to: Vec<String> = bindings
                    .iter()
                    .flat_map(|(b, subjects)| {
                        subjects.iter().map(move |s| {
                            format!(
                                "{} {}{} (via {} {})",
                                s.kind,
                                s.namespace
                                    .as_ref()
                                    .map(|n| format!("{n}/"))
                                    .unwrap_or_default(),
                                s.name,
                                b.kind,
                                b.name
                            )
                        })
                    })
                    .collect();
                let mut e: Vec<Evidence> = evaluator
                    .cluster_role(role)
                    .map(|r| ev(&r.file, r.line, format!("ClusterRole {role} exists")))
                    .into_iter()
                    .collect();
                e.extend(bindings.iter().map(|(b, subjects)| {
                    ev(
                        &b.file,
                        b.line,
                        format!(
                            "{} {} grants {role} to {}",
                            b.kind,
                            b.name,
                            subjects
                                .iter()
                                .map(|s| format!(
                                    "{} {}{}",
                                    s.kind,
                                    s.namespace
                                        .as_ref()
                                        .map(|n| format!("{n}/"))
                                        .unwrap_or_default(),
                                    s.name
                                ))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                }));
                (
                    Value::Bool(evaluator.has_cluster_role(role)),
                    Value::Bool(bound),
                    to,
                    e,
                )
            }
        };
        let serviceaccounts: Vec<String> = principals
            .iter()
            .filter(|(p, _)| matches!(p, Principal::ServiceAccount { .. }))
            .map(|(p, _)| principal_name(p))
            .collect();
        // The component's version decides which needs apply.
        let pod_selectors: Vec<crate::def::PodSelector> =
            c.principals.iter().filter_map(|p| p.pods.clone()).collect();
        let version = c
            .version
            .as_deref()
            .and_then(|src| kdiag_model::components::version(snap, src, &pod_selectors));
        let parsed = version.as_ref().and_then(|(v, _)| parse_version(v));
        for need in &c.needs {
            match need_applies(need, parsed) {
                Some(true) => {}
                Some(false) => continue,
                None => {
                    table.missing.push(match c.version.as_deref() {
                        Some("kubernetes") => Input::Version,
                        _ => Input::Described {
                            what: format!("the version of {} (the image tag of its pods)", c.name),
                        },
                    });
                    continue;
                }
            }
            for verb in &need.verbs {
                let req = AccessRequest::cluster(verb, &need.group, &need.resource);
                let decisions: Vec<_> = principals
                    .iter()
                    .map(|(p, _)| (p, evaluator.check(p, &req)))
                    .collect();
                let rbac_allowed = decisions.iter().any(|(_, d)| d.allowed);
                // Denied, but an object that might grant it could not be read: unknown.
                if !rbac_allowed
                    && let Some(u) = decisions.iter().find_map(|(_, d)| d.unreadable.first())
                {
                    table.missing.push(Input::Described {
                        what: format!(
                            "{}:{} ({} {} could not be read)",
                            u.file, u.line, u.kind, u.name
                        ),
                    });
                    continue;
                }
                // The API server's own answer, when the collector asked it.
                let can_i: Vec<(bool, Evidence)> = principals
                    .iter()
                    .filter_map(|(p, _)| can_i_answer(snap, p, verb, &need.group, &need.resource))
                    .collect();
                if can_i.is_empty() && !missing_rbac.is_empty() {
                    table.missing.extend(missing_rbac.iter().cloned());
                    continue;
                }
                let allowed = if can_i.is_empty() {
                    rbac_allowed
                } else {
                    can_i.iter().any(|(a, _)| *a)
                };
                let mut missing_roles: BTreeSet<String> = BTreeSet::new();
                let can_i_evidence: Vec<Evidence> = can_i
                    .iter()
                    .filter(|(a, _)| *a == allowed)
                    .map(|(_, e)| e.clone())
                    .collect();
                let mut evidence: Vec<Evidence> = principals
                    .iter()
                    .filter_map(|(_, e)| e.clone())
                    .take(1)
                    .collect();
                evidence.extend(can_i_evidence);
                for (_, d) in &decisions {
                    for mr in &d.missing_roles {
                        missing_roles.insert(mr.role_name.clone());
                        let e = ev(
                            &mr.binding.file,
                            mr.binding.line,
                            format!(
                                "{} {} roleRef: {} {} (not in the bundle)",
                                mr.binding.kind, mr.binding.name, mr.role_kind, mr.role_name
                            ),
                        );
                        if !evidence.contains(&e) {
                            evidence.push(e);
                        }
                    }
                    if allowed && let Some(g) = d.grants.first() {
                        evidence.push(ev(
                            &g.binding.file,
                            g.binding.line,
                            format!(
                                "{} {} grants {} via {} {}",
                                g.binding.kind, g.binding.name, verb, g.role.kind, g.role.name
                            ),
                        ));
                    }
                }
                // A role that exists but is bound elsewhere: show where. (A missing role's binding is shown already.)
                if !allowed && role_exists == Value::Bool(true) {
                    for e in &role_evidence {
                        if !evidence.contains(e) {
                            evidence.push(e.clone());
                        }
                    }
                }
                if (need.since.is_some() || need.until.is_some())
                    && let Some((_, e)) = &version
                    && !evidence.contains(e)
                {
                    evidence.push(e.clone());
                }
                let resource = need.resource.clone();
                table.records.push(Fact {
                    record: row(json!({
                        "component": c.name,
                        "principal": shown,
                        "principals": principals.iter().map(|(p, _)| principal_name(p)).collect::<Vec<_>>(),
                        "serviceaccounts": serviceaccounts,
                        "verb": verb,
                        "group": need.group,
                        "resource": resource,
                        "allowed": allowed,
                        "can_i": if can_i.is_empty() { Value::Null } else { Value::Bool(can_i.iter().any(|(a, _)| *a)) },
                        "missing_roles": missing_roles.into_iter().collect::<Vec<_>>(),
                        "role": c.role,
                        "role_exists": role_exists,
                        "role_bound": role_bound,
                        "role_bound_to": role_bound_to,
                        "version": version.as_ref().map(|(v, _)| v.clone()),
                    })),
                    evidence,
                    first_seen: None,
                });
            }
        }
    }
    table
}

/// One record per log (container instance) with hits of the rule's pattern.
pub(crate) fn logs(snap: &Snapshot, rule_id: &str, m: &LogsMatch) -> FactTable {
    let mut table = FactTable::default();
    let pods: BTreeMap<(String, String), &kdiag_model::Located<kdiag_parse::kube::KubeObject>> =
        snap.objects_of("Pod")
            .map(|p| {
                (
                    (
                        p.object.namespace.clone().unwrap_or_default(),
                        p.object.name.clone(),
                    ),
                    p,
                )
            })
            .collect();
    let selected = |ns: &str, pod: &str| -> bool {
        if !m.namespaces.is_empty() && !m.namespaces.iter().any(|n| n == ns) {
            return false;
        }
        if !m.components.is_empty()
            && !pods
                .get(&(ns.to_owned(), pod.to_owned()))
                .and_then(|p| kdiag_model::components::of_pod(p))
                .is_some_and(|c| m.components.iter().any(|x| x == c))
        {
            return false;
        }
        if m.selector.is_empty() {
            return true;
        }
        pods.get(&(ns.to_owned(), pod.to_owned())).is_some_and(|p| {
            let labels = p.object.labels();
            m.selector.iter().all(|(k, v)| labels.get(k) == Some(v))
        })
    };
    for log in snap
        .logs
        .iter()
        .filter(|l| !l.namespace.is_empty() && selected(&l.namespace, &l.pod))
    {
        if m.container.as_ref().is_some_and(|c| *c != log.container) {
            continue;
        }
        if let Some(error) = &log.unavailable {
            // Not a quiet log: a log that was never fetched.
            table.missing.push(Input::Described {
                what: format!(
                    "the log of {}/{} container {} ({} holds the API server's error instead: {error})",
                    log.namespace, log.pod, log.container, log.file
                ),
            });
            continue;
        }
        let Some(h) = log.hits_for(rule_id) else {
            continue;
        };
        let pod = pods.get(&(log.namespace.clone(), log.pod.clone()));
        let labels = pod.map(|p| p.object.labels()).unwrap_or_default();
        let app = labels
            .get("k8s-app")
            .or_else(|| labels.get("app"))
            .cloned()
            .unwrap_or_else(|| log.container.clone());
        let component = pod.and_then(|p| kdiag_model::components::of_pod(p));
        let node = pod
            .and_then(|p| p.object.value.pointer("/spec/nodeName"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let hit = |x: &kdiag_model::LogHit| json!({"line": x.line, "text": x.text, "time": x.timestamp.map(|t| t.to_string()), "captures": x.captures});
        let mut evidence = vec![ev(
            &log.file,
            u32::try_from(h.first.line).unwrap_or(u32::MAX),
            &h.first.text,
        )];
        for s in h.samples.iter().take(1) {
            evidence.push(ev(
                &log.file,
                u32::try_from(s.line).unwrap_or(u32::MAX),
                &s.text,
            ));
        }
        if h.count > 1 {
            evidence.push(ev(
                &log.file,
                u32::try_from(h.last.line).unwrap_or(u32::MAX),
                &h.last.text,
            ));
        }
        table.records.push(Fact {
            record: row(json!({
                "namespace": log.namespace,
                "pod": log.pod,
                "container": log.container,
                "previous": log.previous,
                "node": node,
                "app": app,
                "component": component,
                "labels": labels,
                "count": h.count,
                "first": hit(&h.first),
                "last": hit(&h.last),
                "captures": h.first.captures,
                "distinct": h.distinct,
            })),
            evidence,
            first_seen: h.first.timestamp,
        });
    }
    table
}
