//! Archived-incident regression: a bundle's `expected.yaml` says which root
//! causes and symptoms analyzing it must report, and whether anything else
//! may appear; [`check`] lists every difference.

use crate::def::Severity;
use crate::eval::{Analysis, Finding};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// One expected finding: a class, and subject fields it must have (others may be present).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedFinding {
    /// Failure class.
    pub class: String,
    /// Subject fields that must match exactly; fields not named are not checked.
    #[serde(default)]
    pub subject: BTreeMap<String, String>,
}

impl ExpectedFinding {
    fn matches(&self, f: &Finding) -> bool {
        self.class == f.class
            && self
                .subject
                .iter()
                .all(|(k, v)| f.subject.get(k) == Some(v))
    }
}

impl fmt::Display for ExpectedFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.class)?;
        if !self.subject.is_empty() {
            write!(
                f,
                " {{{}}}",
                self.subject
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        Ok(())
    }
}

/// `expected.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// What is wrong, for people.
    #[serde(default)]
    pub description: Option<String>,
    /// A healthy cluster: nothing at warning or above may be reported.
    #[serde(default)]
    pub healthy: bool,
    /// The root causes, all of them: each must be reported as a root cause, and no other root cause may be.
    #[serde(default)]
    pub root_causes: Vec<ExpectedFinding>,
    /// Findings that must appear (anywhere in the graph).
    #[serde(default)]
    pub symptoms: Vec<ExpectedFinding>,
    /// Findings at warning or above that may appear besides those above.
    #[serde(default)]
    pub allow: Vec<ExpectedFinding>,
}

/// One way the analysis differs from `expected.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// An expected root cause is not reported as a root cause.
    MissingRootCause(String),
    /// A root cause that was not expected.
    UnexpectedRootCause(String),
    /// An expected symptom is not reported.
    MissingSymptom(String),
    /// A finding at warning or above that nothing in `expected.yaml` accounts for.
    UnexpectedFinding(String),
    /// An expected finding is reported, but with another subject.
    WrongSubject {
        /// What was expected.
        expected: String,
        /// What was found with that class.
        found: Vec<String>,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::MissingRootCause(x) => write!(f, "missing root cause: {x}"),
            Difference::UnexpectedRootCause(x) => write!(f, "unexpected root cause: {x}"),
            Difference::MissingSymptom(x) => write!(f, "missing symptom: {x}"),
            Difference::UnexpectedFinding(x) => write!(f, "unexpected finding: {x}"),
            Difference::WrongSubject { expected, found } => write!(
                f,
                "wrong subject: expected {expected}, found {}",
                found.join("; ")
            ),
        }
    }
}

fn describe(f: &Finding) -> String {
    format!(
        "{} {:?} {{{}}}",
        f.class,
        f.severity,
        f.subject
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
    .replace("Critical", "critical")
    .replace("Warning", "warning")
    .replace("Info", "info")
}

fn missing(e: &ExpectedFinding, among: &[&Finding], as_root: bool) -> Difference {
    let same_class: Vec<String> = among
        .iter()
        .filter(|f| f.class == e.class)
        .map(|f| describe(f))
        .collect();
    match (same_class.is_empty(), as_root) {
        (false, _) if !e.subject.is_empty() => Difference::WrongSubject {
            expected: e.to_string(),
            found: same_class,
        },
        (_, true) => Difference::MissingRootCause(e.to_string()),
        (_, false) => Difference::MissingSymptom(e.to_string()),
    }
}

/// Every difference between an analysis and what was expected.
pub fn check(analysis: &Analysis, expected: &Expected) -> Vec<Difference> {
    let mut out = Vec::new();
    let roots: Vec<&Finding> = analysis.findings.iter().filter(|f| f.root).collect();
    let all: Vec<&Finding> = analysis.findings.iter().collect();
    for e in &expected.root_causes {
        if !roots.iter().any(|f| e.matches(f)) {
            out.push(missing(e, &roots, true));
        }
    }
    for f in &roots {
        if !expected.root_causes.iter().any(|e| e.matches(f)) {
            out.push(Difference::UnexpectedRootCause(describe(f)));
        }
    }
    for e in &expected.symptoms {
        if !all.iter().any(|f| e.matches(f)) {
            out.push(missing(e, &all, false));
        }
    }
    for f in all
        .iter()
        .filter(|f| f.severity >= Severity::Warning && !f.root)
    {
        let accounted = !expected.healthy
            && expected
                .root_causes
                .iter()
                .chain(&expected.symptoms)
                .chain(&expected.allow)
                .any(|e| e.matches(f));
        if !accounted {
            out.push(Difference::UnexpectedFinding(describe(f)));
        }
    }
    out
}
