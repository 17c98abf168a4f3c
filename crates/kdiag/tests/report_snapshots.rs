//! The whole `kdiag analyze --format json` report of every sample bundle,
//! as insta snapshots: a refactoring that changes a finding, its evidence,
//! its message or an unknown shows up here as a diff to review.
#![allow(clippy::unwrap_used)] // test setup panics on failure

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_sample_bundle_report() {
    let mut bundles: Vec<String> = std::fs::read_dir(root().join("sample-bundles"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("expected.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    bundles.sort();
    assert!(bundles.len() >= 18, "sample bundles: {bundles:?}");
    for name in bundles {
        let out = Command::new(env!("CARGO_BIN_EXE_kdiag"))
            .args(["analyze", "--format", "json", "--fail-on", "never"])
            .arg(format!("sample-bundles/{name}"))
            .current_dir(root())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        insta::assert_json_snapshot!(format!("report-{name}"), report);
    }
}
