//! The RBAC evaluator on real dumps: a k3s 1.31 cluster's ClusterRoles and
//! bindings, and Kubernetes' own bootstrap policy. The system components
//! must come out allowed, and forbidden — with the dangling binding named —
//! once their role is deleted.
#![allow(clippy::unwrap_used)] // test helpers panic on setup failure

use kdiag_bundle::Limits;
use kdiag_model::rbac::{AccessRequest, Principal, Rbac};
use kdiag_model::{LogPatterns, Snapshot};
use serde_json::Value;

/// Whether `../shared/real-data` is here; a clone of this repository alone
/// has no `../shared`, and the tests over it say so and pass.
fn absent() -> bool {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/real-data");
    if dir.is_dir() {
        false
    } else {
        eprintln!(
            "skipped: {} is absent (a clone without ../shared)",
            dir.display()
        );
        true
    }
}

fn real(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../../shared/real-data/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn tar(files: &[(&str, String)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, body) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, path, body.as_bytes()).unwrap();
    }
    b.into_inner().unwrap()
}

fn snapshot(files: &[(&str, String)]) -> Snapshot {
    let bytes = tar(files);
    Snapshot::load_stream(
        &bytes[..],
        "test.tar",
        &Limits::default(),
        &LogPatterns::none(),
    )
    .unwrap()
}

fn without_cluster_role(json: &str, name: &str) -> String {
    let mut v: Value = serde_json::from_str(json).unwrap();
    v["items"]
        .as_array_mut()
        .unwrap()
        .retain(|i| i["metadata"]["name"] != name);
    serde_json::to_string_pretty(&v).unwrap()
}

const KUBE_PROXY_NEEDS: &[(&str, &str, &str)] = &[
    ("list", "", "services"),
    ("watch", "", "endpoints"),
    ("list", "discovery.k8s.io", "endpointslices"),
    ("get", "", "nodes"),
    ("create", "", "events"),
];

#[test]
fn k3s_components_are_allowed() {
    if absent() {
        return;
    }
    let snap = snapshot(&[
        (
            "cluster/clusterroles.json",
            real("sb-k3s131-baseline__cluster-resources__clusterroles.json"),
        ),
        (
            "cluster/clusterrolebindings.json",
            real("sb-k3s131-baseline__cluster-resources__clusterrolebindings.json"),
        ),
    ]);
    let rbac = Rbac::new(&snap);
    // k3s binds system:node-proxier to the kube-proxy *user* (its client certificate).
    let kube_proxy = Principal::User {
        name: "system:kube-proxy".into(),
    };
    for (verb, group, resource) in KUBE_PROXY_NEEDS {
        let d = rbac.check(&kube_proxy, &AccessRequest::cluster(verb, group, resource));
        assert!(d.allowed, "kube-proxy {verb} {resource}: {d:?}");
        assert!(
            d.grants
                .iter()
                .any(|g| g.role.name == "system:node-proxier")
        );
    }
    let coredns = Principal::service_account("kube-system", "coredns");
    for (verb, group, resource) in [
        ("list", "", "endpoints"),
        ("watch", "", "services"),
        ("list", "", "namespaces"),
        ("list", "discovery.k8s.io", "endpointslices"),
    ] {
        let d = rbac.check(&coredns, &AccessRequest::cluster(verb, group, resource));
        assert!(d.allowed, "coredns {verb} {resource}: {d:?}");
    }
    // Nothing grants CoreDNS deleting nodes.
    assert!(
        !rbac
            .check(&coredns, &AccessRequest::cluster("delete", "", "nodes"))
            .allowed
    );
    // Aggregation: the `admin` ClusterRole in a RoleBinding-free cluster still resolves.
    assert!(rbac.has_cluster_role("admin"));
}

#[test]
fn deleting_the_role_forbids_and_names_the_dangling_binding() {
    if absent() {
        return;
    }
    let roles = real("sb-k3s131-baseline__cluster-resources__clusterroles.json");
    let bindings = real("sb-k3s131-baseline__cluster-resources__clusterrolebindings.json");
    let snap = snapshot(&[
        (
            "cluster/clusterroles.json",
            without_cluster_role(
                &without_cluster_role(&roles, "system:node-proxier"),
                "system:coredns",
            ),
        ),
        ("cluster/clusterrolebindings.json", bindings),
    ]);
    let rbac = Rbac::new(&snap);
    let d = rbac.check(
        &Principal::User {
            name: "system:kube-proxy".into(),
        },
        &AccessRequest::cluster("list", "", "services"),
    );
    assert!(!d.allowed);
    assert_eq!(d.missing_roles.len(), 1);
    assert_eq!(
        (
            d.missing_roles[0].role_kind.as_str(),
            d.missing_roles[0].role_name.as_str()
        ),
        ("ClusterRole", "system:node-proxier")
    );
    assert_eq!(
        d.missing_roles[0].binding.file,
        "cluster/clusterrolebindings.json"
    );
    assert!(d.missing_roles[0].binding.line > 1);
    let d = rbac.check(
        &Principal::service_account("kube-system", "coredns"),
        &AccessRequest::cluster("list", "", "endpoints"),
    );
    assert!(!d.allowed);
    assert_eq!(d.missing_roles[0].role_name, "system:coredns");
}

#[test]
fn upstream_bootstrap_policy() {
    if absent() {
        return;
    }
    let role = real("manifest__k8s-bootstrappolicy__cluster-roles__system-node-proxier.yaml");
    let bindings = real("manifest__k8s-bootstrappolicy__cluster-role-bindings.yaml");
    let addon = real("manifest__k8s-cluster-addons__kube-proxy-rbac.yaml");
    let snap = snapshot(&[
        ("cluster/clusterroles.yaml", role),
        ("cluster/clusterrolebindings.yaml", bindings.clone()),
        ("cluster/kube-proxy-rbac.yaml", addon.clone()),
    ]);
    let rbac = Rbac::new(&snap);
    let user = Principal::User {
        name: "system:kube-proxy".into(),
    };
    let sa = Principal::service_account("kube-system", "kube-proxy");
    for who in [&user, &sa] {
        for (verb, group, resource) in KUBE_PROXY_NEEDS {
            assert!(
                rbac.check(who, &AccessRequest::cluster(verb, group, resource))
                    .allowed,
                "{who:?} {verb} {resource}"
            );
        }
    }
    // The seed incident: the role is gone, the bindings remain.
    let snap = snapshot(&[
        ("cluster/clusterrolebindings.yaml", bindings),
        ("cluster/kube-proxy-rbac.yaml", addon),
    ]);
    let rbac = Rbac::new(&snap);
    let d = rbac.check(&sa, &AccessRequest::cluster("list", "", "services"));
    assert!(!d.allowed);
    // Every bootstrap role is gone here, so system:basic-user etc. dangle too,
    // as in the seed's `RBAC: [clusterrole ... not found, ...]`.
    let proxier = d
        .missing_roles
        .iter()
        .find(|m| m.role_name == "system:node-proxier")
        .expect("dangling node-proxier binding");
    assert_eq!(proxier.binding.name, "system:kube-proxy");
    assert!(
        d.missing_roles
            .iter()
            .any(|m| m.role_name == "system:basic-user")
    );
}

#[test]
fn role_bindings_grant_only_in_their_namespace() {
    let yaml = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: rbac.authorization.k8s.io/v1\n  kind: Role\n  metadata:\n    name: cm-reader\n    namespace: kube-flannel\n  rules:\n  - apiGroups: [\"\"]\n    resources: [configmaps]\n    verbs: [get]\n- apiVersion: rbac.authorization.k8s.io/v1\n  kind: RoleBinding\n  metadata:\n    name: flannel-cm\n    namespace: kube-flannel\n  roleRef:\n    apiGroup: rbac.authorization.k8s.io\n    kind: Role\n    name: cm-reader\n  subjects:\n  - kind: Group\n    name: system:serviceaccounts:kube-flannel\n";
    let snap = snapshot(&[("cluster/roles.yaml", yaml.to_owned())]);
    let rbac = Rbac::new(&snap);
    let sa = Principal::service_account("kube-flannel", "flannel");
    let req = AccessRequest::cluster("get", "", "configmaps");
    assert!(
        rbac.check(&sa, &req.clone().in_namespace("kube-flannel"))
            .allowed
    );
    assert!(
        !rbac
            .check(&sa, &req.clone().in_namespace("kube-system"))
            .allowed
    );
    assert!(!rbac.check(&sa, &req).allowed);
    assert!(
        !rbac
            .check(
                &Principal::service_account("kube-system", "flannel"),
                &AccessRequest::cluster("get", "", "configmaps").in_namespace("kube-flannel")
            )
            .allowed
    );
}

#[test]
fn aggregated_cluster_roles_collect_their_members_rules() {
    if absent() {
        return;
    }
    let yaml = r#"apiVersion: v1
kind: List
items:
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata:
    name: network-observer
  aggregationRule:
    clusterRoleSelectors:
    - matchLabels:
        kdiag.example/aggregate-to-network-observer: "true"
  rules: []
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata:
    name: network-observer-slices
    labels:
      kdiag.example/aggregate-to-network-observer: "true"
  rules:
  - apiGroups: ["discovery.k8s.io"]
    resources: ["endpointslices"]
    verbs: ["list", "watch"]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRoleBinding
  metadata:
    name: network-observer
  roleRef:
    apiGroup: rbac.authorization.k8s.io
    kind: ClusterRole
    name: network-observer
  subjects:
  - kind: ServiceAccount
    name: observer
    namespace: monitoring
"#;
    let snap = snapshot(&[("cluster/clusterroles.yaml", yaml.to_owned())]);
    let rbac = Rbac::new(&snap);
    let d = rbac.check(
        &Principal::service_account("monitoring", "observer"),
        &AccessRequest::cluster("watch", "discovery.k8s.io", "endpointslices"),
    );
    assert!(d.allowed, "{d:?}");
    assert_eq!(d.grants[0].role.name, "network-observer");
    assert_eq!(
        d.grants[0].aggregated_from.as_ref().unwrap().name,
        "network-observer-slices"
    );
    assert!(
        !rbac
            .check(
                &Principal::service_account("monitoring", "observer"),
                &AccessRequest::cluster("list", "", "services")
            )
            .allowed
    );

    // The real k3s `admin` ClusterRole is aggregated; its members' rules count.
    let snap = snapshot(&[(
        "cluster/clusterroles.json",
        real("sb-k3s131-baseline__cluster-resources__clusterroles.json"),
    )]);
    let rbac = Rbac::new(&snap);
    assert!(rbac.has_cluster_role("admin"));
}
