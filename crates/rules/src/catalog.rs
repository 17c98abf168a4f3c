//! The failure classes every finding carries, with their layer, read from
//! `rules/classes.yaml` (embedded at build time; it follows
//! FAILURE-CATALOG.md). Add a class by appending an entry; never rename one.

use serde::Deserialize;
use std::sync::OnceLock;

/// Data files that live beside the rules and are not rules.
pub const DATA_FILES: &[&str] = &["classes.yaml", "components.yaml"];

/// One failure class.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Class {
    /// Stable name, e.g. `rbac.clusterrole-missing`.
    pub class: String,
    /// Troubleshooting layer (`dns`, `service`, `pod-network`, `component`, `rbac`, `config`, `node`, `meta`).
    pub layer: String,
    /// What it means.
    pub meaning: String,
}

const CLASSES_YAML: &str = include_str!("../../../rules/classes.yaml");

/// Every class, in file order. The embedded file is checked by a test, so
/// a broken one fails the build's tests rather than a user's run.
pub fn classes() -> &'static [Class] {
    static CLASSES: OnceLock<Vec<Class>> = OnceLock::new();
    CLASSES.get_or_init(|| serde_saphyr::from_str(CLASSES_YAML).unwrap_or_default())
}

/// The network components of `rules/components.yaml` (kept by the model,
/// which recognises them).
pub fn components() -> &'static [crate::def::ComponentDef] {
    kdiag_model::components::catalog()
}

/// Every class name.
pub fn class_names() -> Vec<&'static str> {
    classes().iter().map(|c| c.class.as_str()).collect()
}

/// The layer of a class, if the class exists.
pub fn layer_of(class: &str) -> Option<&'static str> {
    classes()
        .iter()
        .find(|c| c.class == class)
        .map(|c| c.layer.as_str())
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
        assert!(
            super::classes().len() >= 20,
            "rules/classes.yaml did not load"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            eprintln!("skipped: {path} is absent (a clone without ../shared)");
            return;
        };
        for line in text.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let class = cells[1].trim_matches('`');
            assert_eq!(super::layer_of(class), Some(cells[2]), "{class}");
        }
    }
}
