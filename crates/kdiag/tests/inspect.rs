//! `kdiag inspect` end to end on the seed-incident bundle.
#![allow(clippy::unwrap_used)] // test helpers panic on setup failure

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn kdiag(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kdiag"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn seed_incident_inspect_json() {
    let (code, stdout, stderr) = kdiag(&[
        "inspect",
        "--format",
        "json",
        "sample-bundles/seed-incident",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    insta::assert_json_snapshot!("seed_incident_inspect", report);
}

#[test]
fn seed_incident_inspect_text_names_both_pod_networks() {
    let (code, stdout, _) = kdiag(&["inspect", "sample-bundles/seed-incident"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("10.233.64.0/18"));
    assert!(stdout.contains("10.244.0.0/16"));
    assert!(stdout.contains("kube-system/coredns"));
}

#[test]
fn packed_seed_bundle_reads_the_same_as_the_directory() {
    let dir = root().join("sample-bundles/seed-incident");
    let mut builder = tar::Builder::new(Vec::new());
    builder
        .append_dir_all("kdiag-bundle-20261127T101500Z", &dir)
        .unwrap();
    let tarball = builder.into_inner().unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &tarball).unwrap();
    let gz = enc.finish().unwrap();
    let limits = kdiag_bundle::Limits::default();
    let patterns = kdiag_model::LogPatterns::none();
    let from_dir = kdiag_model::Snapshot::load(&dir, &limits, &patterns).unwrap();
    let from_tgz =
        kdiag_model::Snapshot::load_stream(&gz[..], "seed.tar.gz", &limits, &patterns).unwrap();
    assert_eq!(
        from_tgz.reads[0].container,
        kdiag_bundle::Container::TarGzip
    );
    assert_eq!(from_tgz.reads[0].root, "kdiag-bundle-20261127T101500Z");
    let mut a: Vec<_> = from_dir
        .files
        .iter()
        .map(|f| (f.path.clone(), f.records, f.diagnostics))
        .collect();
    // Paths in an archive are cited whole, wrapping directory included.
    let mut b: Vec<_> = from_tgz
        .files
        .iter()
        .map(|f| {
            let inner = f
                .path
                .strip_prefix("kdiag-bundle-20261127T101500Z/")
                .unwrap_or_else(|| panic!("{} is not under the wrapping directory", f.path));
            (inner.to_owned(), f.records, f.diagnostics)
        })
        .collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert_eq!(from_dir.objects.len(), from_tgz.objects.len());
    assert_eq!(from_dir.diagnostics.len(), from_tgz.diagnostics.len());
}

#[test]
fn unreadable_bundle_exits_3_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("core.dump");
    std::fs::write(&binary, [0x7f, b'E', b'L', b'F', 0, 1, 2, 3, 0xff, 0xfe]).unwrap();
    let (code, _, stderr) = kdiag(&["inspect", binary.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert!(
        stderr.contains("core.dump is not a bundle: its bytes are not a tar, zip"),
        "{stderr}"
    );
    // A text file is a bundle of one file: prose holds nothing kdiag reads.
    let (code, stdout, stderr) = kdiag(&["inspect", "sample-bundles/seed-incident/README.md"]);
    assert_eq!(code, 5, "{stdout}");
    assert!(
        stderr.contains("nothing in sample-bundles/seed-incident/README.md could be read"),
        "{stderr}"
    );
}

#[test]
fn real_support_bundles_inspect_cleanly() {
    for b in [
        "troubleshoot-k3s-v1.31.2-baseline.tar.gz",
        "troubleshoot-k3d-v1.24.4.tar.gz",
        "sbctl-kurl-kubeadm-v1.23.5.tar.gz",
    ] {
        let path = root().join("../shared/real-data/bundles").join(b);
        if !path.is_file() {
            eprintln!(
                "skipped: {} is absent (a clone without ../shared)",
                path.display()
            );
            return;
        }
        let (code, stdout, stderr) =
            kdiag(&["inspect", "--format", "json", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{b}: {stderr}");
        let r: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert!(r["sources"][0]["stopped"].is_null(), "{b}");
        assert!(!r["nodes"].as_array().unwrap().is_empty(), "{b}: nodes");
        assert!(r["kubernetes_version"].is_string(), "{b}: version");
        assert!(
            r["dns_service"]["cluster_ip"].is_string() || b.starts_with("sbctl"),
            "{b}: DNS service"
        );
    }
}

#[test]
fn seed_bundle_tells_failed_from_not_collected() {
    use kdiag_model::InputStatus;
    let snap = kdiag_model::Snapshot::load(
        &root().join("sample-bundles/seed-incident"),
        &kdiag_bundle::Limits::default(),
        &kdiag_model::LogPatterns::none(),
    )
    .unwrap();
    assert_eq!(
        snap.input_status("nodes/master-1/ip-route.txt"),
        InputStatus::Present
    );
    match snap.input_status("nodes/master-1/ipvsadm.txt") {
        InputStatus::Failed { command } => assert_eq!(command.exit_code, Some(127)),
        other => panic!("ipvsadm failed on master-1, got {other:?}"),
    }
    assert!(matches!(
        snap.input_status("nodes/master-1/selinux.txt"),
        InputStatus::Failed { .. }
    ));
    assert_eq!(
        snap.input_status("nodes/master-1/ip-link.json"),
        InputStatus::NotCollected
    );
    assert_eq!(
        snap.input_status("cluster/events.yaml"),
        InputStatus::NotCollected
    );
}
