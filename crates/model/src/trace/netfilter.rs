//! Walks a packet through the chains of one `iptables-save` the way the
//! kernel would: rules in order, jumps, gotos and returns, a built-in
//! chain's policy at its end. A match kdiag cannot evaluate offline makes
//! the outcome *unknown* (with the rule and why), never a guess; a
//! `statistic` match splits the walk into both outcomes.

use super::{Packet, Proto, ev};
use crate::inventory::Evidence;
use kdiag_parse::iptables::net;
use kdiag_parse::iptables::{IptablesSave, Rule, RuleOption};
use rustc_hash::FxHashMap as HashMap;
use std::net::{IpAddr, SocketAddr};

/// Jumps followed before a walk gives up (a loop in the rules).
const MAX_DEPTH: usize = 32;
/// Branches one walk may split into (`statistic` matches).
const MAX_BRANCHES: usize = 64;

/// How a walk through a table ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Accepted, or fell through to an `ACCEPT` policy, or ran off the end
    /// of the hook's chain (nat chains change nothing then).
    Accept,
    /// Dropped or rejected by this target.
    Drop(&'static str),
    /// `DNAT --to-destination`.
    Dnat(SocketAddr),
    /// A match or target kdiag cannot evaluate offline.
    Unknown(String),
}

/// One way a walk can go: the rules it matched, its outcome and the packet
/// as it leaves (marks set, DNAT applied).
#[derive(Debug, Clone)]
pub struct Walk<'a> {
    /// The rules that matched, in order, and the policy when it decided,
    /// as (line, text) of the ruleset's file: [`Walk::evidence`] makes
    /// evidence of them only for a hop that is kept.
    pub lines: Vec<(u32, &'a str)>,
    /// How it ended.
    pub outcome: Outcome,
    /// The packet after the walk.
    pub packet: Packet,
}

impl Walk<'_> {
    /// The lines the walk read, as evidence from `file`.
    pub fn evidence(&self, file: &str) -> Vec<Evidence> {
        self.lines.iter().map(|(l, t)| ev(file, *l, t)).collect()
    }
}

/// One node's `iptables-save`, indexed for walking: each chain's rules in
/// order, with their `-s`/`-d` read once (most rules of a large
/// `KUBE-SERVICES` are told apart by `-d` alone).
pub struct Ruleset<'a> {
    save: &'a IptablesSave,
    file: &'a str,
    chains: HashMap<(&'a str, &'a str), Vec<Compiled<'a>>>,
    /// Per large chain: the rules with each `-d` host address, and the rest.
    by_dst: HashMap<(&'a str, &'a str), DstIndex>,
}

/// A chain's rules by `-d` host address (their positions), and the
/// positions of the others.
type DstIndex = (HashMap<IpAddr, Vec<usize>>, Vec<usize>);

/// Chains longer than this are indexed by destination.
const INDEX_AFTER: usize = 32;

/// A rule of a chain (its `-d` and `-s` networks were read with it, once
/// for every node that prints it).
struct Compiled<'a> {
    rule: &'a Rule,
}

impl<'a> Ruleset<'a> {
    /// The file the rules were read from.
    pub fn file(&self) -> &'a str {
        self.file
    }

    /// Indexes one `iptables-save` (read from `file`).
    pub fn new(save: &'a IptablesSave, file: &'a str) -> Ruleset<'a> {
        let mut chains: HashMap<(&str, &str), Vec<Compiled>> = HashMap::default();
        for c in &save.chains {
            chains
                .entry((c.table.as_deref().unwrap_or_default(), c.name.as_str()))
                .or_default();
        }
        for rule in &save.rules {
            chains
                .entry((
                    rule.table.as_deref().unwrap_or_default(),
                    rule.chain.as_str(),
                ))
                .or_default()
                .push(Compiled { rule });
        }
        // Large chains (kube-proxy's KUBE-SERVICES: a rule per Service port)
        // are indexed by their `-d` host address.
        let by_dst = chains
            .iter()
            .filter(|(_, rules)| rules.len() > INDEX_AFTER)
            .map(|(k, rules)| {
                let mut exact: HashMap<IpAddr, Vec<usize>> = HashMap::default();
                let mut other = Vec::new();
                for (i, c) in rules.iter().enumerate() {
                    match c.rule.dst_net {
                        Some((n, false)) if n.prefix_len() == n.max_prefix_len() => {
                            exact.entry(n.addr()).or_default().push(i);
                        }
                        _ => other.push(i),
                    }
                }
                (*k, (exact, other))
            })
            .collect();
        Ruleset {
            save,
            file,
            chains,
            by_dst,
        }
    }
}

/// Walks `packet` through `chain` of `table` (a built-in chain: its policy
/// applies at its end). Returns every way it can go.
pub fn walk<'a>(rs: &Ruleset<'a>, table: &str, chain: &str, packet: &Packet) -> Vec<Walk<'a>> {
    let save = rs.save;
    let mut out = Vec::new();
    let start = Walk {
        lines: Vec::new(),
        outcome: Outcome::Accept,
        packet: packet.clone(),
    };
    let mut ctx = Ctx {
        rs,
        table,
        out: &mut out,
    };
    match ctx.chain(chain, start, 0) {
        Flow::Continue(mut w) => {
            // Off the end of a built-in chain: its policy.
            match save.policy(table, chain) {
                Some(c) if c.policy.as_deref().is_some_and(|p| p == "DROP") => {
                    w.lines.push((c.line, &c.text));
                    w.outcome = Outcome::Drop("policy DROP");
                }
                _ => w.outcome = Outcome::Accept,
            }
            ctx.out.push(w);
        }
        Flow::Done(w) => ctx.out.push(w),
    }
    out
}

struct Ctx<'r, 'a, 'o> {
    rs: &'r Ruleset<'a>,
    table: &'r str,
    out: &'o mut Vec<Walk<'a>>,
}

/// Whether a rule's `-s`/`-d`, read once, already rule the packet out.
fn excluded(c: &Compiled<'_>, p: &Packet) -> bool {
    c.rule
        .dst_net
        .is_some_and(|(n, neg)| n.contains(&p.dst) == neg)
        || c.rule
            .src_net
            .is_some_and(|(n, neg)| n.contains(&p.src) == neg)
}

/// Where a walk stands after a chain.
enum Flow<'a> {
    /// Fell off the end of the chain, or `RETURN`: the caller goes on.
    Continue(Walk<'a>),
    /// A terminating target decided.
    Done(Walk<'a>),
}

/// Whether one rule's matches hold: yes, no, or unknown with the reason.
enum Matches {
    Yes,
    No,
    Unknown(String),
}

impl<'a> Ctx<'_, 'a, '_> {
    fn chain(&mut self, chain: &str, mut w: Walk<'a>, depth: usize) -> Flow<'a> {
        if depth > MAX_DEPTH {
            w.outcome = Outcome::Unknown(format!(
                "more than {MAX_DEPTH} nested jumps (a loop?) at chain {chain}"
            ));
            return Flow::Done(w);
        }
        let rs = self.rs;
        let all: &[Compiled<'a>] = rs
            .chains
            .get(&(self.table, chain))
            .map(Vec::as_slice)
            .unwrap_or_default();
        // The rules that may match, in order: in an indexed chain, those for
        // this destination and those without a host `-d`, merged by position.
        match rs.by_dst.get(&(self.table, chain)) {
            None => self.rules(all.iter(), w, depth),
            Some((exact, other)) => {
                let mine = exact
                    .get(&w.packet.dst)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let (mut a, mut b) = (mine.iter().peekable(), other.iter().peekable());
                let merged = std::iter::from_fn(move || match (a.peek(), b.peek()) {
                    (Some(x), Some(y)) if x < y => a.next(),
                    (Some(_), Some(_)) | (None, Some(_)) => b.next(),
                    (Some(_), None) => a.next(),
                    (None, None) => None,
                });
                self.rules(merged.filter_map(|i| all.get(*i)), w, depth)
            }
        }
    }

    /// Walks the packet through `rules` in order. A `statistic` match (one
    /// of the endpoints) splits the walk: the branch that takes the rule is
    /// followed to its end and kept, the one that does not goes on here.
    fn rules<'r>(
        &mut self,
        rules: impl Iterator<Item = &'r Compiled<'a>>,
        mut w: Walk<'a>,
        depth: usize,
    ) -> Flow<'a>
    where
        'a: 'r,
    {
        for c in rules {
            if excluded(c, &w.packet) {
                continue;
            }
            let rule = c.rule;
            match matches(rule, &w.packet) {
                Matches::No => continue,
                Matches::Unknown(why) => {
                    w.lines.push((rule.line, &rule.text));
                    w.outcome = Outcome::Unknown(why);
                    return Flow::Done(w);
                }
                Matches::Yes => {}
            }
            if probability(rule).is_some_and(|p| p < 1.0) {
                if self.out.len() + 2 > MAX_BRANCHES {
                    w.lines.push((rule.line, &rule.text));
                    w.outcome = Outcome::Unknown(format!("more than {MAX_BRANCHES} branches"));
                    return Flow::Done(w);
                }
                let mut taken = w.clone();
                taken.lines.push((rule.line, &rule.text));
                let flow = self.target(rule, taken, depth);
                self.finish(flow);
                continue;
            }
            w.lines.push((rule.line, &rule.text));
            match self.target(rule, w, depth) {
                Flow::Continue(next) => w = next,
                other => return other,
            }
        }
        Flow::Continue(w)
    }

    /// A branch that split off ends here: kube-proxy's branches all end in
    /// a DNAT; one that merely returns is taken as accepted.
    fn finish(&mut self, flow: Flow<'a>) {
        match flow {
            Flow::Continue(mut w) => {
                w.outcome = Outcome::Accept;
                self.out.push(w);
            }
            Flow::Done(w) => self.out.push(w),
        }
    }

    fn target(&mut self, rule: &'a Rule, mut w: Walk<'a>, depth: usize) -> Flow<'a> {
        let Some(target) = rule.target.as_deref() else {
            // No target: a counting rule.
            return Flow::Continue(w);
        };
        match target {
            "ACCEPT" => {
                w.outcome = Outcome::Accept;
                Flow::Done(w)
            }
            "DROP" => {
                w.outcome = Outcome::Drop("DROP");
                Flow::Done(w)
            }
            "REJECT" => {
                w.outcome = Outcome::Drop("REJECT");
                Flow::Done(w)
            }
            "RETURN" => Flow::Continue(w),
            "DNAT" => {
                let to =
                    value(rule, "--to-destination").and_then(|v| destination(v, w.packet.dport));
                match to {
                    Some(to) => {
                        w.packet.dst = to.ip();
                        w.packet.dport = Some(to.port());
                        w.packet.dnat = true;
                        w.outcome = Outcome::Dnat(to);
                    }
                    None => {
                        w.outcome = Outcome::Unknown(
                            "a DNAT whose --to-destination kdiag cannot read".into(),
                        );
                    }
                }
                Flow::Done(w)
            }
            "MARK" => {
                if let Some(v) = value(rule, "--set-xmark").or_else(|| value(rule, "--set-mark")) {
                    match mark(v) {
                        Some((val, mask)) => {
                            w.packet.mark = (w.packet.mark & !mask) ^ val;
                        }
                        None => {
                            w.outcome =
                                Outcome::Unknown(format!("a MARK value kdiag cannot read: {v}"));
                            return Flow::Done(w);
                        }
                    }
                }
                Flow::Continue(w)
            }
            // Targets that change nothing the path depends on.
            "LOG" | "NFLOG" | "CT" | "CONNMARK" | "MASQUERADE" | "SNAT" | "TCPMSS" | "NOTRACK"
            | "CHECKSUM" | "TOS" | "DSCP" | "TRACE" => Flow::Continue(w),
            chain if self.rs.chains.contains_key(&(self.table, chain)) => {
                let goto = rule
                    .options
                    .iter()
                    .any(|o| o.name == "-g" || o.name == "--goto");
                match self.chain(chain, w, depth + 1) {
                    // A goto returns to the caller's caller: the calling chain ends.
                    Flow::Continue(w) if goto => Flow::Done(Walk {
                        outcome: Outcome::Accept,
                        ..w
                    }),
                    other => other,
                }
            }
            other => {
                w.outcome = Outcome::Unknown(format!(
                    "target {other} is neither a chain of the {} table nor one kdiag models",
                    self.table
                ));
                Flow::Done(w)
            }
        }
    }
}

fn value<'r>(rule: &'r Rule, name: &str) -> Option<&'r str> {
    rule.options
        .iter()
        .find(|o| o.name == name)
        .and_then(|o| o.values.first())
        .map(|v| v.as_str())
}

/// `--probability` of a `statistic` match (`--mode nth` is not modelled:
/// treated as a split too).
fn probability(rule: &Rule) -> Option<f64> {
    let stat = rule.options.iter().any(|o| {
        (o.name == "-m" || o.name == "--match")
            && o.values.first().is_some_and(|v| v == "statistic")
    });
    if !stat {
        return None;
    }
    Some(
        value(rule, "--probability")
            .and_then(|p| p.parse::<f64>().ok())
            .unwrap_or(0.5),
    )
}

/// `10.244.1.3:53`, `[fd00::3]:53` or a bare address (the port unchanged).
fn destination(v: &str, port: Option<u16>) -> Option<SocketAddr> {
    if let Ok(s) = v.parse::<SocketAddr>() {
        return Some(s);
    }
    let ip: IpAddr = v
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    Some(SocketAddr::new(ip, port.unwrap_or(0)))
}

/// `0x4000/0x4000` (value/mask), or a value alone (mask all ones).
fn mark(v: &str) -> Option<(u32, u32)> {
    let num = |s: &str| {
        s.strip_prefix("0x")
            .map_or_else(|| s.parse().ok(), |h| u32::from_str_radix(h, 16).ok())
    };
    match v.split_once('/') {
        Some((a, m)) => Some((num(a)?, num(m)?)),
        None => Some((num(v)?, u32::MAX)),
    }
}

/// Whether `v` (a port, `a:b` range or `a,b,c` list) holds `port`.
fn port_in(v: &str, port: u16) -> Option<bool> {
    let mut any = false;
    for part in v.split(',') {
        let hit = match part.split_once(':') {
            Some((a, b)) => {
                let a: u16 = if a.is_empty() { 0 } else { a.parse().ok()? };
                let b: u16 = if b.is_empty() {
                    u16::MAX
                } else {
                    b.parse().ok()?
                };
                (a..=b).contains(&port)
            }
            None => part.parse::<u16>().ok()? == port,
        };
        any |= hit;
    }
    Some(any)
}

/// Whether an interface pattern (`eth0`, `cali+`) names `dev`.
fn iface(pattern: &str, dev: &str) -> bool {
    match pattern.strip_suffix('+') {
        Some(prefix) => dev.starts_with(prefix),
        None => pattern == dev,
    }
}

/// Evaluates every match of a rule against the packet. A known match that
/// fails decides `No` even when another match is unknown.
fn matches(rule: &Rule, p: &Packet) -> Matches {
    let mut unknown: Option<String> = None;
    let mut module: Option<&str> = None;
    let mut no = false;
    for o in &rule.options {
        let v = o.values.first().map(|v| v.as_str());
        let res: Option<bool> = match o.name.as_str() {
            "-m" | "--match" => {
                module = v;
                match v {
                    // Modules whose options are checked below, or that
                    // match everything a first packet is.
                    Some(
                        "comment" | "tcp" | "udp" | "sctp" | "conntrack" | "state" | "mark"
                        | "statistic" | "multiport" | "addrtype" | "icmp" | "limit" | "nfacct",
                    ) => continue,
                    Some(m) => {
                        unknown.get_or_insert_with(|| {
                            format!("the {m} match is not modelled offline")
                        });
                        continue;
                    }
                    None => continue,
                }
            }
            "-j" | "--jump" | "-g" | "--goto" => continue,
            "-s" | "--source" => v.and_then(net).map(|n| n.contains(&p.src)),
            "-d" | "--destination" => v.and_then(net).map(|n| n.contains(&p.dst)),
            "-p" | "--protocol" => {
                v.map(|v| Proto::of(v).is_some_and(|x| x == p.proto) || v == "all")
            }
            "-i" | "--in-interface" => match (&p.in_dev, v) {
                (Some(d), Some(v)) => Some(iface(v, d)),
                _ => None,
            },
            "-o" | "--out-interface" => match (&p.out_dev, v) {
                (Some(d), Some(v)) => Some(iface(v, d)),
                _ => None,
            },
            "--dport" | "--destination-port" | "--dports" | "--destination-ports" => {
                match (p.dport, v) {
                    (Some(port), Some(v)) => port_in(v, port),
                    _ => None,
                }
            }
            "--sport" | "--source-port" | "--sports" | "--source-ports" => match (p.sport, v) {
                (Some(port), Some(v)) => port_in(v, port),
                _ => None,
            },
            "--ctstate" | "--state" => v.map(|states| {
                states.split(',').any(|s| match s {
                    "NEW" => true,
                    "DNAT" => p.dnat,
                    _ => false,
                })
            }),
            "--mark" => v.and_then(mark).map(|(val, mask)| p.mark & mask == val),
            "--dst-type" => match v {
                Some("LOCAL") => p.local.as_ref().map(|locals| locals.contains(&p.dst)),
                _ => None,
            },
            "--src-type" => match v {
                Some("LOCAL") => p.local.as_ref().map(|l| l.contains(&p.src)),
                _ => None,
            },
            // Options of matches that hold for any packet, or of targets.
            "--comment" | "--mode" | "--probability" | "--every" | "--packet" | "--nfacct-name"
            | "--limit" | "--limit-burst" | "--to-destination" | "--set-xmark" | "--set-mark"
            | "--random-fully" | "--random" | "--persistent" | "--reject-with" | "--to-source"
            | "--log-prefix" | "--log-level" | "--icmp-type" | "--tcp-flags" | "--syn"
            | "--nflog-group" | "--nflog-prefix" | "--notrack" => continue,
            other => {
                unknown.get_or_insert_with(|| {
                    format!(
                        "{other}{} is not modelled offline",
                        module.map(|m| format!(" (-m {m})")).unwrap_or_default()
                    )
                });
                continue;
            }
        };
        match res {
            Some(hit) if hit == o.negated => no = true,
            Some(_) => {}
            None => {
                unknown.get_or_insert_with(|| describe(o, p));
            }
        }
    }
    if no {
        Matches::No
    } else if let Some(why) = unknown {
        Matches::Unknown(why)
    } else {
        Matches::Yes
    }
}

fn describe(o: &RuleOption, p: &Packet) -> String {
    match o.name.as_str() {
        "-i" | "--in-interface" if p.in_dev.is_none() => {
            "the packet's input interface is not known here".into()
        }
        "-o" | "--out-interface" if p.out_dev.is_none() => {
            "the output interface is not decided yet".into()
        }
        "--dst-type" | "--src-type" => {
            "the node's own addresses were not collected (ip addr)".into()
        }
        name => format!(
            "{name} {} cannot be evaluated",
            o.values
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kdiag_parse::iptables::parse_iptables_save;

    fn run(text: &str, table: &str, chain: &str, p: &Packet) -> Vec<Walk<'static>> {
        // Leaked: the walks borrow the rules, and a test is short.
        let save = Box::leak(Box::new(parse_iptables_save(text)));
        walk(&Ruleset::new(save, "iptables-save.txt"), table, chain, p)
    }

    fn pkt(dst: &str, port: u16) -> Packet {
        Packet {
            src: "10.244.1.5".parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
            dst: dst.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
            proto: Proto::Udp,
            sport: Some(40000),
            dport: Some(port),
            mark: 0,
            dnat: false,
            in_dev: Some("cni0".into()),
            out_dev: None,
            local: Some(vec!["172.20.0.12".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))].into()),
        }
    }

    const NAT: &str = "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n:KUBE-SVC-DNS - [0:0]\n:KUBE-SEP-A - [0:0]\n:KUBE-SEP-B - [0:0]\n:KUBE-NODEPORTS - [0:0]\n-A PREROUTING -j KUBE-SERVICES\n-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m udp --dport 53 -j KUBE-SVC-DNS\n-A KUBE-SVC-DNS -m statistic --mode random --probability 0.5 -j KUBE-SEP-A\n-A KUBE-SVC-DNS -j KUBE-SEP-B\n-A KUBE-SEP-A -s 10.244.1.3/32 -j KUBE-MARK-MASQ\n-A KUBE-SEP-A -p udp -m udp -j DNAT --to-destination 10.244.1.3:53\n-A KUBE-SEP-B -s 10.244.2.4/32 -j KUBE-MARK-MASQ\n-A KUBE-SEP-B -p udp -m udp -j DNAT --to-destination 10.244.2.4:53\n-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\nCOMMIT\n";

    #[test]
    fn a_service_splits_into_one_dnat_per_endpoint() {
        let walks = run(NAT, "nat", "PREROUTING", &pkt("10.96.0.10", 53));
        let to: Vec<String> = walks
            .iter()
            .map(|w| match &w.outcome {
                Outcome::Dnat(s) => s.to_string(),
                o => format!("{o:?}"),
            })
            .collect();
        assert_eq!(to, vec!["10.244.1.3:53", "10.244.2.4:53"]);
        // The DNAT rule is the last evidence of each branch.
        assert!(
            walks[0]
                .lines
                .last()
                .is_some_and(|(_, text)| text.contains("10.244.1.3:53"))
        );
        assert!(walks.iter().all(|w| w.packet.dnat));
    }

    #[test]
    fn an_address_no_rule_names_passes_through_nat_unchanged() {
        let walks = run(NAT, "nat", "PREROUTING", &pkt("10.244.2.9", 8080));
        assert_eq!(walks.len(), 1);
        assert_eq!(walks[0].outcome, Outcome::Accept);
        assert_eq!(walks[0].packet.dst.to_string(), "10.244.2.9");
    }

    #[test]
    fn marks_set_on_the_way_are_seen_by_later_matches() {
        let text = "*filter\n:FORWARD DROP [0:0]\n:X - [0:0]\n-A FORWARD -j X\n-A FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT\n-A X -j MARK --set-xmark 0x4000/0x4000\nCOMMIT\n";
        let walks = run(text, "filter", "FORWARD", &pkt("10.244.2.9", 80));
        assert_eq!(walks[0].outcome, Outcome::Accept);
        let text = "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT\nCOMMIT\n";
        let walks = run(text, "filter", "FORWARD", &pkt("10.244.2.9", 80));
        assert_eq!(walks[0].outcome, Outcome::Drop("policy DROP"));
        assert!(walks[0].lines[0].1.starts_with(":FORWARD DROP"));
    }

    #[test]
    fn a_vxlan_drop_and_an_unknown_match() {
        let text =
            "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p udp -m udp --dport 8472 -j DROP\nCOMMIT\n";
        let w = run(text, "filter", "INPUT", &pkt("172.20.0.12", 8472));
        assert_eq!(w[0].outcome, Outcome::Drop("DROP"));
        let w = run(text, "filter", "INPUT", &pkt("172.20.0.12", 8473));
        assert_eq!(w[0].outcome, Outcome::Accept);
        let text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m set --match-set BLOCKED src -j DROP\n-A INPUT -p tcp -m set --match-set X src -j DROP\nCOMMIT\n";
        let w = run(text, "filter", "INPUT", &pkt("172.20.0.12", 53));
        match &w[0].outcome {
            Outcome::Unknown(why) => assert!(why.contains("set"), "{why}"),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn a_jump_loop_ends_unknown() {
        let text = "*filter\n:INPUT ACCEPT [0:0]\n:A - [0:0]\n-A INPUT -j A\n-A A -j A\nCOMMIT\n";
        let w = run(text, "filter", "INPUT", &pkt("1.2.3.4", 1));
        assert!(matches!(w[0].outcome, Outcome::Unknown(_)));
    }

    #[test]
    fn a_long_chain_indexed_by_destination_keeps_rule_order() {
        let mut text = String::from(
            "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j KUBE-SERVICES\n",
        );
        for k in 0..40 {
            if k == 20 {
                text.push_str("-A KUBE-SERVICES -p udp -m udp --dport 9999 -j DROP\n");
            }
            text.push_str(&format!(
                "-A KUBE-SERVICES -d 10.96.1.{k}/32 -p udp -m udp --dport 9999 -j DNAT --to-destination 10.244.1.{k}:9999\n"
            ));
        }
        text.push_str("COMMIT\n");
        // Before the unindexed rule: the exact rule wins.
        let w = run(&text, "nat", "PREROUTING", &pkt("10.96.1.5", 9999));
        assert_eq!(
            w[0].outcome,
            Outcome::Dnat(
                "10.244.1.5:9999"
                    .parse()
                    .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)))
            )
        );
        // After it: the unindexed rule comes first.
        let w = run(&text, "nat", "PREROUTING", &pkt("10.96.1.30", 9999));
        assert_eq!(w[0].outcome, Outcome::Drop("DROP"));
        // An address no rule names falls through.
        let w = run(&text, "nat", "PREROUTING", &pkt("10.96.9.9", 53));
        assert_eq!(w[0].outcome, Outcome::Accept);
    }

    #[test]
    fn port_ranges_and_lists() {
        assert_eq!(port_in("53", 53), Some(true));
        assert_eq!(port_in("1000:2000", 1500), Some(true));
        assert_eq!(port_in("80,443", 8080), Some(false));
        assert_eq!(port_in(":1024", 53), Some(true));
        assert_eq!(port_in("x", 1), None);
    }
}
