//! iproute2 text output: `ip route`, `ip neigh`, `bridge fdb`, `ip addr`
//! and `ip -d link`. Lines that are not command output (shell prompts,
//! `...` elisions, headings) come back as diagnostics, never as records.
//! The tools' own error messages (`RTNETLINK answers: ...`, `Cannot open
//! netlink socket: ...`, see [`crate::lines::is_tool_stderr`]) are skipped.

mod fdb;
mod link;
mod neigh;
mod route;

pub use fdb::{FdbEntry, parse_fdb};
pub use link::{IfAddr, Interface, VxlanInfo, parse_links};
pub use neigh::{Neighbor, parse_neighbors};
pub use route::{Route, parse_routes};

use std::net::IpAddr;

/// Runs a one-record-per-line parser over every non-blank line; lines it
/// cannot read become diagnostics saying what they look like instead.
pub(crate) fn each_line<T>(
    text: &str,
    parse_one: impl Fn(u32, &str) -> Option<T>,
) -> crate::Parsed<T> {
    let mut out = crate::Parsed::default();
    for (n, line) in crate::diag::numbered(text) {
        if line.trim().is_empty() || crate::lines::is_tool_stderr(line) {
            continue;
        }
        match parse_one(n, line) {
            Some(r) => out.push(r),
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
