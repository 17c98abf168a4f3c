//! An RBAC evaluator with Kubernetes semantics over the bundle's roles and
//! bindings: for a subject, verb, API group, resource (and subresource),
//! name and namespace, is the request allowed, and *why* — the binding →
//! role → rule chain that allows it, or the bindings whose role does not
//! exist (`clusterrole "system:node-proxier" not found`).

use crate::Snapshot;
use crate::snapshot::Located;
use kdiag_parse::kube::KubeObject;
use kdiag_parse::kube::types::{PolicyRule, Role, RoleBinding, Subject};
use serde::Serialize;
use std::collections::BTreeMap;

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Principal {
    /// A user name, e.g. `system:kube-proxy`.
    User {
        /// The name.
        name: String,
    },
    /// A group, e.g. `system:nodes`.
    Group {
        /// The name.
        name: String,
    },
    /// A service account.
    ServiceAccount {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
}

impl Principal {
    /// A service account.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        Principal::ServiceAccount {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The user name the API server sees.
    pub fn username(&self) -> Option<String> {
        match self {
            Principal::User { name } => Some(name.clone()),
            Principal::ServiceAccount { namespace, name } => {
                Some(format!("system:serviceaccount:{namespace}:{name}"))
            }
            Principal::Group { .. } => None,
        }
    }

    /// Groups the API server adds: every service account is in
    /// `system:serviceaccounts`, `system:serviceaccounts:<ns>` and
    /// `system:authenticated`; every user in `system:authenticated`.
    pub fn groups(&self) -> Vec<String> {
        match self {
            Principal::ServiceAccount { namespace, .. } => vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".into(),
            ],
            Principal::User { .. } => vec!["system:authenticated".into()],
            Principal::Group { name } => vec![name.clone()],
        }
    }

    /// Whether a binding subject names this principal (directly or through one of its groups).
    pub fn matches(&self, s: &Subject, binding_ns: Option<&str>) -> bool {
        match s.kind.as_str() {
            "ServiceAccount" => {
                let ns = s.namespace.as_deref().or(binding_ns).unwrap_or_default();
                matches!(self, Principal::ServiceAccount { namespace, name } if *namespace == ns && *name == s.name)
            }
            "User" => self.username().as_deref() == Some(s.name.as_str()),
            "Group" => self.groups().contains(&s.name),
            _ => false,
        }
    }
}

/// One access check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessRequest {
    /// `get`, `list`, `watch`, `create`, `patch`, ...
    pub verb: String,
    /// API group, `""` for core.
    pub group: String,
    /// Resource, e.g. `endpointslices`.
    pub resource: String,
    /// Subresource, e.g. `status`.
    pub subresource: Option<String>,
    /// Object name, for requests on one object.
    pub name: Option<String>,
    /// Namespace; `None` for cluster-scope requests (list across all namespaces).
    pub namespace: Option<String>,
}

impl AccessRequest {
    /// A cluster-scope request (e.g. `list services` across all namespaces).
    pub fn cluster(verb: &str, group: &str, resource: &str) -> Self {
        let (resource, subresource) = match resource.split_once('/') {
            Some((r, s)) => (r.to_owned(), Some(s.to_owned())),
            None => (resource.to_owned(), None),
        };
        AccessRequest {
            verb: verb.into(),
            group: group.into(),
            resource,
            subresource,
            name: None,
            namespace: None,
        }
    }

    /// The same request in one namespace.
    pub fn in_namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// The same request on one named object.
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// An object of the bundle, cited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    /// Kind.
    pub kind: String,
    /// Namespace, for Roles and RoleBindings.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// Bundle path.
    pub file: String,
    /// Line where the object starts.
    pub line: u32,
}

impl ObjectRef {
    fn of(o: &Located<KubeObject>) -> Self {
        ObjectRef {
            kind: o.object.kind.clone(),
            namespace: o.object.namespace.clone(),
            name: o.object.name.clone(),
            file: o.file.clone(),
            line: o.object.line,
        }
    }
}

/// A binding → role → rule chain that allows a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// The binding.
    pub binding: ObjectRef,
    /// The role it refers to.
    pub role: ObjectRef,
    /// The aggregated ClusterRole the rule came from, when not the role itself.
    pub aggregated_from: Option<ObjectRef>,
    /// The rule that allows it.
    pub rule: PolicyRule,
}

/// A binding that applies to the subject but refers to a role that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingRole {
    /// The binding.
    pub binding: ObjectRef,
    /// `ClusterRole` or `Role`.
    pub role_kind: String,
    /// The role's name.
    pub role_name: String,
}

/// The answer to one access check, with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RbacDecision {
    /// Whether some rule allows the request.
    pub allowed: bool,
    /// Every chain that allows it.
    pub grants: Vec<Grant>,
    /// Bindings of this subject whose role is missing — the usual reason a
    /// system component is suddenly forbidden.
    pub missing_roles: Vec<MissingRole>,
    /// Bindings of this subject whose role exists but allows nothing here.
    pub bindings_considered: Vec<ObjectRef>,
    /// RBAC objects in the way that could not be read (a role this subject
    /// is bound to, or any binding): a denial is then *unknown*, not a fact.
    pub unreadable: Vec<ObjectRef>,
}

/// A rule and the aggregated ClusterRole it came from, if any.
type SourcedRule<'a> = (Option<&'a Located<KubeObject>>, PolicyRule);

/// Roles and bindings of a snapshot, indexed for evaluation.
pub struct Rbac<'a> {
    cluster_roles: BTreeMap<String, (&'a Located<KubeObject>, Role)>,
    roles: BTreeMap<(String, String), (&'a Located<KubeObject>, Role)>,
    bindings: Vec<(&'a Located<KubeObject>, RoleBinding)>,
    unreadable_bindings: Vec<ObjectRef>,
}

impl<'a> Rbac<'a> {
    /// Indexes the RBAC objects of a snapshot.
    pub fn new(snap: &'a Snapshot) -> Self {
        let mut cluster_roles = BTreeMap::new();
        let mut roles = BTreeMap::new();
        let mut bindings = Vec::new();
        let mut unreadable_bindings = Vec::new();
        for o in &snap.objects {
            let is_rbac_group = o
                .object
                .api_version
                .starts_with("rbac.authorization.k8s.io")
                || o.object.api_version.is_empty();
            if !is_rbac_group {
                continue;
            }
            match o.object.kind.as_str() {
                "ClusterRole" => {
                    if let Ok(r) = o.object.view::<Role>() {
                        cluster_roles.insert(o.object.name.clone(), (o, r));
                    }
                }
                "Role" => {
                    if let Ok(r) = o.object.view::<Role>() {
                        roles.insert(
                            (
                                o.object.namespace.clone().unwrap_or_default(),
                                o.object.name.clone(),
                            ),
                            (o, r),
                        );
                    }
                }
                "ClusterRoleBinding" | "RoleBinding" if o.object.unreadable => {
                    unreadable_bindings.push(ObjectRef::of(o));
                }
                "ClusterRoleBinding" | "RoleBinding" => {
                    if let Ok(b) = o.object.view::<RoleBinding>() {
                        bindings.push((o, b));
                    }
                }
                _ => {}
            }
        }
        Rbac {
            cluster_roles,
            roles,
            bindings,
            unreadable_bindings,
        }
    }

    /// Whether a ClusterRole of this name exists.
    pub fn has_cluster_role(&self, name: &str) -> bool {
        self.cluster_roles.contains_key(name)
    }

    /// The bindings that grant a ClusterRole, with their subjects.
    pub fn bindings_of_cluster_role(&self, name: &str) -> Vec<(ObjectRef, Vec<Subject>)> {
        self.bindings
            .iter()
            .filter(|(_, b)| b.role_ref.kind == "ClusterRole" && b.role_ref.name == name)
            .map(|(o, b)| (ObjectRef::of(o), b.subjects.clone().unwrap_or_default()))
            .collect()
    }

    /// Where a ClusterRole is defined, if it is.
    pub fn cluster_role(&self, name: &str) -> Option<ObjectRef> {
        self.cluster_roles.get(name).map(|(o, _)| ObjectRef::of(o))
    }

    /// Rules of a ClusterRole, aggregated ones included, each with the
    /// ClusterRole it came from.
    fn cluster_role_rules(&self, name: &str) -> Vec<SourcedRule<'a>> {
        let mut out = Vec::new();
        let mut seen = vec![name.to_owned()];
        let mut queue = vec![(name.to_owned(), None)];
        while let Some((current, via)) = queue.pop() {
            let Some((_, role)) = self.cluster_roles.get(&current) else {
                continue;
            };
            for rule in role.rules.iter().flatten() {
                out.push((via, rule.clone()));
            }
            if let Some(agg) = &role.aggregation_rule {
                for (other, (oobj, orole)) in &self.cluster_roles {
                    if seen.contains(other) {
                        continue;
                    }
                    let labels = &orole.metadata.labels;
                    if agg.cluster_role_selectors.iter().any(|s| {
                        !(s.match_labels.is_empty() && s.match_expressions.is_empty())
                            && s.matches(labels)
                    }) {
                        seen.push(other.clone());
                        queue.push((other.clone(), Some(*oobj)));
                    }
                }
            }
        }
        out
    }

    /// Evaluates one request for one principal.
    pub fn check(&self, who: &Principal, req: &AccessRequest) -> RbacDecision {
        let mut decision = RbacDecision {
            allowed: false,
            grants: Vec::new(),
            missing_roles: Vec::new(),
            bindings_considered: Vec::new(),
            unreadable: self.unreadable_bindings.clone(),
        };
        for (obj, binding) in &self.bindings {
            let namespaced = obj.object.kind == "RoleBinding";
            let binding_ns = obj.object.namespace.as_deref();
            if !binding
                .subjects
                .iter()
                .flatten()
                .any(|s| who.matches(s, binding_ns))
            {
                continue;
            }
            // A RoleBinding grants only inside its namespace.
            if namespaced && req.namespace.as_deref() != binding_ns {
                continue;
            }
            let role_ref = &binding.role_ref;
            let (role_obj, rules): (Option<&Located<KubeObject>>, Vec<SourcedRule<'_>>) =
                match role_ref.kind.as_str() {
                    "ClusterRole" => match self.cluster_roles.get(&role_ref.name) {
                        Some((o, _)) => (Some(*o), self.cluster_role_rules(&role_ref.name)),
                        None => (None, Vec::new()),
                    },
                    "Role" if namespaced => match self.roles.get(&(
                        binding_ns.unwrap_or_default().to_owned(),
                        role_ref.name.clone(),
                    )) {
                        Some((o, r)) => (
                            Some(*o),
                            r.rules
                                .iter()
                                .flatten()
                                .map(|x| (None, x.clone()))
                                .collect(),
                        ),
                        None => (None, Vec::new()),
                    },
                    _ => (None, Vec::new()),
                };
            let Some(role_obj) = role_obj else {
                decision.missing_roles.push(MissingRole {
                    binding: ObjectRef::of(obj),
                    role_kind: role_ref.kind.clone(),
                    role_name: role_ref.name.clone(),
                });
                continue;
            };
            if role_obj.object.unreadable {
                decision.unreadable.push(ObjectRef::of(role_obj));
                continue;
            }
            decision.bindings_considered.push(ObjectRef::of(obj));
            for (via, rule) in rules {
                if rule_allows(&rule, req) {
                    decision.allowed = true;
                    decision.grants.push(Grant {
                        binding: ObjectRef::of(obj),
                        role: ObjectRef::of(role_obj),
                        aggregated_from: via.map(ObjectRef::of),
                        rule,
                    });
                }
            }
        }
        decision
    }
}

fn has(list: &[String], want: &str) -> bool {
    list.iter().any(|x| x == "*" || x == want)
}

/// Kubernetes' rule matching (`RuleAllows`).
pub fn rule_allows(rule: &PolicyRule, req: &AccessRequest) -> bool {
    if !has(&rule.verbs, &req.verb) || !has(&rule.api_groups, &req.group) {
        return false;
    }
    let resource_ok = rule.resources.iter().any(|r| match &req.subresource {
        None => r == "*" || *r == req.resource,
        Some(sub) => {
            r == "*" || *r == format!("{}/{sub}", req.resource) || *r == format!("*/{sub}")
        }
    });
    if !resource_ok {
        return false;
    }
    rule.resource_names.is_empty()
        || req
            .name
            .as_ref()
            .is_some_and(|n| rule.resource_names.contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(groups: &[&str], resources: &[&str], verbs: &[&str], names: &[&str]) -> PolicyRule {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
        PolicyRule {
            api_groups: v(groups),
            resources: v(resources),
            verbs: v(verbs),
            resource_names: v(names),
            non_resource_urls: Vec::new(),
        }
    }

    #[test]
    fn wildcards_subresources_and_names() {
        let list_svc = AccessRequest::cluster("list", "", "services");
        assert!(rule_allows(
            &rule(&[""], &["services"], &["list"], &[]),
            &list_svc
        ));
        assert!(rule_allows(&rule(&["*"], &["*"], &["*"], &[]), &list_svc));
        assert!(!rule_allows(
            &rule(&["apps"], &["services"], &["list"], &[]),
            &list_svc
        ));
        let patch_status = AccessRequest::cluster("patch", "", "nodes/status");
        assert!(rule_allows(
            &rule(&[""], &["nodes/status"], &["patch"], &[]),
            &patch_status
        ));
        assert!(rule_allows(
            &rule(&[""], &["*/status"], &["patch"], &[]),
            &patch_status
        ));
        assert!(!rule_allows(
            &rule(&[""], &["nodes"], &["patch"], &[]),
            &patch_status
        ));
        let get_cm = AccessRequest::cluster("get", "", "configmaps").in_namespace("kube-system");
        assert!(!rule_allows(
            &rule(&[""], &["configmaps"], &["get"], &["kube-proxy"]),
            &get_cm
        ));
        assert!(rule_allows(
            &rule(&[""], &["configmaps"], &["get"], &["kube-proxy"]),
            &get_cm.clone().named("kube-proxy")
        ));
    }

    #[test]
    fn service_account_groups() {
        let sa = Principal::service_account("kube-system", "coredns");
        assert_eq!(
            sa.username().unwrap(),
            "system:serviceaccount:kube-system:coredns"
        );
        assert!(
            sa.groups()
                .contains(&"system:serviceaccounts:kube-system".to_owned())
        );
        assert!(sa.groups().contains(&"system:authenticated".to_owned()));
    }
}
