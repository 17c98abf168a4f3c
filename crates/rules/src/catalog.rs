//! The failure classes of FAILURE-CATALOG.md: the stable names every
//! finding carries, with their layer. Add by appending; never rename.

/// `(class, layer)` for every class.
pub const CLASSES: &[(&str, &str)] = &[
    ("dns.unreachable", "dns"),
    ("dns.resolv-conf-mismatch", "dns"),
    ("dns.coredns-failing", "dns"),
    ("service.no-endpoints", "service"),
    ("service.not-programmed", "service"),
    ("component.unhealthy", "component"),
    ("rbac.permission-denied", "rbac"),
    ("rbac.clusterrole-missing", "rbac"),
    ("rbac.binding-missing", "rbac"),
    ("podnet.route-missing", "pod-network"),
    ("podnet.vxlan-peer-missing", "pod-network"),
    ("podnet.stale-cidr", "pod-network"),
    ("config.dual-pod-cidr", "config"),
    ("config.cidr-mismatch", "config"),
    ("node.ip-forward-disabled", "node"),
    ("node.br-netfilter-missing", "node"),
    ("node.firewall-blocking", "node"),
    ("node.selinux-enforcing", "node"),
    ("bundle.data-missing", "meta"),
];

/// The layer of a class, if the class exists.
pub fn layer_of(class: &str) -> Option<&'static str> {
    CLASSES.iter().find(|(c, _)| *c == class).map(|(_, l)| *l)
}

/// Subject fields of the report contract (DESIGN.md).
pub const SUBJECT_FIELDS: &[&str] = &[
    "kind",
    "namespace",
    "name",
    "node",
    "serviceaccount",
    "verb",
    "resource",
    "cidr",
    "ip",
];

#[cfg(test)]
mod tests {
    #[test]
    fn catalog_matches_the_shared_document() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/FAILURE-CATALOG.md"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        for line in text.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let class = cells[1].trim_matches('`');
            assert_eq!(super::layer_of(class), Some(cells[2]), "{class}");
        }
    }
}
