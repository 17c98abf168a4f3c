//! Output of the probes run from a pod (busybox `nslookup`, `ping`, `nc`),
//! as kept under `probes/<node>/`. A line starting with `$ ` records the
//! command that produced the lines after it.

use crate::Parsed;
use crate::diag::numbered;
use serde::Serialize;

/// What one line of probe output says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ProbeOutcome {
    /// `$ nslookup ...`: the command whose output follows.
    Command {
        /// The command line.
        command: String,
    },
    /// `ping: bad address 'coredns.kube-system'`: the name did not resolve.
    BadAddress {
        /// The tool that printed it.
        tool: String,
        /// The name.
        name: String,
    },
    /// `nslookup: can't resolve 'kubernetes.default'`, or `** server can't find ...`.
    CantResolve {
        /// The name.
        name: String,
    },
    /// `;; connection timed out; no servers could be reached`.
    NoServers,
    /// `Server:    10.0.0.10`: the DNS server asked.
    Server {
        /// Its address.
        server: String,
    },
    /// `Name:` followed by `Address`: an answer.
    Resolved {
        /// The name.
        name: String,
    },
    /// `connection refused` / `timed out` from `nc` or `ping`.
    ConnectFailed {
        /// The line.
        detail: String,
    },
    /// `100% packet loss`.
    PacketLoss {
        /// The line.
        detail: String,
    },
}

/// A probe outcome and its line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeLine {
    /// 1-based line.
    pub line: u32,
    /// What it says.
    pub outcome: ProbeOutcome,
    /// The line as printed.
    pub text: String,
}

fn quoted(s: &str) -> String {
    s.split(['\'', '"']).nth(1).unwrap_or(s).to_owned()
}

/// Parses probe output. Lines that say nothing kdiag reasons about are skipped.
pub fn parse_probe(text: &str) -> Parsed<ProbeLine> {
    let mut out = Parsed::default();
    for (n, line) in numbered(text) {
        let t = line.trim();
        let outcome = if let Some(cmd) = t.strip_prefix("$ ") {
            Some(ProbeOutcome::Command {
                command: cmd.to_owned(),
            })
        } else if let Some((tool, rest)) = t.split_once(": bad address ") {
            Some(ProbeOutcome::BadAddress {
                tool: tool.to_owned(),
                name: quoted(rest),
            })
        } else if let Some(rest) = t.strip_prefix("nslookup: can't resolve ") {
            Some(ProbeOutcome::CantResolve { name: quoted(rest) })
        } else if let Some(rest) = t.strip_prefix("** server can't find ") {
            Some(ProbeOutcome::CantResolve {
                name: rest.split(':').next().unwrap_or(rest).trim().to_owned(),
            })
        } else if t.contains("no servers could be reached") {
            Some(ProbeOutcome::NoServers)
        } else if let Some(rest) = t.strip_prefix("Server:") {
            Some(ProbeOutcome::Server {
                server: rest.trim().to_owned(),
            })
        } else if let Some(rest) = t.strip_prefix("Name:") {
            Some(ProbeOutcome::Resolved {
                name: rest.trim().to_owned(),
            })
        } else if t.contains("Connection refused")
            || t.contains("connection refused")
            || (t.starts_with("nc: ") && t.contains("timed out"))
        {
            Some(ProbeOutcome::ConnectFailed {
                detail: t.to_owned(),
            })
        } else if t.contains("100% packet loss") {
            Some(ProbeOutcome::PacketLoss {
                detail: t.to_owned(),
            })
        } else {
            None
        };
        if let Some(outcome) = outcome {
            out.push(ProbeLine {
                line: n,
                outcome,
                text: line.to_owned(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busybox_failures() {
        let p = parse_probe(
            "$ ping coredns.kube-system\nping: bad address 'coredns.kube-system'\n$ nslookup kubernetes.default.svc.cluster.local 10.233.0.3\n;; connection timed out; no servers could be reached\n\nnslookup: can't resolve 'kubernetes.default'\n",
        );
        let kinds: Vec<_> = p.records.iter().map(|r| &r.outcome).collect();
        assert_eq!(kinds.len(), 5);
        assert_eq!(
            *kinds[1],
            ProbeOutcome::BadAddress {
                tool: "ping".into(),
                name: "coredns.kube-system".into()
            }
        );
        assert_eq!(*kinds[3], ProbeOutcome::NoServers);
        assert_eq!(
            *kinds[4],
            ProbeOutcome::CantResolve {
                name: "kubernetes.default".into()
            }
        );
    }
}
