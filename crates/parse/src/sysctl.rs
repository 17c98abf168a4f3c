//! `sysctl -a` (`net.ipv4.ip_forward = 1`) and the `/proc/sys/...` form
//! troubleshoot.sh writes (`/proc/sys/net/ipv4/ip_forward = 1`). Keys come
//! back in sysctl's dotted form, with dots inside names (`flannel.1`)
//! written as `/`, as `sysctl` itself prints them. sysctl's own error
//! messages in the output (`sysctl: permission denied on key ...`) are
//! skipped: they are neither parameters nor malformed ones.

use crate::Parsed;
use crate::diag::numbered;
use serde::Serialize;

/// One kernel parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sysctl {
    /// 1-based line.
    pub line: u32,
    /// Dotted key, e.g. `net.ipv4.conf.flannel/1.forwarding`.
    pub key: String,
    /// Value as printed (tabs between fields kept).
    pub value: String,
    /// The line as printed.
    pub text: String,
}

/// Parses either sysctl form.
pub fn parse_sysctl(text: &str) -> Parsed<Sysctl> {
    let mut out = Parsed::default();
    for (n, line) in numbered(text) {
        let t = line.trim();
        if t.is_empty()
            || t.starts_with('#')
            || t.starts_with(';')
            || crate::lines::is_tool_stderr(t)
        {
            continue;
        }
        let Some((key, value)) = t.split_once('=') else {
            out.problem(
                n,
                format!("not a 'key = value' line: '{}'", crate::iproute::clip(t)),
            );
            continue;
        };
        let key = key.trim();
        let key = match key.strip_prefix("/proc/sys/") {
            Some(path) => path
                .split('/')
                .map(|c| c.replace('.', "/"))
                .collect::<Vec<_>>()
                .join("."),
            None => key.to_owned(),
        };
        if key.is_empty() || key.contains(char::is_whitespace) {
            out.problem(n, format!("not a sysctl key: '{key}'"));
            continue;
        }
        out.push(Sysctl {
            line: n,
            key,
            value: value.trim().to_owned(),
            text: line.to_owned(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_normalise_to_the_same_key() {
        let p = parse_sysctl(
            "net.ipv4.ip_forward = 1\n/proc/sys/net/ipv4/conf/flannel.1/forwarding = 0\nnet.ipv4.conf.flannel/1.rp_filter = 2\nsysctl: permission denied on key 'fs.protected_fifos'\n",
        );
        assert_eq!(p.records[0].key, "net.ipv4.ip_forward");
        assert_eq!(p.records[1].key, "net.ipv4.conf.flannel/1.forwarding");
        assert_eq!(p.records[2].key, "net.ipv4.conf.flannel/1.rp_filter");
        assert_eq!(p.records.len(), 3);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    }

    #[test]
    fn stderr_lines_are_skipped_but_bad_lines_still_reported() {
        let p = parse_sysctl(
            "abi.vsyscall32 = 1\nsysctl: unable to open directory \"/proc/sys/fs/binfmt_misc/\"\nfs.file-max = 9223372036854775807\nnot a parameter\n",
        );
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.records[1].line, 3);
        assert_eq!(p.diagnostics.len(), 1);
        assert_eq!(p.diagnostics[0].line, Some(4));
    }
}
