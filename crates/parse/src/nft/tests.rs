use super::*;
use proptest::prelude::*;

/// `-x a b` / `! -x a` for each option, for compact assertions.
fn opts(r: &Rule) -> Vec<String> {
    r.options
        .iter()
        .map(|o| {
            let mut s = String::new();
            if o.negated {
                s.push_str("! ");
            }
            s.push_str(&o.name);
            for v in &o.values {
                s.push(' ');
                s.push_str(v);
            }
            s
        })
        .collect()
}

fn rules<'a>(p: &'a IptablesSave, table: &'a str, chain: &'a str) -> Vec<&'a Rule> {
    p.chain_rules(Some(table), chain).collect()
}

fn unknown(r: &Rule) -> bool {
    r.options.iter().any(|o| o.name == UNMODELLED_OPTION)
        && r.options
            .iter()
            .any(|o| o.name == "-m" && o.values.first().is_some_and(|v| v == UNMODELLED_MATCH))
}

/// The shape of the real iptables-nft host: kube-proxy (iptables mode)
/// rules as `nft list ruleset` prints them, counters included.
const IPTABLES_NFT: &str = "table ip nat {
\tchain PREROUTING {
\t\ttype nat hook prerouting priority -100; policy accept;
\t}

\tchain INPUT {
\t\ttype nat hook input priority 100; policy accept;
\t}

\tchain POSTROUTING {
\t\ttype nat hook postrouting priority 100; policy accept;
\t\t counter packets 107561 bytes 7523145 jump KUBE-POSTROUTING
\t}

\tchain OUTPUT {
\t\ttype nat hook output priority -100; policy accept;
\t}

\tchain KUBE-MARK-MASQ {
\t\tcounter packets 0 bytes 0 meta mark set mark or 0x4000 
\t}

\tchain KUBE-MARK-DROP {
\t\tcounter packets 0 bytes 0 meta mark set mark or 0x8000 
\t}

\tchain KUBE-POSTROUTING {
\t\t mark and 0x4000 == 0x4000 counter packets 0 bytes 0 masquerade 
\t}
}
table ip filter {
\tchain INPUT {
\t\ttype filter hook input priority 0; policy accept;
\t\tcounter packets 328022 bytes 282588706 jump KUBE-FIREWALL
\t}

\tchain FORWARD {
\t\ttype filter hook forward priority 0; policy drop;
\t}

\tchain OUTPUT {
\t\ttype filter hook output priority 0; policy accept;
\t\tcounter packets 337652 bytes 37088298 jump KUBE-FIREWALL
\t}

\tchain KUBE-FIREWALL {
\t\t mark and 0x8000 == 0x8000 counter packets 0 bytes 0 drop
\t}
}
";

#[test]
fn iptables_nft_ruleset_reads_like_iptables_save() {
    let p = parse_nft_ruleset(IPTABLES_NFT);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert_eq!(
        p.tables,
        vec![(1, "nat".to_owned()), (31, "filter".to_owned())]
    );
    assert_eq!(p.chains.len(), 11);
    assert_eq!(p.rules.len(), 7);
    let post = p.policy("nat", "POSTROUTING");
    assert_eq!(post.map(|c| c.line), Some(11));
    assert_eq!(post.and_then(|c| c.policy.as_deref()), Some("ACCEPT"));
    assert_eq!(
        post.map(|c| c.text.as_str()),
        Some("type nat hook postrouting priority 100; policy accept;")
    );
    assert_eq!(
        p.policy("filter", "FORWARD")
            .and_then(|c| c.policy.as_deref()),
        Some("DROP")
    );
    assert_eq!(
        p.policy("nat", "KUBE-MARK-MASQ").map(|c| c.policy.clone()),
        Some(None)
    );

    let r = rules(&p, "nat", "POSTROUTING");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].line, 12);
    assert_eq!(
        r[0].text,
        "counter packets 107561 bytes 7523145 jump KUBE-POSTROUTING"
    );
    assert_eq!(opts(r[0]), vec!["-j KUBE-POSTROUTING"]);
    assert_eq!(r[0].target.as_deref(), Some("KUBE-POSTROUTING"));

    let r = rules(&p, "nat", "KUBE-MARK-MASQ");
    assert_eq!(opts(r[0]), vec!["-j MARK", "--set-xmark 0x4000/0x4000"]);
    let r = rules(&p, "nat", "KUBE-POSTROUTING");
    assert_eq!(
        opts(r[0]),
        vec!["-m mark", "--mark 0x4000/0x4000", "-j MASQUERADE"]
    );
    assert_eq!(r[0].line, 28);
    let r = rules(&p, "filter", "KUBE-FIREWALL");
    assert_eq!(
        opts(r[0]),
        vec!["-m mark", "--mark 0x8000/0x8000", "-j DROP"]
    );
    assert_eq!(
        rules(&p, "filter", "INPUT")[0].target.as_deref(),
        Some("KUBE-FIREWALL")
    );
    // The iptables helpers read it as they read iptables-save.
    assert!(p.rules.iter().all(|r| !unknown(r)));
}

/// kube-proxy's nftables mode (`table ip kube-proxy`), cut down.
const KUBE_PROXY_NFT: &str = "table ip kube-proxy {
\tcomment \"rules for kube-proxy\"
\tset cluster-ips {
\t\ttype ipv4_addr
\t\tcomment \"Active ClusterIPs\"
\t\telements = { 10.96.0.1, 10.96.0.10 }
\t}

\tset nodeport-ips {
\t\ttype ipv4_addr
\t\tcomment \"IPs that accept NodePort traffic\"
\t\telements = { 172.18.0.2 }
\t}

\tmap no-endpoint-services {
\t\ttype ipv4_addr . inet_proto . inet_service : verdict
\t\tcomment \"vmap to drop or reject packets to services with no endpoints\"
\t\telements = { 10.96.5.5 . tcp . 80 comment \"default/gone:http\" : goto reject-chain }
\t}

\tmap no-endpoint-nodeports {
\t\ttype inet_proto . inet_service : verdict
\t}

\tmap firewall-ips {
\t\ttype ipv4_addr . inet_proto . inet_service : verdict
\t}

\tmap service-ips {
\t\ttype ipv4_addr . inet_proto . inet_service : verdict
\t\tcomment \"ClusterIP, ExternalIP and LoadBalancer IP traffic\"
\t\telements = { 10.96.0.1 . tcp . 443 : goto service-2QRHZV4L-default/kubernetes/tcp/https,
\t\t\t     10.96.0.10 . udp . 53 : goto service-FY5PMXPG-kube-system/kube-dns/udp/dns,
\t\t\t     10.96.0.10 . tcp . 53 : goto service-ULMVA6XW-kube-system/kube-dns/tcp/dns-tcp }
\t}

\tmap service-nodeports {
\t\ttype inet_proto . inet_service : verdict
\t\tcomment \"NodePort traffic\"
\t\telements = { tcp . 30080 : goto external-UQ7E-default/web/tcp/ }
\t}

\tchain filter-prerouting {
\t\ttype filter hook prerouting priority dstnat - 10; policy accept;
\t\tct state new jump firewall-check
\t}

\tchain filter-input {
\t\ttype filter hook input priority -110; policy accept;
\t\tct state new jump nodeport-endpoints-check
\t\tct state new jump service-endpoints-check
\t}

\tchain filter-forward {
\t\ttype filter hook forward priority -110; policy accept;
\t\tct state new jump service-endpoints-check
\t\tct state new jump cluster-ips-check
\t}

\tchain filter-output {
\t\ttype filter hook output priority -110; policy accept;
\t\tct state new jump service-endpoints-check
\t\tct state new jump firewall-check
\t}

\tchain nat-prerouting {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tjump services
\t}

\tchain nat-output {
\t\ttype nat hook output priority -100; policy accept;
\t\tjump services
\t}

\tchain nat-postrouting {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tjump masquerading
\t}

\tchain nodeport-endpoints-check {
\t\tip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports
\t}

\tchain service-endpoints-check {
\t\tip daddr . meta l4proto . th dport vmap @no-endpoint-services
\t}

\tchain firewall-check {
\t\tip daddr . meta l4proto . th dport vmap @firewall-ips
\t}

\tchain services {
\t\tip daddr . meta l4proto . th dport vmap @service-ips
\t\tfib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports
\t}

\tchain masquerading {
\t\tmeta mark & 0x00004000 == 0x00000000 return
\t\tmeta mark set meta mark ^ 0x00004000
\t\tmasquerade fully-random
\t}

\tchain cluster-ips-check {
\t\tip daddr @cluster-ips reject comment \"Reject traffic to invalid ports of ClusterIPs\"
\t\tip daddr 10.96.0.0/16 drop comment \"Drop traffic to unallocated ClusterIPs\"
\t}

\tchain mark-for-masquerade {
\t\tmeta mark set meta mark | 0x00004000
\t}

\tchain reject-chain {
\t\tcomment \"helper for @no-endpoint-services / @no-endpoint-nodeports\"
\t\treject
\t}

\tchain endpoint-5OJB2KTY-kube-system/kube-dns/udp/dns__10.244.0.2/53 {
\t\tip saddr 10.244.0.2 jump mark-for-masquerade
\t\tmeta l4proto udp dnat to 10.244.0.2:53
\t}

\tchain endpoint-ZQ3JD4XA-kube-system/kube-dns/udp/dns__10.244.0.3/53 {
\t\tip saddr 10.244.0.3 jump mark-for-masquerade
\t\tmeta l4proto udp dnat to 10.244.0.3:53
\t}

\tchain service-FY5PMXPG-kube-system/kube-dns/udp/dns {
\t\tip daddr 10.96.0.10 udp dport 53 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
\t\tnumgen random mod 2 vmap { 0 : goto endpoint-5OJB2KTY-kube-system/kube-dns/udp/dns__10.244.0.2/53 , 1 : goto endpoint-ZQ3JD4XA-kube-system/kube-dns/udp/dns__10.244.0.3/53 }
\t}

\tchain service-2QRHZV4L-default/kubernetes/tcp/https {
\t\tnumgen random mod 1 vmap { 0 : goto endpoint-5OJB2KTY-kube-system/kube-dns/udp/dns__10.244.0.2/53 }
\t}

\tchain service-ULMVA6XW-kube-system/kube-dns/tcp/dns-tcp {
\t}

\tchain external-UQ7E-default/web/tcp/ {
\t\tjump mark-for-masquerade
\t\tgoto service-2QRHZV4L-default/kubernetes/tcp/https
\t}
}
";

fn line_of(text: &str, needle: &str) -> u32 {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(0, |i| u32::try_from(i + 1).unwrap_or(0))
}

#[test]
fn kube_proxy_nftables_mode() {
    let p = parse_nft_ruleset(KUBE_PROXY_NFT);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert_eq!(
        p.tables,
        vec![(1, "nat".to_owned()), (1, "filter".to_owned())]
    );

    // The hooks enter kube-proxy's base chains from the built-in chains.
    for (table, builtin, chain) in [
        ("nat", "PREROUTING", "nat-prerouting"),
        ("nat", "OUTPUT", "nat-output"),
        ("nat", "POSTROUTING", "nat-postrouting"),
        ("filter", "PREROUTING", "filter-prerouting"),
        ("filter", "INPUT", "filter-input"),
        ("filter", "FORWARD", "filter-forward"),
        ("filter", "OUTPUT", "filter-output"),
    ] {
        let decl = p.policy(table, builtin);
        assert_eq!(
            decl.and_then(|c| c.policy.as_deref()),
            Some("ACCEPT"),
            "{table} {builtin}"
        );
        let r = rules(&p, table, builtin);
        assert_eq!(r.len(), 1, "{table} {builtin}");
        assert_eq!(r[0].target.as_deref(), Some(chain));
        assert_eq!(
            r[0].line,
            line_of(KUBE_PROXY_NFT, &format!("chain {chain} ")) + 1
        );
        assert!(r[0].text.starts_with("type "), "{}", r[0].text);
    }

    // Every Service port of the verdict map is a rule with its ClusterIP.
    let s = rules(&p, "nat", "services");
    assert_eq!(s.len(), 4);
    assert_eq!(
        opts(s[1]),
        vec![
            "-d 10.96.0.10/32",
            "-p udp",
            "-m udp",
            "--dport 53",
            "-g service-FY5PMXPG-kube-system/kube-dns/udp/dns"
        ]
    );
    assert_eq!(
        s[1].destination().map(|d| d.to_string()).as_deref(),
        Some("10.96.0.10/32")
    );
    assert_eq!((s[1].protocol(), s[1].dport()), (Some("udp"), Some(53)));
    assert_eq!(s[1].line, line_of(KUBE_PROXY_NFT, "10.96.0.10 . udp . 53"));
    assert!(s[1].text.starts_with("10.96.0.10 . udp . 53 : goto"));
    assert_eq!(s[0].line, line_of(KUBE_PROXY_NFT, "10.96.0.1 . tcp . 443"));
    assert_eq!(s[2].dport(), Some(53));
    assert_eq!(s[2].protocol(), Some("tcp"));
    assert_eq!(
        opts(s[3]),
        vec![
            "-m addrtype",
            "--dst-type LOCAL",
            "! -d 127.0.0.0/8",
            "-p tcp",
            "-m tcp",
            "--dport 30080",
            "-g external-UQ7E-default/web/tcp/"
        ]
    );

    // The endpoints: a random split, as iptables mode writes it.
    let svc = rules(&p, "nat", "service-FY5PMXPG-kube-system/kube-dns/udp/dns");
    assert_eq!(svc.len(), 3);
    assert_eq!(
        opts(svc[0]),
        vec![
            "-d 10.96.0.10/32",
            "-p udp",
            "-m udp",
            "--dport 53",
            "! -s 10.244.0.0/16",
            "-j mark-for-masquerade"
        ]
    );
    assert_eq!(
        opts(svc[1]),
        vec![
            "-m statistic",
            "--mode random",
            "--probability 0.5000000000",
            "-g endpoint-5OJB2KTY-kube-system/kube-dns/udp/dns__10.244.0.2/53"
        ]
    );
    assert_eq!(
        opts(svc[2]),
        vec!["-g endpoint-ZQ3JD4XA-kube-system/kube-dns/udp/dns__10.244.0.3/53"]
    );
    assert_eq!(svc[1].line, svc[2].line);
    let one = rules(&p, "nat", "service-2QRHZV4L-default/kubernetes/tcp/https");
    assert_eq!(one.len(), 1);
    assert_eq!(
        one[0].opt("-g").map(|(v, _)| v),
        Some("endpoint-5OJB2KTY-kube-system/kube-dns/udp/dns__10.244.0.2/53")
    );

    let ep = rules(
        &p,
        "nat",
        "endpoint-5OJB2KTY-kube-system/kube-dns/udp/dns__10.244.0.2/53",
    );
    assert_eq!(
        opts(ep[0]),
        vec!["-s 10.244.0.2/32", "-j mark-for-masquerade"]
    );
    assert_eq!(
        opts(ep[1]),
        vec!["-p udp", "-j DNAT", "--to-destination 10.244.0.2:53"]
    );
    assert_eq!(ep[1].target.as_deref(), Some("DNAT"));

    let m = rules(&p, "nat", "masquerading");
    assert_eq!(
        opts(m[0]),
        vec!["-m mark", "--mark 0x0/0x4000", "-j RETURN"]
    );
    assert_eq!(opts(m[1]), vec!["-j MARK", "--set-xmark 0x4000/0x0"]);
    assert_eq!(opts(m[2]), vec!["-j MASQUERADE", "--random-fully"]);
    assert_eq!(
        opts(rules(&p, "nat", "mark-for-masquerade")[0]),
        vec!["-j MARK", "--set-xmark 0x4000/0x4000"]
    );

    // Filter side: chains reached from the filter base chains.
    let c = rules(&p, "filter", "cluster-ips-check");
    assert_eq!(c.len(), 3);
    assert_eq!(c[0].opt("-d"), Some(("10.96.0.1/32", false)));
    assert_eq!(c[1].opt("-d"), Some(("10.96.0.10/32", false)));
    assert_eq!(c[0].target.as_deref(), Some("REJECT"));
    assert_eq!(
        c[0].comment.as_deref(),
        Some("Reject traffic to invalid ports of ClusterIPs")
    );
    assert_eq!(c[2].target.as_deref(), Some("DROP"));
    let e = rules(&p, "filter", "service-endpoints-check");
    assert_eq!(e.len(), 1);
    assert_eq!(
        opts(e[0]),
        vec![
            "-d 10.96.5.5/32",
            "-p tcp",
            "-m tcp",
            "--dport 80",
            "-g reject-chain"
        ]
    );
    assert_eq!(
        rules(&p, "filter", "reject-chain")[0].target.as_deref(),
        Some("REJECT")
    );
    let fi = rules(&p, "filter", "filter-input");
    assert_eq!(
        opts(fi[0]),
        vec![
            "-m conntrack",
            "--ctstate NEW",
            "-j nodeport-endpoints-check"
        ]
    );
    // Empty maps: lookups that never match are no rules.
    assert!(rules(&p, "filter", "firewall-check").is_empty());
    assert!(rules(&p, "filter", "nodeport-endpoints-check").is_empty());
    assert!(p.policy("filter", "firewall-check").is_some());

    // Each chain is in the tables that reach it, and only there.
    assert!(p.policy("filter", "services").is_none());
    assert!(p.policy("nat", "cluster-ips-check").is_none());
    assert!(p.policy("filter", "masquerading").is_none());
    assert!(p.policy("nat", "reject-chain").is_none());
    assert!(
        p.rules.iter().all(|r| !unknown(r)),
        "{:?}",
        p.rules
            .iter()
            .filter(|r| unknown(r))
            .map(|r| &r.text)
            .collect::<Vec<_>>()
    );
    // No family guard: an IPv4-only ruleset.
    assert!(
        p.rules
            .iter()
            .all(|r| r.opt("-d") != Some(("0.0.0.0/0", false)))
    );
}

#[test]
fn compact_map_on_one_line() {
    let text = "table ip kube-proxy {\n  map service-ips { type ipv4_addr . inet_proto . inet_service : verdict; elements = { 10.96.0.10 . udp . 53 : goto service-ULMVA6XW-kube-system/kube-dns/dns } }\n  chain nat-prerouting { type nat hook prerouting priority dstnat; policy accept; jump services; }\n  chain services {\n    ip daddr . meta l4proto . th dport vmap @service-ips\n  }\n  chain service-ULMVA6XW-kube-system/kube-dns/dns {\n  }\n}\n";
    let p = parse_nft_ruleset(text);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let s = rules(&p, "nat", "services");
    assert_eq!(s.len(), 1);
    assert_eq!(
        s[0].destination().map(|d| d.to_string()).as_deref(),
        Some("10.96.0.10/32")
    );
    assert_eq!(
        s[0].target.as_deref(),
        Some("service-ULMVA6XW-kube-system/kube-dns/dns")
    );
    assert_eq!(s[0].line, 2);
    assert_eq!(
        rules(&p, "nat", "nat-prerouting")[0].target.as_deref(),
        Some("services")
    );
    assert_eq!(rules(&p, "nat", "PREROUTING")[0].line, 3);
}

#[test]
fn what_is_not_modelled_stays_unknown() {
    let text = "table inet t {\n\tchain c {\n\t\tct mark 0x1 ip daddr 10.0.0.1 accept\n\t\ttcp flags & (fin|syn|rst|ack) == syn counter packets 1 bytes 60 drop\n\t\tmeta l4proto tcp # xt_statistic mode random probability 0.5 jump X\n\t\tip dscp cs1 tcp dport 80 drop\n\t\tdnat ip to ip daddr map { 10.0.0.1 : 10.1.0.1 }\n\t\tip saddr 10.0.0.0/8 ip length > 100 drop\n\t\tquota over 10 mbytes drop\n\t}\n\tchain X {\n\t}\n}\n";
    let p = parse_nft_ruleset(text);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let c = rules(&p, "nat", "c");
    assert_eq!(c.len(), 7);
    assert!(c.iter().all(|r| unknown(r)), "{:#?}", c);
    assert_eq!(
        c[0].opt(UNMODELLED_OPTION).map(|(v, _)| v),
        Some("ct mark 0x1 ip daddr 10.0.0.1")
    );
    assert_eq!(c[0].target.as_deref(), Some("ACCEPT"));
    assert_eq!(c[1].target.as_deref(), Some("DROP"));
    // The target after the untranslatable xtables match is still seen.
    assert_eq!(c[2].target.as_deref(), Some("X"));
    assert_eq!(c[2].opt("-p"), Some(("tcp", false)));
    // A DNAT whose address comes from a map: no DNAT target is made up.
    assert_eq!(c[4].target, None);
    assert_eq!(c[5].opt("-s"), Some(("10.0.0.0/8", false)));
    assert_eq!(c[6].target.as_deref(), Some("DROP"));
    assert_eq!(c[3].line, 6);
}

#[test]
fn sets_ports_states_interfaces_and_nat() {
    let text = "table inet filter {\n\tset blocked {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 192.0.2.0/24, 198.51.100.7 }\n\t}\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t\tiifname \"lo\" accept\n\t\tct state established,related accept\n\t\tct state { established, related } accept\n\t\tct state invalid drop\n\t\ttcp dport { 22, 6443, 30000-32767 } accept\n\t\ttcp dport != 22 iifname != \"cali*\" oifname \"eth0\" udp sport 53 accept\n\t\tip saddr @blocked drop\n\t\tip saddr != { 10.0.0.0/8, 172.16.0.0/12 } drop\n\t\tmeta l4proto { tcp, udp } th dport 53 accept\n\t\tmeta nfproto ipv4 icmp type echo-request accept\n\t\tlimit rate 10/second burst 5 packets accept\n\t\tlog prefix \"in: \" level info\n\t\treject with icmpx type admin-prohibited\n\t}\n\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t\tip saddr 10.244.0.0/16 oifname \"eth0\" snat ip to 192.0.2.1\n\t\tmeta mark set 0x1 ct mark set meta mark\n\t\ttcp dport 8080 redirect to :80\n\t}\n}\n";
    let p = parse_nft_ruleset(text);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    // The table is named `filter`: all its chains stay there.
    assert_eq!(p.tables, vec![(1, "filter".to_owned())]);
    let jump = rules(&p, "filter", "INPUT");
    assert_eq!(jump.len(), 1);
    assert_eq!(jump[0].target.as_deref(), Some("input"));
    let r = rules(&p, "filter", "input");
    let o: Vec<Vec<String>> = r.iter().map(|r| opts(r)).collect();
    assert_eq!(o[0], vec!["-i lo", "-j ACCEPT"]);
    assert_eq!(
        o[1],
        vec!["-m conntrack", "--ctstate ESTABLISHED,RELATED", "-j ACCEPT"]
    );
    assert_eq!(o[2], o[1]);
    assert_eq!(o[3], vec!["-m conntrack", "--ctstate INVALID", "-j DROP"]);
    assert_eq!(
        o[4],
        vec![
            "-p tcp",
            "-m multiport",
            "--dports 22,6443,30000:32767",
            "-j ACCEPT"
        ]
    );
    assert_eq!(
        o[5],
        vec![
            "-p tcp",
            "-m tcp",
            "! --dport 22",
            "! -i cali+",
            "-o eth0",
            "-p udp",
            "-m udp",
            "--sport 53",
            "-j ACCEPT"
        ]
    );
    assert_eq!(o[6], vec!["-s 192.0.2.0/24", "-j DROP"]);
    assert_eq!(o[7], vec!["-s 198.51.100.7/32", "-j DROP"]);
    assert_eq!(
        o[8],
        vec![
            "! -s 10.0.0.0/8",
            "! -s 172.16.0.0/12",
            "-d 0.0.0.0/0",
            "-j DROP"
        ]
    );
    assert_eq!(o[9], vec!["-p tcp", "--dport 53", "-j ACCEPT"]);
    assert_eq!(o[10], vec!["-p udp", "--dport 53", "-j ACCEPT"]);
    assert_eq!(
        o[11],
        vec![
            "-p icmp",
            "-m icmp",
            "--icmp-type echo-request",
            "-d 0.0.0.0/0",
            "-j ACCEPT"
        ]
    );
    assert_eq!(
        o[12],
        vec![
            "-m limit",
            "--limit 10/second",
            "--limit-burst 5",
            "-j ACCEPT"
        ]
    );
    assert_eq!(
        o[13],
        vec!["-j LOG", "--log-prefix in: ", "--log-level info"]
    );
    assert_eq!(
        o[14],
        vec!["-j REJECT", "--reject-with icmp-adm-prohibited"]
    );
    // `policy drop` on a chain that is not the built-in one: a final DROP.
    assert_eq!(o[15], vec!["-j DROP"]);
    assert_eq!(r[15].line, 8);
    assert_eq!(r.len(), 16);

    let n = rules(&p, "filter", "postrouting");
    let o: Vec<Vec<String>> = n.iter().map(|r| opts(r)).collect();
    assert_eq!(
        o[0],
        vec![
            "-s 10.244.0.0/16",
            "-o eth0",
            "-j SNAT",
            "--to-source 192.0.2.1"
        ]
    );
    // Two statements: two rules with the same (empty) matches.
    assert_eq!(o[1], vec!["-j MARK", "--set-xmark 0x1/0xffffffff"]);
    assert_eq!(o[2], vec!["-j CONNMARK", "--save-mark"]);
    assert_eq!(n[1].line, n[2].line);
    assert_eq!(
        o[3],
        vec![
            "-p tcp",
            "-m tcp",
            "--dport 8080",
            "-j REDIRECT",
            "--to-ports 80"
        ]
    );
}

#[test]
fn priorities_order_base_chains_on_one_hook() {
    let text = "table ip filter {\n\tchain INPUT {\n\t\ttype filter hook input priority 0; policy drop;\n\t\ttcp dport 22 accept\n\t}\n}\ntable ip kube-proxy {\n\tchain filter-input {\n\t\ttype filter hook input priority -110; policy accept;\n\t\tct state new jump services-check\n\t}\n\tchain services-check {\n\t\tip daddr 10.96.9.9 reject\n\t}\n}\ntable inet firewalld {\n\tchain filter_INPUT {\n\t\ttype filter hook input priority filter + 10; policy accept;\n\t\tct state established accept\n\t}\n}\n";
    let p = parse_nft_ruleset(text);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let r = rules(&p, "filter", "INPUT");
    let targets: Vec<Option<&str>> = r.iter().map(|r| r.target.as_deref()).collect();
    // INPUT's drop policy, before the chain of a later priority.
    assert_eq!(
        targets,
        vec![
            Some("filter-input"),
            Some("ACCEPT"),
            Some("DROP"),
            Some("filter_INPUT")
        ]
    );
    assert_eq!(r[2].line, 3);
    assert_eq!(r[0].line, 9);
    assert_eq!(
        p.policy("filter", "INPUT")
            .and_then(|c| c.policy.as_deref()),
        Some("DROP")
    );
    assert_eq!(rules(&p, "filter", "services-check").len(), 1);
}

#[test]
fn ipv6_tables_are_kept_apart_by_family_guards() {
    let text = "table ip nat {\n\tchain PREROUTING {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\tudp dport 53 dnat to 10.0.0.53:53\n\t\tip daddr 10.96.0.1 tcp dport 443 jump KUBE-SVC\n\t}\n\tchain KUBE-SVC {\n\t}\n}\ntable ip6 nat {\n\tchain PREROUTING {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\tudp dport 53 dnat to [fd00::53]:53\n\t\tip6 daddr != fd00::/8 tcp dport 443 jump KUBE-SVC\n\t\tip6 daddr fd00::1 tcp dport 443 jump KUBE-SVC\n\t}\n\tchain KUBE-SVC {\n\t}\n}\n";
    let p = parse_nft_ruleset(text);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let r = rules(&p, "nat", "PREROUTING");
    assert_eq!(r.len(), 5);
    assert_eq!(
        opts(r[0]),
        vec![
            "-p udp",
            "-m udp",
            "--dport 53",
            "-d 0.0.0.0/0",
            "-j DNAT",
            "--to-destination 10.0.0.53:53"
        ]
    );
    assert_eq!(opts(r[1])[0], "-d 10.96.0.1/32");
    assert_eq!(opts(r[1]).len(), 5, "a pinned IPv4 rule needs no guard");
    assert_eq!(
        opts(r[2]),
        vec![
            "-p udp",
            "-m udp",
            "--dport 53",
            "-d ::/0",
            "-j DNAT",
            "--to-destination [fd00::53]:53"
        ]
    );
    assert_eq!(
        opts(r[3]),
        vec![
            "! -d fd00::/8",
            "-p tcp",
            "-m tcp",
            "--dport 443",
            "-s ::/0",
            "-j KUBE-SVC"
        ]
    );
    assert_eq!(opts(r[4]).len(), 5);
    // One declaration per chain, though both tables declare it.
    assert_eq!(
        p.chains.iter().filter(|c| c.name == "PREROUTING").count(),
        1
    );
    assert_eq!(p.chains.iter().filter(|c| c.name == "KUBE-SVC").count(), 1);
}

#[test]
fn lines_comments_handles_and_problems() {
    let text = "# Warning: table ip nat is managed by iptables-nft, do not touch!\ntable ip nat { # handle 1\n\tchain PREROUTING { # handle 1\n\t\ttype nat hook prerouting priority -100; policy accept;\n\t\tip daddr 10.0.0.1 counter packets 0 bytes 0 jump X # handle 4\n\t}\n\tchain X { # handle 2\n\t}\n}\ntable netdev ingress {\n\tchain c {\n\t\ttype filter hook ingress device \"eth0\" priority 0; policy accept;\n\t}\n}\ngarbage here\ntable ip filter {\n\tchain INPUT {\n\t\tiifname \"eth0 drop\n";
    let p = parse_nft_ruleset(text);
    let r = rules(&p, "nat", "PREROUTING");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].line, 5);
    assert_eq!(opts(r[0]), vec!["-d 10.0.0.1/32", "-j X"]);
    assert_eq!(
        r[0].text,
        "ip daddr 10.0.0.1 counter packets 0 bytes 0 jump X # handle 4"
    );
    let lines: Vec<Option<u32>> = p.diagnostics.iter().map(|d| d.line).collect();
    // The netdev table, the garbage line, the open quote, the unclosed blocks.
    assert!(lines.contains(&Some(10)), "{:?}", p.diagnostics);
    assert!(lines.contains(&Some(15)), "{:?}", p.diagnostics);
    assert!(lines.contains(&Some(18)), "{:?}", p.diagnostics);
    assert!(lines.contains(&Some(16)), "{:?}", p.diagnostics);
}

#[test]
fn a_rule_line_starting_with_hash_is_an_unknown_rule() {
    // nft prints an xtables match it cannot translate after a `#`, and the
    // rule goes on after it; inside a chain such a line is a rule.
    let p = parse_nft_ruleset(&wrap("# xt_statistic counter packets 1 bytes 2 accept"));
    let r = rules(&p, "filter", "FORWARD");
    assert_eq!(r.len(), 1);
    assert!(unknown(r[0]));
    assert_eq!(r[0].target.as_deref(), Some("ACCEPT"));
}

#[test]
fn priority_words() {
    assert_eq!(priority(&["-100"]), Some(-100));
    assert_eq!(priority(&["dstnat"]), Some(-100));
    assert_eq!(priority(&["dstnat", "-", "10"]), Some(-110));
    assert_eq!(priority(&["filter", "+", "10"]), Some(10));
    assert_eq!(priority(&["srcnat"]), Some(100));
    assert_eq!(priority(&["bogus"]), None);
}

/// A match nft prints and the options it must become.
fn known_match() -> impl Strategy<Value = (String, Vec<String>)> {
    prop_oneof![
        (0u8..=255, 8u8..=32).prop_map(|(a, l)| {
            let net = ipnet::Ipv4Net::new(std::net::Ipv4Addr::new(10, a, 0, 0), l)
                .map(|n| n.trunc().to_string())
                .unwrap_or_default();
            (format!("ip saddr {net}"), vec![format!("-s {net}")])
        }),
        (0u8..=255).prop_map(|a| (
            format!("ip daddr != 10.96.0.{a}"),
            vec![format!("! -d 10.96.0.{a}/32")]
        )),
        (1u16..=65535).prop_map(|p| (
            format!("tcp dport {p}"),
            vec!["-p tcp".into(), "-m tcp".into(), format!("--dport {p}")]
        )),
        (1u16..=65535).prop_map(|p| (format!("th sport {p}"), vec![format!("--sport {p}")])),
        "[a-z]{1,6}[0-9]{0,2}".prop_map(|i| (format!("iifname \"{i}\""), vec![format!("-i {i}")])),
        "[a-z]{1,6}".prop_map(|i| (format!("oifname != \"{i}*\""), vec![format!("! -o {i}+")])),
        Just((
            "ct state new".into(),
            vec!["-m conntrack".into(), "--ctstate NEW".into()]
        )),
        Just((
            "fib daddr type local".into(),
            vec!["-m addrtype".into(), "--dst-type LOCAL".into()]
        )),
        (0u32..16).prop_map(|b| {
            let m = 1u32 << b;
            (
                format!("meta mark & {m:#010x} == {m:#010x}"),
                vec!["-m mark".into(), format!("--mark {m:#x}/{m:#x}")],
            )
        }),
    ]
}

/// Expressions the translation does not model.
fn unknown_match() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("ct mark 0x1".to_owned()),
        Just("ip dscp cs1".to_owned()),
        Just("tcp flags & (fin|syn|rst|ack) == syn".to_owned()),
        Just("ip length > 100".to_owned()),
        Just("meta skuid 0".to_owned()),
        Just("socket transparent 1".to_owned()),
        Just("# xt_statistic".to_owned()),
        Just("ip saddr @missing-set".to_owned()),
        Just("ether saddr 00:11:22:33:44:55".to_owned()),
    ]
}

fn verdict_word() -> impl Strategy<Value = (String, Option<&'static str>)> {
    prop_oneof![
        Just(("accept".to_owned(), Some("ACCEPT"))),
        Just(("drop".to_owned(), Some("DROP"))),
        Just(("return".to_owned(), Some("RETURN"))),
        Just(("jump KUBE-X".to_owned(), Some("KUBE-X"))),
        Just(("goto KUBE-X".to_owned(), Some("KUBE-X"))),
        Just(("masquerade".to_owned(), Some("MASQUERADE"))),
        Just((String::new(), None)),
    ]
}

fn wrap(rule: &str) -> String {
    format!(
        "table ip filter {{\n\tchain FORWARD {{\n\t\ttype filter hook forward priority 0; policy accept;\n\t\t{rule}\n\t}}\n\tchain KUBE-X {{\n\t}}\n}}\n"
    )
}

proptest! {
    /// Known matches become exactly their iptables options, in order,
    /// with the counter dropped and the verdict as target.
    #[test]
    fn known_matches_translate(
        ms in proptest::collection::vec(known_match(), 0..5),
        counter in any::<bool>(),
        (v, target) in verdict_word(),
    ) {
        let mut rule: Vec<String> = ms.iter().map(|(m, _)| m.clone()).collect();
        if counter { rule.push("counter packets 12 bytes 3456".into()); }
        if !v.is_empty() { rule.push(v.clone()); }
        if rule.is_empty() { rule.push("counter".into()); }
        let p = parse_nft_ruleset(&wrap(&rule.join(" ")));
        prop_assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let r = rules(&p, "filter", "FORWARD");
        prop_assert_eq!(r.len(), 1);
        let mut want: Vec<String> = Vec::new();
        for (_, o) in &ms {
            for x in o {
                // Repeated -p/-m are written once.
                if (x.starts_with("-p ") || x.starts_with("-m ")) && want.contains(x) { continue; }
                want.push(x.clone());
            }
        }
        let got = opts(r[0]);
        prop_assert_eq!(&got[..want.len().min(got.len())], &want[..]);
        prop_assert_eq!(r[0].target.as_deref(), target);
        prop_assert_eq!(r[0].line, 4);
        prop_assert!(!unknown(r[0]));
    }

    /// An unknown expression anywhere among known ones always leaves the
    /// rule unknown, and never drops its verdict.
    #[test]
    fn unknown_matches_are_never_dropped(
        before in proptest::collection::vec(known_match(), 0..3),
        bad in unknown_match(),
        after in proptest::collection::vec(known_match(), 0..3),
        (v, target) in verdict_word(),
    ) {
        let mut rule: Vec<String> = before.iter().map(|(m, _)| m.clone()).collect();
        rule.push(bad);
        rule.extend(after.iter().map(|(m, _)| m.clone()));
        rule.push("counter packets 1 bytes 2".into());
        if !v.is_empty() { rule.push(v); }
        let p = parse_nft_ruleset(&wrap(&rule.join(" ")));
        let r = rules(&p, "filter", "FORWARD");
        prop_assert_eq!(r.len(), 1);
        prop_assert!(unknown(r[0]), "{:?}", opts(r[0]));
        prop_assert_eq!(r[0].target.as_deref(), target);
    }

    /// Whatever the input, no panic, and every rule and chain has a line
    /// of the input.
    #[test]
    fn never_panics(text in "[a-z0-9 .:/@\"{},;#!=&|*\\n\\t-]{0,400}") {
        let p = parse_nft_ruleset(&text);
        let n = u32::try_from(text.lines().count()).unwrap_or(u32::MAX);
        prop_assert!(p.rules.iter().all(|r| r.line >= 1 && r.line <= n));
        prop_assert!(p.chains.iter().all(|c| c.line >= 1 && c.line <= n));
    }

    /// Nft-shaped inputs (tables, chains, maps) with random bodies.
    #[test]
    fn never_panics_on_nft_shapes(
        body in proptest::collection::vec(
            prop_oneof![
                Just("ip daddr . meta l4proto . th dport vmap @m".to_owned()),
                Just("numgen random mod 3 vmap { 0 : goto a, 1-2 : goto b }".to_owned()),
                Just("numgen inc mod 2 vmap { 0 : goto a, 1 : goto b }".to_owned()),
                Just("ip daddr @s drop".to_owned()),
                Just("meta mark set mark and 0xffff or 0x1".to_owned()),
                Just("{ } } {".to_owned()),
                Just("vmap".to_owned()),
                Just("jump".to_owned()),
                Just("dnat to".to_owned()),
                Just("ip saddr".to_owned()),
                "[a-z@ .:{}0-9,-]{0,30}",
            ],
            0..8,
        ),
        elems in "[0-9a-z .:,{}-]{0,60}",
    ) {
        let text = format!(
            "table ip kube-proxy {{\n\tset s {{\n\t\ttype ipv4_addr\n\t\telements = {{ {elems} }}\n\t}}\n\tmap m {{\n\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n\t\telements = {{ {elems} }}\n\t}}\n\tchain a {{\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n{}\n\t}}\n\tchain b {{\n\t}}\n}}\n",
            body.iter().map(|b| format!("\t\t{b}\n")).collect::<String>()
        );
        let p = parse_nft_ruleset(&text);
        prop_assert!(p.rules.len() <= MAX_EXPANSION * (body.len() + 2));
    }
}

#[test]
fn numgen_weights_and_inc() {
    let text = "table ip kube-proxy {\n\tchain nat-prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\tnumgen random mod 4 vmap { 0 : goto a, 1-2 : goto b, 3 : goto c }\n\t\tnumgen inc mod 2 vmap { 0 : goto a, 1 : goto b }\n\t}\n\tchain a {\n\t}\n\tchain b {\n\t}\n\tchain c {\n\t}\n}\n";
    let p = parse_nft_ruleset(text);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let r = rules(&p, "nat", "nat-prerouting");
    let probs: Vec<Option<&str>> = r
        .iter()
        .map(|r| r.opt("--probability").map(|(v, _)| v))
        .collect();
    assert_eq!(
        probs[..3],
        [Some("0.2500000000"), Some("0.6666666667"), None]
    );
    assert_eq!(r[3].opt("--mode"), Some(("nth", false)));
    assert_eq!(r[4].opt("--packet"), Some(("1", false)));
    assert_eq!(r.len(), 5);
}

#[test]
fn mark_set_forms() {
    let cases = [
        ("meta mark set 0x10", "0x10/0xffffffff"),
        ("meta mark set mark or 0x4000", "0x4000/0x4000"),
        ("meta mark set meta mark | 0x00004000", "0x4000/0x4000"),
        ("meta mark set meta mark ^ 0x00004000", "0x4000/0x0"),
        ("meta mark set mark and 0xffffbfff", "0x0/0x4000"),
        ("meta mark set mark and 0xffff00ff or 0x100", "0x100/0xff00"),
        ("mark set 0x2", "0x2/0xffffffff"),
    ];
    for (rule, xmark) in cases {
        let p = parse_nft_ruleset(&wrap(rule));
        let r = rules(&p, "filter", "FORWARD");
        assert_eq!(r.len(), 1, "{rule}");
        assert_eq!(r[0].opt("--set-xmark"), Some((xmark, false)), "{rule}");
        assert_eq!(r[0].target.as_deref(), Some("MARK"));
    }
    // A mark that is both read and set in one rule of two statements.
    let p = parse_nft_ruleset(&wrap("meta mark 0x1 meta mark set 0x2 accept"));
    let r = rules(&p, "filter", "FORWARD");
    assert_eq!(r.len(), 1);
    assert!(unknown(r[0]));
    // A mark set, then read by a match of the same rule.
    let p = parse_nft_ruleset(&wrap("meta mark set 0x2 meta mark 0x2 accept"));
    let r = rules(&p, "filter", "FORWARD");
    assert_eq!(r.len(), 1);
    assert!(unknown(r[0]));
}
