//! Archives built to hurt: each must yield a diagnostic naming the entry,
//! never a panic, and the rest of the bundle must still be read.
#![allow(clippy::unwrap_used)] // test helpers panic on setup failure

mod common;
use common::*;
use kdiag_bundle::{DiagnosticKind as K, Limits, OpenError, StopReason, read_stream};

fn read(bytes: &[u8], limits: &Limits) -> (Recorder, kdiag_bundle::ReadSummary) {
    let mut rec = Recorder::default();
    let summary = read_stream(bytes, "test.tar", limits, &mut rec).expect("readable");
    (rec, summary)
}

#[test]
fn traversal_and_absolute_paths_are_skipped_and_named() {
    let mut t = Vec::new();
    file(&mut t, "bundle/cluster/nodes.yaml", b"items: []\n");
    file(&mut t, "bundle/../../etc/passwd", b"root:x:0:0");
    file(&mut t, "/etc/shadow", b"root:*");
    file(
        &mut t,
        "bundle/nodes/w1/ip-route.txt",
        b"default via 10.0.0.1 dev eth0\n",
    );
    end(&mut t);
    let (rec, summary) = read(&t, &Limits::default());
    assert_eq!(
        rec.paths(),
        vec!["cluster/nodes.yaml", "nodes/w1/ip-route.txt"]
    );
    assert!(rec.has(K::PathTraversal, "../../etc/passwd"));
    assert!(rec.has(K::PathTraversal, "/etc/shadow"));
    assert_eq!(summary.root, "bundle");
    assert!(summary.stopped.is_none());
}

#[test]
fn links_and_devices_are_reported_not_followed() {
    let mut t = Vec::new();
    file(&mut t, "b/cluster/pods.yaml", b"items: []\n");
    entry(
        &mut t,
        b"b/all-logs/x.log",
        b'2',
        b"",
        b"../../../../etc/shadow",
    );
    entry(&mut t, b"b/hard", b'1', b"", b"b/cluster/pods.yaml");
    entry(&mut t, b"b/dev/sda", b'4', b"", b"");
    entry(&mut t, b"b/fifo", b'6', b"", b"");
    end(&mut t);
    let (rec, _) = read(&t, &Limits::default());
    assert_eq!(rec.paths(), vec!["cluster/pods.yaml"]);
    assert!(rec.has(K::Link, "all-logs/x.log"));
    assert!(
        rec.diagnostics
            .iter()
            .any(|d| d.message.contains("../../../../etc/shadow"))
    );
    assert!(rec.has(K::Link, "b/hard"));
    assert!(rec.has(K::SpecialFile, "dev/sda"));
    assert!(rec.has(K::SpecialFile, "fifo"));
}

#[test]
fn duplicate_paths_keep_the_first() {
    let mut t = Vec::new();
    file(&mut t, "b/cluster/nodes.yaml", b"first");
    file(&mut t, "b/./cluster//nodes.yaml", b"second");
    end(&mut t);
    let (rec, _) = read(&t, &Limits::default());
    assert_eq!(rec.files.len(), 1);
    assert_eq!(rec.complete("cluster/nodes.yaml").unwrap(), b"first");
    assert!(rec.has(K::DuplicatePath, "nodes.yaml"));
}

#[test]
fn non_utf8_names_are_skipped_and_contents_pass_through() {
    let mut t = Vec::new();
    entry(&mut t, b"b/logs/ns/p/\xff\xfe.log", b'0', b"x", b"");
    file(&mut t, "b/logs/ns/p/c.log", b"caf\xe9 latin-1 line\n");
    end(&mut t);
    let (rec, _) = read(&t, &Limits::default());
    assert!(rec.has(K::NonUtf8Name, ".log"));
    assert_eq!(
        rec.complete("logs/ns/p/c.log").unwrap(),
        b"caf\xe9 latin-1 line\n"
    );
}

#[test]
fn truncated_gzip_keeps_complete_entries() {
    let mut t = Vec::new();
    let a = noise(40_000, 1);
    let b = noise(40_000, 2);
    let c = noise(40_000, 3);
    file(&mut t, "b/cluster/a.yaml", &a);
    file(&mut t, "b/cluster/b.yaml", &b);
    file(&mut t, "b/cluster/c.yaml", &c);
    end(&mut t);
    let gz = gzip(&t);
    let cut = &gz[..gz.len() * 5 / 6];
    let (rec, summary) = read(cut, &Limits::default());
    assert_eq!(rec.complete("cluster/a.yaml"), Some(&a));
    assert_eq!(rec.complete("cluster/b.yaml"), Some(&b));
    assert!(
        rec.complete("cluster/c.yaml").is_none(),
        "a cut entry must not look complete"
    );
    assert!(
        matches!(summary.stopped, Some(StopReason::Truncated(_))),
        "{:?}",
        summary.stopped
    );
    assert!(rec.has(K::Truncated, "c.yaml"));
}

#[test]
fn truncated_plain_tar_does_not_pass_a_short_entry_as_whole() {
    let mut t = Vec::new();
    file(&mut t, "b/cluster/a.yaml", &noise(3000, 4));
    file(&mut t, "b/cluster/b.yaml", &noise(3000, 5));
    let cut = &t[..t.len() - 1000];
    let (rec, summary) = read(cut, &Limits::default());
    assert!(rec.complete("cluster/a.yaml").is_some());
    assert!(rec.complete("cluster/b.yaml").is_none());
    assert!(matches!(summary.stopped, Some(StopReason::Truncated(_))));
}

#[test]
fn not_an_archive_is_a_clear_error() {
    let mut rec = Recorder::default();
    for (bytes, expect) in [
        (&b""[..], "empty"),
        (b"PK\x03\x04\x14\x00\x00\x00", "zip"),
        (b"\x7fELF\x02\x01\x01\x00\x00", "not a tar, zip"),
    ] {
        match read_stream(bytes, "customer.tar.gz", &Limits::default(), &mut rec) {
            Err(OpenError::NotAnArchive { what, detail }) => {
                assert_eq!(what, "customer.tar.gz");
                assert!(detail.contains(expect), "{detail}");
            }
            other => panic!("expected NotAnArchive, got {other:?}"),
        }
    }
}

#[test]
fn a_text_file_is_a_bundle_of_one_file() {
    let mut rec = Recorder::default();
    let summary = read_stream(
        &b"apiVersion: v1\nkind: List\nitems: []\n"[..],
        "pods.yaml",
        &Limits::default(),
        &mut rec,
    )
    .unwrap();
    assert_eq!(summary.container, kdiag_bundle::Container::File);
    assert_eq!(rec.files.len(), 1);
    assert_eq!(rec.files[0].0, "stdin");
    let gz_text = gzip(b"just a gzipped log line\n");
    let mut rec = Recorder::default();
    let summary = read_stream(&gz_text[..], "x.gz", &Limits::default(), &mut rec).unwrap();
    assert_eq!(summary.container, kdiag_bundle::Container::CompressedFile);
    assert_eq!(rec.files[0].1, b"just a gzipped log line\n");
}

#[test]
fn gzip_bomb_stops_at_the_ratio_limit() {
    let mut t = Vec::new();
    file(&mut t, "b/cluster/nodes.yaml", b"items: []\n");
    let zeros = vec![0u8; 64 << 20];
    file(&mut t, "b/logs/ns/p/c.log", &zeros);
    end(&mut t);
    let gz = gzip(&t);
    drop(zeros);
    let limits = Limits {
        ratio_grace_bytes: 1 << 20,
        max_compression_ratio: 100,
        ..Limits::default()
    };
    let (rec, summary) = read(&gz, &limits);
    assert!(rec.complete("cluster/nodes.yaml").is_some());
    assert_eq!(summary.stopped, Some(StopReason::CompressionRatio(100)));
    assert!(
        summary.bytes < 8 << 20,
        "stopped late: {} bytes",
        summary.bytes
    );
}

#[test]
fn total_entry_and_count_limits() {
    let mut t = Vec::new();
    for i in 0..10 {
        file(&mut t, &format!("b/logs/ns/p{i}/c.log"), &noise(10_000, i));
    }
    end(&mut t);
    let (rec, summary) = read(
        &t,
        &Limits {
            max_entries: 4,
            ..Limits::default()
        },
    );
    assert_eq!(rec.files.len(), 4);
    assert_eq!(summary.stopped, Some(StopReason::Entries(4)));

    let (rec, summary) = read(
        &t,
        &Limits {
            max_total_bytes: 35_000,
            ..Limits::default()
        },
    );
    assert_eq!(rec.files.iter().filter(|(_, _, ok)| *ok).count(), 3);
    assert!(
        !rec.files[3].2,
        "the entry cut by the limit must not look complete"
    );
    assert_eq!(summary.stopped, Some(StopReason::TotalBytes(35_000)));

    let (rec, summary) = read(
        &t,
        &Limits {
            max_entry_bytes: 100,
            ..Limits::default()
        },
    );
    assert_eq!(rec.files.len(), 10);
    assert!(rec.files.iter().all(|(_, d, ok)| d.len() == 100 && *ok));
    assert!(rec.has(K::LimitExceeded, "p3/c.log"));
    assert!(summary.stopped.is_none());
}

#[test]
fn oversized_long_name_header_is_refused() {
    let mut t = Vec::new();
    file(&mut t, "b/cluster/nodes.yaml", b"items: []\n");
    // A GNU long-name header claiming 1.5 GB: only its header is read.
    t.extend_from_slice(&header(b"././@LongLink", b'L', 1_500_000_000, b""));
    t.extend_from_slice(&[b'a'; 1024]);
    let (rec, summary) = read(&t, &Limits::default());
    assert!(rec.complete("cluster/nodes.yaml").is_some());
    assert!(rec.has(K::LimitExceeded, "LongLink"));
    assert!(summary.stopped.is_some());
}

#[test]
fn long_names_and_pax_paths_are_applied() {
    let long = format!("b/logs/kube-system/{}/kube-proxy.log", "p".repeat(150));
    let mut t = Vec::new();
    let mut name = long.clone().into_bytes();
    name.push(0);
    entry(&mut t, b"././@LongLink", b'L', &name, b"");
    file(&mut t, "b/logs/kube-system/truncated-name", b"I1127 line\n");
    let pax_path = "b/nodes/worker-1/ip-route.txt";
    let rec_body = format!("path={pax_path}\n");
    let len = rec_body.len() + 3;
    let pax = format!("{len} {rec_body}");
    assert_eq!(pax.len(), len);
    entry(&mut t, b"b/PaxHeaders/x", b'x', pax.as_bytes(), b"");
    file(&mut t, "b/short", b"default via 10.0.0.1 dev eth0\n");
    end(&mut t);
    let (rec, _) = read(&t, &Limits::default());
    assert_eq!(rec.paths(), vec![&long[2..], "nodes/worker-1/ip-route.txt"]);
}

#[test]
fn pax_size_disagreement_stops_reading() {
    let mut t = Vec::new();
    file(&mut t, "b/cluster/nodes.yaml", b"items: []\n");
    let body = "size=99999\n";
    let pax = format!("{} {body}", body.len() + 3);
    entry(&mut t, b"b/PaxHeaders/y", b'x', pax.as_bytes(), b"");
    file(&mut t, "b/cluster/pods.yaml", b"items: []\n");
    end(&mut t);
    let (rec, summary) = read(&t, &Limits::default());
    assert_eq!(rec.paths(), vec!["cluster/nodes.yaml"]);
    assert!(matches!(summary.stopped, Some(StopReason::Corrupt(_))));
}

#[test]
fn corrupt_header_checksum_stops_with_what_was_read() {
    let mut t = Vec::new();
    file(&mut t, "b/cluster/nodes.yaml", b"items: []\n");
    let mut bad = header(b"b/cluster/pods.yaml", b'0', 10, b"");
    bad[0] ^= 0x20;
    t.extend_from_slice(&bad);
    t.extend_from_slice(&[0u8; 512]);
    end(&mut t);
    let (rec, summary) = read(&t, &Limits::default());
    assert_eq!(rec.paths(), vec!["cluster/nodes.yaml"]);
    assert!(matches!(summary.stopped, Some(StopReason::Corrupt(_))));
}

#[test]
fn concatenated_gzip_members_are_read_whole() {
    let mut first = Vec::new();
    file(&mut first, "b/cluster/nodes.yaml", b"items: []\n");
    let mut second = Vec::new();
    file(&mut second, "b/cluster/pods.yaml", b"items: []\n");
    end(&mut second);
    let mut gz = gzip(&first);
    gz.extend(gzip(&second));
    let (rec, summary) = read(&gz, &Limits::default());
    assert_eq!(rec.paths(), vec!["cluster/nodes.yaml", "cluster/pods.yaml"]);
    assert_eq!(summary.container, kdiag_bundle::Container::TarGzip);
}
