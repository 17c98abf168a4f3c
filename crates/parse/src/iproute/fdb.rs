use super::{ip, is_mac};
use crate::{Intern, Interner, Mac, Name, Parsed};
use serde::Serialize;
use std::net::IpAddr;

/// One entry of `bridge fdb show`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FdbEntry {
    /// 1-based line.
    pub line: u32,
    /// The MAC address.
    pub mac: Mac,
    /// `dev`
    pub dev: Option<Name>,
    /// `dst`: the remote VTEP for a VXLAN device.
    pub dst: Option<IpAddr>,
    /// `vlan`
    pub vlan: Option<u16>,
    /// `master`
    pub master: Option<Name>,
    /// Flags and states: `self`, `permanent`, `static`, `extern_learn`, ...
    pub flags: Vec<Name>,
    /// The line as printed.
    pub text: Name,
}

impl Intern for FdbEntry {
    fn intern(&mut self, names: &mut Interner) {
        self.dev.intern(names);
        self.master.intern(names);
        self.flags.intern(names);
        self.text.intern(names);
    }
}

impl FdbEntry {
    /// Whether the entry is `permanent` (or `static`).
    pub fn permanent(&self) -> bool {
        self.flags.iter().any(|f| f == "permanent" || f == "static")
    }
}

/// Parses `bridge fdb show`.
pub fn parse_fdb(text: &str) -> Parsed<FdbEntry> {
    super::each_line(text, parse_one)
}

fn parse_one(n: u32, line: &str) -> Option<FdbEntry> {
    let toks: Vec<&str> = line.split_whitespace().collect();
    let mac = *toks.first()?;
    if !is_mac(mac) {
        return None;
    }
    let mut r = FdbEntry {
        line: n,
        mac: Mac::parse(mac)?,
        dev: None,
        dst: None,
        vlan: None,
        master: None,
        flags: Vec::new(),
        text: Name::from(line),
    };
    let mut i = 1;
    while i < toks.len() {
        let val = toks.get(i + 1).copied();
        match toks[i] {
            "dev" => r.dev = Some(Name::from(val?)),
            "dst" => r.dst = Some(ip(val?)?),
            "vlan" => r.vlan = val?.parse().ok(),
            "master" => r.master = Some(Name::from(val?)),
            "port" | "vni" | "via" | "src_vni" | "nhid" | "state" => {}
            flag if flag.chars().all(|c| c.is_ascii_lowercase() || c == '_') => {
                r.flags.push(Name::from(flag));
                i += 1;
                continue;
            }
            _ => return None,
        }
        i += 2;
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vxlan_and_bridge_entries() {
        let p = parse_fdb(
            "da:77:5d:47:e8:42 dev flannel.1 dst 10.162.0.6 self permanent\n33:33:00:00:00:01 dev eth0 self permanent\n0a:58:0a:f4:01:02 dev veth1 master cni0\n01:00:5e:00:00:01 dev cni0 self permanent\n",
        );
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.records.len(), 4);
        assert_eq!(p.records[0].dst.unwrap().to_string(), "10.162.0.6");
        assert!(p.records[0].permanent());
        assert_eq!(p.records[2].master.as_deref(), Some("cni0"));
        assert!(!p.records[2].permanent());
    }
}
