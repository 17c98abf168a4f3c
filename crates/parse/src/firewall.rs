//! Host firewall and SELinux status: `systemctl is-active firewalld` (with
//! `firewall-cmd --list-all` after it when active), and SELinux's mode from
//! `getenforce` or `sestatus`.

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

/// SELinux mode from `getenforce` or `sestatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelinuxMode {
    /// 1-based line: the answer of `getenforce`, or `sestatus`'s
    /// `Current mode:` line (its `SELinux status:` line when disabled).
    pub line: u32,
    /// `Enforcing`, `Permissive` or `Disabled`.
    pub mode: String,
}

/// Parses `selinux.txt`: either `getenforce`'s one word (`Enforcing`) or
/// `sestatus`'s report (`SELinux status: enabled` and `Current mode:
/// enforcing`, or `SELinux status: disabled`), recognised by its
/// `SELinux status:` line. Both give the mode as `getenforce` spells it.
pub fn parse_getenforce(text: &str) -> Parsed<SelinuxMode> {
    if numbered(text).any(|(_, l)| sestatus_field(l).is_some_and(|(k, _)| k == "SELinux status")) {
        return parse_sestatus(text);
    }
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

/// `Key:   value` of a `sestatus` line.
fn sestatus_field(line: &str) -> Option<(&str, &str)> {
    let (k, v) = line.split_once(':')?;
    Some((k.trim(), v.trim()))
}

/// `getenforce`'s spelling of a mode `sestatus` prints in lower case.
fn mode_word(v: &str) -> Option<&'static str> {
    match v.to_ascii_lowercase().as_str() {
        "enforcing" => Some("Enforcing"),
        "permissive" => Some("Permissive"),
        "disabled" => Some("Disabled"),
        _ => None,
    }
}

fn parse_sestatus(text: &str) -> Parsed<SelinuxMode> {
    let mut out = Parsed::default();
    let mut status: Option<(u32, &str)> = None;
    let mut mode: Option<SelinuxMode> = None;
    for (n, line) in numbered(text) {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let Some((key, value)) = sestatus_field(t) else {
            out.problem(
                n,
                format!("not a sestatus line: '{}'", crate::iproute::clip(t)),
            );
            continue;
        };
        match key {
            "SELinux status" => match value {
                "enabled" | "disabled" => status = Some((n, value)),
                _ => out.problem(n, format!("unknown SELinux status '{value}'")),
            },
            "Current mode" => match mode_word(value) {
                Some(m) => {
                    mode = Some(SelinuxMode {
                        line: n,
                        mode: m.to_owned(),
                    })
                }
                None => out.problem(n, format!("unknown SELinux mode '{value}'")),
            },
            // Policy name, mount point, mode from the config file, ...
            _ => {}
        }
    }
    match (status, mode) {
        (Some((n, "disabled")), _) => out.push(SelinuxMode {
            line: n,
            mode: "Disabled".to_owned(),
        }),
        (_, Some(m)) => out.push(m),
        (Some((n, _)), None) => out.problem(n, "SELinux is enabled but no 'Current mode:' line"),
        (None, None) => out
            .diagnostics
            .push(Diagnostic::whole("no 'SELinux status:' line")),
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

    #[test]
    fn sestatus_reports() {
        let enabled = "SELinux status:                 enabled\nSELinuxfs mount:                /sys/fs/selinux\nSELinux root directory:         /etc/selinux\nLoaded policy name:             targeted\nCurrent mode:                   enforcing\nMode from config file:          enforcing\nPolicy MLS status:              enabled\nPolicy deny_unknown status:     allowed\nMemory protection checking:     actual (secure)\nMax kernel policy version:      31\n";
        let p = parse_getenforce(enabled);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(
            p.records,
            vec![SelinuxMode {
                line: 5,
                mode: "Enforcing".into()
            }]
        );
        let p = parse_getenforce("SELinux status:                 disabled\n");
        assert!(p.diagnostics.is_empty());
        assert_eq!(p.records[0].mode, "Disabled");
        let p = parse_getenforce("SELinux status:  enabled\nCurrent mode:  permissive\n");
        assert_eq!(p.records[0].mode, "Permissive");
        let p = parse_getenforce("SELinux status:  enabled\n");
        assert!(p.records.is_empty());
        assert_eq!(p.diagnostics.len(), 1);
        // getenforce is still read as before.
        assert_eq!(
            parse_getenforce("Permissive\n").records[0].mode,
            "Permissive"
        );
    }

    proptest::proptest! {
        /// sestatus and getenforce agree on the mode, whatever the padding,
        /// the case sestatus prints and the lines around.
        #[test]
        fn sestatus_and_getenforce_agree(
            mode in proptest::sample::select(vec!["Enforcing", "Permissive"]),
            pad in 1usize..30,
            upper in proptest::prelude::any::<bool>(),
            extra in proptest::collection::vec("[A-Za-z ]{1,20}:[ ]{1,9}[a-z0-9()/ ]{1,20}", 0..4),
        ) {
            let word = if upper { mode.to_owned() } else { mode.to_ascii_lowercase() };
            let mut text = format!("SELinux status:{}enabled\n", " ".repeat(pad));
            for e in &extra {
                // Only lines sestatus prints besides the two it is read by.
                if !e.trim_start().starts_with("SELinux status") && !e.trim_start().starts_with("Current mode") {
                    text.push_str(e);
                    text.push('\n');
                }
            }
            text.push_str(&format!("Current mode:{}{word}\n", " ".repeat(pad)));
            let p = parse_getenforce(&text);
            proptest::prop_assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
            proptest::prop_assert_eq!(p.records.len(), 1);
            proptest::prop_assert_eq!(&p.records[0].mode, &parse_getenforce(mode).records[0].mode);
        }
    }
}
