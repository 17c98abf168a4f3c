//! `kdiag trace`: one packet through the bundle, hop by hop.

use crate::{Format, LimitArgs, exit};
use anyhow::Result;
use clap::Args;
use kdiag_model::trace::{FlowVerdict, From, Hop, To, Trace, Verdict};
use std::io::Write;
use std::path::PathBuf;

/// Exit code: the packet is dropped on its way.
pub const DROPPED: u8 = 20;
/// Exit code: the bundle cannot tell whether it arrives.
pub const UNKNOWN: u8 = 21;

/// Trace one packet through the collected state: the source node's nat
/// (kube-proxy DNAT or IPVS), routes, forwarding and filter chains, the
/// VXLAN neighbour and FDB entries, the peer node and the pod
#[derive(Args)]
pub struct TraceArgs {
    /// Bundles to read (`.tar.gz`, `.tar` or a directory); several are merged
    #[arg(required = true)]
    bundles: Vec<PathBuf>,
    /// Where the packet starts: node/NAME (an ordinary pod on that node's pod
    /// network), host/NAME (the node's own network namespace) or
    /// pod/NAMESPACE/NAME
    #[arg(long, value_name = "ENDPOINT")]
    from: From,
    /// Where it goes: IP[:PORT[/udp|tcp]] (tcp when not given),
    /// service/NAMESPACE/NAME[:PORT] or pod/NAMESPACE/NAME
    #[arg(long, value_name = "ENDPOINT")]
    to: To,
    /// Output format (JSON is `kdiag-trace/v1`, documented in the README)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Runs `kdiag trace`; exits 0 delivered, 20 dropped, 21 unknown.
pub fn run(args: &TraceArgs) -> Result<u8> {
    let snap = crate::load(&args.bundles, &args.limits)?;
    let t = kdiag_model::trace::trace(&snap, &args.from, &args.to);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &t)?;
            writeln!(out)?;
        }
        Format::Text => write_text(&t, &mut out)?,
    }
    Ok(match t.verdict {
        FlowVerdict::Delivered => exit::OK,
        FlowVerdict::Dropped => DROPPED,
        FlowVerdict::Unknown => UNKNOWN,
    })
}

fn mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Drop => "DROP",
        Verdict::Unknown => "unknown",
    }
}

fn write_hop(out: &mut dyn Write, h: &Hop, indent: &str) -> std::io::Result<()> {
    let node = if h.node.is_empty() { "-" } else { &h.node };
    writeln!(
        out,
        "{indent}{:<8} {node:<14} {:<18} {}",
        mark(h.verdict),
        h.step,
        h.detail
    )?;
    for e in &h.evidence {
        writeln!(out, "{indent}           {}:{}  {}", e.file, e.line, e.text)?;
    }
    if let Some(fix) = &h.fix {
        writeln!(out, "{indent}           fix: {fix}")?;
    }
    Ok(())
}

/// One line per hop; the drop hop with its fix; then every other branch.
pub fn write_text(t: &Trace, out: &mut dyn Write) -> std::io::Result<()> {
    let verdict = match t.verdict {
        FlowVerdict::Delivered => "delivered",
        FlowVerdict::Dropped => "DROPPED",
        FlowVerdict::Unknown => "UNKNOWN",
    };
    writeln!(out, "{} → {}: {verdict}", t.from, t.to)?;
    for h in &t.hops {
        write_hop(out, h, "  ")?;
    }
    if t.branches.len() > 1 {
        writeln!(out)?;
        writeln!(out, "{} ways through (one per endpoint):", t.branches.len())?;
        for b in &t.branches {
            let v = match b.verdict {
                FlowVerdict::Delivered => "delivered",
                FlowVerdict::Dropped => "DROPPED",
                FlowVerdict::Unknown => "unknown",
            };
            writeln!(out, "  to {}: {v}", b.to)?;
            if let Some(d) = &b.drop {
                write_hop(out, d, "    ")?;
            }
        }
    }
    Ok(())
}
