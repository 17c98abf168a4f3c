//! `lsmod` output. lsmod's own error messages (`lsmod: ERROR: could not
//! open '/proc/modules'`) are skipped, not read as modules.

use crate::Parsed;
use crate::diag::numbered;
use serde::Serialize;

/// One loaded kernel module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Module {
    /// 1-based line.
    pub line: u32,
    /// Module name, e.g. `br_netfilter`.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Reference count.
    pub refs: i64,
    /// Modules using it.
    pub used_by: Vec<String>,
    /// The line as printed.
    pub text: String,
}

/// Parses `lsmod`.
pub fn parse_lsmod(text: &str) -> Parsed<Module> {
    let mut out = Parsed::default();
    for (n, line) in numbered(text) {
        let toks: Vec<&str> = line.split_whitespace().collect();
        if toks.is_empty()
            || (toks[0] == "Module" && toks.get(1) == Some(&"Size"))
            || crate::lines::is_tool_stderr(line)
        {
            continue;
        }
        let parsed = (|| {
            Some(Module {
                line: n,
                name: (*toks.first()?).to_owned(),
                size: toks.get(1)?.parse().ok()?,
                refs: toks.get(2)?.parse().ok()?,
                used_by: toks
                    .get(3)
                    .map(|u| {
                        u.split(',')
                            .filter(|s| !s.is_empty() && *s != "[permanent]")
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                text: line.to_owned(),
            })
        })();
        match parsed {
            Some(m) => out.push(m),
            None => out.problem(
                n,
                format!("not an lsmod line: '{}'", crate::iproute::clip(line.trim())),
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules() {
        let p = parse_lsmod(
            "Module                  Size  Used by\nbr_netfilter           32768  0\nbridge                307200  1 br_netfilter\nvxlan                  86016  0\n",
        );
        assert!(p.diagnostics.is_empty());
        assert_eq!(p.records.len(), 3);
        assert_eq!(p.records[1].used_by, vec!["br_netfilter"]);
        let p = parse_lsmod(
            "lsmod: ERROR: could not open '/proc/modules': No such file or directory\n",
        );
        assert!(p.records.is_empty() && p.diagnostics.is_empty());
    }
}
