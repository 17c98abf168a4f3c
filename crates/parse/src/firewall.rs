//! Host firewall and SELinux status: `systemctl is-active firewalld` (with
//! `firewall-cmd --list-all` after it when active) and `getenforce`.

use crate::diag::numbered;
use crate::{Diagnostic, Parsed};
use serde::Serialize;

/// firewalld's state and, when listed, its zone settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FirewalldStatus {
    /// Line of the state.
    pub line: u32,
    /// `active`, `inactive`, `failed`, `unknown`, ...
    pub state: String,
    /// `ports:` of the listed zone, e.g. `8472/udp`.
    pub ports: Vec<String>,
    /// `services:` of the listed zone.
    pub services: Vec<String>,
    /// `masquerade: yes|no`.
    pub masquerade: Option<bool>,
}

impl FirewalldStatus {
    /// Whether firewalld is running.
    pub fn active(&self) -> bool {
        self.state == "active"
    }
}

const STATES: &[&str] = &[
    "active",
    "inactive",
    "failed",
    "unknown",
    "activating",
    "deactivating",
    "reloading",
];

/// Parses `firewalld.txt`.
pub fn parse_firewalld(text: &str) -> Parsed<FirewalldStatus> {
    let mut out = Parsed::default();
    let mut status: Option<FirewalldStatus> = None;
    for (n, line) in numbered(text) {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if status.is_none() && STATES.contains(&t) {
            status = Some(FirewalldStatus {
                line: n,
                state: t.to_owned(),
                ..Default::default()
            });
            continue;
        }
        let Some(s) = status.as_mut() else {
            out.problem(
                n,
                format!(
                    "expected the firewalld state first, found '{}'",
                    crate::iproute::clip(t)
                ),
            );
            continue;
        };
        if let Some((key, value)) = t.split_once(':') {
            let items = || {
                value
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            };
            match key.trim() {
                "ports" => s.ports = items(),
                "services" => s.services = items(),
                "masquerade" => s.masquerade = Some(value.trim() == "yes"),
                _ => {}
            }
        }
    }
    match status {
        Some(s) => out.push(s),
        None => out
            .diagnostics
            .push(Diagnostic::whole("no firewalld state found")),
    }
    out
}

/// SELinux mode from `getenforce`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelinuxMode {
    /// 1-based line.
    pub line: u32,
    /// `Enforcing`, `Permissive` or `Disabled`.
    pub mode: String,
}

/// Parses `selinux.txt`.
pub fn parse_getenforce(text: &str) -> Parsed<SelinuxMode> {
    let mut out = Parsed::default();
    for (n, line) in numbered(text) {
        let t = line.trim();
        match t {
            "" => {}
            "Enforcing" | "Permissive" | "Disabled" if out.records.is_empty() => {
                out.push(SelinuxMode {
                    line: n,
                    mode: t.to_owned(),
                })
            }
            _ => out.problem(
                n,
                format!("not a getenforce answer: '{}'", crate::iproute::clip(t)),
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firewalld_active_with_zone() {
        let p = parse_firewalld(
            "active\npublic (active)\n  target: default\n  services: dhcpv6-client ssh\n  ports: 6443/tcp 10250/tcp\n  masquerade: no\n",
        );
        assert!(p.diagnostics.is_empty());
        assert!(p.records[0].active());
        assert_eq!(p.records[0].ports, vec!["6443/tcp", "10250/tcp"]);
        assert_eq!(parse_firewalld("inactive\n").records[0].state, "inactive");
        assert_eq!(parse_getenforce("Enforcing\n").records[0].mode, "Enforcing");
        assert_eq!(
            parse_getenforce("getenforce: command not found\n")
                .diagnostics
                .len(),
            1
        );
    }
}
