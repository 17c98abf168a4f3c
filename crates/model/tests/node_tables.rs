//! Which copy of a node table the snapshot keeps.
#![allow(clippy::unwrap_used)] // test setup panics on failure

use kdiag_bundle::Limits;
use kdiag_model::{LogPatterns, Snapshot, Stage};

fn snapshot(files: &[(&str, &str)]) -> Snapshot {
    let mut b = tar::Builder::new(Vec::new());
    for (path, body) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, path, body.as_bytes()).unwrap();
    }
    let bytes = b.into_inner().unwrap();
    Snapshot::load_stream(
        &bytes[..],
        "test.tar",
        &Limits::default(),
        &LogPatterns::none(),
    )
    .unwrap()
}

const TEXT: &str =
    "default via 10.0.0.1 dev eth0\n10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink\n";
const JSON: &str = r#"[{"dst":"default","gateway":"10.0.0.1","dev":"eth0","flags":[]},{"dst":"10.244.1.0/24","gateway":"10.244.1.0","dev":"flannel.1","flags":["onlink"]}]"#;

#[test]
fn clean_text_beats_json_whatever_the_order() {
    for files in [
        [
            ("nodes/w1/ip-route.json", JSON),
            ("nodes/w1/ip-route.txt", TEXT),
        ],
        [
            ("nodes/w1/ip-route.txt", TEXT),
            ("nodes/w1/ip-route.json", JSON),
        ],
    ] {
        let snap = snapshot(&files);
        let routes = snap.nodes["w1"].routes.as_ref().unwrap();
        assert_eq!(routes.file, "nodes/w1/ip-route.txt");
        assert_eq!(routes.value.len(), 2);
        assert!(snap.diagnostics.is_empty(), "{:?}", snap.diagnostics);
    }
}

#[test]
fn json_beats_text_that_did_not_parse_cleanly() {
    let bad_text = "root@w1:~# ip route\ndefault via 10.0.0.1 dev eth0\n";
    let snap = snapshot(&[
        ("nodes/w1/ip-route.txt", bad_text),
        ("nodes/w1/ip-route.json", JSON),
    ]);
    assert_eq!(
        snap.nodes["w1"].routes.as_ref().unwrap().file,
        "nodes/w1/ip-route.json"
    );
    // The prompt line is still reported against the text file.
    assert!(snap.diagnostics.iter().any(|d| d.stage == Stage::Parse
        && d.file.as_deref() == Some("nodes/w1/ip-route.txt")
        && d.line == Some(1)));
}

#[test]
fn a_duplicate_path_keeps_the_first_copy() {
    let snap = snapshot(&[
        ("nodes/w1/sysctl.txt", "net.ipv4.ip_forward = 1\n"),
        ("nodes/w1/./sysctl.txt", "net.ipv4.ip_forward = 0\n"),
    ]);
    // The archive reader already refuses the duplicate path.
    assert_eq!(
        snap.nodes["w1"]
            .sysctl("net.ipv4.ip_forward")
            .unwrap()
            .1
            .value,
        "1"
    );
    assert!(snap.diagnostics.iter().any(|d| d.stage == Stage::Read));
}

#[test]
fn absent_tables_stay_unknown() {
    let snap = snapshot(&[("nodes/w1/ip-route.txt", TEXT)]);
    let t = &snap.nodes["w1"];
    assert!(t.neighbors.is_none() && t.fdb.is_none() && t.iptables.is_none() && t.sysctl.is_none());
    assert_eq!(t.present(), vec!["routes"]);
}
