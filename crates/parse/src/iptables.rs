//! `iptables-save` output: tables, chains with their policies, and rules
//! with their matches and targets. Also reads `grep`-filtered output (rules
//! without a `*table` line), as pasted in transcripts.

use crate::diag::numbered;
use crate::{Diagnostic, Interner, Name};
use ipnet::IpNet;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::sync::Arc;

/// A chain declaration (`:KUBE-SERVICES - [0:0]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chain {
    /// 1-based line.
    pub line: u32,
    /// Table (`nat`, `filter`, ...), when a `*table` line came before.
    pub table: Option<Name>,
    /// Chain name.
    pub name: Name,
    /// Built-in chains' policy (`ACCEPT`, `DROP`); `None` for `-`.
    pub policy: Option<Name>,
    /// The line as printed.
    pub text: Name,
}

/// One option of a rule, e.g. `! -s 10.244.0.0/16` or `--dport 53`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleOption {
    /// The option as written, e.g. `-s`, `--dport`, `-m`.
    pub name: Name,
    /// Its arguments.
    pub values: Vec<Name>,
    /// Preceded by `!`.
    pub negated: bool,
}

/// One `-A CHAIN ...` rule: where it was read, and what it says. What it
/// says is shared by every node that prints the same line in the same
/// table (read through [`RuleCache`]); fields read through to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// 1-based line.
    pub line: u32,
    /// The rule itself.
    #[serde(flatten)]
    pub body: Arc<RuleBody>,
}

impl std::ops::Deref for Rule {
    type Target = RuleBody;
    fn deref(&self) -> &RuleBody {
        &self.body
    }
}

/// What a rule says, apart from where it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleBody {
    /// Table, when known.
    pub table: Option<Name>,
    /// Chain the rule is appended to.
    pub chain: Name,
    /// Options in order (the target's own options included).
    pub options: Vec<RuleOption>,
    /// `-j` or `-g` target.
    pub target: Option<Name>,
    /// `--comment` text.
    pub comment: Option<Name>,
    /// The line as printed.
    pub text: Name,
    /// The first `-d`/`--destination` as a network, and whether it is
    /// negated (read once for every node that prints the rule).
    pub dst_net: Option<(IpNet, bool)>,
    /// The first `-s`/`--source`, the same way.
    pub src_net: Option<(IpNet, bool)>,
}

/// The rules read so far, by table and line: a rule that every node of a
/// cluster prints (kube-proxy's, for every Service) is parsed once and
/// held once. Grows with the distinct rules of the bundle, not with the
/// number of nodes.
#[derive(Debug, Default)]
pub struct RuleCache(FxHashMap<Option<Name>, FxHashMap<Name, Arc<RuleBody>>>);

impl RuleCache {
    /// A new, empty cache.
    pub fn new() -> RuleCache {
        RuleCache::default()
    }
}

impl RuleBody {
    /// A rule from its parts; its `-d` and `-s` networks are read from
    /// `options`.
    pub fn new(
        table: Option<Name>,
        chain: Name,
        options: Vec<RuleOption>,
        target: Option<Name>,
        comment: Option<Name>,
        text: Name,
    ) -> RuleBody {
        let addr = |names: [&str; 2]| {
            options
                .iter()
                .find(|o| names.contains(&o.name.as_str()))
                .and_then(|o| Some((net(o.values.first()?)?, o.negated)))
        };
        let dst_net = addr(["-d", "--destination"]);
        let src_net = addr(["-s", "--source"]);
        RuleBody {
            table,
            chain,
            options,
            target,
            comment,
            text,
            dst_net,
            src_net,
        }
    }

    /// The first value of an option (`-d`, `--dport`, `--to-destination`, ...),
    /// and whether it was negated.
    pub fn opt(&self, name: &str) -> Option<(&str, bool)> {
        self.options
            .iter()
            .find(|o| o.name == name)
            .and_then(|o| o.values.first().map(|v| (v.as_str(), o.negated)))
    }
    /// `-d` as a network, unless negated.
    pub fn destination(&self) -> Option<IpNet> {
        self.opt("-d")
            .or_else(|| self.opt("--destination"))
            .filter(|(_, neg)| !neg)
            .and_then(|(v, _)| net(v))
    }
    /// `-p`, unless negated.
    pub fn protocol(&self) -> Option<&str> {
        self.opt("-p").filter(|(_, neg)| !neg).map(|(v, _)| v)
    }
    /// `--dport`, unless negated.
    pub fn dport(&self) -> Option<u16> {
        self.opt("--dport")
            .filter(|(_, neg)| !neg)
            .and_then(|(v, _)| v.parse().ok())
    }
}

/// An address or network as iptables prints it (`10.0.0.1`, `10.0.0.0/8`).
pub fn net(v: &str) -> Option<IpNet> {
    if v.contains('/') {
        v.parse().ok()
    } else {
        v.parse::<std::net::IpAddr>().ok().map(IpNet::from)
    }
}

/// Everything read from one `iptables-save` (or translated from `nft list
/// ruleset` by [`crate::nft::parse_nft_ruleset_in`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IptablesSave {
    /// Tables seen, with the line of their `*table` header.
    pub tables: Vec<(u32, String)>,
    /// Chain declarations.
    pub chains: Vec<Chain>,
    /// Rules.
    pub rules: Vec<Rule>,
    /// Lines that could not be read.
    pub diagnostics: Vec<Diagnostic>,
}

impl IptablesSave {
    /// The policy of a built-in chain in a table.
    pub fn policy(&self, table: &str, chain: &str) -> Option<&Chain> {
        self.chains
            .iter()
            .find(|c| c.table.as_deref() == Some(table) && c.name == chain)
    }
    /// Rules of one chain (any table when `table` is `None`).
    pub fn chain_rules<'a>(
        &'a self,
        table: Option<&'a str>,
        chain: &'a str,
    ) -> impl Iterator<Item = &'a Rule> + 'a {
        self.rules
            .iter()
            .filter(move |r| r.chain == chain && (table.is_none() || r.table.as_deref() == table))
    }
}

/// Parses `iptables-save` (or `ip6tables-save`) output.
pub fn parse_iptables_save(text: &str) -> IptablesSave {
    parse_iptables_save_in(text, &mut Interner::new(), &mut RuleCache::new())
}

/// Parses `iptables-save` output, sharing names through `names` and rules
/// through `rules` (every node of a cluster prints mostly the same rules:
/// a line read before is not parsed again).
pub fn parse_iptables_save_in(
    text: &str,
    names: &mut Interner,
    rules: &mut RuleCache,
) -> IptablesSave {
    let mut out = IptablesSave::default();
    let mut table: Option<Name> = None;
    for (n, line) in numbered(text) {
        let t = line.trim();
        if t.is_empty() || t.starts_with("# ") || t == "#" {
            continue;
        }
        if let Some(name) = t.strip_prefix('*') {
            table = Some(names.get(name));
            out.tables.push((n, name.to_owned()));
        } else if t == "COMMIT" {
            table = None;
        } else if let Some(decl) = t.strip_prefix(':') {
            let mut parts = decl.split_whitespace();
            let name = names.get(parts.next().unwrap_or_default());
            let policy = parts.next().filter(|p| *p != "-").map(|p| names.get(p));
            out.chains.push(Chain {
                line: n,
                table: table.clone(),
                name,
                policy,
                text: names.get(t),
            });
        } else if t.starts_with("-A ") || t.starts_with("-I ") {
            if let Some(body) = rules.0.get(&table).and_then(|m| m.get(t)) {
                out.rules.push(Rule {
                    line: n,
                    body: Arc::clone(body),
                });
                continue;
            }
            match tokenize(t) {
                Ok(tokens) => match rule(table.clone(), &tokens, t, names) {
                    Some(body) => {
                        let body = Arc::new(body);
                        rules
                            .0
                            .entry(table.clone())
                            .or_default()
                            .insert(body.text.clone(), Arc::clone(&body));
                        out.rules.push(Rule { line: n, body });
                    }
                    None => out
                        .diagnostics
                        .push(Diagnostic::at(n, "rule without a chain name")),
                },
                Err(e) => out.diagnostics.push(Diagnostic::at(n, e)),
            }
        } else {
            out.diagnostics.push(Diagnostic::at(
                n,
                if crate::iproute::looks_like_prompt(t) {
                    format!("shell prompt or command, not output: '{t}'")
                } else {
                    format!("not an iptables-save line: '{t}'")
                },
            ));
        }
    }
    out.chains.shrink_to_fit();
    out.rules.shrink_to_fit();
    out
}

fn rule(
    table: Option<Name>,
    tokens: &[String],
    text: &str,
    names: &mut Interner,
) -> Option<RuleBody> {
    let chain = names.get(tokens.get(1)?);
    let mut options: Vec<RuleOption> = Vec::new();
    let mut negate = false;
    for tok in &tokens[2..] {
        if tok == "!" {
            negate = true;
        } else if tok.starts_with('-')
            && tok.len() > 1
            && !tok[1..].starts_with(|c: char| c.is_ascii_digit())
        {
            options.push(RuleOption {
                name: names.get(tok),
                values: Vec::new(),
                negated: negate,
            });
            negate = false;
        } else if let Some(last) = options.last_mut() {
            last.values.push(names.get(tok));
        }
    }
    for o in &mut options {
        o.values.shrink_to_fit();
    }
    options.shrink_to_fit();
    let target = options
        .iter()
        .find(|o| o.name == "-j" || o.name == "-g" || o.name == "--jump" || o.name == "--goto")
        .and_then(|o| o.values.first().cloned());
    let comment = options
        .iter()
        .find(|o| o.name == "--comment")
        .and_then(|o| o.values.first().cloned());
    Some(RuleBody::new(
        table,
        chain,
        options,
        target,
        comment,
        names.get(text),
    ))
}

/// Splits a rule like a shell would: double quotes group, `\"` escapes.
fn tokenize(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut has = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    cur.push(next);
                    has = true;
                }
            }
            '"' => {
                in_quotes = !in_quotes;
                has = true;
            }
            c if c.is_whitespace() && !in_quotes => {
                if has {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            c => {
                cur.push(c);
                has = true;
            }
        }
    }
    if in_quotes {
        return Err("unterminated quote in rule".into());
    }
    if has {
        out.push(cur);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_services_chain_walk() {
        let text = "# Generated by iptables-save v1.8.7 on Fri Nov 27 10:15:00 2026\n*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES ! -s 10.244.0.0/16 -d 10.100.214.177/32 -p udp -m comment --comment \"kube-system/kube-dns:dns cluster IP\" -m udp --dport 53 -j KUBE-MARK-MASQ\n-A KUBE-SEP-X -p udp -m udp -j DNAT --to-destination 10.244.26.3:53\nCOMMIT\n*filter\n:FORWARD DROP [0:0]\nCOMMIT\n";
        let p = parse_iptables_save(text);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.rules.len(), 2);
        let r = &p.rules[0];
        assert_eq!(r.table.as_deref(), Some("nat"));
        assert_eq!(
            r.comment.as_deref(),
            Some("kube-system/kube-dns:dns cluster IP")
        );
        assert_eq!(r.opt("-s"), Some(("10.244.0.0/16", true)));
        assert_eq!(r.destination().unwrap().to_string(), "10.100.214.177/32");
        assert_eq!(
            (r.protocol(), r.dport(), r.target.as_deref()),
            (Some("udp"), Some(53), Some("KUBE-MARK-MASQ"))
        );
        assert_eq!(
            p.rules[1].opt("--to-destination"),
            Some(("10.244.26.3:53", false))
        );
        assert_eq!(
            p.policy("filter", "FORWARD").unwrap().policy.as_deref(),
            Some("DROP")
        );
    }

    #[test]
    fn unterminated_quote_is_a_diagnostic() {
        let p = parse_iptables_save("*nat\n-A X -m comment --comment \"oops -j ACCEPT\n");
        assert!(p.rules.is_empty());
        assert_eq!(p.diagnostics[0].line, Some(2));
    }
}
