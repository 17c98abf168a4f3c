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

/// Parses `ip addr show` or `ip [-d] link show` (the same block layout).
pub fn parse_links(text: &str) -> Parsed<Interface> {
    let mut out: Parsed<Interface> = Parsed::default();
    for (n, line) in numbered(text) {
        if line.trim().is_empty() {
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
}
