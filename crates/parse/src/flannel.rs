//! flannel's files: `/run/flannel/subnet.env` and the `net-conf.json` of
//! its ConfigMap.

use crate::diag::numbered;
use crate::{Diagnostic, Parsed};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// `/run/flannel/subnet.env`: the lease flannel wrote for this node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SubnetEnv {
    /// `FLANNEL_NETWORK` and its line.
    pub network: Option<(u32, IpNet)>,
    /// `FLANNEL_SUBNET` (the bridge address with the node's prefix, e.g. `10.244.1.1/24`).
    pub subnet: Option<(u32, IpNet)>,
    /// `FLANNEL_IPV6_NETWORK`.
    pub ipv6_network: Option<(u32, IpNet)>,
    /// `FLANNEL_IPV6_SUBNET`.
    pub ipv6_subnet: Option<(u32, IpNet)>,
    /// `FLANNEL_MTU`.
    pub mtu: Option<u32>,
    /// `FLANNEL_IPMASQ`.
    pub ipmasq: Option<bool>,
}

/// Parses `subnet.env` (`KEY=VALUE` lines).
pub fn parse_subnet_env(text: &str) -> Parsed<SubnetEnv> {
    let mut out = Parsed::default();
    let mut env = SubnetEnv::default();
    for (n, line) in numbered(text) {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let Some((key, value)) = t.split_once('=') else {
            out.problem(
                n,
                format!("not a KEY=VALUE line: '{}'", crate::iproute::clip(t)),
            );
            continue;
        };
        let net = |v: &str| v.parse::<IpNet>().ok().map(|x| (n, x));
        let value = value.trim().trim_matches('"');
        let ok = match key.trim() {
            "FLANNEL_NETWORK" => set(&mut env.network, net(value)),
            "FLANNEL_SUBNET" => set(&mut env.subnet, net(value)),
            "FLANNEL_IPV6_NETWORK" => set(&mut env.ipv6_network, net(value)),
            "FLANNEL_IPV6_SUBNET" => set(&mut env.ipv6_subnet, net(value)),
            "FLANNEL_MTU" => set(&mut env.mtu, value.parse().ok()),
            "FLANNEL_IPMASQ" => set(&mut env.ipmasq, value.parse().ok()),
            _ => true,
        };
        if !ok {
            out.problem(n, format!("value not recognised: '{t}'"));
        }
    }
    out.push(env);
    out
}

fn set<T>(slot: &mut Option<T>, value: Option<T>) -> bool {
    let ok = value.is_some();
    *slot = value;
    ok
}

/// flannel's `net-conf.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetConf {
    /// `Network`: the cluster-wide pod network.
    #[serde(rename = "Network", default)]
    pub network: Option<String>,
    /// `IPv6Network`.
    #[serde(rename = "IPv6Network", default)]
    pub ipv6_network: Option<String>,
    /// `SubnetLen`.
    #[serde(rename = "SubnetLen", default)]
    pub subnet_len: Option<u8>,
    /// `Backend`.
    #[serde(rename = "Backend", default)]
    pub backend: NetConfBackend,
}

/// `Backend` of `net-conf.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetConfBackend {
    /// `vxlan`, `host-gw`, `wireguard`, ...
    #[serde(rename = "Type", default)]
    pub kind: Option<String>,
    /// VXLAN UDP port (flannel default 8472).
    #[serde(rename = "Port", default)]
    pub port: Option<u16>,
    /// VXLAN VNI (default 1).
    #[serde(rename = "VNI", default)]
    pub vni: Option<u32>,
}

/// Parses `net-conf.json`.
pub fn parse_net_conf(text: &str) -> Result<NetConf, Diagnostic> {
    serde_json::from_str(text).map_err(|e| {
        Diagnostic::at(
            u32::try_from(e.line()).unwrap_or(1),
            format!("net-conf.json cannot be read: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_env_and_net_conf() {
        let p = parse_subnet_env(
            "FLANNEL_NETWORK=10.233.0.0/18\nFLANNEL_SUBNET=10.233.16.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n",
        );
        assert!(p.diagnostics.is_empty());
        let e = &p.records[0];
        assert_eq!(e.subnet.unwrap().1.to_string(), "10.233.16.1/24");
        assert_eq!((e.mtu, e.ipmasq), (Some(1450), Some(false)));
        let c = parse_net_conf("{\n  \"Network\": \"10.244.0.0/16\",\n  \"Backend\": {\n    \"Type\": \"vxlan\"\n  }\n}").unwrap();
        assert_eq!(c.network.as_deref(), Some("10.244.0.0/16"));
        assert_eq!(c.backend.kind.as_deref(), Some("vxlan"));
        assert!(parse_net_conf("{").is_err());
    }
}
