//! The kubelet's configuration file (`/var/lib/kubelet/config.yaml`, a
//! `KubeletConfiguration`): the fields that decide pods' DNS and networking.

use crate::{Diagnostic, Parsed};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

/// What kdiag reads from a `KubeletConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KubeletConfig {
    /// `clusterDNS` entries with their lines.
    pub cluster_dns: Vec<(u32, String)>,
    /// `clusterDomain` and its line.
    pub cluster_domain: Option<(u32, String)>,
    /// `resolvConf` (the host file pods inherit with `dnsPolicy: Default`).
    pub resolv_conf: Option<String>,
    /// `cgroupDriver`.
    pub cgroup_driver: Option<String>,
    /// `podCIDR` (standalone kubelets only).
    pub pod_cidr: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Raw {
    kind: Option<String>,
    #[serde(rename = "clusterDNS")]
    cluster_dns: Vec<Spanned<String>>,
    cluster_domain: Option<Spanned<String>>,
    resolv_conf: Option<String>,
    cgroup_driver: Option<String>,
    #[serde(rename = "podCIDR")]
    pod_cidr: Option<String>,
}

fn line(loc: &serde_saphyr::Location) -> u32 {
    u32::try_from(loc.line()).unwrap_or(0)
}

/// Parses a kubelet config file.
pub fn parse_kubelet_config(text: &str) -> Parsed<KubeletConfig> {
    let mut out = Parsed::default();
    match serde_saphyr::from_str_with_options::<Raw>(text, crate::kube::yaml_options()) {
        Ok(raw) => {
            if raw
                .kind
                .as_deref()
                .is_some_and(|k| k != "KubeletConfiguration")
            {
                out.diagnostics.push(Diagnostic::at(
                    1,
                    format!(
                        "kind is '{}', expected KubeletConfiguration",
                        raw.kind.unwrap_or_default()
                    ),
                ));
            }
            out.push(KubeletConfig {
                cluster_dns: raw
                    .cluster_dns
                    .into_iter()
                    .map(|s| (line(&s.referenced), s.value))
                    .collect(),
                cluster_domain: raw.cluster_domain.map(|s| (line(&s.referenced), s.value)),
                resolv_conf: raw.resolv_conf,
                cgroup_driver: raw.cgroup_driver,
                pod_cidr: raw.pod_cidr,
            });
        }
        Err(e) => out.diagnostics.push(Diagnostic::whole(format!(
            "kubelet config cannot be read: {}",
            e.to_string().lines().next().unwrap_or_default()
        ))),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_dns_with_lines() {
        let p = parse_kubelet_config(
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nclusterDNS:\n- 169.254.25.10\nclusterDomain: cluster.local\ncgroupDriver: systemd\n",
        );
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let c = &p.records[0];
        assert_eq!(c.cluster_dns, vec![(4, "169.254.25.10".to_owned())]);
        assert_eq!(c.cluster_domain, Some((5, "cluster.local".to_owned())));
    }
}
