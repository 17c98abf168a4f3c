//! CNI configuration files from `/etc/cni/net.d/` (`.conf` and `.conflist`).

use crate::Diagnostic;
use serde::Serialize;
use serde_json::Value;

/// What kdiag reads from one CNI configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CniConfig {
    /// `name`
    pub name: Option<String>,
    /// `cniVersion`
    pub cni_version: Option<String>,
    /// Plugin `type`s in order (`flannel`, `portmap`, `bridge`, `calico`, ...).
    pub plugins: Vec<String>,
    /// Subnets named by any IPAM section (`subnet`, `ranges[][].subnet`).
    pub subnets: Vec<String>,
}

/// Parses a CNI config or conflist.
pub fn parse_cni_config(text: &str) -> Result<CniConfig, Diagnostic> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        Diagnostic::at(
            u32::try_from(e.line()).unwrap_or(1),
            format!("CNI config is not valid JSON: {e}"),
        )
    })?;
    if !v.is_object() {
        return Err(Diagnostic::whole("CNI config must be a JSON object"));
    }
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let mut cfg = CniConfig {
        name: s(&v, "name"),
        cni_version: s(&v, "cniVersion"),
        ..Default::default()
    };
    let plugins: Vec<&Value> = match v.get("plugins").and_then(Value::as_array) {
        Some(list) => list.iter().collect(),
        None => vec![&v],
    };
    for p in plugins {
        if let Some(t) = s(p, "type") {
            cfg.plugins.push(t);
        }
        collect_subnets(p, &mut cfg.subnets, 0);
    }
    Ok(cfg)
}

fn collect_subnets(v: &Value, out: &mut Vec<String>, depth: usize) {
    if depth > 16 {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                if k == "subnet"
                    && let Some(s) = val.as_str()
                {
                    out.push(s.to_owned());
                }
                collect_subnets(val, out, depth + 1);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_subnets(x, out, depth + 1)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flannel_conflist() {
        let c = parse_cni_config(r#"{"name":"cbr0","cniVersion":"0.3.1","plugins":[{"type":"flannel","delegate":{"hairpinMode":true,"isDefaultGateway":true}},{"type":"portmap","capabilities":{"portMappings":true}}]}"#).unwrap();
        assert_eq!(c.plugins, vec!["flannel", "portmap"]);
        let b = parse_cni_config(r#"{"type":"bridge","ipam":{"type":"host-local","ranges":[[{"subnet":"10.244.1.0/24"}]]}}"#).unwrap();
        assert_eq!(b.subnets, vec!["10.244.1.0/24"]);
    }
}
