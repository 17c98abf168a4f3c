//! Every container kdiag reads gives the same files: tar, tar.gz, tar.xz,
//! tar.zst, zip, and one plain or compressed file. An archive without a
//! wrapping directory, with `./` prefixes or with several top-level
//! directories is read whole, each file under its own path.
#![allow(clippy::unwrap_used)] // test helpers panic on setup failure

mod common;
use common::*;
use kdiag_bundle::{Container, Layout, Limits, classify_in, read_path, read_stream};
use std::io::Write;

fn tarball() -> Vec<u8> {
    let mut t = Vec::new();
    file(
        &mut t,
        "./resources/cluster/core_v1_nodes.json",
        b"{\"items\": []}",
    );
    file(
        &mut t,
        "./hosts/n1/configz.json",
        b"{\"kubeletconfig\": {}}",
    );
    file(
        &mut t,
        "./serverversion.json",
        b"{\"gitVersion\": \"v1.21.1\"}",
    );
    end(&mut t);
    t
}

fn paths(rec: &Recorder) -> Vec<&str> {
    rec.files.iter().map(|(p, _, _)| p.as_str()).collect()
}

const EXPECTED: [&str; 3] = [
    "resources/cluster/core_v1_nodes.json",
    "hosts/n1/configz.json",
    "serverversion.json",
];

#[test]
fn every_compression_gives_the_same_files() {
    let tar = tarball();
    let xz = {
        let mut w =
            lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(6)).unwrap();
        w.write_all(&tar).unwrap();
        w.finish().unwrap()
    };
    let zst =
        ruzstd::encoding::compress_to_vec(&tar[..], ruzstd::encoding::CompressionLevel::Fastest);
    for (bytes, container) in [
        (tar.clone(), Container::Tar),
        (gzip(&tar), Container::TarGzip),
        (xz, Container::TarXz),
        (zst, Container::TarZstd),
    ] {
        let mut rec = Recorder::default();
        let summary = read_stream(&bytes[..], "results", &Limits::default(), &mut rec).unwrap();
        assert_eq!(summary.container, container);
        assert_eq!(paths(&rec), EXPECTED, "{container:?}");
        assert!(rec.files.iter().all(|(_, _, ok)| *ok));
        assert!(rec.diagnostics.is_empty(), "{:?}", rec.diagnostics);
    }
}

#[test]
fn zip_archives_are_read_from_their_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for p in EXPECTED {
        z.start_file(p, options).unwrap();
        z.write_all(b"{}").unwrap();
    }
    z.start_file("../escape.txt", options).unwrap();
    z.write_all(b"x").unwrap();
    z.finish().unwrap();
    let mut rec = Recorder::default();
    let summary = read_path(&path, &Limits::default(), &mut rec).unwrap();
    assert_eq!(summary.container, Container::Zip);
    assert_eq!(paths(&rec), EXPECTED);
    assert!(rec.has(kdiag_bundle::DiagnosticKind::PathTraversal, "escape.txt"));
}

#[test]
fn a_zip_bomb_stops_at_the_total_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    z.start_file("logs/ns/p/c.log", options).unwrap();
    z.write_all(&vec![0u8; 8 << 20]).unwrap();
    z.finish().unwrap();
    let limits = Limits {
        max_total_bytes: 1 << 20,
        ..Limits::default()
    };
    let mut rec = Recorder::default();
    let summary = read_path(&path, &limits, &mut rec).unwrap();
    assert!(
        matches!(
            summary.stopped,
            Some(kdiag_bundle::StopReason::TotalBytes(_))
        ),
        "{summary:?}"
    );
    assert!(
        rec.files.iter().all(|(_, _, ok)| !ok),
        "the cut entry is not passed as whole"
    );
}

#[test]
fn one_plain_or_compressed_file() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("all-pods.yaml");
    std::fs::write(&plain, "apiVersion: v1\nkind: List\nitems: []\n").unwrap();
    let mut rec = Recorder::default();
    let summary = read_path(&plain, &Limits::default(), &mut rec).unwrap();
    assert_eq!(summary.container, Container::File);
    assert_eq!(paths(&rec), ["all-pods.yaml"]);
    let packed = dir.path().join("dump.json.gz");
    std::fs::write(&packed, gzip(b"{\"kind\": \"NodeList\", \"items\": []}\n")).unwrap();
    let mut rec = Recorder::default();
    let summary = read_path(&packed, &Limits::default(), &mut rec).unwrap();
    assert_eq!(summary.container, Container::CompressedFile);
    assert_eq!(paths(&rec), ["dump.json"]);
}

#[test]
fn layouts_are_found_wherever_they_start() {
    for (path, layout) in [
        (
            "resources/ns/kube-system/core_v1_pods.json",
            Layout::Sonobuoy,
        ),
        ("plugins/e2e/results/global/e2e.log", Layout::Sonobuoy),
        (
            "results-0.10/resources/ns/kube-system/Pods.json",
            Layout::Sonobuoy,
        ),
        ("kdiag-bundle-1/cluster/nodes.yaml", Layout::Kdiag),
        (
            "tmp/support-bundle-1/cluster-resources/pods/kube-system.json",
            Layout::Troubleshoot,
        ),
        (
            "must-gather.local.5/quay-io-image/namespaces/openshift-dns/core/services.yaml",
            Layout::MustGather,
        ),
        (
            "must-gather.local.5/quay-io-image/namespaces/openshift-dns/pods/dns-default-x/dns/dns/logs/current.log",
            Layout::MustGather,
        ),
        (
            "sosreport-host-1/sos_commands/kernel/sysctl_-a",
            Layout::Sosreport,
        ),
        (
            "dump/kube-system/coredns-1/logs.txt",
            Layout::ClusterInfoDump,
        ),
        ("dump/nodes.json", Layout::ClusterInfoDump),
        ("my files/crb.yaml", Layout::Kubectl),
    ] {
        assert_eq!(classify_in(path).layout, layout, "{path}");
    }
    let sos = classify_in("sosreport-rhcos-1/sos_commands/networking/ip_-s_-s_neigh_show");
    assert_eq!(
        sos.role,
        kdiag_bundle::FileRole::Node {
            node: "rhcos-1".into(),
            file: kdiag_bundle::NodeFile::IpNeigh
        }
    );
}
