//! Kubernetes versions: `kubectl version -o yaml|json` and troubleshoot.sh's
//! `cluster-info/cluster_version.json`.

use crate::Diagnostic;
use serde::Serialize;
use serde_json::Value;

/// The versions a file states.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClusterVersion {
    /// API server `gitVersion`, e.g. `v1.29.4`.
    pub server: Option<String>,
    /// kubectl's `gitVersion`.
    pub client: Option<String>,
    /// 1-based line that states the server's version (the first line
    /// holding it after a `serverVersion` key, else the first holding it).
    pub server_line: u32,
}

/// Reads either layout from an already-parsed value.
pub fn cluster_version(v: &Value) -> Result<ClusterVersion, Diagnostic> {
    let git = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_owned);
    let out = ClusterVersion {
        server: git("/serverVersion/gitVersion")
            .or_else(|| git("/info/gitVersion"))
            .or_else(|| git("/string"))
            // `kubectl version`'s server half alone (sonobuoy's serverversion.json).
            .or_else(|| git("/gitVersion")),
        client: git("/clientVersion/gitVersion"),
        server_line: 1,
    };
    if out.server.is_none() && out.client.is_none() {
        return Err(Diagnostic::whole(
            "no gitVersion found (expected serverVersion.gitVersion or info.gitVersion)",
        ));
    }
    Ok(out)
}

/// Parses a version file: JSON, or YAML (`kubectl version -o yaml`).
pub fn parse_version(text: &str, json: bool) -> Result<ClusterVersion, Diagnostic> {
    let v: Value = if json {
        serde_json::from_str(text).map_err(|e| {
            Diagnostic::at(
                u32::try_from(e.line()).unwrap_or(1),
                format!("not valid JSON: {e}"),
            )
        })?
    } else {
        serde_saphyr::from_str_with_options(text, crate::kube::yaml_options()).map_err(|e| {
            Diagnostic::whole(format!(
                "not valid YAML: {}",
                e.to_string().lines().next().unwrap_or_default()
            ))
        })?
    };
    let mut out = cluster_version(&v)?;
    if let Some(server) = &out.server {
        let lines: Vec<&str> = text.lines().collect();
        let after = lines
            .iter()
            .position(|l| l.contains("serverVersion"))
            .unwrap_or(0);
        let found = lines
            .iter()
            .enumerate()
            .skip(after)
            .find(|(_, l)| l.contains(server.as_str()))
            .or_else(|| {
                lines
                    .iter()
                    .enumerate()
                    .find(|(_, l)| l.contains(server.as_str()))
            });
        if let Some((i, _)) = found {
            out.server_line = u32::try_from(i + 1).unwrap_or(1);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layouts() {
        let y = parse_version("clientVersion:\n  gitVersion: v1.29.4\nserverVersion:\n  gitVersion: v1.29.4\n  major: \"1\"\n", false).unwrap();
        assert_eq!(y.server.as_deref(), Some("v1.29.4"));
        let j = parse_version(
            r#"{"info": {"gitVersion": "v1.24.4+k3s1"}, "string": "v1.24.4+k3s1"}"#,
            true,
        )
        .unwrap();
        assert_eq!(j.server.as_deref(), Some("v1.24.4+k3s1"));
        assert!(parse_version("{}", true).is_err());
    }
}
