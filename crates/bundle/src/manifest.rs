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
    /// The command that was to write `path`, if the collector recorded one.
    pub fn command_for(&self, path: &str) -> Option<&CommandRecord> {
        self.commands
            .iter()
            .find(|c| c.output.as_deref() == Some(path))
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
    fn bad_manifest_names_the_line() {
        let err = parse_manifest("{\n \"commands\": 3\n}").unwrap_err();
        assert!(err.starts_with("line 2"), "{err}");
    }
}
