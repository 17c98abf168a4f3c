use super::{ip, is_mac};
use crate::{Intern, Interner, Mac, Name, Parsed};
use serde::Serialize;
use std::borrow::Cow;
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
    pub states: NudStates,
    /// The entry is marked `router`.
    pub router: bool,
    /// The line as printed, kept only when [`Neighbor::render`] does not
    /// give it back exactly (see [`Neighbor::text`]).
    pub verbatim: Option<Name>,
    /// The line ended in one space after what [`Neighbor::render`] prints
    /// (iproute2 leaves one after flags and some values).
    pub spaced: bool,
}

impl Intern for Neighbor {
    fn intern(&mut self, names: &mut Interner) {
        self.dev.intern(names);
        self.verbatim.intern(names);
    }
}

impl Neighbor {
    /// The line as printed: kept when it was not in iproute2's plain form,
    /// else printed again from the record (the same text, byte for byte).
    pub fn text(&self) -> Cow<'_, str> {
        super::text_of(&self.verbatim, self.spaced, |out| self.render(out))
    }

    /// Appends the entry as `ip neigh show` prints it in its plain form:
    /// `IP[ dev DEV][ lladdr MAC][ router][ STATE...]`.
    pub fn render(&self, out: &mut String) {
        super::push_ip(out, self.ip);
        if let Some(d) = &self.dev {
            out.push_str(" dev ");
            out.push_str(d);
        }
        if let Some(m) = self.lladdr {
            out.push_str(" lladdr ");
            super::push_mac(out, m);
        }
        if self.router {
            out.push_str(" router");
        }
        for s in self.states.iter() {
            out.push(' ');
            out.push_str(s);
        }
    }

    /// Whether the entry is `PERMANENT` (as flannel programs its VTEPs).
    pub fn permanent(&self) -> bool {
        self.states.contains("PERMANENT")
    }
}

/// The NUD states of an entry, as a set over the ones iproute2 prints.
pub type NudStates = super::words::WordSet<NudStateWords>;

/// The words of [`NudStates`].
pub struct NudStateWords;

impl super::words::Words for NudStateWords {
    const LIST: &'static [&'static str] = STATES;
}

/// In the order iproute2 prints them (the kernel's NUD bits, low to high).
const STATES: &[&str] = &[
    "NONE",
    "INCOMPLETE",
    "REACHABLE",
    "STALE",
    "DELAY",
    "PROBE",
    "FAILED",
    "NOARP",
    "PERMANENT",
];

/// Parses `ip neigh show`, with or without `-s` statistics (`ref N`,
/// `used A/B/C`, `probes N` between the link-layer address and the state).
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
        states: NudStates::default(),
        router: false,
        verbatim: None,
        spaced: false,
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
            // `-s` statistics (`ref 1 used 0/42/2 probes 1`) and other key/value pairs.
            "probes" | "vrf" | "protocol" | "ref" | "used" => {
                toks.get(i + 1)?;
                i += 2;
            }
            s if r.states.insert(s) => i += 1,
            _ => return None,
        }
    }
    (r.verbatim, r.spaced) = super::verbatim(line, |out| r.render(out));
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

    #[test]
    fn statistics_of_ip_s_s_neigh() {
        let p = parse_neighbors(
            "172.16.1.20 dev eth0 lladdr 00:15:5d:b7:25:11 used 48/43/2 probes 1 STALE\n172.16.1.13 dev eth0 lladdr 00:15:5d:b7:25:14 ref 1 used 0/42/2 probes 1 DELAY\n172.16.1.2 dev eth0 lladdr 00:15:5d:b7:25:08 ref 1 used 2097/0/2097 probes 0 REACHABLE\n",
        );
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.records.len(), 3);
        assert_eq!(
            p.records[1].states.iter().collect::<Vec<_>>(),
            vec!["DELAY"]
        );
        assert_eq!(p.records[1].dev.as_deref(), Some("eth0"));
        assert_eq!(
            p.records[2].lladdr.map(|m| m.to_string()).as_deref(),
            Some("00:15:5d:b7:25:08")
        );
        // A key without its value is not a record.
        assert_eq!(
            parse_neighbors("10.0.0.1 dev eth0 ref\n").diagnostics.len(),
            1
        );
    }

    proptest::proptest! {
        /// Statistics never change what the entry says.
        #[test]
        fn statistics_are_ignored(
            last in 1u8..255,
            mac in proptest::array::uniform6(proptest::prelude::any::<u8>()),
            refs in proptest::option::of(0u32..100),
            used in proptest::option::of((0u32..5000, 0u32..5000, 0u32..5000)),
            probes in proptest::option::of(0u32..10),
            state in proptest::sample::select(STATES),
        ) {
            let mac = Mac(mac);
            let plain = format!("10.1.2.{last} dev eth0 lladdr {mac} {state}");
            let mut stats = String::new();
            if let Some(r) = refs { stats.push_str(&format!(" ref {r}")); }
            if let Some((a, b, c)) = used { stats.push_str(&format!(" used {a}/{b}/{c}")); }
            if let Some(p) = probes { stats.push_str(&format!(" probes {p}")); }
            let with = format!("10.1.2.{last} dev eth0 lladdr {mac}{stats} {state}");
            let a = parse_neighbors(&plain);
            let b = parse_neighbors(&with);
            proptest::prop_assert!(b.diagnostics.is_empty(), "{:?}", b.diagnostics);
            proptest::prop_assert_eq!(a.records.len(), 1);
            proptest::prop_assert_eq!(b.records.len(), 1);
            let (a, b) = (&a.records[0], &b.records[0]);
            proptest::prop_assert_eq!((a.ip, &a.dev, a.lladdr, &a.states), (b.ip, &b.dev, b.lladdr, &b.states));
        }
    }
}
