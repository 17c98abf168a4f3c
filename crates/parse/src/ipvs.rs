//! `ipvsadm -Ln` output: virtual services and their real servers.

use crate::Parsed;
use crate::diag::numbered;
use serde::Serialize;

/// A real server behind a virtual service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RealServer {
    /// 1-based line.
    pub line: u32,
    /// `address:port` as printed (`[v6]:port` for IPv6).
    pub addr: String,
    /// Forwarding method (`Masq`, `Route`, `Tunnel`, `Local`).
    pub forward: String,
    /// Weight; 0 takes the server out of rotation.
    pub weight: i64,
    /// Active connections.
    pub active: u64,
    /// Inactive connections.
    pub inactive: u64,
}

/// A virtual service (`TCP  10.0.0.10:53 rr`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VirtualService {
    /// 1-based line.
    pub line: u32,
    /// `TCP`, `UDP`, `SCTP` or `FWM`.
    pub proto: String,
    /// `address:port`, or the firewall mark for `FWM`.
    pub addr: String,
    /// Scheduler (`rr`, `wrr`, `lc`, ...).
    pub scheduler: String,
    /// Flags after the scheduler (`persistent 10800`, ...).
    pub flags: Vec<String>,
    /// Real servers, in order.
    pub reals: Vec<RealServer>,
    /// The line as printed.
    pub text: String,
}

impl VirtualService {
    /// The IP part of [`VirtualService::addr`].
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        split_addr(&self.addr).and_then(|(ip, _)| ip.parse().ok())
    }
    /// The port part of [`VirtualService::addr`].
    pub fn port(&self) -> Option<u16> {
        split_addr(&self.addr).and_then(|(_, p)| p.parse().ok())
    }
}

/// Splits `10.0.0.1:443` or `[fd00::1]:443`.
pub fn split_addr(s: &str) -> Option<(&str, &str)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (ip, port) = rest.split_once("]:")?;
        Some((ip, port))
    } else {
        s.rsplit_once(':')
    }
}

/// Parses `ipvsadm -Ln`.
pub fn parse_ipvsadm(text: &str) -> Parsed<VirtualService> {
    let mut out: Parsed<VirtualService> = Parsed::default();
    for (n, line) in numbered(text) {
        let t = line.trim();
        if t.is_empty()
            || t.starts_with("IP Virtual Server version")
            || t.starts_with("Prot LocalAddress")
            || t.starts_with("-> RemoteAddress")
        {
            continue;
        }
        let toks: Vec<&str> = t.split_whitespace().collect();
        if toks[0] == "->" {
            let real = (|| {
                Some(RealServer {
                    line: n,
                    addr: (*toks.get(1)?).to_owned(),
                    forward: (*toks.get(2)?).to_owned(),
                    weight: toks.get(3)?.parse().ok()?,
                    active: toks.get(4)?.parse().ok()?,
                    inactive: toks.get(5)?.parse().ok()?,
                })
            })();
            match (real, out.records.last_mut()) {
                (Some(r), Some(vs)) => vs.reals.push(r),
                (Some(_), None) => out.problem(n, "real server before any virtual service"),
                (None, _) => out.problem(n, format!("real server line not recognised: '{t}'")),
            }
        } else if matches!(toks[0], "TCP" | "UDP" | "SCTP" | "FWM") && toks.len() >= 3 {
            out.push(VirtualService {
                line: n,
                proto: toks[0].to_owned(),
                addr: toks[1].to_owned(),
                scheduler: toks[2].to_owned(),
                flags: toks[3..].iter().map(|s| (*s).to_owned()).collect(),
                reals: Vec::new(),
                text: t.to_owned(),
            });
        } else {
            out.problem(
                n,
                if crate::iproute::looks_like_prompt(t) {
                    format!("shell prompt or command, not output: '{t}'")
                } else {
                    format!("not an ipvsadm line: '{t}'")
                },
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_and_reals() {
        let p = parse_ipvsadm(
            "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  10.0.0.1:443 rr persistent 10800\n  -> 192.168.0.1:6443             Masq    1      1          0\nUDP  10.0.0.10:53 rr\n",
        );
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.records[0].reals.len(), 1);
        assert_eq!(p.records[0].port(), Some(443));
        assert!(p.records[1].reals.is_empty());
        assert_eq!(split_addr("[fd00::a]:53"), Some(("fd00::a", "53")));
    }
}
