//! Rule tests: every rule runs alone against the fixtures beside it —
//! mini-bundles where it must fire with the expected subjects
//! (`fires-*/expect.yaml`) and where it must stay quiet (`quiet-*/`). The
//! outcome of each case is *ok*, *missing* (did not fire), *noisy* (fired
//! where it must not), *wrong* (fired with other subjects), or a *known gap*
//! kept visible on purpose (`known_gap:` in `expect.yaml`).

use crate::load::{Rule, RuleSet};
use kdiag_model::{LogPatterns, Snapshot};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// `expect.yaml` of a fixture where the rule must fire.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    subjects: Vec<BTreeMap<String, String>>,
    /// The severity every finding must have (after `escalate`), when given.
    #[serde(default)]
    severity: Option<crate::def::Severity>,
    /// A known false negative or positive, kept as a case instead of deleted.
    #[serde(default)]
    known_gap: Option<String>,
}

/// How one case went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// As expected.
    Ok,
    /// Should have fired and did not.
    Missing,
    /// Fired where it must stay quiet.
    Noisy(Vec<BTreeMap<String, String>>),
    /// Fired with other subjects than expected.
    Wrong {
        /// Expected subjects.
        expected: Vec<BTreeMap<String, String>>,
        /// What it found.
        got: Vec<BTreeMap<String, String>>,
    },
    /// A case marked as a known gap; not a failure.
    KnownGap(String),
    /// The fixture itself is broken.
    Error(String),
}

/// One fixture case and its outcome.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Rule id.
    pub rule: String,
    /// Fixture directory.
    pub case: PathBuf,
    /// What happened.
    pub outcome: Outcome,
}

impl CaseResult {
    /// Whether the case counts as a failure.
    pub fn failed(&self) -> bool {
        !matches!(self.outcome, Outcome::Ok | Outcome::KnownGap(_))
    }
}

fn show(s: &[BTreeMap<String, String>]) -> String {
    s.iter()
        .map(|m| {
            format!(
                "{{{}}}",
                m.iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl fmt::Display for CaseResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let case = self.case.display();
        match &self.outcome {
            Outcome::Ok => write!(f, "ok       {}  {case}", self.rule),
            Outcome::Missing => write!(f, "missing  {}  {case}: did not fire", self.rule),
            Outcome::Noisy(got) => {
                write!(f, "noisy    {}  {case}: fired for {}", self.rule, show(got))
            }
            Outcome::Wrong { expected, got } => write!(
                f,
                "wrong    {}  {case}: expected {}, got {}",
                self.rule,
                show(expected),
                show(got)
            ),
            Outcome::KnownGap(why) => write!(f, "gap      {}  {case}: known gap: {why}", self.rule),
            Outcome::Error(e) => write!(f, "error    {}  {case}: {e}", self.rule),
        }
    }
}

/// The fixture directory of a rule file: the file's path without `.yaml`.
pub fn fixture_dir(rule_file: &Path) -> PathBuf {
    rule_file.with_extension("")
}

/// A finding's subject: contract field → value.
type Subject = BTreeMap<String, String>;

/// Runs one rule against one fixture bundle; the subjects it found.
pub fn run_case(rule: &Rule, bundle: &Path) -> Result<Vec<BTreeMap<String, String>>, String> {
    run_case_severities(rule, bundle).map(|(subjects, _)| subjects)
}

/// Runs one rule against one fixture bundle; the subjects it found and the
/// severities of its findings.
fn run_case_severities(
    rule: &Rule,
    bundle: &Path,
) -> Result<(Vec<Subject>, Vec<crate::def::Severity>), String> {
    let patterns = LogPatterns::new(
        rule.def
            .matcher
            .logs
            .as_ref()
            .map(|l| (rule.def.id.clone(), l.pattern.clone())),
    )
    .map_err(|e| e.to_string())?;
    let snap = std::sync::Arc::new(
        Snapshot::load(bundle, &Default::default(), &patterns).map_err(|e| e.to_string())?,
    );
    let single = RuleSet {
        rules: vec![rule.clone()],
    };
    let analysis = crate::eval::analyze(&single, &snap);
    if let Some(p) = analysis.problems.first() {
        return Err(p.clone());
    }
    let severities: Vec<_> = analysis.findings.iter().map(|f| f.severity).collect();
    let mut got: Vec<_> = analysis.findings.into_iter().map(|f| f.subject).collect();
    got.sort();
    got.dedup();
    Ok((got, severities))
}

/// Runs every rule of `rules` whose file is on disk against its fixtures.
pub fn test_rules(rules: &RuleSet) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for rule in &rules.rules {
        let dir = fixture_dir(Path::new(&rule.file));
        let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        cases.sort();
        if cases.is_empty() {
            out.push(CaseResult {
                rule: rule.def.id.clone(),
                case: dir.clone(),
                outcome: Outcome::Error(
                    "no fixtures: add fires-*/ and quiet-*/ bundles beside the rule".into(),
                ),
            });
            continue;
        }
        for case in cases {
            let name = case
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let expect: Expect = match std::fs::read_to_string(case.join("expect.yaml")) {
                Ok(t) => match serde_saphyr::from_str(&t) {
                    Ok(e) => e,
                    Err(e) => {
                        out.push(CaseResult {
                            rule: rule.def.id.clone(),
                            case,
                            outcome: Outcome::Error(format!(
                                "expect.yaml: {}",
                                e.to_string().lines().next().unwrap_or_default()
                            )),
                        });
                        continue;
                    }
                },
                Err(_) => Expect::default(),
            };
            let outcome = match run_case_severities(rule, &case) {
                Err(e) => Outcome::Error(e),
                Ok((got, severities)) => {
                    let mut expected = expect.subjects.clone();
                    expected.sort();
                    let verdict = if name.starts_with("quiet") {
                        if got.is_empty() {
                            Outcome::Ok
                        } else {
                            Outcome::Noisy(got)
                        }
                    } else if name.starts_with("fires") {
                        if got.is_empty() {
                            Outcome::Missing
                        } else if got == expected {
                            match expect.severity {
                                Some(want) if severities.iter().any(|s| *s != want) => {
                                    Outcome::Error(format!(
                                        "expected every finding at {want:?}, got {severities:?}"
                                    ))
                                }
                                _ => Outcome::Ok,
                            }
                        } else {
                            Outcome::Wrong { expected, got }
                        }
                    } else {
                        Outcome::Error(
                            "a fixture directory must be named fires-* or quiet-*".into(),
                        )
                    };
                    match (&expect.known_gap, &verdict) {
                        (Some(why), v) if *v != Outcome::Ok => Outcome::KnownGap(why.clone()),
                        _ => verdict,
                    }
                }
            };
            out.push(CaseResult {
                rule: rule.def.id.clone(),
                case,
                outcome,
            });
        }
    }
    out
}
