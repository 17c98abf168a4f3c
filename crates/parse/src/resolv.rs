//! `resolv.conf`, of a host or of a pod.

use crate::Parsed;
use crate::diag::numbered;
use serde::Serialize;
use std::net::IpAddr;

/// One directive of `resolv.conf`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "directive", rename_all = "lowercase")]
pub enum ResolvEntry {
    /// `nameserver 10.233.0.3`
    Nameserver {
        /// 1-based line.
        line: u32,
        /// The server.
        ip: IpAddr,
    },
    /// `search a b c` (or `domain a`)
    Search {
        /// 1-based line.
        line: u32,
        /// The domains.
        domains: Vec<String>,
    },
    /// `options ndots:5 ...`
    Options {
        /// 1-based line.
        line: u32,
        /// The options.
        options: Vec<String>,
    },
}

/// Parses `resolv.conf`. Comments (`#`, `;`) are skipped.
pub fn parse_resolv_conf(text: &str) -> Parsed<ResolvEntry> {
    let mut out = Parsed::default();
    for (n, line) in numbered(text) {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        let mut toks = t.split_whitespace();
        let word = toks.next().unwrap_or_default();
        let rest: Vec<String> = toks.map(str::to_owned).collect();
        match word {
            "nameserver" => match rest.first().and_then(|s| s.parse().ok()) {
                Some(ip) => out.push(ResolvEntry::Nameserver { line: n, ip }),
                None => out.problem(n, format!("nameserver is not an IP address: '{t}'")),
            },
            "search" | "domain" => out.push(ResolvEntry::Search {
                line: n,
                domains: rest,
            }),
            "options" => out.push(ResolvEntry::Options {
                line: n,
                options: rest,
            }),
            "sortlist" => {}
            _ => out.problem(
                n,
                format!("not a resolv.conf directive: '{}'", crate::iproute::clip(t)),
            ),
        }
    }
    out
}

/// The nameservers, search domains and `ndots` of a parsed file.
pub fn summarize(entries: &[ResolvEntry]) -> (Vec<IpAddr>, Vec<String>, Option<u32>) {
    let mut ns = Vec::new();
    let mut search = Vec::new();
    let mut ndots = None;
    for e in entries {
        match e {
            ResolvEntry::Nameserver { ip, .. } => ns.push(*ip),
            // The last search/domain line wins, as in glibc.
            ResolvEntry::Search { domains, .. } => search = domains.clone(),
            ResolvEntry::Options { options, .. } => {
                for o in options {
                    if let Some(v) = o.strip_prefix("ndots:") {
                        ndots = v.parse().ok();
                    }
                }
            }
        }
    }
    (ns, search, ndots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_resolv_conf() {
        let p = parse_resolv_conf(
            "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.233.0.3\noptions ndots:5\n",
        );
        assert!(p.diagnostics.is_empty());
        let (ns, search, ndots) = summarize(&p.records);
        assert_eq!(ns[0].to_string(), "10.233.0.3");
        assert_eq!(search.len(), 3);
        assert_eq!(ndots, Some(5));
    }
}
