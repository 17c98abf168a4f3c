//! The derived facts of the seed incident: what the data plane must hold
//! against what the nodes printed.
#![allow(clippy::unwrap_used)] // test setup panics on failure

use kdiag_bundle::Limits;
use kdiag_bundle::{Input, NodeInput};
use kdiag_model::derive::{FactTable, table};
use kdiag_model::{LogPatterns, Snapshot};
use serde_json::Value;

fn seed() -> Snapshot {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-bundles/seed-incident");
    Snapshot::load(&dir, &Limits::default(), &LogPatterns::none()).unwrap()
}

fn rows(t: &FactTable, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
    t.records
        .iter()
        .map(|r| r.fields())
        .filter(|f| pred(f))
        .collect()
}

#[test]
fn seed_incident_facts() {
    let snap = seed();
    let dangling = table(&snap, "rbac.dangling-bindings").unwrap();
    let roles: Vec<String> = dangling
        .records
        .iter()
        .map(|r| r.fields()["role"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(roles, vec!["system:node-proxier", "flannel"]);
    assert_eq!(
        dangling.records[0].fields()["serviceaccounts"][0],
        "kube-system/kube-proxy"
    );

    // 5 flannel nodes with 4 peers each; the table holds only the routes
    // that are not as flannel programs them.
    let routes = table(&snap, "flannel.routes").unwrap();
    assert!(routes.missing.is_empty(), "{:?}", routes.missing);
    assert!(rows(&routes, |f| f["route"] == "present").is_empty());
    let missing = rows(&routes, |f| {
        f["node"] == "gpu-worker-2" && f["route"] == "missing"
    });
    let cidrs: Vec<&str> = missing
        .iter()
        .map(|f| f["cidr"].as_str().unwrap())
        .collect();
    assert_eq!(
        cidrs,
        vec!["10.244.0.0/24", "10.244.1.0/24", "10.233.65.0/24"]
    );
    assert_eq!(rows(&routes, |f| f["route"] == "missing").len(), 14);
    // The per-node counts add up to every peer of every node.
    let nodes = table(&snap, "flannel.nodes").unwrap();
    assert_eq!(nodes.records.len(), 5);
    let count = |k: &str| -> u64 {
        rows(&nodes, |_| true)
            .iter()
            .map(|f| f[k].as_u64().unwrap())
            .sum()
    };
    assert_eq!(count("peers"), 20);
    assert_eq!(
        count("routes_present") + count("routes_missing") + count("routes_wrong"),
        20
    );
    assert_eq!(count("routes_missing"), 14);
    assert_eq!(
        count("routes_missing") + count("routes_wrong"),
        routes.records.len() as u64
    );
    // Every absence is shown with real lines of the node's table.
    let r = routes
        .records
        .iter()
        .find(|r| r.fields()["node"] == "master-3" && r.fields()["route"] == "missing")
        .unwrap();
    assert!(
        r.evidence[1].text.starts_with("default via"),
        "{:?}",
        r.evidence
    );
    // Where the route to a peer is missing, so are its neighbour and FDB
    // entry, and the other way round.
    let vx = table(&snap, "flannel.vxlan").unwrap();
    let pairs = |t: &FactTable| -> Vec<(Value, Value)> {
        let mut v: Vec<_> = rows(t, |_| true)
            .iter()
            .map(|f| (f["node"].clone(), f["peer"].clone()))
            .collect();
        v.sort_by_key(|p| p.0.to_string() + &p.1.to_string());
        v
    };
    assert_eq!(pairs(&vx), pairs(&routes));
    assert!(rows(&vx, |f| f["neighbor"] == "present" && f["fdb"] == "present").is_empty());
    assert!(
        table(&snap, "flannel.stale-entries")
            .unwrap()
            .records
            .is_empty()
    );

    let svc = table(&snap, "kube-proxy.services").unwrap();
    let dns = rows(&svc, |f| f["ip"] == "10.233.0.3");
    assert_eq!(dns.len(), 3, "3 ports, each missing on the 5 nodes");
    assert!(
        dns.iter()
            .all(|f| f["missing"].as_array().unwrap().len() == 5
                && f["programmed"] == 0
                && f["modes"] == serde_json::json!(["iptables"])
                && f["dns"] == true)
    );
    // One record per Service port, whatever the number of nodes.
    let ports: usize = snap
        .objects_of("Service")
        .filter(|o| {
            o.object.value["spec"]["clusterIP"]
                .as_str()
                .is_some_and(|ip| ip.parse::<std::net::IpAddr>().is_ok())
        })
        .map(|o| {
            o.object.value["spec"]["ports"]
                .as_array()
                .map_or(0, Vec::len)
        })
        .sum();
    assert_eq!(svc.records.len(), ports);

    let nets = table(&snap, "cidr.pod-networks").unwrap();
    let summary: Vec<(String, bool, u64)> = nets
        .records
        .iter()
        .map(|r| r.fields())
        .map(|r| {
            (
                r["cidr"].as_str().unwrap().to_owned(),
                r["current"].as_bool().unwrap(),
                r["node_count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("10.233.64.0/18".into(), true, 3),
            ("10.244.0.0/16".into(), false, 2)
        ]
    );
    assert!(
        nets.records
            .iter()
            .all(|r| r.fields()["networks_in_use"] == 2)
    );

    let bridges = table(&snap, "node.bridge-addresses").unwrap();
    let outside = rows(&bridges, |f| f["inside"] == false);
    assert_eq!(outside.len(), 1);
    assert_eq!(
        (outside[0]["node"].as_str(), outside[0]["network"].as_str()),
        (Some("gpu-worker-1"), Some("10.244.3.0/24"))
    );

    let pods = table(&snap, "pods.addresses").unwrap();
    let outside = rows(&pods, |f| f["inside"] == false);
    assert_eq!(outside.len(), 1);
    assert_eq!(outside[0]["network"], "10.244.3.0/24");

    let svc = table(&snap, "dns.service").unwrap();
    assert_eq!(
        svc.records[0].fields()["nodes_missing"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(svc.records[0].fields()["endpoints_ready"], 2);

    let probes = table(&snap, "probes.dns").unwrap();
    let outcomes: Vec<String> = probes
        .records
        .iter()
        .map(|r| r.fields()["outcome"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(outcomes, vec!["bad-address", "bad-address", "no-servers"]);
    assert!(table(&snap, "no.such.table").is_none());
}

#[test]
fn a_node_without_tables_is_unknown_not_healthy() {
    let bundle = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/real-data/bundles/troubleshoot-k3s-v1.31.2-baseline.tar.gz");
    if !bundle.is_file() {
        eprintln!(
            "skipped: {} is absent (a clone without ../shared)",
            bundle.display()
        );
        return;
    }
    let snap = Snapshot::load(&bundle, &Limits::default(), &LogPatterns::none()).unwrap();
    let svc = table(&snap, "kube-proxy.services").unwrap();
    assert!(svc.records.is_empty());
    assert_eq!(
        svc.missing,
        vec![Input::node("primary-node", NodeInput::Iptables)]
    );
    let routes = table(&snap, "flannel.routes").unwrap();
    assert!(routes.records.is_empty());
    assert_eq!(
        routes.missing,
        vec![Input::node("primary-node", NodeInput::Routes)]
    );
    // A troubleshoot.sh bundle has no node tables: the unknown says so, and
    // what kdiag's collector would have written.
    assert_eq!(snap.layout, kdiag_bundle::Layout::Troubleshoot);
    let shown = snap.path_of(&routes.missing[0]);
    assert!(
        shown.starts_with("node primary-node: ip-route.txt (not in troubleshoot.sh"),
        "{shown}"
    );
    assert_eq!(table(&snap, "flannel.vxlan").unwrap().missing.len(), 2);
}
