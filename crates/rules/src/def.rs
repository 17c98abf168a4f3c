//! The rule file format. One rule per YAML file; `rules/schema.json` is
//! generated from these types (`kdiag rules schema`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How bad a finding is (FAILURE-CATALOG.md, Severity).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Will break or is partly broken.
    Warning,
    /// The cluster network is down for someone.
    Critical,
}

/// One rule.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    /// Stable id, `<layer>.<what>`, e.g. `rbac.clusterrole-missing.bound`.
    pub id: String,
    /// One line for listings.
    pub title: String,
    /// The failure class (FAILURE-CATALOG.md) every finding of this rule carries.
    pub class: String,
    /// Severity of its findings.
    pub severity: Severity,
    /// Raise the severity of a finding when a CEL condition over the finding holds.
    #[serde(default)]
    pub escalate: Option<Escalate>,
    /// For the reader of the report, in fixed sections: What it detects / Why it breaks the network / How to confirm by hand.
    pub description: String,
    /// Where the records come from: exactly one source.
    #[serde(rename = "match")]
    pub matcher: Match,
    /// Named values computed per record before `where`, CEL over `r` (and the
    /// cross-table functions); each is then a field of `r` (and of `first`,
    /// `records`), so a verdict is written once and read everywhere.
    #[serde(default, rename = "let")]
    pub lets: BTreeMap<String, String>,
    /// CEL condition over one record `r`; records where it is false are dropped.
    #[serde(default, rename = "where")]
    pub condition: Option<String>,
    /// The CNIs the rule is about (names from `rules/components.yaml`, e.g.
    /// `[flannel, canal]`). Where the cluster is known to run other CNIs
    /// only, the rule is *not applicable* — neither run nor unknown. Empty:
    /// any cluster.
    #[serde(default)]
    pub applies_to: Vec<String>,
    /// Inputs the verdict depends on. Node inputs (`node.sysctl`;
    /// `node.iptables|node.firewalld` for either) must be collected on each
    /// record's node, else that record is dropped; cluster inputs
    /// (`cluster.dns-service`: the DNS Service and its ClusterIP;
    /// `cluster.<resource>`: that list was read) must be there, else the rule
    /// judges nothing. Either way the input is reported missing and the rule
    /// answers *unknown*.
    #[serde(default)]
    pub needs: Vec<String>,
    /// More evidence per record: CEL over `r` giving records of other tables
    /// (from `node(...)`, a list of them, or null); each cites where it was read.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// The finding's subject: contract field -> CEL over `r`. Records with the same subject make one finding.
    pub subject: BTreeMap<String, String>,
    /// Extra values for `caused_by` joins: name -> CEL over `r` (lists are merged across records).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// CEL condition over the finding (`count`, `total`, `records`, `first`, `subject`, `attributes`); findings where it is false are dropped.
    #[serde(default)]
    pub having: Option<String>,
    /// The finding's message: text with `{{ CEL }}` over the finding.
    pub message: String,
    /// Findings that explain this one, joined on shared subject or attribute values.
    #[serde(default)]
    pub caused_by: Vec<CauseRef>,
    /// What to do.
    pub remediation: Remediation,
    /// Where the facts come from (upstream docs, manifests, issues).
    #[serde(default)]
    pub references: Vec<String>,
}

/// Severity raised by a condition.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Escalate {
    /// The raised severity.
    pub to: Severity,
    /// CEL over the finding.
    pub when: String,
}

/// The record source of a rule. Exactly one field is set.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// Kubernetes objects (`r.object`, `r.kind`, `r.namespace`, `r.name`, `r.labels`).
    #[serde(default)]
    pub objects: Option<ObjectsMatch>,
    /// RBAC checks answered by kdiag's evaluator.
    #[serde(default)]
    pub rbac: Option<RbacMatch>,
    /// A regex over container logs, aggregated per log.
    #[serde(default)]
    pub logs: Option<LogsMatch>,
    /// A derived fact table or node table by name (`kdiag rules facts` lists them).
    #[serde(default)]
    pub fact: Option<String>,
}

/// Objects of one kind.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectsMatch {
    /// Kind, e.g. `ClusterRole`.
    pub kind: String,
    /// Namespace; any when absent.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Name; any when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// Labels that must all match.
    #[serde(default)]
    pub selector: BTreeMap<String, String>,
    /// Fire (once) when no object matches.
    #[serde(default)]
    pub absent: bool,
}

/// Components whose permissions to check.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RbacMatch {
    /// One entry per component.
    #[serde(default)]
    pub components: Vec<RbacComponent>,
    /// Also check every component of `rules/components.yaml` that lists needs.
    #[serde(default)]
    pub catalog: bool,
}

/// A component, who it runs as, and what it needs.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RbacComponent {
    /// Its name in findings, e.g. `kube-proxy`.
    pub name: String,
    /// Who it may run as. It is denied only when every principal found is denied.
    pub principals: Vec<PrincipalDef>,
    /// What it needs.
    pub needs: Vec<AccessDef>,
    /// The ClusterRole that normally grants it (records then say whether that role
    /// exists and whether any binding of it reaches the component).
    #[serde(default)]
    pub role: Option<String>,
    /// Where its version comes from, for needs with `since`/`until`:
    /// `kubernetes` (the cluster's version) or `image:<text>` (the tag of the
    /// first container image of its pods that contains `<text>`).
    #[serde(default)]
    pub version: Option<String>,
}

pub use kdiag_model::components::{AccessDef, ComponentDef, PodSelector, PrincipalDef, Recognise};

/// A catalog component as an entry of an `rbac` match.
pub fn as_rbac(c: &ComponentDef) -> RbacComponent {
    RbacComponent {
        name: c.name.clone(),
        principals: c.principals.clone(),
        needs: c.needs.clone(),
        role: c.role.clone(),
        version: c.version.clone(),
    }
}

/// A pattern over the logs of selected pods.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogsMatch {
    /// Pod namespaces; any when empty.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Pod labels that must all match.
    #[serde(default)]
    pub selector: BTreeMap<String, String>,
    /// Container name; any when absent.
    #[serde(default)]
    pub container: Option<String>,
    /// Only pods of these components of `rules/components.yaml` (any when empty).
    #[serde(default)]
    pub components: Vec<String>,
    /// Regular expression (Rust `regex` syntax) with named captures.
    pub pattern: String,
}

/// A finding that explains this one.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CauseRef {
    /// A rule id.
    #[serde(default)]
    pub rule: Option<String>,
    /// Or a class: any rule of that class.
    #[serde(default)]
    pub class: Option<String>,
    /// Or the cause the finding names itself: `from: cause` joins the
    /// finding whose class is this finding's attribute `cause.class` and
    /// whose subject or attributes hold every other `cause.*` attribute
    /// (`cause.node` → `node`, `cause.cidr` → `cidr`). For facts that know
    /// their cause, such as a traced flow's dropping hop.
    #[serde(default)]
    pub from: Option<String>,
    /// Join: `field` (same name on both sides) or `mine=theirs`. Values join when equal, when
    /// one CIDR contains the other, or when a list holds the other value. Empty: any finding joins.
    #[serde(default)]
    pub on: Vec<String>,
}

/// What to do about a finding.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Remediation {
    /// The fix, in prose.
    pub text: String,
    /// Commands to run, in order.
    #[serde(default)]
    pub commands: Vec<String>,
    /// The exact manifest to apply, when there is one.
    #[serde(default)]
    pub manifest: Option<String>,
    /// How to verify the fix.
    #[serde(default)]
    pub verify: Vec<String>,
}

impl Remediation {
    /// One Markdown text: prose, commands, manifest, verification.
    pub fn render(&self) -> String {
        let mut out = self.text.trim_end().to_owned();
        if let Some(m) = &self.manifest {
            out.push_str("\n\nManifest:\n");
            for l in m.lines() {
                out.push_str(&format!("  {l}\n"));
            }
            out = out.trim_end().to_owned();
        }
        if !self.commands.is_empty() {
            out.push_str("\n\nRun:\n");
            for c in &self.commands {
                out.push_str(&format!("  {c}\n"));
            }
            out = out.trim_end().to_owned();
        }
        if !self.verify.is_empty() {
            out.push_str("\n\nVerify:\n");
            for v in &self.verify {
                out.push_str(&format!("  {v}\n"));
            }
        }
        out.trim_end().to_owned()
    }
}
