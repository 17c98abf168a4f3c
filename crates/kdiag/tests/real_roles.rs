//! The RBAC checks on real, healthy clusters' roles and bindings, taken from
//! two sonobuoy results in `../shared/real-data/bundles2/`: kubeadm 1.21.1
//! on kind (CoreDNS 1.8.0, whose `system:coredns` has no endpointslices) and
//! kubeadm 1.8.4 on AWS (kube-dns; `system:node-proxier` with `get nodes`
//! only, events in the core group only). Each is quiet as it is, and the
//! kind cluster fires once `system:coredns` is deleted.
//!
//! The archives are copied into a kdiag-layout directory (cluster/*.json as
//! `kubectl get -o json` writes them) in a temporary directory. Skipped, with
//! the reason printed, where `../shared` is absent.
#![allow(clippy::unwrap_used)] // test setup panics on failure

use serde_json::{Value, json};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

fn archive(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/real-data/bundles2")
        .join(name);
    if p.is_file() {
        Some(p)
    } else {
        eprintln!(
            "skipped: {} is absent (a clone without ../shared)",
            p.display()
        );
        None
    }
}

/// The JSON entries of a .tar.gz, by path without a leading `./`.
fn entries(path: &Path, wanted: &[&str]) -> std::collections::HashMap<String, Value> {
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap());
    let mut tar = tar::Archive::new(gz);
    let mut out = std::collections::HashMap::new();
    for e in tar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e
            .path()
            .unwrap()
            .to_string_lossy()
            .trim_start_matches("./")
            .to_owned();
        if wanted.contains(&name.as_str()) {
            let mut text = String::new();
            e.read_to_string(&mut text).unwrap();
            out.insert(name, serde_json::from_str(&text).unwrap());
        }
    }
    assert_eq!(out.len(), wanted.len(), "{:?}", out.keys());
    out
}

/// A kubectl List of the items, each given its kind and apiVersion where
/// missing, as `kubectl get -o json` prints them (sonobuoy 0.10 omits both).
fn list(items: &Value, kind: &str) -> Value {
    let api = if kind.contains("Role") {
        "rbac.authorization.k8s.io/v1"
    } else {
        "v1"
    };
    let items: Vec<Value> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let mut i = i.clone();
            i["kind"] = json!(kind);
            if i.get("apiVersion").is_none() {
                i["apiVersion"] = json!(api);
            }
            i
        })
        .collect();
    json!({"apiVersion": "v1", "kind": "List", "items": items})
}

fn write(dir: &Path, files: &[(&str, &Value)]) {
    std::fs::create_dir_all(dir.join("cluster")).unwrap();
    for (name, v) in files {
        std::fs::write(
            dir.join("cluster").join(name),
            serde_json::to_vec(v).unwrap(),
        )
        .unwrap();
    }
}

fn analyze(dir: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_kdiag"))
        .args([
            "analyze",
            "--only",
            "rbac",
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn findings(r: &Value) -> Vec<(String, String, String)> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_owned(),
                f["class"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn kubeadm_1_21_with_coredns_1_8_0_is_quiet_and_fires_without_system_coredns() {
    let Some(path) = archive("sonobuoy-kind-v1.21.1-results-quick-no-failures.tar.gz") else {
        return;
    };
    let e = entries(
        &path,
        &[
            "resources/cluster/rbac.authorization.k8s.io_v1_clusterroles.json",
            "resources/cluster/rbac.authorization.k8s.io_v1_clusterrolebindings.json",
            "resources/ns/kube-system/core_v1_pods.json",
            "resources/cluster/core_v1_nodes.json",
            "serverversion.json",
        ],
    );
    let roles = list(
        &e["resources/cluster/rbac.authorization.k8s.io_v1_clusterroles.json"],
        "ClusterRole",
    );
    let bindings = list(
        &e["resources/cluster/rbac.authorization.k8s.io_v1_clusterrolebindings.json"],
        "ClusterRoleBinding",
    );
    let pods = list(&e["resources/ns/kube-system/core_v1_pods.json"], "Pod");
    let nodes = list(&e["resources/cluster/core_v1_nodes.json"], "Node");
    let version = json!({"serverVersion": e["serverversion.json"]});
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("clusterroles.json", &roles),
            ("clusterrolebindings.json", &bindings),
            ("pods.json", &pods),
            ("nodes.json", &nodes),
            ("version.json", &version),
        ],
    );
    let r = analyze(dir.path());
    assert!(findings(&r).is_empty(), "{:#?}", findings(&r));
    let unknown: Vec<&str> = r["unknown"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["rule"].as_str())
        .collect();
    assert!(
        !unknown.contains(&"rbac.component-permission-denied"),
        "{unknown:?}"
    );

    // The same cluster without system:coredns.
    let mut broken = roles.clone();
    let items = broken["items"].as_array_mut().unwrap();
    let before = items.len();
    items.retain(|i| i["metadata"]["name"] != "system:coredns");
    assert_eq!(items.len(), before - 1);
    write(dir.path(), &[("clusterroles.json", &broken)]);
    let f = findings(&analyze(dir.path()));
    assert!(
        f.iter().any(|(sev, class, msg)| sev == "critical"
            && class == "rbac.clusterrole-missing"
            && msg.contains("system:coredns")),
        "{f:#?}"
    );
    assert!(
        f.iter()
            .any(|(_, class, msg)| class == "rbac.permission-denied"
                && msg.starts_with("coredns (kube-system/coredns) is forbidden to list services")
                && !msg.contains("endpointslices")),
        "{f:#?}"
    );
}

#[test]
fn kubeadm_1_8_4_with_kube_dns_is_quiet() {
    let Some(path) = archive("sonobuoy-aws-v1.8.4-calico-results-0.10.tar.gz") else {
        return;
    };
    let e = entries(
        &path,
        &[
            "resources/cluster/ClusterRoles.json",
            "resources/cluster/ClusterRoleBindings.json",
            "resources/ns/kube-system/Pods.json",
            "resources/cluster/Nodes.json",
            "serverversion.json",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "clusterroles.json",
                &list(&e["resources/cluster/ClusterRoles.json"], "ClusterRole"),
            ),
            (
                "clusterrolebindings.json",
                &list(
                    &e["resources/cluster/ClusterRoleBindings.json"],
                    "ClusterRoleBinding",
                ),
            ),
            (
                "pods.json",
                &list(&e["resources/ns/kube-system/Pods.json"], "Pod"),
            ),
            (
                "nodes.json",
                &list(&e["resources/cluster/Nodes.json"], "Node"),
            ),
            (
                "version.json",
                &json!({"serverVersion": e["serverversion.json"]}),
            ),
        ],
    );
    let r = analyze(dir.path());
    assert!(findings(&r).is_empty(), "{:#?}", findings(&r));
}
