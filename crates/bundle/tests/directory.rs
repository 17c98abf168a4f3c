//! Directory bundles: a wrapping directory is the root, links are reported.
#![allow(clippy::unwrap_used)] // test helpers panic on setup failure

mod common;
use common::Recorder;
use kdiag_bundle::{DiagnosticKind as K, Limits, read_path};

#[test]
fn wrapping_directory_links_and_order() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kdiag-bundle-20261127T101500Z");
    std::fs::create_dir_all(root.join("cluster")).unwrap();
    std::fs::create_dir_all(root.join("nodes/w1")).unwrap();
    std::fs::write(root.join("cluster/nodes.yaml"), "items: []\n").unwrap();
    std::fs::write(
        root.join("nodes/w1/ip-route.txt"),
        "default via 10.0.0.1 dev eth0\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/shadow", root.join("nodes/w1/sysctl.txt")).unwrap();
    let mut rec = Recorder::default();
    let summary = read_path(tmp.path(), &Limits::default(), &mut rec).unwrap();
    assert_eq!(summary.root, "kdiag-bundle-20261127T101500Z");
    assert_eq!(
        rec.paths(),
        vec!["cluster/nodes.yaml", "nodes/w1/ip-route.txt"]
    );
    assert!(rec.has(K::Link, "nodes/w1/sysctl.txt"));
}

#[test]
fn missing_path_is_an_open_error() {
    let mut rec = Recorder::default();
    let err = read_path(
        "/nonexistent/bundle.tar.gz".as_ref(),
        &Limits::default(),
        &mut rec,
    )
    .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/bundle.tar.gz"));
}
