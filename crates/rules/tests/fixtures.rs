//! Every rule is ok on its fixtures: it fires where it must, with the
//! expected subjects, and stays quiet where it must.
#![allow(clippy::unwrap_used)] // test setup panics on failure

use kdiag_rules::fixtures::{Outcome, test_rules};
use kdiag_rules::load::{load, read_dirs};
use std::path::Path;

#[test]
fn every_rule_is_ok_on_its_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let rules = load(&read_dirs(&[&dir]).unwrap()).unwrap();
    let results = test_rules(&rules);
    let failures: Vec<String> = results
        .iter()
        .filter(|r| r.failed())
        .map(ToString::to_string)
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for rule in &rules.rules {
        let cases: Vec<_> = results.iter().filter(|r| r.rule == rule.def.id).collect();
        let name = |c: &&kdiag_rules::fixtures::CaseResult| {
            c.case.file_name().unwrap().to_string_lossy().into_owned()
        };
        assert!(
            cases.iter().any(|c| name(c).starts_with("fires")),
            "{} needs a fixture where it fires",
            rule.def.id
        );
        assert!(
            cases.iter().any(|c| name(c).starts_with("quiet")),
            "{} needs a fixture where it stays quiet",
            rule.def.id
        );
        assert!(
            cases.iter().all(|c| c.outcome == Outcome::Ok),
            "{}",
            rule.def.id
        );
    }
}

#[test]
fn a_wrong_expectation_is_reported_as_wrong() {
    let tmp = std::env::temp_dir().join(format!("kdiag-fixture-{}", std::process::id()));
    let rule_dir = tmp.join("rbac");
    std::fs::create_dir_all(&rule_dir).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/rbac");
    std::fs::copy(
        src.join("node-proxier-missing.yaml"),
        rule_dir.join("node-proxier-missing.yaml"),
    )
    .unwrap();
    let case = rule_dir.join("node-proxier-missing/fires-case/cluster");
    std::fs::create_dir_all(&case).unwrap();
    for f in ["clusterroles.yaml", "clusterrolebindings.yaml"] {
        std::fs::copy(
            src.join("node-proxier-missing/fires-serviceaccount-binding/cluster")
                .join(f),
            case.join(f),
        )
        .unwrap();
    }
    std::fs::write(
        rule_dir.join("node-proxier-missing/fires-case/expect.yaml"),
        "subjects:\n- kind: ClusterRole\n  name: flannel\n",
    )
    .unwrap();
    let quiet = rule_dir.join("node-proxier-missing/quiet-but-fires/cluster");
    std::fs::create_dir_all(&quiet).unwrap();
    for f in ["clusterroles.yaml", "clusterrolebindings.yaml"] {
        std::fs::copy(case.join(f), quiet.join(f)).unwrap();
    }
    let rules = load(&read_dirs(&[&tmp]).unwrap()).unwrap();
    let results = test_rules(&rules);
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(
        matches!(results[0].outcome, Outcome::Wrong { .. }),
        "{}",
        results[0]
    );
    assert!(
        matches!(results[1].outcome, Outcome::Noisy(_)),
        "{}",
        results[1]
    );
    assert!(results[0].to_string().starts_with("wrong "));
}
