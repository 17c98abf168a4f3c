//! `kdiag analyze` end to end: the seed incident's three cause-and-effect
//! chains, exit codes, and no alarm on the real (healthy) bundles.
#![allow(clippy::unwrap_used)] // test setup panics on failure

use serde_json::Value;
use std::path::PathBuf;
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

fn seed_json() -> Value {
    let (code, out, err) = kdiag(&[
        "analyze",
        "--format",
        "json",
        "sample-bundles/seed-incident",
    ]);
    assert_eq!(code, 11, "critical findings exit 11: {err}");
    serde_json::from_str(&out).unwrap()
}

fn finding<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap()
}

/// Every finding reachable from a root through `causes`.
fn under<'a>(r: &'a Value, root: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    let mut seen = std::collections::HashSet::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        let f = finding(r, &id);
        out.push(f);
        stack.extend(
            f["causes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_owned()),
        );
    }
    out
}

#[test]
fn seed_incident_names_exactly_its_three_root_causes() {
    let r = seed_json();
    assert_eq!(r["format"], "kdiag-report/v1");
    let roots: Vec<(String, Value)> = r["root_causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| {
            let f = finding(&r, id.as_str().unwrap());
            (
                f["class"].as_str().unwrap().to_owned(),
                f["subject"].clone(),
            )
        })
        .collect();
    assert_eq!(roots.len(), 3, "{roots:?}");
    assert_eq!(
        roots[0],
        (
            "rbac.clusterrole-missing".into(),
            serde_json::json!({"kind": "ClusterRole", "name": "system:node-proxier"})
        )
    );
    assert_eq!(
        roots[1],
        (
            "rbac.clusterrole-missing".into(),
            serde_json::json!({"kind": "ClusterRole", "name": "flannel"})
        )
    );
    assert_eq!(
        roots[2],
        (
            "config.dual-pod-cidr".into(),
            serde_json::json!({"cidr": "10.244.0.0/16"})
        )
    );
    for f in r["findings"].as_array().unwrap() {
        assert!(
            f["severity"] == "info"
                || f["root"] == true
                || !f["caused_by"].as_array().unwrap().is_empty(),
            "every warning and critical finding hangs under a root cause: {f}"
        );
        assert!(
            !f["evidence"].as_array().unwrap().is_empty(),
            "every finding has evidence: {}",
            f["id"]
        );
        for e in f["evidence"].as_array().unwrap() {
            assert!(
                e["file"].as_str().is_some_and(|p| !p.is_empty())
                    && e["line"].as_u64().is_some_and(|l| l > 0)
                    && e["text"].is_string(),
                "{e}"
            );
        }
    }
    let ids: Vec<&str> = r["root_causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    // kube-proxy chain: role missing -> kube-proxy denied -> DNS Service not programmed -> DNS unreachable.
    let chain = under(&r, ids[0]);
    let class_of = |v: &Vec<&Value>, c: &str| {
        v.iter()
            .filter(|f| f["class"] == c)
            .map(|f| f["subject"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        class_of(&chain, "rbac.permission-denied"),
        vec![serde_json::json!({"serviceaccount": "kube-system/kube-proxy"})]
    );
    assert!(class_of(&chain, "service.not-programmed").contains(&serde_json::json!({"kind": "Service", "namespace": "kube-system", "name": "coredns", "ip": "10.233.0.3"})));
    assert_eq!(class_of(&chain, "dns.unreachable").len(), 1);
    // flannel chain: role missing -> flannel denied -> routes and VXLAN peers missing.
    let chain = under(&r, ids[1]);
    assert_eq!(
        class_of(&chain, "rbac.permission-denied"),
        vec![serde_json::json!({"serviceaccount": "kube-system/flannel"})]
    );
    assert!(
        class_of(&chain, "podnet.route-missing")
            .contains(&serde_json::json!({"node": "gpu-worker-2", "cidr": "10.233.65.0/24"}))
    );
    assert!(!class_of(&chain, "podnet.vxlan-peer-missing").is_empty());
    // dual pod CIDR: routes to the old network missing, cni0 stale.
    let chain = under(&r, ids[2]);
    assert!(
        class_of(&chain, "podnet.route-missing")
            .contains(&serde_json::json!({"node": "gpu-worker-1", "cidr": "10.244.0.0/24"}))
    );
    assert_eq!(
        class_of(&chain, "podnet.stale-cidr"),
        vec![serde_json::json!({"node": "gpu-worker-1", "cidr": "10.244.3.0/24"})]
    );
    // The log lines strengthen the RBAC evidence and date the cascade.
    let denied = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["subject"]["serviceaccount"] == "kube-system/kube-proxy")
        .unwrap();
    assert!(
        denied["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["file"].as_str().unwrap().starts_with("logs/"))
    );
    assert_eq!(denied["first_seen"], "2026-11-27T08:02:00.118004Z");
    // The collector's failures are reported, at info level.
    let info: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "info")
        .map(|f| f["subject"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(info, vec!["getenforce", "ipvsadm"]);
    // getenforce is not installed on these Ubuntu nodes: SELinux is unknown, not "not enforcing".
    let unknown: Vec<&str> = r["unknown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["rule"].as_str().unwrap())
        .collect();
    assert_eq!(unknown, vec!["node.selinux-enforcing"]);
}

#[test]
fn seed_incident_reports_snapshot() {
    let r = seed_json();
    insta::assert_json_snapshot!("seed_incident_analyze_json", r);
    let (code, text, _) = kdiag(&["analyze", "sample-bundles/seed-incident"]);
    assert_eq!(code, 11);
    insta::assert_snapshot!("seed_incident_analyze_text", text);
}

#[test]
fn fail_on_sets_the_exit_code() {
    assert_eq!(
        kdiag(&[
            "analyze",
            "--fail-on",
            "never",
            "sample-bundles/seed-incident"
        ])
        .0,
        0
    );
    assert_eq!(
        kdiag(&[
            "analyze",
            "--fail-on",
            "critical",
            "sample-bundles/seed-incident"
        ])
        .0,
        11
    );
    // Only the warnings: the stale cni0 and the non-DNS Services.
    assert_eq!(
        kdiag(&[
            "analyze",
            "--only",
            "podnet.stale-cidr",
            "sample-bundles/seed-incident"
        ])
        .0,
        10
    );
    assert_eq!(
        kdiag(&[
            "analyze",
            "--only",
            "podnet.stale-cidr",
            "--fail-on",
            "critical",
            "sample-bundles/seed-incident"
        ])
        .0,
        0
    );
    assert_eq!(kdiag(&["analyze", "does-not-exist.tar.gz"]).0, 3);
}

#[test]
fn real_bundles_raise_no_alarm_and_say_what_they_could_not_check() {
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
        let (code, out, err) = kdiag(&["analyze", "--format", "json", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{b}: {err}");
        let r: Value = serde_json::from_str(&out).unwrap();
        let alarms: Vec<&Value> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] != "info")
            .collect();
        assert!(alarms.is_empty(), "{b}: {alarms:?}");
        assert!(
            !r["unknown"].as_array().unwrap().is_empty(),
            "{b}: missing node data must show as unknown"
        );
        // Unknowns name what this layout would hold, never kdiag's own paths.
        let kdiag_paths: Vec<&str> = r["unknown"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|u| u["missing"].as_array().unwrap())
            .filter_map(Value::as_str)
            .filter(|m| m.starts_with("cluster/") || m.starts_with("nodes/"))
            .collect();
        assert!(kdiag_paths.is_empty(), "{b}: {kdiag_paths:?}");
    }
    // k3s runs kube-proxy inside its binary: no kube-proxy pods is not a fault,
    // and its bootstrap binding to the user system:kube-proxy is evaluated.
    let path = root().join("../shared/real-data/bundles/troubleshoot-k3s-v1.31.2-baseline.tar.gz");
    let (_, out, _) = kdiag(&["analyze", "--format", "json", path.to_str().unwrap()]);
    let r: Value = serde_json::from_str(&out).unwrap();
    assert!(
        !r["unknown"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["rule"] == "rbac.component-permission-denied")
    );
}

#[test]
fn rules_commands() {
    let (code, out, _) = kdiag(&["rules", "list"]);
    assert_eq!(code, 0);
    assert!(
        out.lines()
            .any(|l| l.starts_with("rbac.node-proxier-missing"))
    );
    let (code, out, _) = kdiag(&["rules", "explain", "service.not-programmed"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Caused by:")
            && out.contains("class rbac.permission-denied, joined on component")
    );
    assert!(out.contains("Can cause:") && out.contains("dns.unreachable"));
    let (code, out, _) = kdiag(&["rules", "lint"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(kdiag(&["rules", "explain", "no.such.rule"]).0, 1);
}

#[test]
fn a_rule_that_fails_at_run_time_is_in_the_json_and_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    // Valid to the lint, but `int()` fails on values such as "32768\t60999".
    std::fs::write(
        dir.path().join("int.yaml"),
        "id: demo.int\ntitle: t\nclass: node.ip-forward-disabled\nseverity: warning\ndescription: d\nmatch:\n  fact: node.sysctl\nwhere: int(r.value) > 1000000\nsubject:\n  node: r.node\nmessage: m\nremediation:\n  text: t\n",
    )
    .unwrap();
    let rules = dir.path().to_str().unwrap();
    let (code, out, err) = kdiag(&[
        "analyze",
        "--no-builtin",
        "--rules",
        rules,
        "--format",
        "json",
        "sample-bundles/seed-incident",
    ]);
    assert_eq!(code, 4, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    let errors = r["rule_errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().unwrap().starts_with("demo.int: where:")),
        "{errors:?}"
    );
    assert!(err.contains("rule failed: demo.int"), "{err}");
}

#[test]
fn tables_are_listed_with_fields_and_examples_and_their_page_is_in_sync() {
    let (code, out, err) = kdiag(&["rules", "facts", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["format"], "kdiag-tables/v1");
    let tables = r["tables"].as_array().unwrap();
    let table = |name: &str| tables.iter().find(|t| t["name"] == name).unwrap();
    for name in [
        "node.routes",
        "node.neighbors",
        "node.fdb",
        "node.links",
        "node.addresses",
        "node.sysctl",
        "node.modules",
        "node.iptables",
        "node.ipvs",
        "node.resolv-conf",
        "node.kubelet-config",
        "flannel.routes",
        "kube-proxy.services",
    ] {
        let t = table(name);
        assert!(
            !t["fields"].as_array().unwrap().is_empty(),
            "{name} has no fields"
        );
    }
    // Every table has typed fields, each described.
    for t in tables {
        for f in t["fields"].as_array().unwrap() {
            assert!(
                !f["description"].as_str().unwrap().is_empty(),
                "{}.{} has no description",
                t["name"],
                f["name"]
            );
        }
        assert!(
            !t["fields"].as_array().unwrap().is_empty(),
            "{} has no fields",
            t["name"]
        );
    }
    let ipt = table("node.iptables");
    assert_eq!(ipt["example"]["node"], "gpu-worker-1");
    let dport = ipt["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "dport")
        .unwrap();
    assert_eq!(dport["type"], "integer | null");
    let (_, page, _) = kdiag(&["rules", "facts", "--format", "markdown"]);
    let committed = std::fs::read_to_string(root().join("docs/tables.md")).unwrap();
    assert!(
        page == committed,
        "docs/tables.md is stale: run `cargo run -- rules facts --format markdown > docs/tables.md`"
    );
}

#[test]
fn one_unreadable_clusterrole_is_one_diagnostic_and_changes_no_root_cause() {
    let dir = tempfile::tempdir().unwrap();
    // Copy the seed, then give cluster-admin a duplicate key.
    let copy = copy_seed(dir.path());
    let roles = copy.join("cluster/clusterroles.yaml");
    let text = std::fs::read_to_string(&roles).unwrap();
    let broken = text.replacen(
        "    name: cluster-admin\n",
        "    name: cluster-admin\n    uid: one\n    uid: two\n",
        1,
    );
    assert_ne!(text, broken);
    std::fs::write(&roles, broken).unwrap();
    let roots = |r: &Value| -> Vec<(String, Value)> {
        r["root_causes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| {
                let f = finding(r, id.as_str().unwrap());
                (
                    f["class"].as_str().unwrap().to_owned(),
                    f["subject"].clone(),
                )
            })
            .collect()
    };
    let clean = seed_json();
    let (_, out, err) = kdiag(&["analyze", "--format", "json", copy.to_str().unwrap()]);
    let r: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert_eq!(roots(&r), roots(&clean));
    let (_, inspect, _) = kdiag(&["inspect", "--format", "json", copy.to_str().unwrap()]);
    let inspect: Value = serde_json::from_str(&inspect).unwrap();
    let diags: Vec<&Value> = inspect["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["file"] == "cluster/clusterroles.yaml")
        .collect();
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert!(
        diags[0]["message"]
            .as_str()
            .unwrap()
            .contains("ClusterRole cluster-admin"),
        "{diags:#?}"
    );
}

/// A copy of the seed sample under `dir`, to break on purpose.
fn copy_seed(dir: &std::path::Path) -> PathBuf {
    let seed = root().join("sample-bundles/seed-incident");
    let copy = dir.join("seed");
    for entry in walk(&seed) {
        let to = copy.join(entry.strip_prefix(&seed).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &to).unwrap();
    }
    copy
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_clusterroles_file_that_cannot_be_read_makes_rbac_checks_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let copy = copy_seed(dir.path());
    std::fs::write(copy.join("cluster/clusterroles.yaml"), "items: [unclosed\n").unwrap();
    let (_, out, err) = kdiag(&["analyze", "--format", "json", copy.to_str().unwrap()]);
    let r: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let missing_roles: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["class"] == "rbac.clusterrole-missing")
        .collect();
    assert!(missing_roles.is_empty(), "{missing_roles:#?}");
    let unknown: Vec<&str> = r["unknown"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| {
            u["missing"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m == "cluster/clusterroles.yaml")
        })
        .filter_map(|u| u["rule"].as_str())
        .collect();
    assert!(
        unknown.contains(&"rbac.node-proxier-missing"),
        "{unknown:?}"
    );
}

#[test]
fn why_an_input_is_missing_is_in_the_json_as_in_the_text() {
    let r = seed_json();
    let selinux = r["unknown"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["rule"] == "node.selinux-enforcing")
        .unwrap();
    let why = &selinux["why"][0];
    assert_eq!(why["status"], "collection-failed");
    let reason = why["reason"].as_str().unwrap();
    assert!(reason.starts_with("`getenforce` exited 127"), "{reason}");
    let (_, text, _) = kdiag(&["analyze", "sample-bundles/seed-incident"]);
    assert!(
        text.contains(&format!(
            "collection failed on {} of them: {reason}",
            why["inputs"]
        )),
        "{text}"
    );
}

/// The root causes of one analysis: rule and subject, without evidence.
fn causes(r: &Value) -> Vec<String> {
    let mut out: Vec<String> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["root"] == true)
        .map(|f| format!("{} {}", f["rule"], f["subject"]))
        .collect();
    out.sort();
    out
}

/// kubectl YAML under names of the admin's choosing, in no known layout,
/// is read by content and explains the same as the seed bundle's
/// `cluster/` files under their usual names.
#[test]
fn kubectl_yaml_under_any_names_gives_the_same_root_causes() {
    let seed = root().join("sample-bundles/seed-incident/cluster");
    let usual = tempfile::tempdir().unwrap();
    let odd = tempfile::tempdir().unwrap();
    std::fs::create_dir(usual.path().join("cluster")).unwrap();
    std::fs::create_dir_all(odd.path().join("dump/rbac")).unwrap();
    let renamed = [
        ("clusterrolebindings.yaml", "rbac/crb.yaml"),
        ("clusterroles.yaml", "rbac/roles-cluster.yml"),
        ("configmaps.yaml", "cm.yaml"),
        ("daemonsets.yaml", "ds-all-namespaces.yaml"),
        ("deployments.yaml", "deploy.yaml"),
        ("endpoints.yaml", "ep.yaml"),
        ("endpointslices.yaml", "slices.yaml"),
        ("nodes.yaml", "kubectl-get-nodes.txt"),
        ("pods.yaml", "all-pods.yaml"),
        ("serviceaccounts.yaml", "sa.yaml"),
        ("services.yaml", "svc.json.yaml"),
    ];
    for (from, to) in renamed {
        std::fs::copy(seed.join(from), usual.path().join("cluster").join(from)).unwrap();
        std::fs::copy(seed.join(from), odd.path().join("dump").join(to)).unwrap();
    }
    let run = |dir: &std::path::Path| {
        let (code, out, err) = kdiag(&["analyze", "--format", "json", dir.to_str().unwrap()]);
        assert!(code == 10 || code == 11, "{code}: {err}");
        serde_json::from_str::<Value>(&out).unwrap()
    };
    let expected = causes(&run(usual.path()));
    assert!(
        expected
            .iter()
            .any(|c| c.contains("rbac.node-proxier-missing")),
        "{expected:?}"
    );
    assert_eq!(causes(&run(odd.path())), expected);
    let (code, out, _) = kdiag(&["inspect", "--format", "json", odd.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["sources"][0]["layout"], "kubectl");
}

/// An archive of files kdiag does not read is an error with its own exit
/// code and a message that says what was found and what kdiag reads.
#[test]
fn an_archive_of_unrelated_files_exits_5() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().join("holiday");
    std::fs::create_dir_all(top.join("photos")).unwrap();
    std::fs::write(top.join("notes.txt"), "remember the sunscreen\n").unwrap();
    std::fs::write(top.join("photos/list.json"), "{\"photos\": [1, 2]}\n").unwrap();
    std::fs::write(top.join("config.yaml"), "theme: dark\n").unwrap();
    let tarball = dir.path().join("holiday.tar.gz");
    let status = Command::new("tar")
        .args([
            "czf",
            tarball.to_str().unwrap(),
            "-C",
            dir.path().to_str().unwrap(),
            "holiday",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let (code, out, err) = kdiag(&["analyze", tarball.to_str().unwrap()]);
    assert_eq!(code, 5, "{out}{err}");
    assert!(out.is_empty(), "no report for nothing read: {out}");
    assert!(
        err.contains("nothing in") && err.contains("3 files under holiday/"),
        "{err}"
    );
    assert!(
        err.contains("sonobuoy results") && err.contains("must-gather"),
        "{err}"
    );
    // Files a layout lists but kdiag does not read (sonobuoy's plugin
    // results and run metadata) are no input either.
    let plugins = dir.path().join("results");
    std::fs::create_dir_all(plugins.join("plugins/e2e/results/global")).unwrap();
    std::fs::create_dir_all(plugins.join("meta")).unwrap();
    std::fs::write(
        plugins.join("plugins/e2e/results/global/e2e.log"),
        "Ran 5 of 5 Specs\n",
    )
    .unwrap();
    std::fs::write(plugins.join("meta/run.log"), "{\"msg\":\"done\"}\n").unwrap();
    let (code, _, err) = kdiag(&["analyze", plugins.to_str().unwrap()]);
    assert_eq!(code, 5, "{err}");
    // inspect still lists what each file was taken for, then exits 5.
    let (code, out, _) = kdiag(&["inspect", tarball.to_str().unwrap()]);
    assert_eq!(code, 5);
    assert!(
        out.contains("holiday/notes.txt") && out.contains("not read"),
        "{out}"
    );
}
