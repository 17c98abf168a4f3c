//! The real archives of `../shared/real-data/bundles2/`, given as they are
//! (the must-gather as `.tar.xz`): each is read in its own layout, with its
//! nodes, its DNS Service and its CNI as they really are, and the healthy
//! ones raise nothing at warning or above. Each test is skipped, saying why,
//! where `../shared` is absent (a clone of this repository alone).
#![allow(clippy::unwrap_used)] // test helpers panic on setup failure

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn archive(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/real-data/bundles2")
        .join(name);
    if p.is_file() {
        Some(p)
    } else {
        eprintln!(
            "skipped: {} is absent (a clone without ../shared)",
            p.display()
        );
        None
    }
}

fn kdiag(args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_kdiag"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: {e}\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), value)
}

/// What `inspect` must say of one archive.
struct Expect {
    layout: &'static str,
    nodes: &'static [&'static str],
    dns: Option<(&'static str, &'static str, &'static str)>,
    cni: &'static [&'static str],
    /// Healthy: nothing at warning or above (else: nothing critical).
    healthy: bool,
}

fn check(name: &str, want: &Expect) {
    let Some(path) = archive(name) else { return };
    let path = path.to_str().unwrap();
    let (code, r) = kdiag(&["inspect", "--format", "json", path]);
    assert_eq!(code, 0, "{name}: inspect exit code");
    assert_eq!(r["sources"][0]["layout"], want.layout, "{name}: layout");
    let mut nodes: Vec<&str> = r["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    nodes.sort_unstable();
    assert_eq!(nodes, want.nodes, "{name}: nodes");
    match want.dns {
        Some((ns, svc, server)) => {
            let d = &r["dns_service"];
            assert_eq!(
                (
                    d["namespace"].as_str(),
                    d["name"].as_str(),
                    d["server"].as_str()
                ),
                (Some(ns), Some(svc), Some(server)),
                "{name}: DNS Service"
            );
        }
        None => assert!(r["dns_service"].is_null(), "{name}: {}", r["dns_service"]),
    }
    let cni: Vec<&str> = r["components"]["cni"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(cni, want.cni, "{name}: CNI");

    let (code, a) = kdiag(&["analyze", "--format", "json", "--fail-on", "info", path]);
    let findings = a["findings"].as_array().unwrap();
    let worst: Vec<String> = findings
        .iter()
        .filter(|f| f["severity"] == "critical" || (want.healthy && f["severity"] == "warning"))
        .map(|f| format!("{} {}: {}", f["severity"], f["rule"], f["message"]))
        .collect();
    assert!(worst.is_empty(), "{name}: {worst:#?}");
    assert!(matches!(code, 0 | 10), "{name}: analyze exit code {code}");
}

#[test]
fn troubleshoot_2021_bare_arrays() {
    check(
        "troubleshoot-k3s-v1.20.2-kots-2021-03-24.tar.gz",
        &Expect {
            layout: "troubleshoot",
            nodes: &["repldev-salah-new"],
            dns: Some(("kube-system", "kube-dns", "coredns")),
            cni: &["flannel"],
            healthy: true,
        },
    );
}

#[test]
fn sonobuoy_kind_v1_21() {
    check(
        "sonobuoy-kind-v1.21.1-results-quick-no-failures.tar.gz",
        &Expect {
            layout: "sonobuoy",
            nodes: &["kind-control-plane"],
            dns: Some(("kube-system", "kube-dns", "coredns")),
            cni: &["kindnet"],
            healthy: true,
        },
    );
}

#[test]
fn sonobuoy_0_10_v1_8_calico() {
    check(
        "sonobuoy-aws-v1.8.4-calico-results-0.10.tar.gz",
        &Expect {
            layout: "sonobuoy",
            nodes: &[
                "ip-10-0-26-239.us-west-2.compute.internal",
                "ip-10-0-9-16.us-west-2.compute.internal",
                "ip-10-0-9-206.us-west-2.compute.internal",
            ],
            // The old addon, not CoreDNS.
            dns: Some(("kube-system", "kube-dns", "kube-dns")),
            cni: &["calico"],
            healthy: true,
        },
    );
}

#[test]
fn must_gather_openshift_sdn_as_tar_xz() {
    check(
        "must-gather-ocp-4.9-sdn-metal-ci.tar.xz",
        &Expect {
            layout: "must-gather",
            nodes: &[
                "master-0.ci-ln-xj8t7ct-86010.origin-ci-int-aws.dev.rhcloud.com",
                "master-1.ci-ln-xj8t7ct-86010.origin-ci-int-aws.dev.rhcloud.com",
                "master-2.ci-ln-xj8t7ct-86010.origin-ci-int-aws.dev.rhcloud.com",
                "worker-0.ci-ln-xj8t7ct-86010.origin-ci-int-aws.dev.rhcloud.com",
                "worker-1.ci-ln-xj8t7ct-86010.origin-ci-int-aws.dev.rhcloud.com",
                "worker-2.ci-ln-xj8t7ct-86010.origin-ci-int-aws.dev.rhcloud.com",
            ],
            dns: Some(("openshift-dns", "dns-default", "openshift-dns")),
            cni: &["openshift-sdn"],
            healthy: true,
        },
    );
}

#[test]
fn cluster_info_dump_aks() {
    check(
        "cluster-info-dump-aks-2020.tar.gz",
        &Expect {
            layout: "cluster-info-dump",
            nodes: &["aks-nodepool1-28869405-vmss000000"],
            dns: Some(("kube-system", "kube-dns", "coredns")),
            cni: &["kubenet"],
            healthy: false,
        },
    );
}

#[test]
fn cluster_info_dump_minikube_internal_types() {
    check(
        "cluster-info-dump-minikube-v1.13.3-2019.tar.gz",
        &Expect {
            layout: "cluster-info-dump",
            nodes: &["minikube"],
            dns: Some(("kube-system", "kube-dns", "coredns")),
            cni: &["docker bridge (no CNI plugin)"],
            healthy: false,
        },
    );
}

#[test]
fn sosreport_is_one_host() {
    check(
        "sosreport-rhcos-master-2019.tar.gz",
        &Expect {
            layout: "sosreport",
            nodes: &["rhcos-master-2019"],
            dns: None,
            cni: &[],
            healthy: false,
        },
    );
}

/// The sosreport's node files, with the record counts of the real files
/// (`ip -s -s neigh` with ref/used/probes, `bridge fdb` with `dev dev`,
/// `sysctl -a` with a stderr line, `sestatus`, `nft list ruleset`).
#[test]
fn sosreport_node_files_parse_whole() {
    let Some(path) = archive("sosreport-rhcos-master-2019.tar.gz") else {
        return;
    };
    let (_, r) = kdiag(&["inspect", "--format", "json", path.to_str().unwrap()]);
    let files = r["files"].as_array().unwrap();
    let count = |suffix: &str| -> (u64, u64) {
        let f = files
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(suffix))
            .unwrap_or_else(|| panic!("{suffix} not in the listing"));
        (
            f["records"].as_u64().unwrap(),
            f["diagnostics"].as_u64().unwrap(),
        )
    };
    for (file, records) in [
        ("sos_commands/networking/ip_-s_-s_neigh_show", 5),
        ("sos_commands/networking/bridge_-s_-s_-d_-t_fdb_show", 4),
        ("sos_commands/networking/ip_route_show_table_all", 13),
        ("sos_commands/networking/ip_-s_-d_link", 2),
        ("sos_commands/networking/ip_-d_address", 2),
        ("sos_commands/networking/nft_list_ruleset", 7),
        ("sos_commands/kernel/sysctl_-a", 1002),
        ("sos_commands/kernel/lsmod", 81),
        ("sos_commands/selinux/sestatus", 1),
        ("etc/resolv.conf", 2),
    ] {
        assert_eq!(count(file), (records, 0), "{file}");
    }
    let diagnostics = r["diagnostics"].as_array().unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
}

/// kubectl 1.13's internal types and the API server's "could not fetch the
/// log" answer: the objects are read, and the logs are not taken for quiet
/// ones.
#[test]
fn cluster_info_dump_logs_that_were_not_fetched_are_unknown() {
    let Some(path) = archive("cluster-info-dump-aks-2020.tar.gz") else {
        return;
    };
    let (_, a) = kdiag(&["analyze", "--format", "json", path.to_str().unwrap()]);
    let unknown = a["unknown"].to_string();
    assert!(
        unknown.contains("holds the API server's error instead"),
        "{unknown}"
    );
}

/// CoreDNS 1.2.6 on minikube timing out on the kubernetes Service: the
/// symptom of the Service path is reported, not an RBAC fault.
#[test]
fn minikube_coredns_api_timeouts_are_a_service_path_symptom() {
    let Some(path) = archive("cluster-info-dump-minikube-v1.13.3-2019.tar.gz") else {
        return;
    };
    let (_, a) = kdiag(&["analyze", "--format", "json", path.to_str().unwrap()]);
    let findings = a["findings"].as_array().unwrap();
    let api: Vec<&Value> = findings
        .iter()
        .filter(|f| f["rule"] == "dns.coredns-api-unreachable")
        .collect();
    assert_eq!(api.len(), 2, "{findings:#?}");
    assert!(
        api[0]["message"]
            .as_str()
            .unwrap()
            .contains("10.96.0.1:443")
    );
    let storage = findings
        .iter()
        .find(|f| f["rule"] == "rbac.forbidden-in-logs")
        .unwrap();
    assert_eq!(
        storage["severity"], "info",
        "storage-provisioner is not a network component"
    );
}
