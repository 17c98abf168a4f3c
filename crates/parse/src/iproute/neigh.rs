use super::{ip, is_mac};
use crate::{Intern, Interner, Mac, Name, Parsed};
use serde::Serialize;
use std::net::IpAddr;

/// One entry of `ip neigh show`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Neighbor {
    /// 1-based line.
    pub line: u32,
    /// The neighbour's address.
    pub ip: IpAddr,
    /// `dev`
    pub dev: Option<Name>,
    /// `lladdr`
    pub lladdr: Option<Mac>,
    /// NUD states (`PERMANENT`, `REACHABLE`, `STALE`, `FAILED`, ...).
    pub states: Vec<Name>,
    /// The entry is marked `router`.
    pub router: bool,
    /// The line as printed.
    pub text: Name,
}

impl Intern for Neighbor {
    fn intern(&mut self, names: &mut Interner) {
        self.dev.intern(names);
        self.states.intern(names);
        self.text.intern(names);
    }
}

impl Neighbor {
    /// Whether the entry is `PERMANENT` (as flannel programs its VTEPs).
    pub fn permanent(&self) -> bool {
        self.states.iter().any(|s| s == "PERMANENT")
    }
}

const STATES: &[&str] = &[
    "PERMANENT",
    "NOARP",
    "REACHABLE",
    "STALE",
    "NONE",
    "INCOMPLETE",
    "DELAY",
    "PROBE",
    "FAILED",
];

/// Parses `ip neigh show`.
pub fn parse_neighbors(text: &str) -> Parsed<Neighbor> {
    super::each_line(text, parse_one)
}

fn parse_one(n: u32, line: &str) -> Option<Neighbor> {
    let toks: Vec<&str> = line.split_whitespace().collect();
    let addr = ip(toks.first()?)?;
    let mut r = Neighbor {
        line: n,
        ip: addr,
        dev: None,
        lladdr: None,
        states: Vec::new(),
        router: false,
        text: Name::from(line),
    };
    let mut i = 1;
    while i < toks.len() {
        match toks[i] {
            "dev" => {
                r.dev = Some(Name::from(*toks.get(i + 1)?));
                i += 2;
            }
            "lladdr" => {
                let mac = *toks.get(i + 1)?;
                if !is_mac(mac) {
                    return None;
                }
                r.lladdr = Some(Mac::parse(mac)?);
                i += 2;
            }
            "router" => {
                r.router = true;
                i += 1;
            }
            "proxy" | "extern_learn" | "managed" | "use" => i += 1,
            "probes" | "vrf" | "protocol" => i += 2,
            s if STATES.contains(&s) => {
                r.states.push(Name::from(s));
                i += 1;
            }
            _ => return None,
        }
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flannel_permanent_entries_and_states() {
        let p = parse_neighbors(
            "10.244.24.0 dev flannel.1 lladdr da:77:5d:47:e8:42 PERMANENT\n10.0.0.1 dev eth0 lladdr 52:54:00:12:35:02 router REACHABLE\n10.0.0.9 dev eth0 FAILED\nfe80::1 dev eth0 lladdr 52:54:00:12:35:02 router STALE\n",
        );
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.records.len(), 4);
        assert!(p.records[0].permanent());
        assert_eq!(
            p.records[0].lladdr.map(|m| m.to_string()).as_deref(),
            Some("da:77:5d:47:e8:42")
        );
        assert!(p.records[1].router);
        assert_eq!(p.records[2].lladdr, None);
    }
}
