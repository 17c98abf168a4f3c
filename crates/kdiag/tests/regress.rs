//! `kdiag test`: archived-incident regression over sample-bundles/.
#![allow(clippy::unwrap_used)] // test setup panics on failure

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn kdiag(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kdiag"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn every_sample_bundle_meets_its_expectations() {
    let (code, out) = kdiag(&["test", "sample-bundles"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("pass  sample-bundles/seed-incident"), "{out}");
}

#[test]
fn differences_are_named() {
    let tmp = std::env::temp_dir().join(format!("kdiag-regress-{}", std::process::id()));
    let bundle = tmp.join("incident-42");
    std::fs::create_dir_all(bundle.join("cluster")).unwrap();
    let seed = root().join("sample-bundles/seed-incident/cluster");
    for f in ["clusterroles.yaml", "clusterrolebindings.yaml", "pods.yaml"] {
        std::fs::copy(seed.join(f), bundle.join("cluster").join(f)).unwrap();
    }
    std::fs::write(
        bundle.join("expected.yaml"),
        "root_causes:\n  - class: rbac.clusterrole-missing\n    subject: {name: system:coredns}\nsymptoms:\n  - class: dns.unreachable\n",
    )
    .unwrap();
    let (code, out) = kdiag(&["test", tmp.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&tmp);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL"), "{out}");
    assert!(
        out.contains("wrong subject: expected rbac.clusterrole-missing {name: system:coredns}"),
        "{out}"
    );
    assert!(out.contains("unexpected root cause: rbac.clusterrole-missing critical {kind: ClusterRole, name: system:node-proxier}"), "{out}");
    assert!(out.contains("missing symptom: dns.unreachable"), "{out}");
    assert!(
        out.contains("unexpected finding: rbac.permission-denied"),
        "{out}"
    );
}
