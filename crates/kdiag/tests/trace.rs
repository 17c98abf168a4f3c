//! `kdiag trace` end to end: a packet through the sample bundles, hop by
//! hop, with the exit code of its verdict.
#![allow(clippy::unwrap_used)] // test setup panics on failure

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn kdiag(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kdiag"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn trace_json(bundle: &str, from: &str, to: &str) -> (i32, Value) {
    let (code, out, err) = kdiag(&[
        "trace", bundle, "--from", from, "--to", to, "--format", "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    assert_eq!(v["format"], "kdiag-trace/v1");
    (code, v)
}

fn files(hops: &Value) -> Vec<String> {
    hops.as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["evidence"].as_array().unwrap().clone())
        .map(|e| {
            format!(
                "{}:{} {}",
                e["file"].as_str().unwrap(),
                e["line"],
                e["text"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn the_seed_drops_dns_at_kube_proxy() {
    let (code, t) = trace_json(
        "sample-bundles/seed-incident",
        "node/gpu-worker-1",
        "10.233.0.3:53/udp",
    );
    assert_eq!(code, 20, "{t:#}");
    assert_eq!(t["verdict"], "dropped");
    let drop = &t["drop"];
    assert_eq!(drop["node"], "gpu-worker-1");
    assert_eq!(drop["step"], "kube-proxy");
    assert_eq!(drop["verdict"], "drop");
    assert!(
        drop["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["file"] == "nodes/gpu-worker-1/iptables-save.txt"),
        "{drop:#}"
    );
    assert!(drop["fix"].as_str().unwrap().contains("kube-proxy"));
    let (code, text, _) = kdiag(&[
        "trace",
        "sample-bundles/seed-incident",
        "--from",
        "node/gpu-worker-1",
        "--to",
        "10.233.0.3:53/udp",
    ]);
    assert_eq!(code, 20);
    insta::assert_snapshot!(text);
}

#[test]
fn a_healthy_worker_reaches_dns_through_a_dnat_and_the_peers_vxlan_entries() {
    let (code, t) = trace_json(
        "sample-bundles/healthy-kubeadm-flannel-iptables",
        "node/worker-1",
        "10.96.0.10:53/udp",
    );
    assert_eq!(code, 0, "{t:#}");
    assert_eq!(t["verdict"], "delivered");
    assert!(t["drop"].is_null());
    let branches = t["branches"].as_array().unwrap();
    assert_eq!(branches.len(), 2, "one branch per DNS endpoint");
    assert!(branches.iter().all(|b| b["verdict"] == "delivered"));
    // The endpoint on the other node: DNAT, then worker-1's VXLAN route,
    // neighbour and FDB entry for worker-2, then the pod.
    let remote = branches
        .iter()
        .find(|b| b["to"] == "10.244.2.4:53")
        .unwrap();
    let seen = files(&remote["hops"]);
    let has = |needle: &str| seen.iter().any(|l| l.contains(needle));
    assert!(
        has("nodes/worker-1/iptables-save.txt") && has("DNAT --to-destination 10.244.2.4:53"),
        "{seen:#?}"
    );
    assert!(has("KUBE-SEP-"), "{seen:#?}");
    assert!(
        has("nodes/worker-1/ip-route.txt:4 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink"),
        "{seen:#?}"
    );
    assert!(
        has("nodes/worker-1/ip-neigh.txt") && has("nodes/worker-1/bridge-fdb.txt"),
        "{seen:#?}"
    );
    assert!(has("nodes/worker-2/ip-route.txt"), "{seen:#?}");
    let last = remote["hops"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["node"].as_str(), last["step"].as_str()),
        (Some("worker-2"), Some("pod"))
    );
}

fn copy(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

#[test]
fn a_node_without_iptables_save_is_unknown_not_delivered() {
    let dir = tempfile::tempdir().unwrap();
    copy(
        &root().join("sample-bundles/healthy-kubeadm-flannel-iptables"),
        dir.path(),
    );
    std::fs::remove_file(dir.path().join("nodes/worker-1/iptables-save.txt")).unwrap();
    let bundle = dir.path().to_str().unwrap();
    let (code, t) = trace_json(bundle, "node/worker-1", "10.96.0.10:53/udp");
    assert_eq!(code, 21, "{t:#}");
    assert_eq!(t["verdict"], "unknown");
    let nat = t["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["step"] == "nat")
        .unwrap()
        .clone();
    assert_eq!(nat["verdict"], "unknown");
    assert!(
        nat["detail"]
            .as_str()
            .unwrap()
            .contains("nodes/worker-1/iptables-save.txt"),
        "{nat:#}"
    );
    // To a pod address the rest of the path is still followed, and the
    // filter hops that cannot be read say so.
    let (code, t) = trace_json(bundle, "node/worker-1", "10.244.2.4:53/udp");
    assert_eq!(code, 21, "{t:#}");
    assert!(
        t["hops"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["step"] == "pod" && h["verdict"] == "pass")
    );
}

#[test]
fn fault_samples_drop_where_the_fault_is() {
    let cases = [
        // (bundle, from, to, node, step, evidence that must be cited)
        (
            "fault-vxlan-blocked",
            "node/cp-1",
            "10.244.1.3:53/udp",
            "worker-1",
            "filter INPUT",
            "8472",
        ),
        (
            "fault-ip-forward-off",
            "node/cp-1",
            "10.244.2.4:53/udp",
            "worker-2",
            "forwarding",
            "net.ipv4.ip_forward = 0",
        ),
        (
            "fault-ipvs-dns-missing",
            "node/worker-2",
            "10.96.0.10:53/udp",
            "worker-2",
            "ipvs",
            "ipvsadm",
        ),
        (
            "fault-host-gw-route-missing",
            "node/worker-1",
            "10.244.0.5:80",
            "worker-1",
            "route",
            "default via",
        ),
    ];
    for (bundle, from, to, node, step, cited) in cases {
        let (code, t) = trace_json(&format!("sample-bundles/{bundle}"), from, to);
        assert_eq!(code, 20, "{bundle}: {t:#}");
        let drop = &t["drop"];
        assert_eq!(
            (drop["node"].as_str(), drop["step"].as_str()),
            (Some(node), Some(step)),
            "{bundle}: {drop:#}"
        );
        let seen = files(&Value::Array(vec![drop.clone()]));
        assert!(
            seen.iter().any(|l| l.contains(cited)),
            "{bundle}: {seen:#?}"
        );
        assert!(
            drop["fix"].is_string(),
            "{bundle}: a drop says how to fix it"
        );
    }
}

#[test]
fn services_and_pods_as_endpoints_and_bad_endpoints() {
    let (code, t) = trace_json(
        "sample-bundles/healthy-kubeadm-flannel-iptables",
        "host/cp-1",
        "service/kube-system/kube-dns:dns-tcp",
    );
    assert_eq!(code, 0, "{t:#}");
    assert!(
        t["hops"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["step"] == "nat OUTPUT")
    );
    let (code, _) = trace_json(
        "sample-bundles/healthy-kubeadm-flannel-iptables",
        "node/worker-2",
        "pod/kube-system/coredns-7db6d8ff4d-4kq9m",
    );
    assert_eq!(code, 0);
    let (code, _, err) = kdiag(&[
        "trace",
        "sample-bundles/seed-incident",
        "--from",
        "worker-1",
        "--to",
        "10.0.0.1",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("node/NAME"), "{err}");
    let (code, _, err) = kdiag(&[
        "trace",
        "sample-bundles/seed-incident",
        "--from",
        "node/x",
        "--to",
        "10.0.0.1:99999",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("IP[:PORT"), "{err}");
    let (code, t) = trace_json(
        "sample-bundles/seed-incident",
        "node/no-such-node",
        "10.233.0.3:53/udp",
    );
    assert_eq!(code, 21);
    assert!(
        t["hops"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("no node no-such-node")
    );
}

#[test]
fn pods_of_one_bridge_reach_each_other_without_forwarding() {
    // worker-1 forwards nothing: its pods still reach the CoreDNS pod on
    // their own bridge (bridged, not routed), but not the one on worker-2,
    // nor the Service (DNATed packets are routed).
    let bundle = "sample-bundles/fault-ip-forward-off-dns";
    let (code, t) = trace_json(bundle, "node/worker-1", "10.244.1.3:53/udp");
    assert_eq!(code, 0, "{t:#}");
    assert!(
        t["hops"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["step"] == "bridge")
    );
    let (code, t) = trace_json(bundle, "node/worker-1", "10.244.2.4:53/udp");
    assert_eq!(code, 20, "{t:#}");
    assert_eq!(t["drop"]["step"], "forwarding");
    let (code, t) = trace_json(bundle, "node/worker-1", "10.96.0.10:53/udp");
    assert_eq!(code, 20, "{t:#}");
    let branches = t["branches"].as_array().unwrap();
    assert!(branches.iter().all(|b| b["verdict"] == "dropped"), "{t:#}");
}

#[test]
fn forwarding_off_on_the_device_the_packet_came_in_by_drops_it() {
    let dir = tempfile::tempdir().unwrap();
    copy(
        &root().join("sample-bundles/healthy-kubeadm-flannel-iptables"),
        dir.path(),
    );
    let sysctl = dir.path().join("nodes/worker-1/sysctl.txt");
    let text = std::fs::read_to_string(&sysctl).unwrap();
    assert!(text.contains("net.ipv4.conf.cni0.forwarding = 1"));
    std::fs::write(
        &sysctl,
        text.replace(
            "net.ipv4.conf.cni0.forwarding = 1",
            "net.ipv4.conf.cni0.forwarding = 0",
        ),
    )
    .unwrap();
    let (code, t) = trace_json(
        dir.path().to_str().unwrap(),
        "node/worker-1",
        "10.244.2.4:53/udp",
    );
    assert_eq!(code, 20, "{t:#}");
    assert_eq!(t["drop"]["step"], "forwarding");
    assert!(
        t["drop"]["detail"]
            .as_str()
            .unwrap()
            .contains("net.ipv4.conf.cni0.forwarding = 0"),
        "{t:#}"
    );
}

/// The drops-only trace `analyze` runs for every pair of nodes says what the
/// full trace says: the same verdict, the same dropping hops, and the same
/// dropped branches, on every sample bundle, for every node to every other
/// node's pods and to the DNS Service.
#[test]
fn drops_only_traces_agree_with_full_traces() {
    use kdiag_model::inventory::NetworkInventory;
    use kdiag_model::trace::{From, Proto, To, Tracer, Verdict};
    let mut compared = 0;
    for entry in std::fs::read_dir(root().join("sample-bundles")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.file_name().is_some_and(|n| n == "tools") {
            continue;
        }
        let snap = kdiag_model::Snapshot::load(
            &dir,
            &Default::default(),
            &kdiag_model::LogPatterns::none(),
        )
        .unwrap();
        let inv = NetworkInventory::cached(&snap);
        let tracer = Tracer::new(&snap, inv);
        let mut targets: Vec<To> = inv
            .nodes
            .iter()
            .flat_map(|n| n.pod_cidrs.iter())
            .filter_map(|c| c.hosts().next())
            .map(|ip| To::Addr(ip, None, Proto::Tcp))
            .collect();
        targets.extend(inv.pod_ips.iter().map(|p| To::Addr(p.ip, None, Proto::Tcp)));
        if let Some(ip) = inv.dns_service.as_ref().and_then(|d| d.cluster_ip) {
            targets.push(To::Addr(ip, Some(53), Proto::Udp));
            targets.push(To::Addr(ip, Some(53), Proto::Tcp));
        }
        for n in &inv.nodes {
            for from in [From::Node(n.name.clone()), From::Host(n.name.clone())] {
                for to in &targets {
                    let full = tracer.trace(&from, to);
                    let quick = tracer.trace_drops(&from, to);
                    let drops = |hops: &[kdiag_model::trace::Hop]| {
                        hops.iter()
                            .filter(|h| h.verdict == Verdict::Drop)
                            .cloned()
                            .collect::<Vec<_>>()
                    };
                    let what = format!("{}: {from:?} → {to:?}", dir.display());
                    assert_eq!(full.verdict, quick.verdict, "{what}");
                    assert_eq!(drops(&full.hops), quick.hops, "{what}");
                    assert_eq!(full.drop, quick.drop, "{what}");
                    assert_eq!(full.branches.len(), quick.branches.len(), "{what}");
                    for (f, q) in full.branches.iter().zip(&quick.branches) {
                        assert_eq!(f.verdict, q.verdict, "{what}");
                        assert_eq!(drops(&f.hops), q.hops, "{what}");
                        assert_eq!(f.drop, q.drop, "{what}");
                    }
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 1000, "only {compared} flows compared");
}
