//! `kdiag collect` runs the collector built into the binary, and the binary
//! works as the kubectl plugin `kubectl-kdiag`.
#![allow(clippy::unwrap_used)] // test setup panics on failure

use std::process::Command;

const KDIAG: &str = env!("CARGO_BIN_EXE_kdiag");
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../collector/kdiag-collect");

#[test]
fn the_built_in_script_is_the_collector() {
    let out = Command::new(KDIAG)
        .args(["collect", "--print-script"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, std::fs::read(SCRIPT).unwrap());
}

#[test]
fn collect_runs_the_script_with_its_options() {
    let out = Command::new(KDIAG)
        .args(["collect", "--version"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "kdiag-collect 0.1.0"
    );

    let help = Command::new(KDIAG)
        .args(["collect", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("--node-only") && text.contains("--redact-ips"),
        "{text}"
    );

    // A usage error is the collector's, with its exit code.
    let bad = Command::new(KDIAG)
        .args(["collect", "--nodes", "a b"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--nodes"));
}

#[test]
fn installed_as_kubectl_kdiag_it_is_a_kubectl_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("kubectl-kdiag");
    std::os::unix::fs::symlink(KDIAG, &plugin).unwrap();
    let out = Command::new(&plugin).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Usage: kubectl kdiag <COMMAND>"), "{text}");
    assert!(text.contains("collect"), "{text}");

    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../sample-bundles/seed-incident"
    );
    let out = Command::new(&plugin)
        .args(["analyze", seed, "--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["findings"].as_array().is_some_and(|f| !f.is_empty()));
    let version = Command::new(&plugin)
        .args(["collect", "--version"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        "kdiag-collect 0.1.0"
    );
}
