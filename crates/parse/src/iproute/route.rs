use super::{ip, not_output};
use crate::diag::numbered;
use crate::{Intern, Interner, Name, Parsed};
use ipnet::IpNet;
use serde::Serialize;
use std::borrow::Cow;
use std::net::IpAddr;

/// One route of `ip route show`. A node has one per peer on a flannel
/// network, so what such a route has (destination, gateway, device,
/// flags) is held inline and the rest, which few routes print, in
/// [`Route::more`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    /// 1-based line.
    pub line: u32,
    /// Destination; `default` is `0.0.0.0/0` (or `::/0`), a bare address is a /32 (/128).
    pub dst: IpNet,
    /// `via`
    pub gateway: Option<IpAddr>,
    /// `dev`
    pub dev: Option<Name>,
    /// Flags such as `onlink`, `linkdown`, `dead`.
    pub flags: RouteFlags,
    /// The line ended in one space after what [`Route::render`] prints
    /// (iproute2 leaves one after flags and some values).
    pub spaced: bool,
    /// The line as printed, kept only when [`Route::render`] does not give
    /// it back exactly (see [`Route::text`]).
    pub verbatim: Option<Name>,
    /// Type, table, protocol, scope, source, metric and next hops, when the
    /// route printed any (see [`Route::more`]).
    #[serde(flatten)]
    pub extra: Option<Box<RouteMore>>,
}

/// What a route prints beyond destination, gateway, device and flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RouteMore {
    /// Route type when printed (`local`, `broadcast`, `blackhole`, `unreachable`, ...); `None` for unicast.
    pub route_type: Option<Name>,
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
}

/// What a route without any of [`RouteMore`] reads as.
static NO_MORE: RouteMore = RouteMore {
    route_type: None,
    proto: None,
    scope: None,
    src: None,
    metric: None,
    table: None,
    nexthops: Vec::new(),
};

/// The flags a route carries, as a set over the ones iproute2 prints.
pub type RouteFlags = super::words::WordSet<RouteFlagWords>;

/// The words of [`RouteFlags`].
pub struct RouteFlagWords;

impl super::words::Words for RouteFlagWords {
    const LIST: &'static [&'static str] = FLAGS;
}

impl Intern for Route {
    fn intern(&mut self, names: &mut Interner) {
        self.dev.intern(names);
        self.verbatim.intern(names);
        if let Some(m) = &mut self.extra {
            m.route_type.intern(names);
            m.proto.intern(names);
            m.scope.intern(names);
            m.table.intern(names);
            for (_, dev) in &mut m.nexthops {
                dev.intern(names);
            }
        }
    }
}

impl Route {
    /// Type, table, protocol, scope, source, metric and next hops (all
    /// `None` or empty when the route printed none).
    pub fn more(&self) -> &RouteMore {
        self.extra.as_deref().unwrap_or(&NO_MORE)
    }

    /// [`Route::more`], to fill in.
    pub fn more_mut(&mut self) -> &mut RouteMore {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The line as printed: kept when it was not in iproute2's plain form,
    /// else printed again from the record (the same text, byte for byte).
    pub fn text(&self) -> Cow<'_, str> {
        super::text_of(&self.verbatim, self.spaced, |out| self.render(out))
    }

    /// Appends the route as `ip route show` prints it in its plain form:
    /// `[TYPE ]DST[ via GW][ dev DEV][ table T][ proto P][ scope S][ src A][ metric M][ FLAG...]`.
    /// Nexthops are continuation lines and not part of it.
    pub fn render(&self, out: &mut String) {
        let more = self.more();
        if let Some(t) = &more.route_type {
            out.push_str(t);
            out.push(' ');
        }
        if self.dst.prefix_len() == 0 && self.dst.addr().is_unspecified() {
            out.push_str("default");
        } else if self.dst.prefix_len() == self.dst.max_prefix_len() {
            super::push_ip(out, self.dst.addr());
        } else {
            super::push_ip(out, self.dst.addr());
            out.push('/');
            super::push_num(out, u32::from(self.dst.prefix_len()));
        }
        if let Some(g) = self.gateway {
            out.push_str(" via ");
            super::push_ip(out, g);
        }
        for (key, v) in [
            (" dev ", &self.dev),
            (" table ", &more.table),
            (" proto ", &more.proto),
            (" scope ", &more.scope),
        ] {
            if let Some(v) = v {
                out.push_str(key);
                out.push_str(v);
            }
        }
        if let Some(s) = more.src {
            out.push_str(" src ");
            super::push_ip(out, s);
        }
        if let Some(m) = more.metric {
            out.push_str(" metric ");
            super::push_num(out, m);
        }
        for f in self.flags.iter() {
            out.push(' ');
            out.push_str(f);
        }
    }

    /// Whether the route carries the `onlink` flag.
    pub fn onlink(&self) -> bool {
        self.flags.contains("onlink")
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
/// Route flags, in the order iproute2 prints them (next-hop flags, then
/// the route's own).
const FLAGS: &[&str] = &[
    "dead",
    "onlink",
    "pervasive",
    "offload",
    "trap",
    "notify",
    "linkdown",
    "unresolved",
    "rt_offload",
    "rt_trap",
    "rt_offload_failed",
];

/// Parses `ip route show` (any table, IPv4 or IPv6), `ip route show table
/// all` included: the type (`local`, `broadcast`, `multicast`, ...) and
/// `table` of each route are kept. `default` is `::/0` when the route is
/// plainly IPv6 (a v6 gateway or source, or `pref`), else `0.0.0.0/0`.
pub fn parse_routes(text: &str) -> Parsed<Route> {
    let mut out: Parsed<Route> = Parsed::default();
    for (n, line) in numbered(text) {
        if line.starts_with([' ', '\t'])
            && line.trim_start().starts_with("nexthop")
            && let Some(last) = out.records.last_mut()
        {
            let toks: Vec<&str> = line.split_whitespace().collect();
            let via = value(&toks, "via").and_then(ip);
            let dev = value(&toks, "dev").map(Name::from);
            last.more_mut().nexthops.push((via, dev));
            continue;
        }
        // A tool's error message never reads as a route (see `each_line`).
        match parse_route(n, line) {
            Some(r) => out.push(r),
            None if line.trim().is_empty() || crate::lines::is_tool_stderr(line) => {}
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
    let is_default = *toks.get(i)? == "default";
    let dst = dst(toks.get(i)?)?;
    i += 1;
    let mut r = Route {
        line: n,
        dst,
        gateway: None,
        dev: None,
        flags: RouteFlags::default(),
        spaced: false,
        verbatim: None,
        extra: None,
    };
    if route_type.is_some() {
        r.more_mut().route_type = route_type;
    }
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
                r.more_mut().proto = Some(Name::from(val?));
                i += 2;
            }
            "scope" => {
                r.more_mut().scope = Some(Name::from(val?));
                i += 2;
            }
            "src" => {
                r.more_mut().src = Some(ip(val?)?);
                i += 2;
            }
            "metric" | "preference" => {
                r.more_mut().metric = val?.parse().ok();
                i += 2;
            }
            "table" => {
                r.more_mut().table = Some(Name::from(val?));
                i += 2;
            }
            "mtu" | "advmss" | "pref" | "expires" | "weight" | "realm" | "realms" | "tos"
            | "dsfield" | "hoplimit" | "initcwnd" | "initrwnd" | "rtt" | "rttvar" | "quickack"
            | "features" | "congctl" | "nhid" | "encap" | "error" => {
                i += 2;
            }
            f if r.flags.insert(f) => i += 1,
            "lock" => i += 1,
            _ => return None,
        }
    }
    // `default` of an IPv6 route (a v6 gateway or source, or the v6-only `pref`).
    if is_default
        && (r.gateway.is_some_and(|g| g.is_ipv6())
            || r.more().src.is_some_and(|s| s.is_ipv6())
            || toks.contains(&"pref"))
    {
        r.dst = IpNet::V6(ipnet::Ipv6Net::default());
    }
    (r.verbatim, r.spaced) = super::verbatim(line, |out| r.render(out));
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
        assert_eq!(p.records[3].more().src.unwrap().to_string(), "10.244.73.1");
        assert_eq!(
            p.records[4].flags.iter().collect::<Vec<_>>(),
            vec!["linkdown"]
        );
        // A flannel route holds nothing beyond destination, gateway, device and flags.
        assert!(p.records[2].extra.is_none());
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
        assert_eq!(p.records[0].more().route_type.as_deref(), Some("local"));
        assert_eq!(p.records[2].more().nexthops.len(), 2);
    }

    #[test]
    fn table_all_keeps_types_and_tables() {
        let p = parse_routes(
            "172.16.1.0/24 dev eth0 proto kernel scope link src 172.16.1.10 metric 100 \nbroadcast 127.0.0.0 dev lo table local proto kernel scope link src 127.0.0.1 \nlocal 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1 \nbroadcast 172.16.1.255 dev eth0 table local proto kernel scope link src 172.16.1.10 \n::1 dev lo proto kernel metric 256 pref medium\nfe80::/64 dev eth0 proto kernel metric 100 pref medium\nlocal ::1 dev lo table local proto kernel metric 0 pref medium\nmulticast ff00::/8 dev eth0 table local proto kernel metric 256 pref medium\nff00::/8 dev eth0 table local metric 256 pref medium\nunreachable ::/96 dev lo metric 1024 error -113 pref medium\nanycast fe80:: dev eth0 table local proto kernel metric 0 pref medium\nunreachable default dev lo proto kernel metric 4294967295 error -101 pref medium\ndefault via fe80::1 dev eth0 proto ra metric 1024 expires 1798sec hoplimit 64 pref medium\n",
        );
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.records.len(), 13);
        let kinds: Vec<(Option<&str>, String, Option<&str>)> = p
            .records
            .iter()
            .map(|r| {
                (
                    r.more().route_type.as_deref(),
                    r.dst.to_string(),
                    r.more().table.as_deref(),
                )
            })
            .collect();
        assert_eq!(kinds[0], (None, "172.16.1.0/24".into(), None));
        assert_eq!(
            kinds[1],
            (Some("broadcast"), "127.0.0.0/32".into(), Some("local"))
        );
        assert_eq!(
            kinds[2],
            (Some("local"), "127.0.0.0/8".into(), Some("local"))
        );
        assert_eq!(kinds[6], (Some("local"), "::1/128".into(), Some("local")));
        assert_eq!(
            kinds[7],
            (Some("multicast"), "ff00::/8".into(), Some("local"))
        );
        assert_eq!(kinds[8], (None, "ff00::/8".into(), Some("local")));
        assert_eq!(kinds[9], (Some("unreachable"), "::/96".into(), None));
        assert_eq!(
            kinds[10],
            (Some("anycast"), "fe80::/128".into(), Some("local"))
        );
        assert_eq!(kinds[11], (Some("unreachable"), "::/0".into(), None));
        assert_eq!(kinds[12], (None, "::/0".into(), None));
        assert_eq!(
            p.records[1].more().src.map(|s| s.to_string()).as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(p.records[4].more().metric, Some(256));
        assert_eq!(p.records[11].more().metric, Some(u32::MAX));
        // A plain IPv4 default is unchanged.
        let p = parse_routes(
            "default via 10.0.0.1 dev eth0 proto dhcp metric 100\ndefault dev wg0 scope link\n",
        );
        assert_eq!(p.records[0].dst.to_string(), "0.0.0.0/0");
        assert_eq!(p.records[1].dst.to_string(), "0.0.0.0/0");
    }

    #[test]
    fn tool_errors_are_skipped() {
        let p = parse_routes(
            "RTNETLINK answers: Operation not permitted\ndefault via 10.0.0.1 dev eth0\nError: ipv4: FIB table does not exist.\n",
        );
        assert_eq!(p.records.len(), 1);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    }

    proptest::proptest! {
        /// A route's type word and `table` never change its destination or device.
        #[test]
        fn type_and_table_are_kept(
            ty in proptest::sample::select(TYPES),
            table in proptest::option::of(proptest::sample::select(vec!["local", "main", "254", "100"])),
            a in 0u8..=255, b in 0u8..=255, len in 8u8..=32,
            v6 in proptest::prelude::any::<bool>(),
        ) {
            let dst = if v6 { format!("fd{a:02x}:{b:02x}::/{}", len + 32) } else { format!("10.{a}.{b}.0/{len}") };
            let net: IpNet = dst.parse::<IpNet>().map(|n| n.trunc()).unwrap_or(IpNet::V4(ipnet::Ipv4Net::default()));
            let t = table.map(|t| format!(" table {t}")).unwrap_or_default();
            let line = format!("{ty} {net} dev eth0{t} proto kernel metric 256");
            let p = parse_routes(&line);
            proptest::prop_assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
            proptest::prop_assert_eq!(p.records.len(), 1);
            let r = &p.records[0];
            proptest::prop_assert_eq!(r.more().route_type.as_deref(), Some(ty));
            proptest::prop_assert_eq!(r.more().table.as_deref(), table);
            proptest::prop_assert_eq!(r.dst, net);
            proptest::prop_assert_eq!(r.dev.as_deref(), Some("eth0"));
        }
    }
}
