//! Parses what iproute2 really prints: a network namespace is set up the
//! way flannel programs a VXLAN node (flannel.1 with `nolearning`, `onlink`
//! routes, PERMANENT neighbours, permanent FDB entries), and the text and
//! JSON outputs of `ip`/`bridge` are parsed and checked against that setup.
//!
//! Needs root and iproute2. Outside CI it skips itself, saying so; under CI
//! (`CI` set, as `.ci/run` is run) a missing capability fails the test.
#![allow(clippy::unwrap_used)] // test setup panics on failure

use kdiag_parse::{iproute, iproute_json};
use std::process::Command;

struct Netns(String);

impl Netns {
    fn create() -> Option<Netns> {
        let name = format!("kdiag-test-{}", std::process::id());
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            Some(Netns(name))
        } else if std::env::var_os("CI").is_some() {
            panic!("network namespaces are required under CI (run as root with iproute2)");
        } else {
            eprintln!("skipping: cannot create a network namespace (needs root and iproute2)");
            None
        }
    }

    fn ip(&self, args: &[&str]) -> String {
        let out = Command::new("ip")
            .arg("-n")
            .arg(&self.0)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn bridge(&self, args: &[&str]) -> String {
        let out = Command::new("bridge")
            .arg("-n")
            .arg(&self.0)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "bridge {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Each record's text is the line iproute2 printed, whether it was kept or
/// printed again from the record.
fn same_lines<'a>(output: &str, records: impl Iterator<Item = (u32, std::borrow::Cow<'a, str>)>) {
    let lines: Vec<&str> = output.lines().collect();
    for (line, text) in records {
        assert_eq!(text, lines[line as usize - 1], "line {line}");
    }
}

#[test]
fn flannel_vxlan_node_as_iproute2_prints_it() {
    let Some(ns) = Netns::create() else { return };
    for cmd in [
        "link add eth0 type veth peer name uplink0",
        "link set uplink0 up",
        "addr add 10.99.0.2/24 dev eth0",
        "link set eth0 up",
        "link add flannel.1 type vxlan id 1 local 10.99.0.2 dev eth0 dstport 8472 nolearning",
        "link set flannel.1 address 4e:1a:5b:0c:7d:21 mtu 1450 up",
        "addr add 10.244.5.0/32 dev flannel.1",
        "link add cni0 type bridge",
        "addr add 10.244.5.1/24 dev cni0",
        "link set cni0 up",
        "route add 10.244.6.0/24 via 10.244.6.0 dev flannel.1 onlink",
        "route add 10.244.7.0/24 via 10.244.7.0 dev flannel.1 onlink",
        "neigh add 10.244.6.0 lladdr 4e:1a:5b:0c:7d:22 dev flannel.1 nud permanent",
        "neigh add 10.244.7.0 lladdr 4e:1a:5b:0c:7d:23 dev flannel.1 nud permanent",
    ] {
        ns.ip(&cmd.split(' ').collect::<Vec<_>>());
    }
    ns.bridge(&[
        "fdb",
        "append",
        "4e:1a:5b:0c:7d:22",
        "dev",
        "flannel.1",
        "dst",
        "10.99.0.3",
        "self",
        "permanent",
    ]);
    ns.bridge(&[
        "fdb",
        "append",
        "4e:1a:5b:0c:7d:23",
        "dev",
        "flannel.1",
        "dst",
        "10.99.0.4",
        "self",
        "permanent",
    ]);

    let routes_text = ns.ip(&["route", "show"]);
    let routes = iproute::parse_routes(&routes_text);
    assert!(routes.diagnostics.is_empty(), "{:?}", routes.diagnostics);
    same_lines(
        &routes_text,
        routes.records.iter().map(|r| (r.line, r.text())),
    );
    // The routes flannel programs are in iproute2's plain form: no text kept.
    assert!(
        routes
            .records
            .iter()
            .filter(|r| r.onlink())
            .all(|r| r.verbatim.is_none())
    );
    let onlink: Vec<String> = routes
        .records
        .iter()
        .filter(|r| r.onlink())
        .map(|r| format!("{} via {}", r.dst, r.gateway.unwrap()))
        .collect();
    assert_eq!(
        onlink,
        vec![
            "10.244.6.0/24 via 10.244.6.0",
            "10.244.7.0/24 via 10.244.7.0"
        ]
    );
    let routes_json = iproute_json::parse_routes_json(&ns.ip(&["-j", "route", "show"]));
    assert!(
        routes_json.diagnostics.is_empty(),
        "{:?}",
        routes_json.diagnostics
    );
    assert_eq!(routes_json.records.len(), routes.records.len());
    for (t, j) in routes.records.iter().zip(&routes_json.records) {
        assert_eq!(
            (t.dst, t.gateway, &t.dev, t.onlink()),
            (j.dst, j.gateway, &j.dev, j.onlink())
        );
    }

    let neigh_text = ns.ip(&["neigh", "show"]);
    let neigh = iproute::parse_neighbors(&neigh_text);
    assert!(neigh.diagnostics.is_empty(), "{:?}", neigh.diagnostics);
    same_lines(
        &neigh_text,
        neigh.records.iter().map(|r| (r.line, r.text())),
    );
    assert!(neigh.records.iter().all(|r| r.verbatim.is_none()));
    assert_eq!(
        neigh
            .records
            .iter()
            .filter(|n| n.permanent() && n.dev.as_deref() == Some("flannel.1"))
            .count(),
        2
    );
    let neigh_json = iproute_json::parse_neighbors_json(&ns.ip(&["-j", "neigh", "show"]));
    assert_eq!(
        neigh_json.records.iter().filter(|n| n.permanent()).count(),
        2
    );

    let fdb_text = ns.bridge(&["fdb", "show"]);
    let fdb = iproute::parse_fdb(&fdb_text);
    assert!(fdb.diagnostics.is_empty(), "{:?}", fdb.diagnostics);
    same_lines(&fdb_text, fdb.records.iter().map(|r| (r.line, r.text())));
    assert!(
        fdb.records
            .iter()
            .filter(|f| f.dst.is_some())
            .all(|f| f.verbatim.is_none())
    );
    let mut vteps: Vec<String> = fdb
        .records
        .iter()
        .filter(|f| f.dev.as_deref() == Some("flannel.1") && f.dst.is_some())
        .map(|f| format!("{}>{}", f.mac, f.dst.unwrap()))
        .collect();
    vteps.sort();
    assert_eq!(
        vteps,
        vec!["4e:1a:5b:0c:7d:22>10.99.0.3", "4e:1a:5b:0c:7d:23>10.99.0.4"]
    );
    let fdb_json = iproute_json::parse_fdb_json(&ns.bridge(&["-j", "fdb", "show"]));
    assert!(
        fdb_json.diagnostics.is_empty(),
        "{:?}",
        fdb_json.diagnostics
    );
    assert_eq!(
        fdb_json
            .records
            .iter()
            .filter(|f| f.dst.is_some() && f.permanent())
            .count(),
        2
    );

    for text in [
        ns.ip(&["-d", "link", "show"]),
        ns.ip(&["-d", "addr", "show"]),
    ] {
        let links = iproute::parse_links(&text);
        assert!(links.diagnostics.is_empty(), "{:?}", links.diagnostics);
        let f = links
            .records
            .iter()
            .find(|i| i.name == "flannel.1")
            .unwrap();
        let v = f.vxlan.as_ref().unwrap();
        assert_eq!(
            (v.id, v.dstport, v.learning, v.dev.as_deref(), f.mtu),
            (1, Some(8472), false, Some("eth0"), Some(1450))
        );
        assert_eq!(v.local.unwrap().to_string(), "10.99.0.2");
        assert_eq!(f.mac.as_deref(), Some("4e:1a:5b:0c:7d:21"));
        assert_eq!(
            links
                .records
                .iter()
                .find(|i| i.name == "cni0")
                .unwrap()
                .kind
                .as_deref(),
            Some("bridge")
        );
    }
    let addrs = iproute::parse_links(&ns.ip(&["addr", "show"]));
    let cni0 = addrs.records.iter().find(|i| i.name == "cni0").unwrap();
    assert_eq!(cni0.addrs[0].addr.to_string(), "10.244.5.1/24");
    let json = iproute_json::parse_links_json(&ns.ip(&["-j", "-d", "addr", "show"]));
    assert!(json.diagnostics.is_empty(), "{:?}", json.diagnostics);
    let f = json.records.iter().find(|i| i.name == "flannel.1").unwrap();
    assert_eq!(f.vxlan.as_ref().unwrap().dstport, Some(8472));
    assert!(!f.vxlan.as_ref().unwrap().learning);
}
