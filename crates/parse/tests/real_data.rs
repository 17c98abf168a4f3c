//! Every file of `../shared/real-data/` that holds a supported syntax parses
//! with the right record counts. Transcripts are split at their prompts;
//! prompts and `...` elisions must come back as diagnostics, never records.
#![allow(clippy::unwrap_used)] // test helpers panic on setup failure

use kdiag_parse::{flannel, iproute, iptables, ipvs, kube, log, probe, resolv, sysctl};
use std::path::PathBuf;

/// Whether `../shared/real-data` is here; a clone of this repository alone
/// has no `../shared`, and the tests over it say so and pass.
fn absent() -> bool {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/real-data");
    if dir.is_dir() {
        false
    } else {
        eprintln!(
            "skipped: {} is absent (a clone without ../shared)",
            dir.display()
        );
        true
    }
}

fn real(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/real-data")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Splits a transcript into (command, output) at its prompt lines.
fn sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some((_, cmd)) = line.split_once(":~# ") {
            out.push((cmd.to_owned(), String::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push_str(line);
            last.1.push('\n');
        }
    }
    out
}

fn section<'a>(s: &'a [(String, String)], cmd_start: &str) -> &'a str {
    &s.iter()
        .find(|(c, _)| c.starts_with(cmd_start))
        .unwrap_or_else(|| panic!("no section {cmd_start}"))
        .1
}

#[test]
fn kube_json_dumps_from_support_bundles() {
    if absent() {
        return;
    }
    for (file, kind, count) in [
        ("sb-k3d-v1244__cluster-resources__nodes.json", "Node", 1),
        (
            "sb-k3d-v1244__cluster-resources__pods__kube-system.json",
            "Pod",
            7,
        ),
        (
            "sb-k3d-v1244__cluster-resources__services__kube-system.json",
            "Service",
            3,
        ),
        (
            "sb-k3s131-baseline__cluster-resources__clusterrolebindings.json",
            "ClusterRoleBinding",
            57,
        ),
        (
            "sb-k3s131-baseline__cluster-resources__clusterroles.json",
            "ClusterRole",
            72,
        ),
        (
            "sb-k3s131-baseline__cluster-resources__configmaps__kube-system.json",
            "ConfigMap",
            8,
        ),
        (
            "sb-k3s131-baseline__cluster-resources__endpoints__kube-system.json",
            "Endpoints",
            3,
        ),
        (
            "sb-k3s131-baseline__cluster-resources__endpointslices__kube-system.json",
            "EndpointSlice",
            3,
        ),
        (
            "sb-k3s131-baseline__cluster-resources__nodes.json",
            "Node",
            1,
        ),
        (
            "sb-k3s131-baseline__cluster-resources__pods__kube-system.json",
            "Pod",
            7,
        ),
        ("sb-k3s131-baseline__events__kube-system.json", "Event", 85),
        ("sb-kurl-kubeadm-v1235-weave__nodes.json", "Node", 3),
        (
            "sb-kurl-kubeadm-v1235-weave__pods__kube-system.json",
            "Pod",
            15,
        ),
        ("sb-troubleshoot-analyzer-fixture__nodes.json", "Node", 7),
    ] {
        let p = kube::parse_json(&real(file));
        assert!(p.diagnostics.is_empty(), "{file}: {:?}", p.diagnostics);
        assert_eq!(p.records.len(), count, "{file}");
        assert!(p.records.iter().all(|o| o.kind == kind), "{file}");
        assert!(
            p.records.windows(2).all(|w| w[0].line < w[1].line),
            "{file}: lines must increase"
        );
    }
    let nodes = kube::parse_json(&real("sb-k3s131-baseline__cluster-resources__nodes.json"));
    let node: kube::types::Node = nodes.records[0].view().unwrap();
    assert_eq!(node.spec.pod_cidr.as_deref(), Some("10.42.0.0/24"));
    assert!(
        node.metadata
            .annotations
            .contains_key("flannel.alpha.coreos.com/backend-data")
    );
}

#[test]
fn kube_yaml_manifests() {
    if absent() {
        return;
    }
    for (file, expected) in [
        (
            "manifest__flannel__kube-flannel.yml",
            vec![
                "Namespace",
                "ClusterRole",
                "ClusterRoleBinding",
                "ServiceAccount",
                "ConfigMap",
                "DaemonSet",
            ],
        ),
        (
            "manifest__k8s-cluster-addons__kube-proxy-rbac.yaml",
            vec!["ServiceAccount", "ClusterRoleBinding"],
        ),
        (
            "manifest__k8s-bootstrappolicy__cluster-roles__system-node-proxier.yaml",
            vec!["ClusterRole"],
        ),
        (
            "manifest__flannel__kube-flannel-v0.18.1-kube-system-ns.yml",
            vec![
                "PodSecurityPolicy",
                "ClusterRole",
                "ClusterRoleBinding",
                "ServiceAccount",
                "ConfigMap",
                "DaemonSet",
            ],
        ),
    ] {
        let p = kube::parse_yaml(&real(file));
        assert!(p.diagnostics.is_empty(), "{file}: {:?}", p.diagnostics);
        let kinds: Vec<&str> = p.records.iter().map(|o| o.kind.as_str()).collect();
        assert_eq!(kinds, expected, "{file}");
    }
    let bindings = kube::parse_yaml(&real(
        "manifest__k8s-bootstrappolicy__cluster-role-bindings.yaml",
    ));
    assert!(bindings.diagnostics.is_empty());
    assert_eq!(bindings.records.len(), 10);
    assert_eq!(bindings.records[0].line, 3);
    // The CoreDNS manifest is a sed template: its placeholders are still valid YAML scalars.
    let coredns = kube::parse_yaml(&real("manifest__coredns-deployment__coredns.yaml.sed"));
    let kinds: Vec<&str> = coredns.records.iter().map(|o| o.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec![
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "ConfigMap",
            "Deployment",
            "Service"
        ]
    );
}

#[test]
fn templated_manifests_never_panic() {
    if absent() {
        return;
    }
    for file in [
        "manifest__flannel__chart-rbac.yaml.tpl",
        "manifest__kubespray__cni-flannel-rbac.yml.j2",
        "manifest__kubespray__cni-flannel.yml.j2",
        "manifest__kubespray__coredns-clusterrole.yml.j2",
    ] {
        let p = kube::parse_yaml(&real(file));
        // Whatever is plain YAML comes back; template syntax becomes diagnostics.
        assert!(p.records.len() + p.diagnostics.len() > 0, "{file}");
    }
}

#[test]
fn flannel_node_transcript() {
    if absent() {
        return;
    }
    let s = sections(&real(
        "flannel-vxlan-node-state__ip-d-addr-flannel.1_fdb_route_neigh__gravitational-workshop.txt",
    ));
    let links = iproute::parse_links(section(&s, "ip -d addr"));
    assert!(links.diagnostics.is_empty());
    let v = links.records[0].vxlan.as_ref().unwrap();
    assert_eq!(
        (v.id, v.dstport, v.learning, links.records[0].mtu),
        (1, Some(8472), false, Some(1410))
    );
    let fdb = iproute::parse_fdb(section(&s, "bridge fdb"));
    assert_eq!((fdb.records.len(), fdb.diagnostics.len()), (2, 0));
    same_lines(
        section(&s, "bridge fdb"),
        fdb.records.iter().map(|r| (r.line, r.text())),
    );
    let routes = iproute::parse_routes(section(&s, "ip route"));
    assert_eq!((routes.records.len(), routes.diagnostics.len()), (2, 0));
    assert!(routes.records.iter().all(|r| r.onlink()));
    same_lines(
        section(&s, "ip route"),
        routes.records.iter().map(|r| (r.line, r.text())),
    );
    let neigh = iproute::parse_neighbors(section(&s, "ip neigh"));
    assert_eq!((neigh.records.len(), neigh.diagnostics.len()), (2, 0));
    same_lines(
        section(&s, "ip neigh"),
        neigh.records.iter().map(|r| (r.line, r.text())),
    );
    // What flannel programs is printed in iproute2's plain form: no text is kept.
    assert!(routes.records.iter().all(|r| r.verbatim.is_none()));
    assert!(neigh.records.iter().all(|r| r.verbatim.is_none()));
    // Fed whole, the prompts are diagnostics and the records still come through.
    let whole = iproute::parse_routes(&real(
        "ip-route-and-ip-netconf__flannel-node__gravitational-workshop.txt",
    ));
    assert_eq!(whole.records.len(), 7);
    assert_eq!(whole.diagnostics[0].line, Some(1));
    let s = sections(&real(
        "ip-route-and-ip-netconf__flannel-node__gravitational-workshop.txt",
    ));
    let routes = iproute::parse_routes(section(&s, "ip route"));
    assert_eq!((routes.records.len(), routes.diagnostics.len()), (7, 0));
    same_lines(
        section(&s, "ip route"),
        routes.records.iter().map(|r| (r.line, r.text())),
    );
}

/// Each record's text is its line of the output, whether kept or printed
/// again from the record.
fn same_lines<'a>(output: &str, records: impl Iterator<Item = (u32, std::borrow::Cow<'a, str>)>) {
    let lines: Vec<&str> = output.lines().collect();
    for (line, text) in records {
        assert_eq!(text, lines[line as usize - 1], "line {line}");
    }
}

#[test]
fn kubespray_subnet_env_and_flannel_device() {
    if absent() {
        return;
    }
    let text = real("flannel-subnet.env-and-ip-a-flannel.1__kubespray-docs.txt");
    let env_part: String = text
        .lines()
        .skip_while(|l| !l.starts_with("cat "))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .map(|l| format!("{l}\n"))
        .collect();
    let env = flannel::parse_subnet_env(&env_part);
    assert!(env.diagnostics.is_empty());
    assert_eq!(
        env.records[0].network.unwrap().1.to_string(),
        "10.233.0.0/18"
    );
    let link_part: String = text
        .lines()
        .skip_while(|l| !l.starts_with("ip a show"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .map(|l| format!("{l}\n"))
        .collect();
    let links = iproute::parse_links(&link_part);
    assert_eq!((links.records.len(), links.records[0].addrs.len()), (1, 2));
    for f in [
        "flannel-subnet.env-dualstack__flannel-docs.env",
        "flannel-subnet.env__flannel-dist-sample.env",
    ] {
        let p = flannel::parse_subnet_env(&real(f));
        assert!(p.diagnostics.is_empty(), "{f}");
        assert!(p.records[0].subnet.is_some());
    }
}

#[test]
fn iptables_fragments() {
    if absent() {
        return;
    }
    let s = sections(&real(
        "iptables-save-kube-dns-KUBE-SERVICES-SVC-SEP__gravitational-workshop.txt",
    ));
    assert_eq!(s.len(), 3);
    let p = iptables::parse_iptables_save(&s[0].1);
    assert_eq!((p.rules.len(), p.diagnostics.len()), (4, 0));
    let p = iptables::parse_iptables_save(&s[1].1);
    assert_eq!((p.chains.len(), p.rules.len()), (1, 4));
    let p = iptables::parse_iptables_save(&real(
        "iptables-save-KUBE-SERVICES-SVC-SEP__k8s-website-debug-service.txt",
    ));
    assert_eq!((p.rules.len(), p.diagnostics.len()), (10, 0));
    assert_eq!(
        p.rules
            .iter()
            .filter(|r| r.target.as_deref() == Some("DNAT"))
            .count(),
        3
    );
}

#[test]
fn ipvsadm_outputs() {
    if absent() {
        return;
    }
    let p = ipvs::parse_ipvsadm(&real("ipvsadm-ln__k8s-pkg-proxy-ipvs-readme.txt"));
    assert_eq!(p.records.len(), 3);
    assert_eq!(p.records.iter().map(|v| v.reals.len()).sum::<usize>(), 3);
    assert_eq!(p.diagnostics.len(), 1, "the '# ipvsadm -ln' prompt");
    let p = ipvs::parse_ipvsadm(&real(
        "ipvsadm-ln-service-3-endpoints__k8s-website-debug-service.txt",
    ));
    assert_eq!((p.records.len(), p.records[0].reals.len()), (1, 3));
    assert_eq!(p.diagnostics.len(), 2, "the two '...' elisions");
}

#[test]
fn troubleshoot_sysctl_dump() {
    if absent() {
        return;
    }
    let p = sysctl::parse_sysctl(&real("sb-k3s131-baseline__sysctl__primary-node"));
    assert!(p.diagnostics.is_empty());
    assert_eq!(p.records.len(), 800);
    let fwd = p
        .records
        .iter()
        .find(|r| r.key == "net.ipv4.ip_forward")
        .unwrap();
    assert_eq!((fwd.value.as_str(), fwd.line), ("1", 450));
    assert!(
        p.records
            .iter()
            .any(|r| r.key == "net.ipv4.conf.flannel/1.forwarding")
    );
    assert!(
        p.records
            .iter()
            .any(|r| r.key == "net.bridge.bridge-nf-call-iptables" && r.value == "1")
    );
}

#[test]
fn resolv_confs() {
    if absent() {
        return;
    }
    for (f, ns) in [
        (
            "pod-resolv.conf-gce__k8s-website-dns-debugging.conf",
            "10.0.0.10",
        ),
        (
            "pod-resolv.conf__k8s-website-debug-service.conf",
            "10.0.0.10",
        ),
    ] {
        let p = resolv::parse_resolv_conf(&real(f));
        assert!(p.diagnostics.is_empty(), "{f}");
        assert_eq!(p.records.len(), 3);
        let (servers, search, ndots) = resolv::summarize(&p.records);
        assert_eq!(servers[0].to_string(), ns);
        assert!(search.contains(&"svc.cluster.local".to_owned()));
        assert_eq!(ndots, Some(5));
    }
}

#[test]
fn component_logs() {
    if absent() {
        return;
    }
    let count = |file: &str, format: log::LogFormat| {
        real(file)
            .lines()
            .filter(|l| log::parse_log_line(l).format == format)
            .count()
    };
    assert_eq!(
        count(
            "kube-proxy-healthy-startup-iptables__k8s-website-debug-service.log",
            log::LogFormat::Klog
        ),
        9
    );
    assert_eq!(
        count(
            "flannel-startup-iface-selection__flannel-docs.log",
            log::LogFormat::Klog
        ),
        3
    );
    // Its klog prefixes were cut in the source: generic lines, not klog.
    assert_eq!(
        count(
            "kube-proxy-failed-retrieve-node-ip-invalid-nodeIP__k8s-website-troubleshooting-kubeadm.log",
            log::LogFormat::Klog
        ),
        0
    );
    let waiting = real("sb-k3d-v1244__pods-logs__coredns.log")
        .lines()
        .filter(|l| l.contains("Still waiting on"))
        .count();
    assert!(
        count(
            "sb-k3d-v1244__pods-logs__coredns.log",
            log::LogFormat::CoreDns
        ) >= waiting
    );
    let text = real("coredns-errors-io-timeout-consolidate__coredns-plugin-errors-readme.log");
    assert!(
        text.lines()
            .all(|l| log::parse_log_line(l).severity == Some(log::Severity::Warning))
    );
    let journal = real("flanneld-journal-healthy-startup-etcd__gravitational-workshop.log");
    assert!(
        journal
            .lines()
            .filter(|l| log::parse_log_line(l).format == log::LogFormat::Klog)
            .count()
            >= 10
    );
}

#[test]
fn dns_probe_outputs() {
    if absent() {
        return;
    }
    let p = probe::parse_probe(&real(
        "nslookup-cant-resolve-kubernetes.default__k8s-website-dns-debugging.txt",
    ));
    assert!(p.records.iter().any(|r| matches!(&r.outcome, probe::ProbeOutcome::CantResolve { name } if name == "kubernetes.default")));
    let p = probe::parse_probe(&real(
        "nslookup-kubernetes.default-ok-10.43.0.10__rancher-docs-dns.txt",
    ));
    assert!(
        p.records
            .iter()
            .any(|r| matches!(&r.outcome, probe::ProbeOutcome::Resolved { .. }))
    );
    assert!(!p.records.iter().any(|r| matches!(
        &r.outcome,
        probe::ProbeOutcome::CantResolve { .. } | probe::ProbeOutcome::NoServers
    )));
}
