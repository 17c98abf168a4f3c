use super::{ip, is_mac};
use crate::{Intern, Interner, Mac, Name, Parsed};
use serde::Serialize;
use std::borrow::Cow;
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
    pub flags: FdbFlags,
    /// The line as printed, kept only when [`FdbEntry::render`] does not
    /// give it back exactly (see [`FdbEntry::text`]).
    pub verbatim: Option<Name>,
    /// The line ended in one space after what [`FdbEntry::render`] prints
    /// (iproute2 leaves one after flags and some values).
    pub spaced: bool,
}

impl Intern for FdbEntry {
    fn intern(&mut self, names: &mut Interner) {
        self.dev.intern(names);
        self.master.intern(names);
        if let Some(other) = &mut self.flags.other {
            for f in other.iter_mut() {
                f.intern(names);
            }
        }
        self.verbatim.intern(names);
    }
}

impl FdbEntry {
    /// The line as printed: kept when it was not in iproute2's plain form,
    /// else printed again from the record (the same text, byte for byte).
    pub fn text(&self) -> Cow<'_, str> {
        super::text_of(&self.verbatim, self.spaced, |out| self.render(out))
    }

    /// Appends the entry as `bridge fdb show` prints it in its plain form:
    /// `MAC[ dev DEV][ vlan V][ dst IP][ master M][ FLAG...]`.
    pub fn render(&self, out: &mut String) {
        super::push_mac(out, self.mac);
        if let Some(d) = &self.dev {
            out.push_str(" dev ");
            out.push_str(d);
        }
        if let Some(v) = self.vlan {
            out.push_str(" vlan ");
            super::push_num(out, u32::from(v));
        }
        if let Some(d) = self.dst {
            out.push_str(" dst ");
            super::push_ip(out, d);
        }
        // Flags, then the bridge, then the state (and any other word).
        let mut words = self.flags.iter().peekable();
        while let Some(f) = words.next_if(|f| BEFORE_MASTER.contains(f)) {
            out.push(' ');
            out.push_str(f);
        }
        if let Some(m) = &self.master {
            out.push_str(" master ");
            out.push_str(m);
        }
        for f in words {
            out.push(' ');
            out.push_str(f);
        }
    }

    /// Whether the entry is `permanent` (or `static`).
    pub fn permanent(&self) -> bool {
        self.flags.contains("permanent") || self.flags.contains("static")
    }
}

/// The flags and states of an entry: those iproute2 prints as a set, in
/// the order it prints them, any other word after them as read.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FdbFlags {
    known: super::words::WordSet<FdbFlagWords>,
    other: Option<Box<[Name]>>,
}

/// The words [`FdbFlags`] holds as bits.
pub struct FdbFlagWords;

impl super::words::Words for FdbFlagWords {
    const LIST: &'static [&'static str] = FLAGS;
}

/// Flags and states in the order `bridge fdb` prints them: the flags
/// before `master`, the others after it.
const FLAGS: &[&str] = &[
    "self",
    "router",
    "extern_learn",
    "offload",
    "sticky",
    "permanent",
    "static",
    "dynamic",
];

/// The flags `bridge fdb` prints before `master BRIDGE`.
const BEFORE_MASTER: &[&str] = &["self", "router", "extern_learn", "offload"];

impl FdbFlags {
    /// Adds a flag.
    pub fn push(&mut self, flag: &str) {
        if !self.known.insert(flag) {
            let mut other = self.other.take().map(Vec::from).unwrap_or_default();
            other.push(Name::from(flag));
            self.other = Some(other.into_boxed_slice());
        }
    }

    /// Whether the flag is set.
    pub fn contains(&self, flag: &str) -> bool {
        self.iter().any(|f| f == flag)
    }

    /// The flags: the known ones in iproute2's order, then the others.
    pub fn iter<'s>(&'s self) -> impl Iterator<Item = &'s str> + 's {
        self.known
            .iter()
            .map(|w| -> &'s str { w })
            .chain(self.other.iter().flat_map(|o| o.iter().map(Name::as_str)))
    }

    /// Whether none is set.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty() && self.other.is_none()
    }
}

impl std::fmt::Debug for FdbFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for FdbFlags {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// Words `bridge fdb` prints as keys or flags: after a doubled `dev` they
/// mean the device is literally named `dev`.
const KEYWORDS: &[&str] = &[
    "dev",
    "dst",
    "vlan",
    "master",
    "port",
    "vni",
    "via",
    "src_vni",
    "nhid",
    "state",
    "used",
    "self",
    "router",
    "permanent",
    "static",
    "dynamic",
    "extern_learn",
    "offload",
    "sticky",
];

/// Parses `bridge fdb show`, with or without `-s` statistics (`used N/M`).
/// Some iproute2 versions print `dev dev eth0` with `-d`; that is read as
/// `dev eth0`.
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
        flags: FdbFlags::default(),
        verbatim: None,
        spaced: false,
    };
    let mut i = 1;
    while i < toks.len() {
        let val = toks.get(i + 1).copied();
        match toks[i] {
            // `dev dev eth0` (iproute2 4.x with `-d`), unless the device is named `dev`.
            "dev"
                if val == Some("dev") && toks.get(i + 2).is_some_and(|d| !KEYWORDS.contains(d)) =>
            {
                i += 1;
                r.dev = Some(Name::from(*toks.get(i + 1)?));
            }
            "dev" => r.dev = Some(Name::from(val?)),
            "used" | "updated" => {
                val?;
            }
            "dst" => r.dst = Some(ip(val?)?),
            "vlan" => r.vlan = val?.parse().ok(),
            "master" => r.master = Some(Name::from(val?)),
            "port" | "vni" | "via" | "src_vni" | "nhid" | "state" => {}
            flag if flag.chars().all(|c| c.is_ascii_lowercase() || c == '_') => {
                r.flags.push(flag);
                i += 1;
                continue;
            }
            _ => return None,
        }
        i += 2;
    }
    (r.verbatim, r.spaced) = super::verbatim(line, |out| r.render(out));
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

    #[test]
    fn doubled_dev_and_statistics() {
        let p = parse_fdb(
            "01:00:5e:00:00:01 dev dev eth0 self permanent\n33:33:ff:2a:75:82 dev dev eth0 self permanent\n0a:58:0a:f4:01:02 dev veth1 used 12/34 master cni0\n33:33:00:00:00:01 dev dev self permanent\n",
        );
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.records.len(), 4);
        assert_eq!(p.records[0].dev.as_deref(), Some("eth0"));
        assert_eq!(
            p.records[0].flags.iter().collect::<Vec<_>>(),
            vec!["self", "permanent"]
        );
        assert!(p.records[1].permanent());
        assert_eq!(p.records[2].dev.as_deref(), Some("veth1"));
        assert_eq!(p.records[2].master.as_deref(), Some("cni0"));
        assert!(p.records[2].flags.is_empty());
        // A device named `dev`.
        assert_eq!(p.records[3].dev.as_deref(), Some("dev"));
        assert_eq!(
            p.records[3].flags.iter().collect::<Vec<_>>(),
            vec!["self", "permanent"]
        );
    }

    proptest::proptest! {
        /// A doubled `dev` and `used` statistics read as the plain line does.
        #[test]
        fn doubled_dev_reads_as_single(
            mac in proptest::array::uniform6(proptest::prelude::any::<u8>()),
            dev in "(eth|ens|veth|cni|flannel\\.)[0-9]{1,2}",
            used in proptest::option::of((0u32..9999, 0u32..9999)),
            flags in proptest::sample::subsequence(vec!["self", "permanent"], 0..=2),
        ) {
            let mac = Mac(mac);
            let flags = flags.join(" ");
            let stats = used.map(|(a, b)| format!(" used {a}/{b}")).unwrap_or_default();
            let plain = parse_fdb(&format!("{mac} dev {dev} {flags}"));
            let doubled = parse_fdb(&format!("{mac} dev dev {dev}{stats} {flags}"));
            proptest::prop_assert!(doubled.diagnostics.is_empty(), "{:?}", doubled.diagnostics);
            proptest::prop_assert_eq!(plain.records.len(), 1);
            proptest::prop_assert_eq!(doubled.records.len(), 1);
            let (a, b) = (&plain.records[0], &doubled.records[0]);
            proptest::prop_assert_eq!((a.mac, &a.dev, &a.flags), (b.mac, &b.dev, &b.flags));
        }
    }
}
