//! Hostile bundles cost bounded memory. This file holds one test so that
//! the process's peak RSS is this test's alone; the peak is reset through
//! `/proc/self/clear_refs` after the inputs are built.
#![allow(clippy::unwrap_used)] // test setup panics on failure

use kdiag_bundle::Limits;
use kdiag_model::{LogPatterns, Snapshot};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
}

fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// An entry's body: given bytes, or `n` repeated bytes streamed.
enum Body {
    Bytes(Vec<u8>),
    Repeat(u64),
}

fn header(name: &str, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_path(name).unwrap();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    h
}

/// A gzip-compressed tar built on the fly, so the inputs stay small in memory.
fn gz_tar(entries: Vec<(&str, Body)>) -> Vec<u8> {
    let enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut b = tar::Builder::new(enc);
    for (name, body) in entries {
        match body {
            Body::Bytes(data) => b
                .append(&header(name, data.len() as u64), &data[..])
                .unwrap(),
            Body::Repeat(size) => b
                .append(&header(name, size), Repeat { left: size })
                .unwrap(),
        }
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// `left` bytes of 'a' with no newline: one enormous log line, or a bomb.
struct Repeat {
    left: u64,
}

impl std::io::Read for Repeat {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = usize::try_from((buf.len() as u64).min(self.left)).unwrap();
        buf[..n].fill(b'a');
        self.left -= n as u64;
        Ok(n)
    }
}

#[test]
fn hostile_bundles_stay_within_bounded_memory() {
    let mut alias_bomb = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..16 {
        let p = i - 1;
        alias_bomb.push_str(&format!(
            "  a{i}: &a{i} [*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p}]\n"
        ));
    }
    let bundle = gz_tar(vec![
        (
            "b/cluster/nodes.yaml",
            Body::Bytes(b"apiVersion: v1\nkind: List\nitems: []\n".to_vec()),
        ),
        (
            "b/cluster/configmaps.yaml",
            Body::Bytes(alias_bomb.into_bytes()),
        ),
        // A 50 MB log line without a newline.
        (
            "b/logs/kube-system/kube-proxy-x/kube-proxy.log",
            Body::Repeat(50 << 20),
        ),
        // A 512 MiB entry of one repeated byte: a decompression bomb (~1000:1).
        ("b/logs/kube-system/bomb/c.log", Body::Repeat(512 << 20)),
    ]);
    assert!(
        bundle.len() < 8 << 20,
        "the bomb must be small compressed: {}",
        bundle.len()
    );
    let patterns = LogPatterns::new([("forbidden", "is forbidden")]).unwrap();
    let measured = reset_peak();
    if !measured {
        eprintln!("not measuring RSS: /proc/self/clear_refs is not writable");
    }
    let before = peak_rss_kib();
    let snap = Snapshot::load_stream(&bundle[..], "hostile.tar.gz", &Limits::default(), &patterns)
        .unwrap();
    let after = peak_rss_kib();

    // Everything before the bomb was read; the bomb stopped reading.
    assert!(snap.objects.is_empty());
    assert!(
        snap.diagnostics.iter().any(|d| d
            .file
            .as_deref()
            .is_some_and(|f| f.ends_with("cluster/configmaps.yaml"))),
        "alias bomb diagnosed"
    );
    let log = snap.logs.iter().find(|l| l.pod == "kube-proxy-x").unwrap();
    assert_eq!((log.lines, log.long_lines), (1, 1));
    let stop = snap.reads[0]
        .stopped
        .as_ref()
        .expect("the bomb stops reading");
    assert!(
        matches!(stop, kdiag_bundle::StopReason::CompressionRatio(_)),
        "{stop:?}"
    );

    if let (true, Some(b), Some(a)) = (measured, before, after) {
        let grown_mib = a.saturating_sub(b) / 1024;
        eprintln!("peak RSS grew by {grown_mib} MiB while reading");
        assert!(grown_mib < 64, "peak RSS grew by {grown_mib} MiB");
    }
}
