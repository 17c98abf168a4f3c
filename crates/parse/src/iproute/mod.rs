//! iproute2 text output: `ip route`, `ip neigh`, `bridge fdb`, `ip addr`
//! and `ip -d link`. Lines that are not command output (shell prompts,
//! `...` elisions, headings) come back as diagnostics, never as records.
//! The tools' own error messages (`RTNETLINK answers: ...`, `Cannot open
//! netlink socket: ...`, see [`crate::lines::is_tool_stderr`]) are skipped.

mod fdb;
mod link;
mod neigh;
mod route;
mod words;

pub use fdb::{FdbEntry, FdbFlagWords, FdbFlags, parse_fdb};
pub use link::{IfAddr, Interface, VxlanInfo, parse_links};
pub use neigh::{Neighbor, NudStateWords, NudStates, parse_neighbors};
pub use route::{Route, RouteFlagWords, RouteFlags, RouteMore, parse_routes};
pub use words::{WordSet, Words};

use crate::Name;
use std::cell::RefCell;
use std::net::IpAddr;

thread_local! {
    /// Where [`verbatim`] prints a record again, reused line after line.
    static RENDERED: RefCell<String> = const { RefCell::new(String::new()) };
}

/// How a record's line is given back: printed again from the record
/// (`render`), with the space iproute2 leaves after its last word or
/// without, or — when neither is the line byte for byte — the line as
/// kept. A table of a million plain lines holds no text, and every
/// evidence line is still the one the node printed.
pub(crate) fn verbatim(line: &str, render: impl FnOnce(&mut String)) -> (Option<Name>, bool) {
    RENDERED.with_borrow_mut(|buf| {
        buf.clear();
        render(buf);
        match line.strip_prefix(buf.as_str()) {
            Some("") => (None, false),
            Some(" ") => (None, true),
            _ => (Some(Name::from(line)), false),
        }
    })
}

/// Appends a number in decimal.
pub(crate) fn push_num(out: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

/// Appends an address as iproute2 prints it (IPv4 without the formatting
/// machinery: a million of them are printed to check lines).
pub(crate) fn push_ip(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, o) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_num(out, u32::from(o));
            }
        }
        IpAddr::V6(v6) => {
            use std::fmt::Write;
            let _ = write!(out, "{v6}");
        }
    }
}

/// Appends a MAC address (lowercase, colon-separated).
pub(crate) fn push_mac(out: &mut String, mac: crate::Mac) {
    // Only ASCII hex digits and colons.
    out.push_str(std::str::from_utf8(&mac.ascii()).unwrap_or_default());
}

/// A record's text from what [`verbatim`] decided.
pub(crate) fn text_of<'a>(
    verbatim: &'a Option<Name>,
    spaced: bool,
    render: impl FnOnce(&mut String),
) -> std::borrow::Cow<'a, str> {
    match verbatim {
        Some(t) => std::borrow::Cow::Borrowed(t.as_str()),
        None => {
            let mut out = String::new();
            render(&mut out);
            if spaced {
                out.push(' ');
            }
            std::borrow::Cow::Owned(out)
        }
    }
}

/// Runs a one-record-per-line parser over every non-blank line; lines it
/// cannot read become diagnostics saying what they look like instead.
pub(crate) fn each_line<T>(
    text: &str,
    parse_one: impl Fn(u32, &str) -> Option<T>,
) -> crate::Parsed<T> {
    let mut out = crate::Parsed::default();
    for (n, line) in crate::diag::numbered(text) {
        // A tool's error message never reads as a record (its first word is
        // no address), so it is looked for only in lines that do not.
        match parse_one(n, line) {
            Some(r) => out.push(r),
            None if line.trim().is_empty() || crate::lines::is_tool_stderr(line) => {}
            None => out.problem(n, not_output(line)),
        }
    }
    out
}

/// A MAC address as iproute2 prints it (lowercase, colon-separated).
pub(crate) fn is_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

pub(crate) fn ip(s: &str) -> Option<IpAddr> {
    s.parse().ok()
}

/// The reason a line is not output, for the diagnostic.
pub(crate) fn not_output(line: &str) -> String {
    let t = line.trim_start();
    if t.starts_with("...") {
        "elided output ('...'), not a record".into()
    } else if looks_like_prompt(t) {
        format!("shell prompt or command, not output: '{}'", clip(t))
    } else {
        format!("not recognised: '{}'", clip(t))
    }
}

/// A shell prompt line in a pasted transcript (`root@host:~# ip route`, `$ ip neigh`).
pub fn looks_like_prompt(t: &str) -> bool {
    t.starts_with("$ ")
        || t.starts_with("# ")
        || t.starts_with("```")
        || (t.contains('@') && (t.contains("$ ") || t.contains("# ")))
}

pub(crate) fn clip(s: &str) -> String {
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::sample::select;

    /// Key/value groups of a route after its destination, in the order
    /// iproute2 prints them.
    fn route_groups() -> impl Strategy<Value = Vec<String>> {
        (
            proptest::option::of(
                (1u8..255, 1u8..255).prop_map(|(a, b)| format!("via 10.{a}.{b}.1")),
            ),
            proptest::option::of(
                select(vec!["eth0", "cni0", "flannel.1"]).prop_map(|d| format!("dev {d}")),
            ),
            proptest::option::of(select(vec!["local", "100"]).prop_map(|t| format!("table {t}"))),
            proptest::option::of(
                select(vec!["kernel", "static", "bird"]).prop_map(|p| format!("proto {p}")),
            ),
            proptest::option::of(select(vec!["link", "host"]).prop_map(|s| format!("scope {s}"))),
            proptest::option::of((1u8..255).prop_map(|a| format!("src 172.16.0.{a}"))),
            proptest::option::of((0u32..5000).prop_map(|m| format!("metric {m}"))),
            proptest::sample::subsequence(vec!["onlink", "linkdown"], 0..=2),
        )
            .prop_map(|(via, dev, table, proto, scope, src, metric, flags)| {
                [via, dev, table, proto, scope, src, metric]
                    .into_iter()
                    .flatten()
                    .chain(flags.into_iter().map(str::to_owned))
                    .collect()
            })
    }

    /// A line from its words: canonical (single spaces, printed order) or
    /// not (words shuffled, spaces doubled, a trailing space).
    fn join(words: &[String], order: &[usize], doubled: &[bool], trailing: bool) -> String {
        let mut out = String::new();
        for (i, &at) in order.iter().enumerate() {
            if i > 0 {
                out.push_str(if doubled[i % doubled.len()] {
                    "  "
                } else {
                    " "
                });
            }
            out.push_str(&words[at]);
        }
        if trailing {
            out.push(' ');
        }
        out
    }

    /// What a parser gave for a line: each record's text and whether it
    /// kept it.
    type Read = Vec<(String, bool)>;

    fn read<T>(records: &[T], text: impl Fn(&T) -> (String, bool)) -> Read {
        records.iter().map(text).collect()
    }

    /// The checks every line syntax shares: the line in printed form (words
    /// in order, one space apart) is one record whose text is the line and
    /// which keeps no text when `plain`; with iproute2's trailing space the
    /// same; shuffled, with doubled spaces or a trailing one, any record
    /// read has the line as its text.
    fn forms(
        words: &[String],
        plain: bool,
        shuffle: proptest::sample::Index,
        doubled: &[bool],
        trailing: bool,
        parse: impl Fn(&str) -> Read,
    ) -> Result<(), TestCaseError> {
        let canonical: Vec<usize> = (0..words.len()).collect();
        let line = join(words, &canonical, &[false], false);
        let p = parse(&line);
        prop_assert_eq!(p.len(), 1);
        prop_assert_eq!(&p[0].0, &line);
        if plain {
            prop_assert!(p[0].1, "{line}");
        }
        let spaced = format!("{line} ");
        let s = parse(&spaced);
        prop_assert_eq!(&s[0].0, &spaced);
        prop_assert_eq!(s[0].1, p[0].1);
        let mut order = canonical;
        let n = order.len();
        if n > 1 {
            order.swap(1 + shuffle.index(n - 1), n - 1);
        }
        let other = join(words, &order, doubled, trailing);
        for (text, _) in parse(&other) {
            prop_assert_eq!(&text, &other);
        }
        Ok(())
    }

    proptest! {
        /// The quick printers print what `Display` does.
        #[test]
        fn quick_printers_match_display(
            n in any::<u32>(),
            v6 in any::<u128>(),
            mac in proptest::array::uniform6(any::<u8>()),
        ) {
            let mut out = String::new();
            push_num(&mut out, n);
            prop_assert_eq!(&out, &n.to_string());
            for ip in [IpAddr::from(std::net::Ipv4Addr::from(n)), IpAddr::from(std::net::Ipv6Addr::from(v6))] {
                out.clear();
                push_ip(&mut out, ip);
                prop_assert_eq!(&out, &ip.to_string());
            }
            out.clear();
            push_mac(&mut out, crate::Mac(mac));
            prop_assert_eq!(&out, &crate::Mac(mac).to_string());
        }

        /// Whatever form the line has, a route's text is that line, and a
        /// line in the printed form keeps no text.
        #[test]
        fn route_text_is_the_line(
            ty in proptest::option::of(select(vec!["local", "broadcast", "blackhole"])),
            dst in select(vec!["default", "10.244.3.0/24", "10.0.0.5", "fd00::/64", "0.0.0.0/0", "10.0.0.5/32"]),
            groups in route_groups(),
            shuffle in any::<proptest::sample::Index>(),
            doubled in proptest::collection::vec(any::<bool>(), 1..4),
            trailing in any::<bool>(),
        ) {
            let head: String = ty.map(|t| format!("{t} ")).unwrap_or_default() + dst;
            let mut words = vec![head];
            words.extend(groups);
            // `0.0.0.0/0` and `/32` are not how iproute2 prints them.
            let plain = !matches!(dst, "0.0.0.0/0" | "10.0.0.5/32");
            forms(&words, plain, shuffle, &doubled, trailing, |l| {
                read(&route::parse_routes(l).records, |r| (r.text().into_owned(), r.verbatim.is_none()))
            })?;
        }

        /// The same for neighbours.
        #[test]
        fn neighbor_text_is_the_line(
            ip in select(vec!["10.244.3.0", "fe80::1", "172.16.0.1"]),
            dev in proptest::option::of(select(vec!["eth0", "flannel.1"])),
            mac in proptest::option::of(proptest::array::uniform6(any::<u8>())),
            router in any::<bool>(),
            states in proptest::sample::subsequence(vec!["STALE", "NOARP", "PERMANENT"], 0..=2),
            shuffle in any::<proptest::sample::Index>(),
            doubled in proptest::collection::vec(any::<bool>(), 1..4),
            trailing in any::<bool>(),
        ) {
            let mut words = vec![ip.to_owned()];
            words.extend(dev.map(|d| format!("dev {d}")));
            words.extend(mac.map(|m| format!("lladdr {}", crate::Mac(m))));
            if router {
                words.push("router".into());
            }
            words.extend(states.into_iter().map(str::to_owned));
            forms(&words, true, shuffle, &doubled, trailing, |l| {
                read(&neigh::parse_neighbors(l).records, |r| (r.text().into_owned(), r.verbatim.is_none()))
            })?;
        }

        /// The same for FDB entries.
        #[test]
        fn fdb_text_is_the_line(
            mac in proptest::array::uniform6(any::<u8>()),
            dev in proptest::option::of(select(vec!["eth0", "flannel.1", "veth1"])),
            vlan in proptest::option::of(1u16..4095),
            dst in proptest::option::of(select(vec!["10.99.0.3", "fd00::3"])),
            master in proptest::option::of(select(vec!["cni0", "br0"])),
            flags in proptest::sample::subsequence(vec!["self", "extern_learn"], 0..=2),
            state in proptest::option::of(select(vec!["permanent", "static"])),
            shuffle in any::<proptest::sample::Index>(),
            doubled in proptest::collection::vec(any::<bool>(), 1..4),
            trailing in any::<bool>(),
        ) {
            let mut words = vec![crate::Mac(mac).to_string()];
            words.extend(dev.map(|d| format!("dev {d}")));
            words.extend(vlan.map(|v| format!("vlan {v}")));
            words.extend(dst.map(|d| format!("dst {d}")));
            words.extend(flags.into_iter().map(str::to_owned));
            words.extend(master.map(|m| format!("master {m}")));
            words.extend(state.map(str::to_owned));
            forms(&words, true, shuffle, &doubled, trailing, |l| {
                read(&fdb::parse_fdb(l).records, |r| (r.text().into_owned(), r.verbatim.is_none()))
            })?;
        }
    }
}
