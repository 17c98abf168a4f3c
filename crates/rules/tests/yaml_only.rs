//! Detections written only in YAML, over the generic tables and the
//! cross-table functions, with no Rust of their own: strict `rp_filter` on
//! `flannel.1` (node.sysctl), kube-proxy in ipvs mode on a node without
//! `ip_vs` (nodes + `node(...).modules` + `component(...)`), and a rule that
//! drops or rejects VXLAN (node.iptables). Each fires on one fixture and is
//! quiet on another (`tests/yaml-only/<rule>/{fires,quiet}-*`).
#![allow(clippy::unwrap_used)] // test setup panics on failure

use kdiag_rules::fixtures::{Outcome, test_rules};
use kdiag_rules::load::{load, read_dirs};
use std::path::Path;

#[test]
fn rules_written_only_in_yaml_fire_and_stay_quiet() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/yaml-only");
    let rules = load(&read_dirs(&[&dir]).unwrap()).unwrap();
    assert_eq!(rules.rules.len(), 3);
    let results = test_rules(&rules);
    for rule in &rules.rules {
        let cases: Vec<_> = results.iter().filter(|r| r.rule == rule.def.id).collect();
        for prefix in ["fires", "quiet"] {
            let case = cases
                .iter()
                .find(|c| {
                    c.case
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
                })
                .unwrap_or_else(|| panic!("{} has no {prefix}-* case", rule.def.id));
            assert_eq!(case.outcome, Outcome::Ok, "{case}");
        }
    }
}
