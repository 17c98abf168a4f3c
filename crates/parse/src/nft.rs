//! `nft list ruleset` output, read into the same [`IptablesSave`] that
//! `iptables-save` parsing yields, so that whatever walks iptables chains
//! works on nftables hosts (iptables-nft, firewalld, hand-written rulesets)
//! and on kube-proxy's `nftables` mode.
//!
//! # Tables
//!
//! Tables of family `ip`, `ip6` and `inet` are translated; `arp`, `bridge`
//! and `netdev` have no iptables counterpart and come back as one
//! diagnostic each. An nft table named like an iptables table (`nat`,
//! `filter`, `mangle`, `raw`, `security`) keeps its name for all its
//! chains. Any other table (`table ip kube-proxy`, `table inet firewalld`)
//! is split by its base chains' declarations: `type nat` goes to `nat`,
//! `type filter` to `filter`, `type route` to `mangle`; a regular chain
//! goes to the table of every base chain that reaches it through
//! `jump`/`goto`/verdict maps (so a helper reached from both a nat and a
//! filter chain is written into both), and to `nat` when none reaches it.
//!
//! # Chains
//!
//! A base chain named like the iptables built-in chain of its hook
//! (`PREROUTING` on `hook prerouting`) is that built-in chain, with its
//! `policy`. Any other base chain (`nat-prerouting`) is entered from the
//! built-in chain of its hook by a synthesized `-j` rule carrying the base
//! chain's `type` line as evidence, the built-in chain being declared with
//! policy `ACCEPT` when nothing else declares it; a `policy drop` becomes a
//! final `-j DROP` rule of the chain, with the same evidence. When several
//! base chains share a hook their rules are ordered by priority, and a
//! built-in chain's drop policy is also written as a `-j DROP` rule ahead
//! of the base chains of a later priority, which it keeps packets from. (The
//! kernel runs each base chain on its own: an `accept` in an earlier one
//! only ends that one. Merged, an `accept` ends the walk.)
//!
//! # Rules
//!
//! Matches that iptables can say are translated into the options
//! `iptables-save` would print (`ip daddr 10.0.0.0/8` → `-d 10.0.0.0/8`,
//! `tcp dport { 80, 443 }` → `-p tcp -m multiport --dports 80,443`,
//! `ct state new` → `-m conntrack --ctstate NEW`, `fib daddr type local`
//! → `-m addrtype --dst-type LOCAL`, `meta mark & 0x4000 == 0x4000` → `-m
//! mark --mark 0x4000/0x4000`); statements into targets (`meta mark set
//! mark or 0x4000` → `-j MARK --set-xmark 0x4000/0x4000`, `dnat to A:P` →
//! `-j DNAT --to-destination A:P`, `masquerade`, `jump`, `goto`, ...).
//! Counters are dropped. A rule with several statements becomes one rule
//! per statement, with the same matches. Lookups in sets and maps whose
//! elements are printed are expanded into one rule per element: kube-proxy's
//! `ip daddr . meta l4proto . th dport vmap @service-ips` becomes one `-d
//! CLUSTER-IP -p PROTO --dport PORT -g service-...` rule per Service port
//! (its line and text being the element's), and `numgen random mod N vmap
//! { ... }` becomes the `-m statistic --mode random --probability P` rules
//! iptables mode writes.
//!
//! Anything else is kept, as written, in an [`UNMODELLED_OPTION`] option of
//! a [`UNMODELLED_MATCH`] match (`-m nft --nft-expr "ct mark 0x1"`): a
//! module iptables does not know, so that a reader treats the rule as
//! unknown, never as matching everything.
//!
//! In a ruleset that mixes IPv4 and IPv6 (an `ip6` table, or `ip`/`ip6`
//! matches in an `inet` table), a rule that only holds for one family and
//! names no address of it gets `-d 0.0.0.0/0` or `-d ::/0` (or `-s`) added,
//! which no address of the other family is in.
//!
//! Every rule keeps its 1-based line and its text as printed.

use crate::diag::numbered;
use crate::iptables::{Chain, IptablesSave, Rule, RuleBody, RuleOption};
use crate::{Diagnostic, Interner};
use ipnet::IpNet;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

/// The match module of an expression this translation does not model.
pub const UNMODELLED_MATCH: &str = "nft";
/// The option holding such an expression's text (after `-m nft`).
pub const UNMODELLED_OPTION: &str = "--nft-expr";

/// Most rules one nft rule may expand into (set and map lookups multiply);
/// beyond it the rule is kept unmodelled.
const MAX_EXPANSION: usize = 100_000;

/// iptables' own table names: an nft table so named keeps it.
const IPTABLES_TABLES: &[&str] = &["nat", "filter", "mangle", "raw", "security"];

/// Parses `nft list ruleset` output.
pub fn parse_nft_ruleset(text: &str) -> IptablesSave {
    parse_nft_ruleset_in(text, &mut Interner::new())
}

/// Parses `nft list ruleset` output into the structure `iptables-save`
/// parsing yields (see the module documentation for the translation),
/// sharing names and lines through `names`.
pub fn parse_nft_ruleset_in(text: &str, names: &mut Interner) -> IptablesSave {
    let mut diagnostics = Vec::new();
    let (toks, lines) = tokenize(text, &mut diagnostics);
    let tables = {
        let mut p = Parser {
            t: &toks,
            i: 0,
            diags: &mut diagnostics,
        };
        p.ruleset()
    };
    let mut out = IptablesSave::default();
    let mut b = Builder {
        lines: &lines,
        out: Vec::new(),
        chains: Vec::new(),
        declared: HashSet::new(),
        tables: Vec::new(),
        hooks: Vec::new(),
    };
    for t in &tables {
        match t.family {
            "ip" | "ip6" | "inet" => b.table(t),
            other => diagnostics.push(Diagnostic::at(
                t.line,
                format!(
                    "table {other} {}: the {other} family has no iptables counterpart; its rules are not read",
                    t.name
                ),
            )),
        }
    }
    b.finish(names, &mut out);
    out.diagnostics = diagnostics;
    out
}

// ---------------------------------------------------------------- tokens

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum K {
    Word,
    Str,
    Open,
    Close,
    Comma,
    Semi,
    Nl,
}

#[derive(Debug, Clone, Copy)]
struct Tok<'a> {
    k: K,
    s: &'a str,
    line: u32,
}

/// Splits the text into words, strings and punctuation, with a newline
/// token at the end of every line. Whole-line `#` comments outside blocks
/// (`# Warning: table ip nat is managed by iptables-nft`) and the trailing
/// `# handle N` of `nft -a` are dropped; any other `#` is kept as a word
/// (nft prints untranslatable xtables matches after one), so that it reads
/// as an unknown expression, never as nothing.
fn tokenize<'a>(text: &'a str, diags: &mut Vec<Diagnostic>) -> (Vec<Tok<'a>>, Vec<&'a str>) {
    let mut toks = Vec::new();
    let mut lines = Vec::new();
    let mut depth = 0usize;
    for (n, line) in numbered(text) {
        lines.push(line.trim());
        if depth == 0 && line.trim_start().starts_with('#') {
            toks.push(Tok {
                k: K::Nl,
                s: "",
                line: n,
            });
            continue;
        }
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let one = |k| Tok {
                k,
                s: line.get(i..i + 1).unwrap_or_default(),
                line: n,
            };
            match b[i] {
                b' ' | b'\t' => i += 1,
                b'{' => {
                    toks.push(one(K::Open));
                    depth += 1;
                    i += 1;
                }
                b'}' => {
                    toks.push(one(K::Close));
                    depth = depth.saturating_sub(1);
                    i += 1;
                }
                b',' => {
                    toks.push(one(K::Comma));
                    i += 1;
                }
                b';' => {
                    toks.push(one(K::Semi));
                    i += 1;
                }
                b'"' => {
                    let mut j = i + 1;
                    while j < b.len() && b[j] != b'"' {
                        j += if b[j] == b'\\' { 2 } else { 1 };
                    }
                    if j >= b.len() {
                        diags.push(Diagnostic::at(n, "unterminated quote"));
                        toks.push(Tok {
                            k: K::Str,
                            s: line.get(i + 1..).unwrap_or_default(),
                            line: n,
                        });
                        i = b.len();
                    } else {
                        toks.push(Tok {
                            k: K::Str,
                            s: line.get(i + 1..j).unwrap_or_default(),
                            line: n,
                        });
                        i = j + 1;
                    }
                }
                b'#' => {
                    let rest: Vec<&str> = line
                        .get(i..)
                        .unwrap_or_default()
                        .split_whitespace()
                        .collect();
                    if rest.len() == 3
                        && rest[1] == "handle"
                        && rest[2].bytes().all(|c| c.is_ascii_digit())
                    {
                        break;
                    }
                    toks.push(one(K::Word));
                    i += 1;
                }
                _ => {
                    let mut j = i;
                    while j < b.len()
                        && !matches!(b[j], b' ' | b'\t' | b'{' | b'}' | b',' | b';' | b'"')
                    {
                        j += 1;
                    }
                    toks.push(Tok {
                        k: K::Word,
                        s: line.get(i..j).unwrap_or_default(),
                        line: n,
                    });
                    i = j;
                }
            }
        }
        toks.push(Tok {
            k: K::Nl,
            s: "",
            line: n,
        });
    }
    (toks, lines)
}

/// The text of tokens, as nft would print them.
fn source(toks: &[Tok<'_>]) -> String {
    let mut s = String::new();
    for t in toks {
        if !s.is_empty() && t.k != K::Comma {
            s.push(' ');
        }
        match t.k {
            K::Str => {
                s.push('"');
                s.push_str(t.s);
                s.push('"');
            }
            K::Nl => {}
            _ => s.push_str(t.s),
        }
    }
    s
}

// ---------------------------------------------------------------- blocks

struct TableDef<'a> {
    family: &'a str,
    name: &'a str,
    line: u32,
    chains: Vec<ChainDef<'a>>,
    sets: HashMap<&'a str, SetDef<'a>>,
}

struct ChainDef<'a> {
    name: &'a str,
    line: u32,
    base: Option<Base>,
    rules: Vec<Stmt<'a>>,
}

struct Base {
    kind: String,
    hook: String,
    prio: i64,
    policy: Option<String>,
    line: u32,
}

struct Stmt<'a> {
    line: u32,
    last_line: u32,
    toks: Vec<Tok<'a>>,
}

struct SetDef<'a> {
    map: bool,
    elements: Vec<Elem<'a>>,
}

struct Elem<'a> {
    line: u32,
    key: Vec<Vec<Tok<'a>>>,
    data: Vec<Tok<'a>>,
}

struct Parser<'a, 'd> {
    t: &'d [Tok<'a>],
    i: usize,
    diags: &'d mut Vec<Diagnostic>,
}

impl<'a> Parser<'a, '_> {
    fn peek(&self) -> Option<Tok<'a>> {
        self.t.get(self.i).copied()
    }

    fn skip_seps(&mut self) {
        while self.peek().is_some_and(|t| matches!(t.k, K::Nl | K::Semi)) {
            self.i += 1;
        }
    }

    /// Tokens up to the end of a statement: a newline or `;` outside
    /// braces (consumed), or a `}` closing the enclosing block (not
    /// consumed). Newlines inside braces are dropped.
    fn statement(&mut self) -> Vec<Tok<'a>> {
        let mut depth = 0usize;
        let mut out = Vec::new();
        while let Some(t) = self.peek() {
            match t.k {
                K::Nl | K::Semi if depth == 0 => {
                    self.i += 1;
                    break;
                }
                K::Nl => {}
                K::Close if depth == 0 => break,
                K::Close => {
                    depth -= 1;
                    out.push(t);
                }
                K::Open => {
                    depth += 1;
                    out.push(t);
                }
                _ => out.push(t),
            }
            self.i += 1;
        }
        out
    }

    fn ruleset(&mut self) -> Vec<TableDef<'a>> {
        let mut tables = Vec::new();
        loop {
            self.skip_seps();
            let Some(t) = self.peek() else { break };
            if t.k == K::Word && t.s == "table" {
                if let Some(table) = self.table() {
                    tables.push(table);
                }
                continue;
            }
            let st = self.statement();
            match st.first() {
                None => {
                    self.diags.push(Diagnostic::at(t.line, "unmatched '}'"));
                    self.i += 1;
                }
                Some(f) => self.diags.push(Diagnostic::at(
                    f.line,
                    format!(
                        "not 'nft list ruleset' output: '{}'",
                        crate::iproute::clip(&source(&st))
                    ),
                )),
            }
        }
        tables
    }

    /// `table [FAMILY] NAME { ... }`, the `table` word next.
    fn table(&mut self) -> Option<TableDef<'a>> {
        let line = self.peek().map_or(0, |t| t.line);
        self.i += 1;
        let mut head = Vec::new();
        while let Some(t) = self.peek() {
            match t.k {
                K::Word | K::Str => head.push(t.s),
                K::Open => break,
                _ => {
                    self.diags
                        .push(Diagnostic::at(t.line, "a table without its '{'"));
                    return None;
                }
            }
            self.i += 1;
        }
        if self.peek().is_none() {
            self.diags
                .push(Diagnostic::at(line, "a table without its '{'"));
            return None;
        }
        self.i += 1;
        let (family, name) = match head.as_slice() {
            [name] => ("ip", *name),
            [family, name] => (*family, *name),
            _ => {
                self.diags.push(Diagnostic::at(line, "not a table header"));
                self.skip_block(line);
                return None;
            }
        };
        let mut table = TableDef {
            family,
            name,
            line,
            chains: Vec::new(),
            sets: HashMap::new(),
        };
        loop {
            self.skip_seps();
            let Some(t) = self.peek() else {
                self.diags.push(Diagnostic::at(
                    line,
                    format!("table {family} {name} is not closed"),
                ));
                break;
            };
            if t.k == K::Close {
                self.i += 1;
                break;
            }
            let kw = (t.k == K::Word).then_some(t.s);
            let named = self
                .t
                .get(self.i + 1)
                .is_some_and(|n| matches!(n.k, K::Word | K::Str))
                && self.t.get(self.i + 2).is_some_and(|o| o.k == K::Open);
            match kw {
                Some("chain") if named => {
                    if let Some(c) = self.chain() {
                        table.chains.push(c);
                    }
                }
                Some("set" | "map") if named => {
                    let map = kw == Some("map");
                    if let Some((n, s)) = self.set(map) {
                        table.sets.insert(n, s);
                    }
                }
                // flags, comment, flowtables, counters, quotas, ct helpers...
                _ => {
                    self.statement();
                }
            }
        }
        Some(table)
    }

    /// Skips to the `}` closing a block already opened.
    fn skip_block(&mut self, line: u32) {
        let mut depth = 1usize;
        while let Some(t) = self.peek() {
            self.i += 1;
            match t.k {
                K::Open => depth += 1,
                K::Close => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
        self.diags
            .push(Diagnostic::at(line, "a block is not closed"));
    }

    /// `chain NAME { ... }`, the `chain` word next.
    fn chain(&mut self) -> Option<ChainDef<'a>> {
        let head = self.peek()?;
        let name = self.t.get(self.i + 1)?.s;
        self.i += 3;
        let mut c = ChainDef {
            name,
            line: head.line,
            base: None,
            rules: Vec::new(),
        };
        loop {
            self.skip_seps();
            let Some(t) = self.peek() else {
                self.diags.push(Diagnostic::at(
                    head.line,
                    format!("chain {name} is not closed"),
                ));
                break;
            };
            if t.k == K::Close {
                self.i += 1;
                break;
            }
            let st = self.statement();
            let Some(first) = st.first() else { continue };
            let words: Vec<&str> = st.iter().map(|t| t.s).collect();
            match words.as_slice() {
                ["type", ..] => match base(&words, first.line) {
                    Some(b) => c.base = Some(b),
                    None => self.diags.push(Diagnostic::at(
                        first.line,
                        format!(
                            "not a base chain declaration: '{}'",
                            crate::iproute::clip(&source(&st))
                        ),
                    )),
                },
                ["policy", p] => {
                    if let Some(b) = c.base.as_mut() {
                        b.policy = Some(p.to_ascii_uppercase());
                    }
                }
                ["comment", _] | ["devices", ..] => {}
                _ => c.rules.push(Stmt {
                    line: first.line,
                    last_line: st.last().map_or(first.line, |t| t.line),
                    toks: st,
                }),
            }
        }
        Some(c)
    }

    /// `set NAME { ... }` or `map NAME { ... }`, the keyword next.
    fn set(&mut self, map: bool) -> Option<(&'a str, SetDef<'a>)> {
        let head = self.peek()?;
        let name = self.t.get(self.i + 1)?.s;
        self.i += 3;
        let mut s = SetDef {
            map,
            elements: Vec::new(),
        };
        loop {
            self.skip_seps();
            let Some(t) = self.peek() else {
                self.diags.push(Diagnostic::at(
                    head.line,
                    format!("set {name} is not closed"),
                ));
                break;
            };
            if t.k == K::Close {
                self.i += 1;
                break;
            }
            let st = self.statement();
            if st.first().is_some_and(|t| t.s == "elements")
                && st.get(1).is_some_and(|t| t.s == "=")
                && st.get(2).is_some_and(|t| t.k == K::Open)
                && st.last().is_some_and(|t| t.k == K::Close)
                && st.len() >= 4
            {
                s.elements = elements(&st[3..st.len() - 1]);
            }
        }
        Some((name, s))
    }
}

/// `type nat hook prerouting [device X] priority dstnat [+|- N]`.
fn base(words: &[&str], line: u32) -> Option<Base> {
    let kind = (*words.get(1)?).to_owned();
    let at = |k: &str| words.iter().position(|w| *w == k);
    let hook = (*words.get(at("hook")? + 1)?).to_owned();
    let prio = match at("priority") {
        Some(p) => priority(words.get(p + 1..).unwrap_or_default())?,
        None => 0,
    };
    Some(Base {
        kind,
        hook,
        prio,
        policy: None,
        line,
    })
}

/// A priority: a number, or a name with an offset (`dstnat - 10`).
fn priority(words: &[&str]) -> Option<i64> {
    let joined: String = words.concat();
    let named = |w: &str| -> Option<i64> {
        Some(match w {
            "raw" => -300,
            "mangle" => -150,
            "dstnat" => -100,
            "filter" => 0,
            "security" => 50,
            "srcnat" => 100,
            "out" => 100,
            _ => return None,
        })
    };
    if let Ok(n) = joined.parse::<i64>() {
        return Some(n);
    }
    let split = joined
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map(|(i, _)| i);
    match split {
        None => named(&joined),
        Some(i) => {
            let (name, off) = joined.split_at(i);
            let off: i64 = off.trim_start_matches('+').parse().ok()?;
            named(name)?.checked_add(off)
        }
    }
}

/// Elements between a set's braces: keys (`.`-separated components) and,
/// for maps, the data after ` : `. Per-element `timeout`, `expires`,
/// `counter` and `comment` are dropped.
fn elements<'a>(toks: &[Tok<'a>]) -> Vec<Elem<'a>> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut cur: Vec<Tok<'a>> = Vec::new();
    let mut flush = |cur: &mut Vec<Tok<'a>>| {
        if let Some(e) = element(cur) {
            out.push(e);
        }
        cur.clear();
    };
    for t in toks {
        match t.k {
            K::Comma if depth == 0 => flush(&mut cur),
            K::Open => {
                depth += 1;
                cur.push(*t);
            }
            K::Close => {
                depth = depth.saturating_sub(1);
                cur.push(*t);
            }
            _ => cur.push(*t),
        }
    }
    flush(&mut cur);
    out
}

fn element<'a>(toks: &[Tok<'a>]) -> Option<Elem<'a>> {
    let mut kept: Vec<Tok<'a>> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i];
        match (t.k, t.s) {
            (K::Word, "timeout" | "expires" | "comment") => i += 2,
            (K::Word, "counter") => {
                i += 1;
                while toks
                    .get(i)
                    .is_some_and(|t| t.s == "packets" || t.s == "bytes")
                {
                    i += 2;
                }
            }
            _ => {
                kept.push(t);
                i += 1;
            }
        }
    }
    let first = kept.first()?;
    let colon = kept.iter().position(|t| t.k == K::Word && t.s == ":");
    let (key, data) = match colon {
        Some(c) => (&kept[..c], kept.get(c + 1..).unwrap_or_default().to_vec()),
        None => (&kept[..], Vec::new()),
    };
    let key: Vec<Vec<Tok<'a>>> = key
        .split(|t| t.k == K::Word && t.s == ".")
        .map(<[Tok<'a>]>::to_vec)
        .collect();
    Some(Elem {
        line: first.line,
        key,
        data,
    })
}

// ---------------------------------------------------------------- rules

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fam {
    Any,
    V4,
    V6,
}

impl Fam {
    fn and(self, other: Fam) -> Fam {
        if self == Fam::Any { other } else { self }
    }
    fn of(table_family: &str) -> Fam {
        match table_family {
            "ip" => Fam::V4,
            "ip6" => Fam::V6,
            _ => Fam::Any,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Opt {
    name: &'static str,
    values: Vec<String>,
    negated: bool,
}

fn opt(name: &'static str, values: &[&str], negated: bool) -> Opt {
    Opt {
        name,
        values: values.iter().map(|v| (*v).to_owned()).collect(),
        negated,
    }
}

fn unmodelled(raw: &str) -> Vec<Opt> {
    vec![
        opt("-m", &[UNMODELLED_MATCH], false),
        opt(UNMODELLED_OPTION, &[raw], false),
    ]
}

/// A target with its options (`-j`/`-g` included).
#[derive(Debug, Clone)]
struct Target {
    name: String,
    opts: Vec<Opt>,
}

fn target(name: &str, mut extra: Vec<Opt>) -> Target {
    let mut opts = vec![opt("-j", &[name], false)];
    opts.append(&mut extra);
    Target {
        name: name.to_owned(),
        opts,
    }
}

/// One way a match can hold: its options, the verdict a verdict map
/// gives (`Some(None)` for `continue`), the line of the map element.
#[derive(Debug, Clone)]
struct Alt {
    opts: Vec<Opt>,
    verdict: Option<Option<Target>>,
    origin: Option<u32>,
    fam: Fam,
}

impl Alt {
    fn of(opts: Vec<Opt>, fam: Fam) -> Alt {
        Alt {
            opts,
            verdict: None,
            origin: None,
            fam,
        }
    }
}

enum Item {
    Alts(Vec<Alt>),
    Action(Target),
    Comment(String),
}

/// One translated rule, before it is placed in a table.
#[derive(Debug, Clone)]
struct Out {
    line: u32,
    text: String,
    opts: Vec<Opt>,
    target: Option<String>,
    comment: Option<String>,
    fam: Fam,
    /// From an `inet` table (IPv4 and IPv6 share its chains).
    dual: bool,
}

fn word<'a>(toks: &[Tok<'a>], i: usize) -> &'a str {
    match toks.get(i) {
        Some(t) if matches!(t.k, K::Word | K::Str) => t.s,
        _ => "",
    }
}

const ACTIONS: &[&str] = &[
    "counter",
    "comment",
    "accept",
    "drop",
    "reject",
    "return",
    "continue",
    "jump",
    "goto",
    "queue",
    "masquerade",
    "snat",
    "dnat",
    "redirect",
    "log",
    "notrack",
    "limit",
];

fn action_starts(toks: &[Tok<'_>], i: usize) -> bool {
    let w = |k| word(toks, i + k);
    (toks.get(i).is_some_and(|t| t.k == K::Word) && ACTIONS.contains(&w(0)))
        || (w(0) == "meta" && matches!(w(1), "mark" | "nftrace") && w(2) == "set")
        || (w(0) == "mark" && w(1) == "set")
        || (w(0) == "ct" && w(1) == "mark" && w(2) == "set")
}

/// Translates one rule into the rules iptables would need for it.
fn translate<'a>(
    stmt: &Stmt<'a>,
    fam: Fam,
    sets: &HashMap<&'a str, SetDef<'a>>,
    lines: &[&str],
) -> Vec<Out> {
    let text = (stmt.line..=stmt.last_line)
        .filter_map(|l| (l as usize).checked_sub(1).and_then(|i| lines.get(i)))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let line_text = |l: u32| {
        lines
            .get((l as usize).wrapping_sub(1))
            .map_or_else(|| text.clone(), |s| (*s).to_owned())
    };
    let whole_unknown = |why: &str| Out {
        line: stmt.line,
        text: text.clone(),
        opts: unmodelled(why),
        target: None,
        comment: None,
        fam,
        dual: false,
    };
    let items = items(&stmt.toks, sets);
    let sizes: Vec<usize> = items
        .iter()
        .filter_map(|it| match it {
            Item::Alts(a) => Some(a.len()),
            _ => None,
        })
        .collect();
    let verdict_maps = items
        .iter()
        .filter(|it| matches!(it, Item::Alts(a) if a.iter().any(|x| x.verdict.is_some())))
        .count();
    if verdict_maps > 1 {
        return vec![whole_unknown(&source(&stmt.toks))];
    }
    let total = sizes
        .iter()
        .try_fold(1usize, |acc, n| acc.checked_mul(*n))
        .filter(|n| *n <= MAX_EXPANSION);
    let Some(total) = total else {
        return vec![whole_unknown(&source(&stmt.toks))];
    };
    let mut outs = Vec::new();
    let mut pick = vec![0usize; sizes.len()];
    for _ in 0..total {
        let mut opts: Vec<Opt> = Vec::new();
        let mut targets: Vec<Target> = Vec::new();
        let mut comment = None;
        let mut rule_fam = fam;
        let mut origin = None;
        let mut k = 0;
        // A mark set before a match reads it: the order iptables cannot keep.
        let (mut mark_set_before, mut mark_read_after) = (false, false);
        for it in &items {
            match it {
                Item::Alts(alts) => {
                    let Some(a) = pick.get(k).and_then(|p| alts.get(*p)) else {
                        continue;
                    };
                    k += 1;
                    mark_read_after |= mark_set_before && a.opts.iter().any(|o| o.name == "--mark");
                    opts.extend(a.opts.iter().cloned());
                    rule_fam = rule_fam.and(a.fam);
                    if let Some(v) = &a.verdict {
                        origin = a.origin.or(origin);
                        if let Some(t) = v {
                            targets.push(t.clone());
                        }
                    }
                }
                Item::Action(t) => {
                    mark_set_before |= t.name == "MARK" || t.name == "CONNMARK";
                    targets.push(t.clone());
                }
                Item::Comment(c) => comment = Some(c.clone()),
            }
        }
        // The next combination of alternatives.
        for (p, n) in pick.iter_mut().zip(&sizes).rev() {
            *p += 1;
            if *p < *n {
                break;
            }
            *p = 0;
        }
        if let Some(c) = &comment {
            opts.push(opt("-m", &["comment"], false));
            opts.push(opt("--comment", &[c], false));
        }
        dedupe(&mut opts);
        let (line, text) = match origin {
            Some(l) => (l, line_text(l)),
            None => (stmt.line, text.clone()),
        };
        let mark_read = opts.iter().any(|o| o.name == "--mark");
        let mark_set = targets
            .iter()
            .any(|t| t.name == "MARK" || t.name == "CONNMARK");
        if (targets.len() > 1 && mark_read && mark_set) || mark_read_after {
            // Split, a later statement's copy of the matches would see the new mark.
            opts.extend(unmodelled(&source(&stmt.toks)));
            targets.truncate(0);
        }
        if targets.is_empty() {
            outs.push(Out {
                line,
                text,
                opts,
                target: None,
                comment,
                fam: rule_fam,
                dual: false,
            });
            continue;
        }
        for t in targets {
            let mut o = opts.clone();
            o.extend(t.opts);
            outs.push(Out {
                line,
                text: text.clone(),
                opts: o,
                target: Some(t.name),
                comment: comment.clone(),
                fam: rule_fam,
                dual: false,
            });
        }
    }
    outs
}

/// Drops repeated `-p`/`-m` options (`meta l4proto tcp tcp dport 80`).
fn dedupe(opts: &mut Vec<Opt>) {
    let mut seen: Vec<Opt> = Vec::new();
    opts.retain(|o| {
        if o.name != "-p" && o.name != "-m" {
            return true;
        }
        if seen.contains(o) {
            return false;
        }
        seen.push(o.clone());
        true
    });
}

/// The statements of a rule: matches (as alternatives), actions, comment.
/// Whatever is not understood, up to the next action, is one unmodelled
/// match.
fn items<'a>(toks: &[Tok<'a>], sets: &HashMap<&'a str, SetDef<'a>>) -> Vec<Item> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if let Some((item, next)) = action(toks, i) {
            out.extend(item);
            i = next;
            continue;
        }
        if let Some((alts, next)) = matches(toks, i, sets) {
            out.push(Item::Alts(alts));
            i = next;
            continue;
        }
        let start = i;
        i = skip_one(toks, i);
        while i < toks.len() && !action_starts(toks, i) {
            i = skip_one(toks, i);
        }
        out.push(Item::Alts(vec![Alt::of(
            unmodelled(&source(toks.get(start..i).unwrap_or_default())),
            Fam::Any,
        )]));
    }
    out
}

/// The index after one token, or after a whole `{ ... }`.
fn skip_one(toks: &[Tok<'_>], i: usize) -> usize {
    if toks.get(i).is_some_and(|t| t.k == K::Open) {
        close_of(toks, i).map_or(toks.len(), |c| c + 1)
    } else {
        i + 1
    }
}

/// The index of the `}` matching the `{` at `i`.
fn close_of(toks: &[Tok<'_>], i: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, t) in toks.iter().enumerate().skip(i) {
        match t.k {
            K::Open => depth += 1,
            K::Close => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

/// A number as nft prints it: `0x00004000` or decimal.
fn num(s: &str) -> Option<u32> {
    match s.strip_prefix("0x") {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn hex(v: u32) -> String {
    format!("{v:#x}")
}

/// A statement that is not a match: `(None, next)` for one that changes
/// nothing (`counter`, `continue`).
fn action(toks: &[Tok<'_>], i: usize) -> Option<(Option<Item>, usize)> {
    if toks.get(i)?.k != K::Word {
        return None;
    }
    let w = |k: usize| word(toks, i + k);
    let act = |t: Target, next: usize| Some((Some(Item::Action(t)), next));
    match w(0) {
        "counter" => {
            let mut j = i + 1;
            while matches!(word(toks, j), "packets" | "bytes" | "name") {
                j += 2;
            }
            Some((None, j.min(toks.len())))
        }
        "comment" if matches!(toks.get(i + 1).map(|t| t.k), Some(K::Str | K::Word)) => {
            Some((Some(Item::Comment(w(1).to_owned())), i + 2))
        }
        "accept" => act(target("ACCEPT", vec![]), i + 1),
        "drop" => act(target("DROP", vec![]), i + 1),
        "return" => act(target("RETURN", vec![]), i + 1),
        "continue" => Some((None, i + 1)),
        "jump" | "goto" => {
            let (t, next) = verdict(toks, i)?;
            act(t?, next)
        }
        "reject" => {
            let mut j = i + 1;
            let mut extra = vec![];
            if w(1) == "with" {
                let with = match w(2) {
                    "tcp" if w(3) == "reset" => {
                        j = i + 4;
                        "tcp-reset".to_owned()
                    }
                    fam @ ("icmp" | "icmpv6" | "icmpx") => {
                        let mut k = i + 3;
                        if word(toks, k) == "type" {
                            k += 1;
                        }
                        let code = word(toks, k);
                        if code.is_empty() {
                            return None;
                        }
                        j = k + 1;
                        let code = match code {
                            "admin-prohibited" => "adm-prohibited",
                            c => c,
                        };
                        if fam == "icmpv6" {
                            format!("icmp6-{code}")
                        } else {
                            format!("icmp-{code}")
                        }
                    }
                    _ => return None,
                };
                extra.push(opt("--reject-with", &[&with], false));
            }
            act(target("REJECT", extra), j)
        }
        "masquerade" | "redirect" => {
            let mut j = i + 1;
            let mut extra = vec![];
            if w(1) == "to" {
                let port = w(2).strip_prefix(':')?;
                extra.push(opt("--to-ports", &[port], false));
                j = i + 3;
            }
            j = nat_flags(toks, j, &mut extra);
            let name = if w(0) == "masquerade" {
                "MASQUERADE"
            } else {
                "REDIRECT"
            };
            act(target(name, extra), j)
        }
        "snat" | "dnat" => {
            let mut j = i + 1;
            if matches!(word(toks, j), "ip" | "ip6") {
                j += 1;
            }
            if word(toks, j) == "to" {
                j += 1;
            }
            let to = word(toks, j);
            let looks = to.starts_with(|c: char| c.is_ascii_digit() || c == '[' || c == ':')
                || (to.contains(':')
                    && to
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() || ":./-".contains(c)));
            if !looks {
                return None;
            }
            let mut extra = vec![opt(
                if w(0) == "dnat" {
                    "--to-destination"
                } else {
                    "--to-source"
                },
                &[to],
                false,
            )];
            j = nat_flags(toks, j + 1, &mut extra);
            act(
                target(if w(0) == "dnat" { "DNAT" } else { "SNAT" }, extra),
                j,
            )
        }
        "log" => {
            let mut j = i + 1;
            let (mut prefix, mut level, mut group) = (None, None, None);
            loop {
                match word(toks, j) {
                    "prefix" => prefix = Some(word(toks, j + 1)),
                    "level" => level = Some(word(toks, j + 1)),
                    "group" => group = Some(word(toks, j + 1)),
                    "snaplen" | "queue-threshold" => {}
                    "flags" => {
                        j += 1;
                        while toks.get(j).is_some_and(|t| {
                            t.k == K::Comma
                                || (t.k == K::Word
                                    && matches!(
                                        t.s,
                                        "tcp"
                                            | "sequence"
                                            | "options"
                                            | "ip"
                                            | "skuid"
                                            | "ether"
                                            | "all"
                                    ))
                        }) {
                            j += 1;
                        }
                        continue;
                    }
                    _ => break,
                }
                j += 2;
            }
            let j = j.min(toks.len());
            let mut extra = vec![];
            match group {
                Some(g) => {
                    extra.push(opt("--nflog-group", &[g], false));
                    if let Some(p) = prefix {
                        extra.push(opt("--nflog-prefix", &[p], false));
                    }
                    act(target("NFLOG", extra), j)
                }
                None => {
                    if let Some(p) = prefix {
                        extra.push(opt("--log-prefix", &[p], false));
                    }
                    if let Some(l) = level {
                        extra.push(opt("--log-level", &[l], false));
                    }
                    act(target("LOG", extra), j)
                }
            }
        }
        "notrack" => act(target("CT", vec![opt("--notrack", &[], false)]), i + 1),
        "queue" => {
            let mut j = i + 1;
            while j < toks.len() && !action_starts(toks, j) {
                j += 1;
            }
            act(target("NFQUEUE", vec![]), j)
        }
        "limit" => {
            // `limit rate 10/second [burst 5 packets]`; `over` and byte rates are not iptables' limit.
            if w(1) != "rate" || w(2) == "over" || !w(2).contains('/') {
                return None;
            }
            let mut opts = vec![opt("-m", &["limit"], false), opt("--limit", &[w(2)], false)];
            let mut j = i + 3;
            if word(toks, j) == "burst" {
                opts.push(opt("--limit-burst", &[word(toks, j + 1)], false));
                j += 2;
                if word(toks, j) == "packets" {
                    j += 1;
                } else {
                    return None;
                }
            }
            Some((Some(Item::Alts(vec![Alt::of(opts, Fam::Any)])), j))
        }
        "meta" if w(1) == "nftrace" && w(2) == "set" && w(3) == "1" => {
            act(target("TRACE", vec![]), i + 4)
        }
        "meta" if w(1) == "mark" && w(2) == "set" => mark_set(toks, i + 3),
        "mark" if w(1) == "set" => mark_set(toks, i + 2),
        "ct" if w(1) == "mark" && w(2) == "set" => {
            let j = i + 3;
            let (extra, next) = match (word(toks, j), word(toks, j + 1)) {
                ("meta", "mark") => (vec![opt("--save-mark", &[], false)], j + 2),
                ("mark", _) => (vec![opt("--save-mark", &[], false)], j + 1),
                (v, _) => {
                    let v = num(v)?;
                    (
                        vec![opt(
                            "--set-xmark",
                            &[&format!("{}/0xffffffff", hex(v))],
                            false,
                        )],
                        j + 1,
                    )
                }
            };
            act(target("CONNMARK", extra), next)
        }
        _ => None,
    }
}

/// `random`, `fully-random`, `persistent` (comma-separated) after a NAT.
fn nat_flags(toks: &[Tok<'_>], mut j: usize, extra: &mut Vec<Opt>) -> usize {
    loop {
        match toks.get(j) {
            Some(t) if t.k == K::Comma => {}
            Some(t) if t.k == K::Word => match t.s {
                "random" => extra.push(opt("--random", &[], false)),
                "fully-random" => extra.push(opt("--random-fully", &[], false)),
                "persistent" => extra.push(opt("--persistent", &[], false)),
                _ => return j,
            },
            _ => return j,
        }
        j += 1;
    }
}

/// `meta mark set EXPR`, at EXPR: `-j MARK --set-xmark VALUE/MASK`, whose
/// effect is `mark = (mark & !MASK) ^ VALUE`.
fn mark_set(toks: &[Tok<'_>], j: usize) -> Option<(Option<Item>, usize)> {
    let w = |k: usize| word(toks, j + k);
    let mark = |t: Target, next| Some((Some(Item::Action(t)), next));
    let xmark = |v: u32, m: u32| opt("--set-xmark", &[&format!("{}/{}", hex(v), hex(m))], false);
    if let Some(v) = num(w(0)) {
        return mark(target("MARK", vec![xmark(v, u32::MAX)]), j + 1);
    }
    if w(0) == "ct" && w(1) == "mark" {
        return mark(
            target("CONNMARK", vec![opt("--restore-mark", &[], false)]),
            j + 2,
        );
    }
    let mut k = match (w(0), w(1)) {
        ("meta", "mark") => j + 2,
        ("mark", _) => j + 1,
        _ => return None,
    };
    let op = |k: usize| match word(toks, k) {
        "or" | "|" => Some('|'),
        "and" | "&" => Some('&'),
        "xor" | "^" => Some('^'),
        _ => None,
    };
    let first = op(k)?;
    let a = num(word(toks, k + 1))?;
    k += 2;
    let (v, m) = match first {
        '|' => (a, a),
        '^' => (a, 0),
        _ => match op(k) {
            // `mark and A or B`: keep A's bits, then set B's.
            Some('|') => {
                let b = num(word(toks, k + 1))?;
                k += 2;
                (b, !a | b)
            }
            Some(_) => return None,
            None => (0, !a),
        },
    };
    mark(target("MARK", vec![xmark(v, m)]), k)
}

/// `jump X`, `goto X`, `accept`, `drop`, `return`, `continue` at `i`:
/// the target (`None` for `continue`) and the index after it.
fn verdict(toks: &[Tok<'_>], i: usize) -> Option<(Option<Target>, usize)> {
    let w = word(toks, i);
    match w {
        "accept" => Some((Some(target("ACCEPT", vec![])), i + 1)),
        "drop" => Some((Some(target("DROP", vec![])), i + 1)),
        "return" => Some((Some(target("RETURN", vec![])), i + 1)),
        "continue" => Some((None, i + 1)),
        "jump" | "goto" => {
            let name = word(toks, i + 1);
            if name.is_empty() {
                return None;
            }
            let flag = if w == "jump" { "-j" } else { "-g" };
            Some((
                Some(Target {
                    name: name.to_owned(),
                    opts: vec![opt(flag, &[name], false)],
                }),
                i + 2,
            ))
        }
        _ => None,
    }
}

/// What a match looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sel {
    Saddr(Fam),
    Daddr(Fam),
    Proto(Fam),
    Port(Option<&'static str>, bool),
    In,
    Out,
    CtState,
    CtStatus,
    Mark(Option<u32>),
    Fib(bool),
    Nfproto,
    Icmp(Fam),
}

fn selector(toks: &[Tok<'_>], i: usize) -> Option<(Sel, usize)> {
    if toks.get(i)?.k != K::Word {
        return None;
    }
    let w = |k: usize| word(toks, i + k);
    Some(match (w(0), w(1)) {
        ("ip", "saddr") => (Sel::Saddr(Fam::V4), i + 2),
        ("ip", "daddr") => (Sel::Daddr(Fam::V4), i + 2),
        ("ip", "protocol") => (Sel::Proto(Fam::V4), i + 2),
        ("ip6", "saddr") => (Sel::Saddr(Fam::V6), i + 2),
        ("ip6", "daddr") => (Sel::Daddr(Fam::V6), i + 2),
        ("ip6", "nexthdr") => (Sel::Proto(Fam::V6), i + 2),
        ("meta", "l4proto") => (Sel::Proto(Fam::Any), i + 2),
        ("meta", "mark") => (Sel::Mark(None), i + 2),
        ("meta", "iifname" | "iif") => (Sel::In, i + 2),
        ("meta", "oifname" | "oif") => (Sel::Out, i + 2),
        ("meta", "nfproto" | "protocol") => (Sel::Nfproto, i + 2),
        ("mark", _) => (Sel::Mark(None), i + 1),
        ("iifname" | "iif", _) => (Sel::In, i + 1),
        ("oifname" | "oif", _) => (Sel::Out, i + 1),
        ("tcp", "dport") => (Sel::Port(Some("tcp"), true), i + 2),
        ("tcp", "sport") => (Sel::Port(Some("tcp"), false), i + 2),
        ("udp", "dport") => (Sel::Port(Some("udp"), true), i + 2),
        ("udp", "sport") => (Sel::Port(Some("udp"), false), i + 2),
        ("sctp", "dport") => (Sel::Port(Some("sctp"), true), i + 2),
        ("sctp", "sport") => (Sel::Port(Some("sctp"), false), i + 2),
        ("th", "dport") => (Sel::Port(None, true), i + 2),
        ("th", "sport") => (Sel::Port(None, false), i + 2),
        ("ct", "state") => (Sel::CtState, i + 2),
        ("ct", "status") => (Sel::CtStatus, i + 2),
        ("fib", "daddr" | "saddr") if w(2) == "type" => (Sel::Fib(w(1) == "daddr"), i + 3),
        ("icmp", "type") => (Sel::Icmp(Fam::V4), i + 2),
        ("icmpv6", "type") => (Sel::Icmp(Fam::V6), i + 2),
        _ => return None,
    })
}

/// A match at `i`: its alternatives and the index after it.
fn matches<'a>(
    toks: &[Tok<'a>],
    i: usize,
    sets: &HashMap<&'a str, SetDef<'a>>,
) -> Option<(Vec<Alt>, usize)> {
    if word(toks, i) == "numgen" {
        return numgen(toks, i, sets);
    }
    let (first, mut j) = selector(toks, i)?;
    let mut sels = vec![first];
    while word(toks, j) == "." {
        let (s, k) = selector(toks, j + 1)?;
        sels.push(s);
        j = k;
    }
    if let [Sel::Mark(None)] = sels.as_slice()
        && matches!(word(toks, j), "&" | "and")
    {
        sels[0] = Sel::Mark(Some(num(word(toks, j + 1))?));
        j += 2;
    }
    let mut neg = false;
    match toks.get(j) {
        None => return None,
        Some(t) if t.k == K::Word => match t.s {
            "==" | "eq" => j += 1,
            "!=" | "ne" => {
                neg = true;
                j += 1;
            }
            "<" | ">" | "<=" | ">=" | "lt" | "gt" | "le" | "ge" | "map" => return None,
            _ => {}
        },
        Some(_) => {}
    }
    if word(toks, j) == "vmap" {
        if neg {
            return None;
        }
        let (elems, origin, next) = rhs_elements(toks, j + 1, sets, true)?;
        let mut alts = Vec::new();
        for e in &elems {
            let (opts, fam) = tuple(&sels, &e.key, false)?;
            let (v, after) = verdict(&e.data, 0)?;
            if after != e.data.len() {
                return None;
            }
            alts.push(Alt {
                opts,
                verdict: Some(v),
                origin: origin.then_some(e.line),
                fam,
            });
        }
        return Some((alts, next));
    }
    let set_like = word(toks, j).starts_with('@') || toks.get(j).is_some_and(|t| t.k == K::Open);
    if set_like {
        let (elems, _, next) = rhs_elements(toks, j, sets, false)?;
        let keys: Vec<&Vec<Vec<Tok<'_>>>> = elems.iter().map(|e| &e.key).collect();
        return Some((set_alts(&sels, &keys, neg)?, next));
    }
    // A single value (`a . b` for a concatenation; `a,b` for flags).
    let mut key: Vec<Vec<Tok<'_>>> = Vec::new();
    for (n, sel) in sels.iter().enumerate() {
        if n > 0 {
            if word(toks, j) != "." {
                return None;
            }
            j += 1;
        }
        let t = *toks.get(j).filter(|t| matches!(t.k, K::Word | K::Str))?;
        let mut comp = vec![t];
        j += 1;
        if matches!(sel, Sel::CtState | Sel::CtStatus) {
            while let (Some(c), Some(v)) = (toks.get(j), toks.get(j + 1)) {
                if c.k != K::Comma || v.k != K::Word {
                    break;
                }
                comp.push(*v);
                j += 2;
            }
        }
        key.push(comp);
    }
    if let ([sel], [comp]) = (sels.as_slice(), key.as_slice()) {
        let values: Vec<&str> = comp.iter().map(|t| t.s).collect();
        let (opts, fam) = one(*sel, &values, neg)?;
        return Some((vec![Alt::of(opts, fam)], j));
    }
    if neg {
        return None;
    }
    let (opts, fam) = tuple(&sels, &key, false)?;
    Some((vec![Alt::of(opts, fam)], j))
}

/// The elements of `@name` or `{ ... }` at `j`; whether they come from a
/// named set (their lines are then the evidence); the index after.
fn rhs_elements<'a>(
    toks: &[Tok<'a>],
    j: usize,
    sets: &HashMap<&'a str, SetDef<'a>>,
    map: bool,
) -> Option<(Vec<Elem<'a>>, bool, usize)> {
    let w = word(toks, j);
    if let Some(name) = w.strip_prefix('@') {
        let s = sets.get(name)?;
        if s.map != map {
            return None;
        }
        let elems = s
            .elements
            .iter()
            .map(|e| Elem {
                line: e.line,
                key: e.key.clone(),
                data: e.data.clone(),
            })
            .collect();
        return Some((elems, true, j + 1));
    }
    if toks.get(j)?.k != K::Open {
        return None;
    }
    let close = close_of(toks, j)?;
    Some((elements(toks.get(j + 1..close)?), false, close + 1))
}

/// Alternatives of a set lookup: one per element, or, where iptables has
/// a list (ports, conntrack states) or the lookup is negated, one.
fn set_alts(sels: &[Sel], keys: &[&Vec<Vec<Tok<'_>>>], neg: bool) -> Option<Vec<Alt>> {
    if let [sel] = sels {
        let mut values: Vec<&str> = Vec::new();
        for k in keys {
            let [comp] = k.as_slice() else { return None };
            let [t] = comp.as_slice() else { return None };
            values.push(t.s);
        }
        return match sel {
            Sel::Port(..) | Sel::CtState | Sel::CtStatus if !values.is_empty() => {
                let (opts, fam) = one(*sel, &values, neg)?;
                Some(vec![Alt::of(opts, fam)])
            }
            _ if neg => {
                let mut opts = Vec::new();
                let mut fam = Fam::Any;
                for v in values {
                    let (o, f) = one(*sel, &[v], true)?;
                    if *sel == Sel::Nfproto {
                        return None;
                    }
                    opts.extend(o);
                    fam = fam.and(f);
                }
                Some(vec![Alt::of(opts, fam)])
            }
            _ => values
                .into_iter()
                .map(|v| one(*sel, &[v], false).map(|(o, f)| Alt::of(o, f)))
                .collect(),
        };
    }
    if neg {
        return None;
    }
    keys.iter()
        .map(|k| tuple(sels, k, false).map(|(o, f)| Alt::of(o, f)))
        .collect()
}

/// Options of a concatenation's one element (`10.96.0.10 . udp . 53`).
fn tuple(sels: &[Sel], key: &[Vec<Tok<'_>>], neg: bool) -> Option<(Vec<Opt>, Fam)> {
    if key.len() != sels.len() {
        return None;
    }
    let mut opts = Vec::new();
    let mut fam = Fam::Any;
    // A protocol component names the protocol of the port after it.
    let mut proto: Option<&str> = None;
    for (sel, comp) in sels.iter().zip(key) {
        let [t] = comp.as_slice() else { return None };
        let sel = match sel {
            Sel::Port(None, d) => match proto {
                Some("tcp") => Sel::Port(Some("tcp"), *d),
                Some("udp") => Sel::Port(Some("udp"), *d),
                Some("sctp") => Sel::Port(Some("sctp"), *d),
                _ => *sel,
            },
            Sel::Proto(_) => {
                proto = Some(t.s);
                *sel
            }
            _ => *sel,
        };
        let (o, f) = one(sel, &[t.s], neg)?;
        opts.extend(o);
        fam = fam.and(f);
    }
    Some((opts, fam))
}

/// A host address as `iptables-save` prints it (`/32`, `/128`), or a network.
fn address(v: &str) -> Option<(String, Fam)> {
    let fam = |a: &IpAddr| if a.is_ipv4() { Fam::V4 } else { Fam::V6 };
    if v.contains('/') {
        let n: IpNet = v.parse().ok()?;
        return Some((n.to_string(), fam(&n.addr())));
    }
    let a: IpAddr = v.parse().ok()?;
    Some((IpNet::from(a).to_string(), fam(&a)))
}

/// Well-known service names older nft prints instead of port numbers.
fn port(v: &str) -> Option<String> {
    if let Some((a, b)) = v.split_once('-') {
        return Some(format!("{}:{}", port(a)?, port(b)?));
    }
    if v.parse::<u16>().is_ok() {
        return Some(v.to_owned());
    }
    let n = match v {
        "ssh" => 22,
        "smtp" => 25,
        "domain" => 53,
        "bootps" => 67,
        "bootpc" => 68,
        "http" => 80,
        "ntp" => 123,
        "https" => 443,
        "kubernetes" => 6443,
        _ => return None,
    };
    Some(n.to_string())
}

/// Options of one selector compared with `values` (several only for a
/// list: ports, conntrack states).
fn one(sel: Sel, values: &[&str], neg: bool) -> Option<(Vec<Opt>, Fam)> {
    let [first, ..] = values else { return None };
    let single = values.len() == 1;
    Some(match sel {
        Sel::Saddr(f) | Sel::Daddr(f) if single => {
            let src = matches!(sel, Sel::Saddr(_));
            if let Some((a, b)) = first.split_once('-') {
                let (_, fa) = address(a)?;
                let (_, fb) = address(b)?;
                if fa != fb || (f != Fam::Any && fa != f) {
                    return None;
                }
                let name = if src { "--src-range" } else { "--dst-range" };
                (
                    vec![opt("-m", &["iprange"], false), opt(name, &[first], neg)],
                    fa,
                )
            } else {
                let (a, fa) = address(first)?;
                if f != Fam::Any && fa != f {
                    return None;
                }
                (vec![opt(if src { "-s" } else { "-d" }, &[&a], neg)], fa)
            }
        }
        Sel::Proto(f) if single => {
            let p = first.to_ascii_lowercase();
            if p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return None;
            }
            (vec![opt("-p", &[&p], neg)], f)
        }
        Sel::Port(proto, dst) => {
            let ports: Vec<String> = values.iter().map(|v| port(v)).collect::<Option<_>>()?;
            let mut opts = Vec::new();
            if let Some(p) = proto {
                opts.push(opt("-p", &[p], false));
            }
            let list = ports.join(",");
            if single {
                if let Some(p) = proto {
                    opts.push(opt("-m", &[p], false));
                }
                opts.push(opt(if dst { "--dport" } else { "--sport" }, &[&list], neg));
            } else {
                opts.push(opt("-m", &["multiport"], false));
                opts.push(opt(
                    if dst { "--dports" } else { "--sports" },
                    &[&list],
                    neg,
                ));
            }
            (opts, Fam::Any)
        }
        Sel::In | Sel::Out if single => {
            if first.is_empty() {
                return None;
            }
            let name = match first.strip_suffix('*') {
                Some(prefix) => format!("{prefix}+"),
                None => (*first).to_owned(),
            };
            (
                vec![opt(if sel == Sel::In { "-i" } else { "-o" }, &[&name], neg)],
                Fam::Any,
            )
        }
        Sel::CtState => {
            let states: Vec<String> = values
                .iter()
                .map(|s| match *s {
                    "new" | "established" | "related" | "invalid" | "untracked" => {
                        Some(s.to_ascii_uppercase())
                    }
                    _ => None,
                })
                .collect::<Option<_>>()?;
            (
                vec![
                    opt("-m", &["conntrack"], false),
                    opt("--ctstate", &[&states.join(",")], neg),
                ],
                Fam::Any,
            )
        }
        Sel::CtStatus => {
            let nat = values.iter().all(|s| matches!(*s, "dnat" | "snat"));
            let other = values
                .iter()
                .all(|s| matches!(*s, "expected" | "seen-reply" | "assured" | "confirmed"));
            let up: Vec<String> = values
                .iter()
                .map(|s| s.to_ascii_uppercase().replace('-', "_"))
                .collect();
            let name = match (nat, other) {
                (true, _) => "--ctstate",
                (_, true) => "--ctstatus",
                _ => return None,
            };
            (
                vec![
                    opt("-m", &["conntrack"], false),
                    opt(name, &[&up.join(",")], neg),
                ],
                Fam::Any,
            )
        }
        Sel::Mark(mask) if single => {
            let v = num(first)?;
            let value = match mask {
                Some(m) => format!("{}/{}", hex(v), hex(m)),
                None => hex(v),
            };
            (
                vec![opt("-m", &["mark"], false), opt("--mark", &[&value], neg)],
                Fam::Any,
            )
        }
        Sel::Fib(dst) if single => {
            let ty = match *first {
                "local" | "unicast" | "broadcast" | "multicast" | "anycast" | "blackhole"
                | "unreachable" | "prohibit" | "unspec" | "throw" | "nat" | "xresolve" => {
                    first.to_ascii_uppercase()
                }
                _ => return None,
            };
            (
                vec![
                    opt("-m", &["addrtype"], false),
                    opt(if dst { "--dst-type" } else { "--src-type" }, &[&ty], neg),
                ],
                Fam::Any,
            )
        }
        Sel::Nfproto if single => {
            let f = match (*first, neg) {
                ("ipv4" | "ip", false) | ("ipv6" | "ip6", true) => Fam::V4,
                ("ipv6" | "ip6", false) | ("ipv4" | "ip", true) => Fam::V6,
                _ => return None,
            };
            (Vec::new(), f)
        }
        Sel::Icmp(f) if single => {
            if first.is_empty() {
                return None;
            }
            let opts = if f == Fam::V6 {
                vec![
                    opt("-p", &["ipv6-icmp"], false),
                    opt("-m", &["icmp6"], false),
                    opt("--icmpv6-type", &[first], neg),
                ]
            } else {
                vec![
                    opt("-p", &["icmp"], false),
                    opt("-m", &["icmp"], false),
                    opt("--icmp-type", &[first], neg),
                ]
            };
            (opts, f)
        }
        _ => return None,
    })
}

/// `numgen random mod N [offset K] vmap { 0 : goto A, 1 : goto B }`: the
/// `statistic` rules iptables mode writes for the same split.
fn numgen<'a>(
    toks: &[Tok<'a>],
    i: usize,
    sets: &HashMap<&'a str, SetDef<'a>>,
) -> Option<(Vec<Alt>, usize)> {
    let mode = word(toks, i + 1);
    if !matches!(mode, "random" | "inc") || word(toks, i + 2) != "mod" {
        return None;
    }
    let n: u64 = word(toks, i + 3).parse().ok().filter(|n| *n > 0)?;
    let mut j = i + 4;
    let mut offset = 0u64;
    if word(toks, j) == "offset" {
        offset = word(toks, j + 1).parse().ok()?;
        j += 2;
    }
    if word(toks, j) != "vmap" {
        return None;
    }
    let (elems, origin, next) = rhs_elements(toks, j + 1, sets, true)?;
    let mut parts: Vec<(u64, u64, Option<Target>, u32)> = Vec::new();
    for e in &elems {
        let [comp] = e.key.as_slice() else {
            return None;
        };
        let [t] = comp.as_slice() else { return None };
        let (a, b) = match t.s.split_once('-') {
            Some((a, b)) => (a.parse::<u64>().ok()?, b.parse::<u64>().ok()?),
            None => {
                let a = t.s.parse::<u64>().ok()?;
                (a, a)
            }
        };
        let (a, b) = (a.checked_sub(offset)?, b.checked_sub(offset)?);
        if a > b || b >= n {
            return None;
        }
        let (v, after) = verdict(&e.data, 0)?;
        if after != e.data.len() {
            return None;
        }
        parts.push((a, b, v, e.line));
    }
    parts.sort_by_key(|p| p.0);
    let mut alts = Vec::new();
    let mut taken = 0u64;
    for (a, b, v, line) in parts {
        let weight = b - a + 1;
        let rest = n.checked_sub(taken).filter(|r| *r > 0)?;
        let opts = if mode == "inc" {
            if weight != 1 {
                return None;
            }
            vec![
                opt("-m", &["statistic"], false),
                opt("--mode", &["nth"], false),
                opt("--every", &[&n.to_string()], false),
                opt("--packet", &[&a.to_string()], false),
            ]
        } else if weight >= rest {
            Vec::new()
        } else {
            let p = weight as f64 / rest as f64;
            vec![
                opt("-m", &["statistic"], false),
                opt("--mode", &["random"], false),
                opt("--probability", &[&format!("{p:.10}")], false),
            ]
        };
        taken = taken.saturating_add(weight);
        alts.push(Alt {
            opts,
            verdict: Some(v),
            origin: origin.then_some(line),
            fam: Fam::Any,
        });
    }
    // Each alternative becomes a rule of its own, in order, as iptables
    // mode writes the split.
    Some((alts, next))
}

// ---------------------------------------------------------------- tables

/// The iptables table a base chain's type puts it in.
fn table_of_type(kind: &str) -> &'static str {
    match kind {
        "nat" => "nat",
        "route" => "mangle",
        _ => "filter",
    }
}

/// The iptables built-in chain of a hook.
fn builtin(hook: &str) -> String {
    hook.to_ascii_uppercase()
}

struct Placed {
    table: &'static str,
    chain: String,
    prio: Option<i64>,
    out: Out,
}

struct ChainOut {
    table: &'static str,
    name: String,
    policy: Option<String>,
    line: u32,
    text: String,
    /// Priority and family of the base chain it is, if one.
    base: Option<(i64, Fam)>,
}

/// A synthesized jump from a built-in chain into a base chain.
struct Hook {
    table: &'static str,
    builtin: String,
    chain: String,
    prio: i64,
    line: u32,
    text: String,
    fam: Fam,
}

struct Builder<'l> {
    lines: &'l [&'l str],
    out: Vec<Placed>,
    chains: Vec<ChainOut>,
    /// `(table, chain)` of `chains`, to find one among thousands.
    declared: HashSet<(&'static str, String)>,
    tables: Vec<(u32, &'static str)>,
    hooks: Vec<Hook>,
}

fn static_table(name: &str) -> &'static str {
    IPTABLES_TABLES
        .iter()
        .find(|t| **t == name)
        .copied()
        .unwrap_or("nat")
}

impl Builder<'_> {
    fn line_text(&self, l: u32) -> String {
        self.lines
            .get((l as usize).wrapping_sub(1))
            .map_or_else(String::new, |s| (*s).to_owned())
    }

    fn table(&mut self, t: &TableDef<'_>) {
        let fam = Fam::of(t.family);
        let dual = t.family == "inet";
        let translated: Vec<Vec<Out>> = t
            .chains
            .iter()
            .map(|c| {
                c.rules
                    .iter()
                    .flat_map(|r| translate(r, fam, &t.sets, self.lines))
                    .map(|o| Out { dual, ..o })
                    .collect()
            })
            .collect();
        // Which iptables tables each chain goes to.
        let fixed = IPTABLES_TABLES.contains(&t.name);
        let index: HashMap<&str, usize> = t
            .chains
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name, i))
            .collect();
        let mut places: Vec<Vec<&'static str>> = vec![Vec::new(); t.chains.len()];
        if fixed {
            for p in &mut places {
                p.push(static_table(t.name));
            }
        } else {
            for (start, c) in t.chains.iter().enumerate() {
                let Some(b) = &c.base else { continue };
                let label = table_of_type(&b.kind);
                let mut queue = vec![start];
                let mut seen = HashSet::new();
                while let Some(ci) = queue.pop() {
                    if !seen.insert(ci) {
                        continue;
                    }
                    if let Some(p) = places.get_mut(ci)
                        && !p.contains(&label)
                    {
                        p.push(label);
                    }
                    for o in translated.get(ci).into_iter().flatten() {
                        let Some(tg) = &o.target else { continue };
                        if let Some(&next) = index.get(tg.as_str())
                            && t.chains.get(next).is_some_and(|n| n.base.is_none())
                        {
                            queue.push(next);
                        }
                    }
                }
            }
            for p in &mut places {
                if p.is_empty() {
                    p.push("nat");
                }
                p.sort_by_key(|l| IPTABLES_TABLES.iter().position(|t| t == l));
            }
        }
        let mut labels: Vec<&'static str> = places.iter().flatten().copied().collect();
        labels.sort_by_key(|l| IPTABLES_TABLES.iter().position(|t| t == l));
        labels.dedup();
        for l in labels {
            if !self.tables.contains(&(t.line, l)) {
                self.tables.push((t.line, l));
            }
        }
        for ((c, outs), labels) in t.chains.iter().zip(translated).zip(places) {
            let (last, rest) = labels.split_last().unwrap_or((&"nat", &[]));
            for label in rest {
                self.chain(fam, label, c, outs.clone());
            }
            self.chain(fam, last, c, outs);
        }
    }

    fn chain(&mut self, fam: Fam, label: &'static str, c: &ChainDef<'_>, outs: Vec<Out>) {
        let name = c.name.to_owned();
        let base = c.base.as_ref();
        let is_builtin = base.is_some_and(|b| builtin(&b.hook) == name);
        let declared = !self.declared.insert((label, name.clone()));
        let (line, text) = match base {
            Some(b) => (b.line, self.line_text(b.line)),
            None => (c.line, self.line_text(c.line)),
        };
        if !declared {
            self.chains.push(ChainOut {
                table: label,
                name: name.clone(),
                policy: if is_builtin {
                    Some(
                        base.and_then(|b| b.policy.clone())
                            .unwrap_or_else(|| "ACCEPT".into()),
                    )
                } else {
                    None
                },
                line,
                text: text.clone(),
                base: base.map(|b| (b.prio, fam)),
            });
        }
        let prio = base.map(|b| b.prio);
        if let Some(b) = base
            && !is_builtin
        {
            let bname = builtin(&b.hook);
            match self
                .hooks
                .iter_mut()
                .find(|h| h.table == label && h.builtin == bname && h.chain == name)
            {
                Some(h) if h.fam != fam => h.fam = Fam::Any,
                Some(_) => {}
                None => self.hooks.push(Hook {
                    table: label,
                    builtin: bname,
                    chain: name.clone(),
                    prio: b.prio,
                    line: b.line,
                    text: text.clone(),
                    fam,
                }),
            }
        }
        for o in outs {
            self.out.push(Placed {
                table: label,
                chain: name.clone(),
                prio,
                out: o,
            });
        }
        // A policy iptables cannot hold on this chain: a final DROP rule.
        let policy_drop = base.is_some_and(|b| b.policy.as_deref() == Some("DROP"));
        if policy_drop && (!is_builtin || declared) {
            self.out.push(Placed {
                table: label,
                chain: name,
                prio,
                out: Out {
                    line,
                    text,
                    opts: vec![opt("-j", &["DROP"], false)],
                    target: Some("DROP".into()),
                    comment: None,
                    fam,
                    dual: false,
                },
            });
        }
    }

    fn finish(mut self, names: &mut Interner, out: &mut IptablesSave) {
        // Built-in chains entered by synthesized jumps.
        for h in std::mem::take(&mut self.hooks) {
            if self.declared.insert((h.table, h.builtin.clone())) {
                self.chains.push(ChainOut {
                    table: h.table,
                    name: h.builtin.clone(),
                    policy: Some("ACCEPT".into()),
                    line: h.line,
                    text: h.text.clone(),
                    base: None,
                });
            }
            self.out.push(Placed {
                table: h.table,
                chain: h.builtin,
                prio: Some(h.prio),
                out: Out {
                    line: h.line,
                    text: h.text,
                    opts: vec![opt("-j", &[&h.chain], false)],
                    target: Some(h.chain),
                    comment: None,
                    fam: h.fam,
                    dual: false,
                },
            });
        }
        // A built-in chain's drop policy comes before the base chains of a
        // later priority on its hook: the packet never reaches them.
        let mut drops = Vec::new();
        for c in &self.chains {
            let Some((prio, fam)) = c.base else { continue };
            if c.policy.as_deref() != Some("DROP") {
                continue;
            }
            let later = self.out.iter().any(|p| {
                p.table == c.table && p.chain == c.name && p.prio.is_some_and(|q| q > prio)
            });
            if later {
                drops.push(Placed {
                    table: c.table,
                    chain: c.name.clone(),
                    prio: Some(prio),
                    out: Out {
                        line: c.line,
                        text: c.text.clone(),
                        opts: vec![opt("-j", &["DROP"], false)],
                        target: Some("DROP".into()),
                        comment: None,
                        fam,
                        dual: false,
                    },
                });
            }
        }
        self.out.extend(drops);
        // Rules of a chain several base chains feed, by priority (stable).
        let mut perm: Vec<usize> = (0..self.out.len()).collect();
        let mut groups: HashMap<(&'static str, String), Vec<usize>> = HashMap::new();
        for (i, p) in self.out.iter().enumerate() {
            if p.prio.is_some() {
                groups
                    .entry((p.table, p.chain.clone()))
                    .or_default()
                    .push(i);
            }
        }
        for idx in groups.into_values() {
            let mut sorted = idx.clone();
            sorted.sort_by_key(|i| self.out.get(*i).and_then(|p| p.prio));
            for (slot, src) in idx.iter().zip(sorted) {
                if let Some(s) = perm.get_mut(*slot) {
                    *s = src;
                }
            }
        }
        let mut old: Vec<Option<Placed>> = std::mem::take(&mut self.out)
            .into_iter()
            .map(Some)
            .collect();
        self.out = perm
            .iter()
            .filter_map(|i| old.get_mut(*i).and_then(Option::take))
            .collect();
        // Family guards, once IPv6 rules share the tables with IPv4 ones.
        let mixed = self.out.iter().any(|p| p.out.fam == Fam::V6);
        for p in &mut self.out {
            let o = &mut p.out;
            let guard = match o.fam {
                Fam::V6 => "::/0",
                Fam::V4 if mixed || o.dual => "0.0.0.0/0",
                _ => continue,
            };
            let want = if o.fam == Fam::V6 { Fam::V6 } else { Fam::V4 };
            let pinned = o.opts.iter().any(|x| {
                (x.name == "-s" || x.name == "-d")
                    && !x.negated
                    && x.values
                        .first()
                        .and_then(|v| address(v))
                        .is_some_and(|(_, f)| f == want)
            });
            if pinned {
                continue;
            }
            let has = |n: &str| o.opts.iter().any(|x| x.name == n);
            let name = if !has("-d") || has("-s") { "-d" } else { "-s" };
            let at = o
                .opts
                .iter()
                .position(|x| matches!(x.name, "-j" | "-g"))
                .unwrap_or(o.opts.len());
            o.opts.insert(at, opt(name, &[guard], false));
        }
        out.tables = self
            .tables
            .iter()
            .map(|(l, n)| (*l, (*n).to_owned()))
            .collect();
        out.chains = self
            .chains
            .into_iter()
            .map(|c| Chain {
                line: c.line,
                table: Some(names.get(c.table)),
                name: names.get(&c.name),
                policy: c.policy.map(|p| names.get(&p)),
                text: names.get(&c.text),
            })
            .collect();
        out.rules = self
            .out
            .into_iter()
            .map(|p| {
                let options: Vec<RuleOption> = p
                    .out
                    .opts
                    .iter()
                    .map(|o| RuleOption {
                        name: names.get(o.name),
                        values: o.values.iter().map(|v| names.get(v)).collect(),
                        negated: o.negated,
                    })
                    .collect();
                Rule {
                    line: p.out.line,
                    body: std::sync::Arc::new(RuleBody::new(
                        Some(names.get(p.table)),
                        names.get(&p.chain),
                        options,
                        p.out.target.as_deref().map(|t| names.get(t)),
                        p.out.comment.as_deref().map(|c| names.get(c)),
                        names.get(&p.out.text),
                    )),
                }
            })
            .collect();
    }
}

#[cfg(test)]
mod tests;
