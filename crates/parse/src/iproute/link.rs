use super::{ip, is_mac, not_output};
use crate::Parsed;
use crate::diag::numbered;
use ipnet::IpNet;
use serde::Serialize;
use std::net::IpAddr;

/// One address of an interface (`inet` / `inet6` lines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IfAddr {
    /// 1-based line.
    pub line: u32,
    /// Address with its prefix length, e.g. `10.244.1.1/24`.
    pub addr: IpNet,
    /// `scope`
    pub scope: Option<String>,
    /// The label (the interface name, or `eth0:1`).
    pub label: Option<String>,
    /// The line as printed.
    pub text: String,
}

/// VXLAN parameters from `ip -d link` / `ip -d addr`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VxlanInfo {
    /// 1-based line.
    pub line: u32,
    /// VNI.
    pub id: u32,
    /// Local VTEP address.
    pub local: Option<IpAddr>,
    /// Underlay device.
    pub dev: Option<String>,
    /// UDP destination port (8472 for flannel, 4789 IANA).
    pub dstport: Option<u16>,
    /// Whether learning is on (flannel uses `nolearning`).
    pub learning: bool,
}

/// One interface of `ip addr show` or `ip -d link show`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interface {
    /// 1-based line of the interface's header.
    pub line: u32,
    /// ifindex.
    pub index: u32,
    /// Name, e.g. `flannel.1`.
    pub name: String,
    /// The peer or parent after `@` (`eth0@if12`).
    pub parent: Option<String>,
    /// Flags between `<` and `>`.
    pub flags: Vec<String>,
    /// MTU.
    pub mtu: Option<u32>,
    /// Operational state.
    pub state: Option<String>,
    /// Bridge or bond this interface is enslaved to.
    pub master: Option<String>,
    /// Link-layer address.
    pub mac: Option<String>,
    /// Link kind from `-d` details (`vxlan`, `bridge`, `veth`, ...).
    pub kind: Option<String>,
    /// VXLAN details when the kind is `vxlan`.
    pub vxlan: Option<VxlanInfo>,
    /// Addresses.
    pub addrs: Vec<IfAddr>,
    /// The header line as printed.
    pub text: String,
}

impl Interface {
    /// Whether the interface is administratively up.
    pub fn is_up(&self) -> bool {
        self.flags.iter().any(|f| f == "UP")
    }
}

const KINDS: &[&str] = &[
    "vxlan",
    "bridge",
    "veth",
    "dummy",
    "bond",
    "vlan",
    "macvlan",
    "ipvlan",
    "ipip",
    "sit",
    "gre",
    "geneve",
    "wireguard",
    "tun",
    "openvswitch",
    "vrf",
    "team",
];

/// Parses `ip [-d] addr show` or `ip [-s] [-d] link show` (the same block
/// layout). `-s` statistics (`RX: bytes packets ...` and the numbers under
/// it) and other detail lines are read past.
pub fn parse_links(text: &str) -> Parsed<Interface> {
    let mut out: Parsed<Interface> = Parsed::default();
    for (n, line) in numbered(text) {
        if line.trim().is_empty() || crate::lines::is_tool_stderr(line) {
            continue;
        }
        if !line.starts_with([' ', '\t']) {
            match header(n, line) {
                Some(i) => out.push(i),
                None => out.problem(n, not_output(line)),
            }
            continue;
        }
        let Some(cur) = out.records.last_mut() else {
            out.problem(n, not_output(line));
            continue;
        };
        let toks: Vec<&str> = line.split_whitespace().collect();
        let first = toks.first().copied().unwrap_or("");
        match first {
            f if f.starts_with("link/") => {
                if let Some(mac) = toks.get(1).filter(|m| is_mac(m)) {
                    cur.mac = Some(mac.to_ascii_lowercase());
                }
            }
            "inet" | "inet6" => match toks.get(1).and_then(|a| addr(a)) {
                Some(a) => {
                    let scope = toks
                        .iter()
                        .position(|t| *t == "scope")
                        .and_then(|i| toks.get(i + 1))
                        .map(|s| (*s).to_owned());
                    let label = toks
                        .last()
                        .filter(|l| {
                            l.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                                && !matches!(
                                    **l,
                                    "dynamic"
                                        | "noprefixroute"
                                        | "permanent"
                                        | "secondary"
                                        | "tentative"
                                        | "deprecated"
                                        | "global"
                                        | "link"
                                        | "host"
                                        | "nodad"
                                        | "mngtmpaddr"
                                        | "stable-privacy"
                                )
                        })
                        .map(|s| (*s).to_owned());
                    cur.addrs.push(IfAddr {
                        line: n,
                        addr: a,
                        scope,
                        label,
                        text: line.trim().to_owned(),
                    });
                }
                None => out.diagnostics.push(crate::Diagnostic::at(
                    n,
                    format!("address not recognised: '{}'", line.trim()),
                )),
            },
            "vxlan" if toks.get(1) == Some(&"id") => {
                cur.kind = Some("vxlan".into());
                cur.vxlan = vxlan(n, &toks);
            }
            k if KINDS.contains(&k) && cur.kind.is_none() => cur.kind = Some(k.to_owned()),
            // valid_lft, altname, bridge_slave, addrgenmode, and other detail lines.
            _ => {}
        }
    }
    out
}

fn addr(s: &str) -> Option<IpNet> {
    if s.contains('/') {
        s.parse().ok()
    } else {
        ip(s).map(IpNet::from)
    }
}

fn header(n: u32, line: &str) -> Option<Interface> {
    let (index, rest) = line.split_once(": ")?;
    let index: u32 = index.trim().parse().ok()?;
    let (name, rest) = rest.split_once(": ")?;
    let (name, parent) = match name.split_once('@') {
        Some((a, b)) => (a, Some(b.to_owned())),
        None => (name, None),
    };
    let rest = rest.strip_prefix('<')?;
    let (flags, rest) = rest.split_once('>')?;
    let toks: Vec<&str> = rest.split_whitespace().collect();
    let val = |k: &str| {
        toks.iter()
            .position(|t| *t == k)
            .and_then(|i| toks.get(i + 1))
            .copied()
    };
    Some(Interface {
        line: n,
        index,
        name: name.to_owned(),
        parent,
        flags: flags
            .split(',')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
        mtu: val("mtu").and_then(|m| m.parse().ok()),
        state: val("state").map(str::to_owned),
        master: val("master").map(str::to_owned),
        mac: None,
        kind: None,
        vxlan: None,
        addrs: Vec::new(),
        text: line.to_owned(),
    })
}

fn vxlan(n: u32, toks: &[&str]) -> Option<VxlanInfo> {
    let val = |k: &str| {
        toks.iter()
            .position(|t| *t == k)
            .and_then(|i| toks.get(i + 1))
            .copied()
    };
    Some(VxlanInfo {
        line: n,
        id: val("id")?.parse().ok()?,
        local: val("local").and_then(ip),
        dev: val("dev").map(str::to_owned),
        dstport: val("dstport").and_then(|p| p.parse().ok()),
        learning: !toks.contains(&"nolearning"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vxlan_device_with_details_and_addresses() {
        let text = "28: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1410 qdisc noqueue state UNKNOWN group default\n    link/ether 3e:35:13:4b:5d:4d brd ff:ff:ff:ff:ff:ff promiscuity 0\n    vxlan id 1 local 10.162.0.7 dev ens4 srcport 0 0 dstport 8472 nolearning ageing 300 udpcsum\n    inet 10.244.73.0/32 scope global flannel.1\n       valid_lft forever preferred_lft forever\n    inet6 fe80::3c35:13ff:fe4b:5d4d/64 scope link\n       valid_lft forever preferred_lft forever\n5: veth1@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue master cni0 state UP mode DEFAULT group default\n    link/ether 0a:58:0a:f4:01:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0\n";
        let p = parse_links(text);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.records.len(), 2);
        let f = &p.records[0];
        assert_eq!(
            (f.index, f.name.as_str(), f.mtu),
            (28, "flannel.1", Some(1410))
        );
        let v = f.vxlan.as_ref().unwrap();
        assert_eq!((v.id, v.dstport, v.learning), (1, Some(8472), false));
        assert_eq!(v.local.unwrap().to_string(), "10.162.0.7");
        assert_eq!(f.addrs.len(), 2);
        assert_eq!(f.addrs[0].addr.to_string(), "10.244.73.0/32");
        assert_eq!(p.records[1].master.as_deref(), Some("cni0"));
        assert_eq!(p.records[1].parent.as_deref(), Some("if4"));
    }

    #[test]
    fn statistics_and_details_of_ip_s_d_link() {
        let text = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0 addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 \n    RX: bytes  packets  errors  dropped overrun mcast   \n    15202900   162442   0       0       0       0       \n    TX: bytes  packets  errors  dropped carrier collsns \n    15202900   162442   0       0       0       0       \n2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP mode DEFAULT group default qlen 1000\n    link/ether 00:15:5d:b7:25:12 brd ff:ff:ff:ff:ff:ff promiscuity 0 addrgenmode none numtxqueues 64 numrxqueues 64 gso_max_size 62780 gso_max_segs 65535 \n    RX: bytes  packets  errors  dropped overrun mcast   \n    281235503  340518   0       0       0       3425    \n    RX errors: length   crc     frame   fifo    missed\n               0        0       0       0       0       \n    TX: bytes  packets  errors  dropped carrier collsns \n    24329184   175205   0       0       0       0       \n";
        let p = parse_links(text);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.records[1].name, "eth0");
        assert_eq!(p.records[1].mac.as_deref(), Some("00:15:5d:b7:25:12"));
        assert_eq!(p.records[1].mtu, Some(1500));
        assert_eq!(p.records[0].kind, None);
        assert!(p.records.iter().all(|i| i.addrs.is_empty()));
    }

    #[test]
    fn ip_d_address() {
        let text = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 \n    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n    inet6 ::1/128 scope host \n       valid_lft forever preferred_lft forever\n2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP group default qlen 1000\n    link/ether 00:15:5d:b7:25:12 brd ff:ff:ff:ff:ff:ff promiscuity 0 numtxqueues 64 numrxqueues 64 gso_max_size 62780 gso_max_segs 65535 \n    inet 172.16.1.10/24 brd 172.16.1.255 scope global dynamic noprefixroute eth0\n       valid_lft 41096sec preferred_lft 41096sec\n    inet6 fe80::6f03:6200:832a:7582/64 scope link noprefixroute \n       valid_lft forever preferred_lft forever\nRTNETLINK answers: Invalid argument\n";
        let p = parse_links(text);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.records.len(), 2);
        let eth0 = &p.records[1];
        assert_eq!(eth0.addrs.len(), 2);
        assert_eq!(eth0.addrs[0].addr.to_string(), "172.16.1.10/24");
        assert_eq!(eth0.addrs[0].label.as_deref(), Some("eth0"));
        assert_eq!(eth0.addrs[0].scope.as_deref(), Some("global"));
        assert_eq!(eth0.addrs[1].label, None);
        assert_eq!(p.records[0].addrs[1].addr.to_string(), "::1/128");
    }
}
