//! Route lookup as the kernel does it for a unicast packet: the longest
//! prefix that holds the destination, in the `local` table first (the
//! node's own addresses), then `main`; among equal prefixes the lowest
//! metric. Blackhole, unreachable and prohibit routes drop.

use ipnet::IpNet;
use kdiag_parse::iproute::Route;
use rustc_hash::FxHashMap as HashMap;
use std::net::IpAddr;

/// Where the route table sends a packet.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<'a> {
    /// The chosen route.
    Route(&'a Route),
    /// No route holds the destination.
    NoRoute,
}

/// Where a route's table stands in the lookup: `local` first, then
/// `main`; other tables (reached only through `ip rule`) are not used.
fn table_rank(r: &Route) -> u8 {
    match r.more().table.as_deref() {
        Some("local") => 0,
        None | Some("main") => 1,
        _ => 2,
    }
}

/// A node's routes indexed by table, prefix length and network, so that a
/// lookup costs one hash probe per distinct prefix length instead of a scan
/// of every route (a flannel node has one route per peer). The routes of
/// one key are a run of `routes`, in the order listed; the map holds only
/// where each run starts and ends (a million routes, no list per route).
#[derive(Debug, Default)]
pub struct RouteIndex<'a> {
    /// (table rank, IPv4?, prefix length, network) → `routes[start..end]`.
    by_prefix: HashMap<Key, (u32, u32)>,
    /// The routes of the lookup tables, grouped by key.
    routes: Vec<&'a Route>,
    /// Per table rank and family, the prefix lengths present, longest first.
    lengths: HashMap<(u8, bool), Vec<u8>>,
}

/// Where a route is filed in a [`RouteIndex`]: table rank, IPv4?, prefix
/// length, network.
type Key = (u8, bool, u8, IpNet);

/// Where a route is filed in a [`RouteIndex`].
fn key(r: &Route, rank: u8) -> Key {
    (
        rank,
        r.dst.addr().is_ipv4(),
        r.dst.prefix_len(),
        r.dst.trunc(),
    )
}

impl<'a> RouteIndex<'a> {
    /// Indexes `routes` (every table `ip route` printed).
    pub fn new(routes: &'a [Route]) -> Self {
        let mut index = RouteIndex::default();
        let mut keyed: Vec<(Key, usize, &'a Route)> = routes
            .iter()
            .enumerate()
            .filter_map(|(at, r)| {
                let rank = table_rank(r);
                (rank <= 1).then(|| (key(r, rank), at, r))
            })
            .collect();
        // Grouped by key, each group in the order listed.
        keyed.sort_unstable_by_key(|&(k, at, _)| (k, at));
        index.routes.reserve_exact(keyed.len());
        for (k, _, r) in keyed {
            let at = u32::try_from(index.routes.len()).unwrap_or(u32::MAX);
            index.routes.push(r);
            let run = index.by_prefix.entry(k).or_insert((at, at));
            run.1 = at.saturating_add(1);
            let (rank, v4, len, _) = k;
            let lengths = index.lengths.entry((rank, v4)).or_default();
            if !lengths.contains(&len) {
                lengths.push(len);
            }
        }
        for lengths in index.lengths.values_mut() {
            lengths.sort_unstable_by(|a, b| b.cmp(a));
        }
        index
    }

    /// The route for `dst`: the longest prefix that holds it in `local`,
    /// else in `main`; among equal prefixes the lowest metric, the first
    /// listed on a tie.
    pub fn lookup(&self, dst: IpAddr) -> Lookup<'a> {
        let v4 = dst.is_ipv4();
        for rank in 0..=1u8 {
            for &len in self.lengths.get(&(rank, v4)).into_iter().flatten() {
                let Ok(net) = IpNet::new(dst, len) else {
                    continue;
                };
                if let Some(&(start, end)) = self.by_prefix.get(&(rank, v4, len, net.trunc()))
                    && let Some(run) = self.routes.get(start as usize..end as usize)
                {
                    // One route for the prefix (the common case): no metric to compare.
                    let best = match run {
                        [only] => Some(only),
                        _ => run.iter().min_by_key(|r| r.more().metric.unwrap_or(0)),
                    };
                    if let Some(best) = best {
                        return Lookup::Route(best);
                    }
                }
            }
        }
        Lookup::NoRoute
    }
}

/// A set of networks that answers "does one hold this address" with one
/// hash probe per distinct prefix length (every node's pod CIDR, say).
#[derive(Debug, Default)]
pub struct NetSet {
    nets: rustc_hash::FxHashSet<IpNet>,
    /// (IPv4?, prefix length) present.
    lengths: Vec<(bool, u8)>,
}

impl NetSet {
    /// Adds a network.
    pub fn insert(&mut self, net: IpNet) {
        let key = (net.addr().is_ipv4(), net.prefix_len());
        if !self.lengths.contains(&key) {
            self.lengths.push(key);
        }
        self.nets.insert(net.trunc());
    }

    /// Whether some network of the set holds `ip`.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let v4 = ip.is_ipv4();
        self.lengths
            .iter()
            .filter(|(f, _)| *f == v4)
            .any(|(_, len)| IpNet::new(ip, *len).is_ok_and(|n| self.nets.contains(&n.trunc())))
    }
}

/// The route for `dst` among `routes` (every table `ip route` printed;
/// `ip rule` is not collected, so the main table is used, after `local`),
/// by scanning them all: the plain statement of the rule that
/// [`RouteIndex::lookup`] answers fast, kept as the reference its property
/// test compares against.
#[cfg(test)]
fn lookup(routes: &[Route], dst: IpAddr) -> Lookup<'_> {
    let best = routes
        .iter()
        .filter(|r| table_rank(r) < 2 && r.dst.contains(&dst))
        .filter(|r| r.dst.addr().is_ipv4() == dst.is_ipv4())
        .min_by_key(|r| {
            (
                table_rank(r),
                u8::MAX - r.dst.prefix_len(),
                r.more().metric.unwrap_or(0),
            )
        });
    match best {
        Some(r) => Lookup::Route(r),
        None => Lookup::NoRoute,
    }
}

/// Whether a route drops what it matches (`blackhole`, `unreachable`,
/// `prohibit`).
pub fn drops(r: &Route) -> bool {
    matches!(
        r.more().route_type.as_deref(),
        Some("blackhole" | "unreachable" | "prohibit" | "throw")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kdiag_parse::iproute::parse_routes;
    use proptest::prelude::*;

    proptest! {
        /// A net set holds an address exactly when one of its networks does.
        #[test]
        fn net_set_agrees_with_a_scan(
            nets in proptest::collection::vec((0u8..4, 0u8..4, 0u8..33), 0..12),
            probes in proptest::collection::vec((0u8..4, 0u8..4, 0u8..255), 1..16),
        ) {
            let nets: Vec<IpNet> = nets
                .iter()
                .filter_map(|(a, b, len)| IpNet::new(IpAddr::from([10, *a, *b, 0]), *len).ok())
                .collect();
            let mut set = NetSet::default();
            for n in &nets {
                set.insert(*n);
            }
            for (a, b, c) in probes {
                let ip = IpAddr::from([10, a, b, c]);
                prop_assert_eq!(set.contains(ip), nets.iter().any(|n| n.contains(&ip)));
            }
        }

        /// The index chooses what the scan chooses, whatever the table.
        #[test]
        fn index_and_scan_agree(
            routes in proptest::collection::vec((0u8..4, 0u8..4, 0u8..33, 0u32..4, proptest::option::of(0u32..3), 0u8..3), 0..24),
            probes in proptest::collection::vec((0u8..4, 0u8..4, 0u8..255), 1..16),
        ) {
            let text: String = routes
                .iter()
                .map(|(a, b, len, dev, metric, table)| {
                    let table = ["", " table local", " table 100"][*table as usize];
                    let metric = metric.map(|m| format!(" metric {m}")).unwrap_or_default();
                    format!("10.{a}.{b}.0/{len} dev eth{dev}{metric}{table}\n")
                })
                .collect();
            let parsed = parse_routes(&text);
            let index = RouteIndex::new(&parsed.records);
            for (a, b, c) in probes {
                let ip = IpAddr::from([10, a, b, c]);
                prop_assert_eq!(index.lookup(ip), lookup(&parsed.records, ip));
            }
        }
    }

    #[test]
    fn longest_prefix_then_metric_and_local_first() {
        let p = parse_routes(
            "default via 172.20.0.1 dev eth0\n10.244.0.0/16 dev flannel.1 metric 100\n10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink\n10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1\nblackhole 10.244.9.0/24\nlocal 10.244.1.1 dev cni0 table local proto kernel scope host src 10.244.1.1\n",
        );
        let dev =
            |ip: &str| match lookup(&p.records, ip.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))) {
                Lookup::Route(r) => format!("{}", r.dst),
                Lookup::NoRoute => "none".into(),
            };
        assert_eq!(dev("10.244.2.7"), "10.244.2.0/24");
        assert_eq!(dev("10.244.3.7"), "10.244.0.0/16");
        assert_eq!(dev("10.244.1.9"), "10.244.1.0/24");
        assert_eq!(dev("10.244.1.1"), "10.244.1.1/32");
        assert_eq!(dev("8.8.8.8"), "0.0.0.0/0");
        let Lookup::Route(r) = lookup(
            &p.records,
            "10.244.9.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
        ) else {
            panic!("no route");
        };
        assert!(drops(r));
        let index = RouteIndex::new(&p.records);
        for ip in [
            "10.244.2.7",
            "10.244.3.7",
            "10.244.1.9",
            "10.244.1.1",
            "8.8.8.8",
            "10.244.9.1",
            "fe80::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
            assert_eq!(index.lookup(ip), lookup(&p.records, ip), "{ip}");
        }
        let none = parse_routes("10.0.0.0/8 dev eth0\n");
        assert_eq!(
            lookup(
                &none.records,
                "192.168.1.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
            ),
            Lookup::NoRoute
        );
    }
}
