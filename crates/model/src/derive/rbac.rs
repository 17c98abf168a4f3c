use super::{Fact, FactTable, ev, row};
use crate::Snapshot;
use kdiag_parse::kube::types::RoleBinding;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeSet;

/// `rbac.dangling-bindings`: one RoleBinding or ClusterRoleBinding whose
/// `roleRef` names a role that is not in the bundle.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DanglingBindingRecord {
    /// The binding's name.
    pub binding: String,
    /// `ClusterRoleBinding` or `RoleBinding`.
    pub binding_kind: String,
    /// The binding's namespace; empty for a ClusterRoleBinding.
    pub namespace: String,
    /// The missing role's name (`roleRef.name`).
    pub role: String,
    /// The missing role's kind (`roleRef.kind`): `ClusterRole` or `Role`.
    pub role_kind: String,
    /// The ServiceAccount subjects that lose the role, as `namespace/name`
    /// (the binding's namespace when the subject gives none).
    pub serviceaccounts: Vec<String>,
    /// The User subjects' names.
    pub users: Vec<String>,
    /// The Group subjects' names.
    pub groups: Vec<String>,
}

/// Bindings whose roleRef names a role that is not in the bundle.
pub(super) fn dangling_bindings(snap: &Snapshot) -> FactTable {
    let mut table = FactTable::default();
    if !snap.has_resource("clusterroles") {
        table.missing.push(super::resource("clusterroles"));
    }
    if !snap.has_resource("clusterrolebindings") {
        table.missing.push(super::resource("clusterrolebindings"));
    }
    if !table.missing.is_empty() {
        return table;
    }
    // Existence only: a role that could not be read still exists.
    let cluster_roles: BTreeSet<&str> = snap
        .objects
        .iter()
        .filter(|o| o.object.kind == "ClusterRole")
        .map(|o| o.object.name.as_str())
        .collect();
    let roles: BTreeSet<(String, &str)> = snap
        .objects
        .iter()
        .filter(|o| o.object.kind == "Role")
        .map(|o| {
            (
                o.object.namespace.clone().unwrap_or_default(),
                o.object.name.as_str(),
            )
        })
        .collect();
    let roles_known = snap.has_resource("roles");
    for o in snap
        .objects
        .iter()
        .filter(|o| matches!(o.object.kind.as_str(), "ClusterRoleBinding" | "RoleBinding"))
    {
        let Ok(b) = o.object.view::<RoleBinding>() else {
            continue;
        };
        let ns = o.object.namespace.clone().unwrap_or_default();
        let exists = match b.role_ref.kind.as_str() {
            "ClusterRole" => cluster_roles.contains(b.role_ref.name.as_str()),
            "Role" if roles_known => roles.contains(&(ns.clone(), b.role_ref.name.as_str())),
            // Roles were not collected: a Role reference cannot be judged.
            _ => true,
        };
        if exists {
            continue;
        }
        let mut sas = Vec::new();
        let mut users = Vec::new();
        let mut groups = Vec::new();
        for s in b.subjects.iter().flatten() {
            match s.kind.as_str() {
                "ServiceAccount" => sas.push(format!(
                    "{}/{}",
                    s.namespace.clone().unwrap_or_else(|| ns.clone()),
                    s.name
                )),
                "User" => users.push(s.name.clone()),
                "Group" => groups.push(s.name.clone()),
                _ => {}
            }
        }
        table.records.push(Fact {
            record: row(DanglingBindingRecord {
                binding: o.object.name.clone(),
                binding_kind: o.object.kind.clone(),
                namespace: ns,
                role: b.role_ref.name.clone(),
                role_kind: b.role_ref.kind.clone(),
                serviceaccounts: sas,
                users,
                groups,
            }),
            evidence: vec![ev(
                &o.file,
                o.object.line,
                format!(
                    "{} {} roleRef: {} {} (not in the bundle)",
                    o.object.kind, o.object.name, b.role_ref.kind, b.role_ref.name
                ),
            )],
            first_seen: None,
        });
    }
    table
}
