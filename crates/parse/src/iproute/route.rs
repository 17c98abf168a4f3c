use super::{ip, not_output};
use crate::diag::numbered;
use crate::{Intern, Interner, Name, Parsed};
use ipnet::IpNet;
use serde::Serialize;
use std::net::IpAddr;

/// One route of `ip route show`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    /// 1-based line.
    pub line: u32,
    /// Route type when printed (`local`, `broadcast`, `blackhole`, `unreachable`, ...); `None` for unicast.
    pub route_type: Option<Name>,
    /// Destination; `default` is `0.0.0.0/0` (or `::/0`), a bare address is a /32 (/128).
    pub dst: IpNet,
    /// `via`
    pub gateway: Option<IpAddr>,
    /// `dev`
    pub dev: Option<Name>,
    /// `proto`
    pub proto: Option<Name>,
    /// `scope`
    pub scope: Option<Name>,
    /// `src`
    pub src: Option<IpAddr>,
    /// `metric`
    pub metric: Option<u32>,
    /// `table` (only printed for non-main tables)
    pub table: Option<Name>,
    /// Next hops of a multipath route (`nexthop via ... dev ...`).
    pub nexthops: Vec<(Option<IpAddr>, Option<Name>)>,
    /// Flags such as `onlink`, `linkdown`, `dead`.
    pub flags: Vec<Name>,
    /// The line as printed.
    pub text: Name,
}

impl Intern for Route {
    fn intern(&mut self, names: &mut Interner) {
        self.route_type.intern(names);
        self.dev.intern(names);
        self.proto.intern(names);
        self.scope.intern(names);
        self.table.intern(names);
        for (_, dev) in &mut self.nexthops {
            dev.intern(names);
        }
        self.flags.intern(names);
        self.text.intern(names);
    }
}

impl Route {
    /// Whether the route carries the `onlink` flag.
    pub fn onlink(&self) -> bool {
        self.flags.iter().any(|f| f == "onlink")
    }
}

const TYPES: &[&str] = &[
    "unicast",
    "local",
    "broadcast",
    "multicast",
    "throw",
    "unreachable",
    "prohibit",
    "blackhole",
    "nat",
    "anycast",
];
const FLAGS: &[&str] = &[
    "onlink",
    "linkdown",
    "dead",
    "pervasive",
    "offload",
    "trap",
    "rt_offload",
    "rt_trap",
    "notify",
];

/// Parses `ip route show` (any table, IPv4 or IPv6).
pub fn parse_routes(text: &str) -> Parsed<Route> {
    let mut out: Parsed<Route> = Parsed::default();
    for (n, line) in numbered(text) {
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t'])
            && line.trim_start().starts_with("nexthop")
            && let Some(last) = out.records.last_mut()
        {
            let toks: Vec<&str> = line.split_whitespace().collect();
            let via = value(&toks, "via").and_then(ip);
            let dev = value(&toks, "dev").map(Name::from);
            last.nexthops.push((via, dev));
            continue;
        }
        match parse_route(n, line) {
            Some(r) => out.push(r),
            None => out.problem(n, not_output(line)),
        }
    }
    out
}

fn value<'a>(toks: &[&'a str], key: &str) -> Option<&'a str> {
    toks.iter()
        .position(|t| *t == key)
        .and_then(|i| toks.get(i + 1))
        .copied()
}

fn parse_route(n: u32, line: &str) -> Option<Route> {
    let toks: Vec<&str> = line.split_whitespace().collect();
    let mut i = 0;
    let mut route_type = None;
    if TYPES.contains(toks.first()?) {
        route_type = Some(Name::from(toks[0]));
        i = 1;
    }
    let dst = dst(toks.get(i)?)?;
    i += 1;
    let mut r = Route {
        line: n,
        route_type,
        dst,
        gateway: None,
        dev: None,
        proto: None,
        scope: None,
        src: None,
        metric: None,
        table: None,
        nexthops: Vec::new(),
        flags: Vec::new(),
        text: Name::from(line),
    };
    while i < toks.len() {
        let key = toks[i];
        let val = toks.get(i + 1).copied();
        match key {
            "via" => {
                // `via inet6 fe80::1` names the family first.
                let v = if matches!(val, Some("inet" | "inet6")) {
                    i += 1;
                    toks.get(i + 1).copied()
                } else {
                    val
                };
                r.gateway = Some(ip(v?)?);
                i += 2;
            }
            "dev" | "oif" => {
                r.dev = Some(Name::from(val?));
                i += 2;
            }
            "proto" => {
                r.proto = Some(Name::from(val?));
                i += 2;
            }
            "scope" => {
                r.scope = Some(Name::from(val?));
                i += 2;
            }
            "src" => {
                r.src = Some(ip(val?)?);
                i += 2;
            }
            "metric" | "preference" => {
                r.metric = val?.parse().ok();
                i += 2;
            }
            "table" => {
                r.table = Some(Name::from(val?));
                i += 2;
            }
            "mtu" | "advmss" | "pref" | "expires" | "weight" | "realm" | "realms" | "tos"
            | "dsfield" | "hoplimit" | "initcwnd" | "initrwnd" | "rtt" | "rttvar" | "quickack"
            | "features" | "congctl" | "nhid" | "encap" | "error" => {
                i += 2;
            }
            f if FLAGS.contains(&f) => {
                r.flags.push(Name::from(f));
                i += 1;
            }
            "lock" => i += 1,
            _ => return None,
        }
    }
    Some(r)
}

fn dst(tok: &str) -> Option<IpNet> {
    match tok {
        "default" => Some(IpNet::V4(ipnet::Ipv4Net::default())),
        t if t.contains('/') => t.parse().ok(),
        t => ip(t).map(IpNet::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flannel_node_routes() {
        let text = "default via 10.162.0.1 dev ens4\n10.100.0.0/16 dev flannel.null  scope link\n10.244.24.0/24 via 10.244.24.0 dev flannel.1 onlink\n10.244.73.0/24 dev cni0  proto kernel  scope link  src 10.244.73.1\n172.17.0.0/16 dev docker0  proto kernel  scope link  src 172.17.0.1 linkdown\n";
        let p = parse_routes(text);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.records.len(), 5);
        assert_eq!(p.records[0].dst.to_string(), "0.0.0.0/0");
        assert!(p.records[2].onlink());
        assert_eq!(p.records[2].gateway.unwrap().to_string(), "10.244.24.0");
        assert_eq!(p.records[3].src.unwrap().to_string(), "10.244.73.1");
        assert_eq!(p.records[4].flags, vec!["linkdown"]);
    }

    #[test]
    fn prompts_and_elisions_are_diagnostics() {
        let p = parse_routes("root@kevin-test1:~# ip route\ndefault via 10.0.0.1 dev eth0\n...\n");
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.diagnostics.len(), 2);
        assert_eq!(p.diagnostics[0].line, Some(1));
    }

    #[test]
    fn types_multipath_and_v6() {
        let p = parse_routes(
            "local 10.0.0.5 dev eth0 table local proto kernel scope host src 10.0.0.5\nblackhole 10.1.0.0/16 proto bird\ndefault proto static metric 100\n\tnexthop via 10.0.0.1 dev eth0 weight 1\n\tnexthop via 10.0.1.1 dev eth1 weight 1\nfe80::/64 dev eth0 proto kernel metric 256 pref medium\n",
        );
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.records.len(), 4);
        assert_eq!(p.records[0].route_type.as_deref(), Some("local"));
        assert_eq!(p.records[2].nexthops.len(), 2);
    }
}
