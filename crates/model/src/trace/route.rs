//! Route lookup as the kernel does it for a unicast packet: the longest
//! prefix that holds the destination, in the `local` table first (the
//! node's own addresses), then `main`; among equal prefixes the lowest
//! metric. Blackhole, unreachable and prohibit routes drop.

use kdiag_parse::iproute::Route;
use std::net::IpAddr;

/// Where the route table sends a packet.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<'a> {
    /// The chosen route.
    Route(&'a Route),
    /// No route holds the destination.
    NoRoute,
}

/// The route for `dst` among `routes` (every table `ip route` printed;
/// `ip rule` is not collected, so the main table is used, after `local`).
pub fn lookup(routes: &[Route], dst: IpAddr) -> Lookup<'_> {
    let table_rank = |r: &Route| match r.table.as_deref() {
        Some("local") => 0,
        None | Some("main") => 1,
        _ => 2,
    };
    let best = routes
        .iter()
        .filter(|r| table_rank(r) < 2 && r.dst.contains(&dst))
        .filter(|r| r.dst.addr().is_ipv4() == dst.is_ipv4())
        .min_by_key(|r| {
            (
                table_rank(r),
                u8::MAX - r.dst.prefix_len(),
                r.metric.unwrap_or(0),
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
        r.route_type.as_deref(),
        Some("blackhole" | "unreachable" | "prohibit" | "throw")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kdiag_parse::iproute::parse_routes;

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
