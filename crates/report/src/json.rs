//! The `kdiag-report/v1` JSON document (DESIGN.md, "The report contract").
//! Fields are only ever added; `first_seen` and `bundle.kubernetes_version`
//! are additions to the example in DESIGN.md.

use kdiag_rules::eval::Analysis;
use serde_json::{Value, json};

/// Builds the report document.
pub fn report(analysis: &Analysis) -> Value {
    let info = &analysis.bundle;
    let findings: Vec<Value> = analysis
        .findings
        .iter()
        .map(|f| {
            json!({
                "id": f.id,
                "rule": f.rule,
                "class": f.class,
                "layer": f.layer,
                "severity": f.severity,
                "subject": f.subject,
                "message": f.message,
                "evidence": f.evidence,
                "caused_by": f.caused_by,
                "causes": f.causes,
                "root": f.root,
                "remediation": f.remediation,
                "first_seen": f.first_seen.map(|t| t.to_string()),
            })
        })
        .collect();
    json!({
        "format": "kdiag-report/v1",
        "bundle": {
            "source": info.source,
            "collected_at": info.collected_at,
            "files": info.files,
            "kubernetes_version": info.kubernetes_version,
        },
        "findings": findings,
        "root_causes": analysis.root_causes(),
        "unknown": analysis.unknown,
        "not_applicable": analysis.not_applicable,
        "rule_errors": analysis.problems,
    })
}
