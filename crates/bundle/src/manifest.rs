//! `manifest.json`: what the collector ran, so that "collected and failed"
//! can be told from "not collected".

use serde::{Deserialize, Serialize};

/// One command the collector ran, failed ones included.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct CommandRecord {
    /// The command line.
    #[serde(default)]
    pub argv: Vec<String>,
    /// The node it ran on, for node-side commands.
    #[serde(default)]
    pub node: Option<String>,
    /// The bundle path it wrote, or `None` when it wrote nothing.
    #[serde(default)]
    pub output: Option<String>,
    /// The bundle path it was to write, when it wrote nothing (an optional
    /// field added by kdiag-collect 0.1: tells "failed" from "not collected"
    /// for commands whose program is no hint, like `cat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Its exit code; `None` when it was killed or never started.
    #[serde(default)]
    pub exit_code: Option<i64>,
    /// How long it ran.
    #[serde(default)]
    pub duration_ms: Option<u64>,
    /// The tail of its standard error.
    #[serde(default)]
    pub stderr: Option<String>,
}

impl CommandRecord {
    /// Whether the command ran and exited 0.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }
}

/// The collector that wrote the bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct CollectorInfo {
    /// Its name, e.g. `kdiag-collect`.
    #[serde(default)]
    pub name: Option<String>,
    /// Its version.
    #[serde(default)]
    pub version: Option<String>,
}

/// The cluster the bundle was collected from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct ClusterInfo {
    /// kubeconfig context.
    #[serde(default)]
    pub context: Option<String>,
    /// API server URL.
    #[serde(default)]
    pub server: Option<String>,
}

/// Counts of what redaction replaced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Redactions {
    /// Redaction rules applied.
    #[serde(default)]
    pub rules: u64,
    /// Values replaced.
    #[serde(default)]
    pub replacements: u64,
}

/// `manifest.json` (BUNDLE-FORMAT.md). Unknown fields are ignored so that
/// newer collectors' manifests still read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Manifest {
    /// `kdiag-bundle/v1`
    #[serde(default)]
    pub format: Option<String>,
    /// The collector.
    #[serde(default)]
    pub collector: CollectorInfo,
    /// RFC 3339 time of collection.
    #[serde(default)]
    pub collected_at: Option<String>,
    /// The cluster.
    #[serde(default)]
    pub cluster: ClusterInfo,
    /// The collector's options, as given.
    #[serde(default)]
    pub options: serde_json::Map<String, serde_json::Value>,
    /// Every command run.
    #[serde(default)]
    pub commands: Vec<CommandRecord>,
    /// Redaction counts.
    #[serde(default)]
    pub redactions: Option<Redactions>,
}

impl Manifest {
    /// The command that was to write `path`, if the collector recorded one:
    /// the one that wrote it, else the last that was meant to and failed.
    pub fn command_for(&self, path: &str) -> Option<&CommandRecord> {
        self.commands
            .iter()
            .find(|c| c.output.as_deref() == Some(path))
            .or_else(|| {
                self.commands
                    .iter()
                    .rev()
                    .find(|c| c.target.as_deref() == Some(path))
            })
    }

    /// Adds the commands of another bundle's manifest (a node-only bundle
    /// merged into a cluster bundle); the first manifest's header is kept.
    pub fn merge(&mut self, other: Manifest) {
        if self.collected_at.is_none() {
            self.collected_at = other.collected_at;
        }
        if self.cluster.context.is_none() && self.cluster.server.is_none() {
            self.cluster = other.cluster;
        }
        self.commands.extend(other.commands);
        match (&mut self.redactions, other.redactions) {
            (Some(a), Some(b)) => {
                a.rules = a.rules.max(b.rules);
                a.replacements += b.replacements;
            }
            (a @ None, b) => *a = b,
            _ => {}
        }
    }
}

/// Parses `manifest.json`; the error names line and column.
pub fn parse_manifest(text: &str) -> Result<Manifest, String> {
    let manifest: Manifest = serde_json::from_str(text)
        .map_err(|e| format!("line {}, column {}: {e}", e.line(), e.column()))?;
    if let Some(f) = &manifest.format
        && !f.starts_with("kdiag-bundle/")
    {
        return Err(format!("format is '{f}', expected 'kdiag-bundle/v1'"));
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_example() {
        let text = r#"{
  "format": "kdiag-bundle/v1",
  "collector": {"name": "kdiag-collect", "version": "0.1.0"},
  "collected_at": "2026-11-27T10:15:00Z",
  "cluster": {"context": "prod-eu", "server": "https://10.0.0.1:6443"},
  "options": {"since": "2h", "nodes": "all"},
  "commands": [
    {"argv": ["kubectl", "get", "nodes", "-o", "yaml"], "output": "cluster/nodes.yaml",
     "exit_code": 0, "duration_ms": 312, "stderr": ""},
    {"argv": ["ipvsadm", "-Ln"], "node": "worker-1", "output": null,
     "exit_code": 127, "duration_ms": 2, "stderr": "ipvsadm: command not found"}
  ],
  "redactions": {"rules": 6, "replacements": 41}
}"#;
        let m = parse_manifest(text).unwrap();
        assert_eq!(m.commands.len(), 2);
        assert!(m.command_for("cluster/nodes.yaml").unwrap().succeeded());
        assert_eq!(m.commands[1].exit_code, Some(127));
        assert_eq!(m.redactions.unwrap().replacements, 41);
    }

    #[test]
    fn target_names_what_a_failed_command_was_for() {
        let m = parse_manifest(
            r#"{"commands": [
              {"argv": ["cat", "/etc/resolv.conf"], "node": "w1", "output": null,
               "target": "nodes/w1/resolv.conf", "exit_code": 1, "stderr": "No such file"}]}"#,
        )
        .unwrap();
        let c = m.command_for("nodes/w1/resolv.conf").unwrap();
        assert!(!c.succeeded());
        assert!(m.command_for("nodes/w2/resolv.conf").is_none());
    }

    #[test]
    fn merge_appends_commands_and_keeps_the_first_header() {
        let mut a = parse_manifest(
            r#"{"collected_at": "2026-11-27T10:00:00Z", "cluster": {"context": "prod"},
                "commands": [{"argv": ["kubectl"], "exit_code": 0}],
                "redactions": {"rules": 2, "replacements": 5}}"#,
        )
        .unwrap();
        let b = parse_manifest(
            r#"{"collected_at": "2026-11-27T11:00:00Z", "cluster": {},
                "commands": [{"argv": ["ip"], "node": "w2", "exit_code": 0}],
                "redactions": {"rules": 3, "replacements": 1}}"#,
        )
        .unwrap();
        a.merge(b);
        assert_eq!(a.commands.len(), 2);
        assert_eq!(a.collected_at.as_deref(), Some("2026-11-27T10:00:00Z"));
        assert_eq!(a.cluster.context.as_deref(), Some("prod"));
        let r = a.redactions.unwrap();
        assert_eq!((r.rules, r.replacements), (3, 6));
    }

    #[test]
    fn bad_manifest_names_the_line() {
        let err = parse_manifest("{\n \"commands\": 3\n}").unwrap_err();
        assert!(err.starts_with("line 2"), "{err}");
    }
}
