//! Loading rule files: everything is checked before anything is evaluated,
//! and every error of every file is reported at once, each at its file,
//! line and column with a hint.

use crate::catalog::{SUBJECT_FIELDS, layer_of};
use crate::def::{RuleDef, Severity};
use crate::expr::Expr;
use crate::template::Template;
use crate::tree::{self, Pos};
use regex::Regex;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

/// One problem in a rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The rule file.
    pub file: String,
    /// Where in it.
    pub pos: Pos,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is a likely fix.
    pub hint: Option<String>,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.pos, self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

/// A rule file's text and the name to report it by.
#[derive(Debug, Clone)]
pub struct RuleSource {
    /// Path shown in errors and reports.
    pub file: String,
    /// Contents.
    pub text: String,
    /// Already checked against the schema and linted (the built-in rules,
    /// as `analyze` loads them: the test suite and `kdiag rules lint` check
    /// them, so every run need not). Expressions are compiled all the same.
    pub checked: bool,
}

/// A loaded, validated rule with its expressions compiled.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule as written.
    pub def: RuleDef,
    /// Its file.
    pub file: String,
    /// The layer of its class.
    pub layer: &'static str,
    /// The rule file's text, as written.
    pub text: String,
    pub(crate) condition: Option<Expr>,
    pub(crate) evidence: Vec<Expr>,
    pub(crate) lets: Vec<(String, Expr)>,
    pub(crate) subject: Vec<(String, Expr)>,
    pub(crate) attributes: Vec<(String, Expr)>,
    pub(crate) having: Option<Expr>,
    pub(crate) escalate: Option<(Severity, Expr)>,
    pub(crate) message: Template,
}

impl Rule {
    /// The CEL source of every expression of the rule.
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        self.condition
            .iter()
            .chain(self.evidence.iter())
            .chain(self.lets.iter().map(|(_, e)| e))
            .chain(self.subject.iter().map(|(_, e)| e))
            .chain(self.attributes.iter().map(|(_, e)| e))
            .chain(self.having.iter())
            .chain(self.escalate.iter().map(|(_, e)| e))
            .map(Expr::source)
            .chain(self.message.sources())
    }
}

/// A validated set of rules.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// Rules, in load order.
    pub rules: Vec<Rule>,
}

impl RuleSet {
    /// A rule by id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.def.id == id)
    }

    /// Keeps the rules whose id, class or layer is in `only` (when non-empty)
    /// and in none of `skip`.
    pub fn filter(&mut self, only: &[String], skip: &[String]) {
        let hit = |r: &Rule, list: &[String]| {
            list.iter()
                .any(|x| *x == r.def.id || *x == r.def.class || *x == r.layer)
        };
        self.rules
            .retain(|r| (only.is_empty() || hit(r, only)) && !hit(r, skip));
    }

    /// `(rule id, pattern)` of every logs matcher, to scan each log once.
    pub fn log_patterns(&self) -> Vec<(String, String)> {
        self.rules
            .iter()
            .filter_map(|r| {
                r.def
                    .matcher
                    .logs
                    .as_ref()
                    .map(|l| (r.def.id.clone(), l.pattern.clone()))
            })
            .collect()
    }
}

/// The JSON Schema of rule files, as committed in `rules/schema.json`.
pub fn schema() -> Value {
    let schema = schemars::schema_for!(RuleDef);
    let mut v = serde_json::to_value(&schema).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("title".into(), Value::String("kdiag rule".into()));
        o.insert(
            "$id".into(),
            Value::String("https://kdiag.invalid/rules/schema.json".into()),
        );
    }
    v
}

/// Reads every rule file (`*.yaml`, not in fixture directories) under the
/// given directories, sorted by path.
pub fn read_dirs(dirs: &[&Path]) -> Result<Vec<RuleSource>, Vec<RuleError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for dir in dirs {
        let mut files = Vec::new();
        collect(dir, &mut files, &mut errors, 0);
        files.sort();
        for f in files {
            match std::fs::read_to_string(&f) {
                Ok(text) => out.push(RuleSource {
                    checked: false,
                    file: f.display().to_string(),
                    text,
                }),
                Err(e) => errors.push(RuleError {
                    file: f.display().to_string(),
                    pos: Pos::default(),
                    message: e.to_string(),
                    hint: None,
                }),
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn collect(
    dir: &Path,
    out: &mut Vec<std::path::PathBuf>,
    errors: &mut Vec<RuleError>,
    depth: usize,
) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(RuleError {
                file: dir.display().to_string(),
                pos: Pos::default(),
                message: format!("cannot read rule directory: {e}"),
                hint: None,
            });
            return;
        }
    };
    for e in entries.flatten() {
        let p = e.path();
        let ft = e.file_type().ok();
        if ft.is_some_and(|t| t.is_dir()) {
            // A rule's fixtures live in a directory named after it.
            let is_fixture_dir = p.with_extension("yaml").is_file();
            if !is_fixture_dir && depth < 4 {
                collect(&p, out, errors, depth + 1);
            }
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml")
            && !p
                .file_name()
                .is_some_and(|n| crate::catalog::DATA_FILES.iter().any(|d| n == *d))
        {
            out.push(p);
        }
    }
}

/// Loads and validates rule sources; every error of every file comes back together.
pub fn load(sources: &[RuleSource]) -> Result<RuleSet, Vec<RuleError>> {
    let schema = if sources.iter().all(|s| s.checked) {
        Value::Null
    } else {
        schema()
    };
    let mut errors = Vec::new();
    let mut rules = Vec::new();
    let mut defs: Vec<(RuleDef, String)> = Vec::new();
    let mut positions: HashMap<String, (String, BTreeMap<String, Pos>)> = HashMap::new();
    for src in sources {
        let mut err = |pos: Pos, message: String, hint: Option<String>| {
            errors.push(RuleError {
                file: src.file.clone(),
                pos,
                message,
                hint,
            })
        };
        let node = match tree::parse(&src.text) {
            Ok(n) => n,
            Err((pos, msg)) => {
                err(pos, format!("not valid YAML: {msg}"), None);
                continue;
            }
        };
        let (mut value, pos) = tree::to_json(&node);
        let at = |path: &str| pos.get(path).copied().unwrap_or(Pos { line: 1, column: 1 });
        let mut schema_errors = Vec::new();
        if !src.checked {
            check(&schema, &schema, &mut value, "", &mut schema_errors);
        }
        for (path, is_key, message, hint) in schema_errors {
            err(
                if is_key {
                    at(&format!("{path}#key"))
                } else {
                    at(&path)
                },
                message,
                hint,
            );
        }
        let def: RuleDef = match serde_json::from_value(value) {
            Ok(d) => d,
            Err(e) => {
                err(
                    Pos { line: 1, column: 1 },
                    format!("rule cannot be read: {e}"),
                    None,
                );
                continue;
            }
        };
        positions.insert(def.id.clone(), (src.file.clone(), pos.clone()));
        match compile(&def, &src.file, &at, src.checked) {
            Ok(mut rule) => {
                if !src.checked {
                    errors.extend(crate::lint::lint_rule(&rule, &src.text, &at));
                }
                rule.text = src.text.clone();
                rules.push(rule);
            }
            Err(es) => errors.extend(es),
        }
        defs.push((def, src.file.clone()));
    }
    cross_check(&defs, &positions, &mut errors);
    if errors.is_empty() {
        Ok(RuleSet { rules })
    } else {
        Err(errors)
    }
}

fn suggest(word: &str, options: &[&str]) -> Option<String> {
    options
        .iter()
        .map(|o| (strsim::levenshtein(word, o), *o))
        .filter(|(d, o)| *d <= 2.max(o.len() / 4))
        .min()
        .map(|(_, o)| format!("did you mean `{o}`?"))
}

fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    match s
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
    {
        Some(name) => root.pointer(&format!("/$defs/{name}")).unwrap_or(s),
        None => s,
    }
}

type SchemaError = (String, bool, String, Option<String>);

/// A value that must be one of `options`; a wrong one is reported and
/// replaced by the first option, so that the rest of the file is still checked.
fn check_enum(options: &[Value], value: &mut Value, path: &str, out: &mut Vec<SchemaError>) {
    if options.contains(value) {
        return;
    }
    let names: Vec<&str> = options.iter().filter_map(Value::as_str).collect();
    let hint = value
        .as_str()
        .and_then(|s| suggest(s, &names))
        .or_else(|| Some(format!("one of: {}", names.join(", "))));
    out.push((
        path.to_owned(),
        false,
        format!("`{path}` is not one of the allowed values"),
        hint,
    ));
    if let Some(first) = options.first() {
        *value = first.clone();
    }
}

/// Checks `value` against a JSON Schema produced by schemars: unknown keys
/// (removed afterwards, so that the rest can still be checked), missing
/// required keys, enum values and basic types.
fn check(root: &Value, schema: &Value, value: &mut Value, path: &str, out: &mut Vec<SchemaError>) {
    let schema = resolve(root, schema);
    for key in ["anyOf", "oneOf"] {
        if let Some(variants) = schema.get(key).and_then(Value::as_array) {
            // An enum with documented variants: `oneOf` of `const`s.
            let consts: Vec<&Value> = variants
                .iter()
                .filter_map(|v| resolve(root, v).get("const"))
                .collect();
            if !consts.is_empty() && consts.len() == variants.len() {
                let options: Vec<Value> = consts.into_iter().cloned().collect();
                check_enum(&options, value, path, out);
                return;
            }
            if value.is_null()
                && variants
                    .iter()
                    .any(|v| resolve(root, v).get("type") == Some(&Value::String("null".into())))
            {
                return;
            }
            if let Some(v) = variants
                .iter()
                .map(|v| resolve(root, v))
                .find(|v| v.get("type") != Some(&Value::String("null".into())))
            {
                check(root, v, value, path, out);
            }
            return;
        }
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let actual = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let type_ok = types.is_empty()
        || types.contains(&actual)
        || (actual == "integer" && types.contains(&"number"));
    if !type_ok {
        let shown = if path.is_empty() {
            "the rule".to_owned()
        } else {
            format!("`{path}`")
        };
        out.push((
            path.to_owned(),
            false,
            format!("{shown} must be {}, found {actual}", types.join(" or ")),
            None,
        ));
        return;
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        check_enum(options, value, path, out);
        return;
    }
    let join = |k: &str| {
        if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        }
    };
    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let extra = schema.get("additionalProperties");
            let names: Vec<&str> = props
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            let mut unknown = Vec::new();
            for (k, v) in map.iter_mut() {
                match props.and_then(|p| p.get(k)) {
                    Some(s) => check(root, s, v, &join(k), out),
                    None => match extra {
                        Some(Value::Bool(false)) => {
                            let where_ = if path.is_empty() {
                                "a rule".to_owned()
                            } else {
                                format!("`{path}`")
                            };
                            out.push((
                                join(k),
                                true,
                                format!("unknown key `{k}` in {where_}"),
                                suggest(k, &names).or_else(|| {
                                    Some(format!("allowed keys: {}", names.join(", ")))
                                }),
                            ));
                            unknown.push(k.clone());
                        }
                        Some(s @ Value::Object(_)) => check(root, s, v, &join(k), out),
                        _ => {}
                    },
                }
            }
            for k in unknown {
                map.remove(&k);
            }
            for req in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !map.contains_key(req) {
                    let where_ = if path.is_empty() {
                        "the rule".to_owned()
                    } else {
                        format!("`{path}`")
                    };
                    out.push((
                        path.to_owned(),
                        false,
                        format!("{where_} is missing the required key `{req}`"),
                        None,
                    ));
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, v) in items.iter_mut().enumerate() {
                    check(root, item_schema, v, &join(&i.to_string()), out);
                }
            }
        }
        _ => {}
    }
}

/// Compiles one rule. `checked`: its expressions were compiled and linted
/// before (the built-in rules, by the test suite): they are compiled on
/// first use instead of now.
fn compile(
    def: &RuleDef,
    file: &str,
    at: &dyn Fn(&str) -> Pos,
    checked: bool,
) -> Result<Rule, Vec<RuleError>> {
    let mut errors = Vec::new();
    let mut err = |path: &str, message: String, hint: Option<String>| {
        errors.push(RuleError {
            file: file.to_owned(),
            pos: at(path),
            message,
            hint,
        })
    };
    let layer = match layer_of(&def.class) {
        Some(l) => l,
        None => {
            let names: Vec<&str> = crate::catalog::class_names();
            err(
                "class",
                format!(
                    "unknown class `{}`; classes come from FAILURE-CATALOG.md",
                    def.class
                ),
                suggest(&def.class, &names),
            );
            "meta"
        }
    };
    if def.id.is_empty() || def.id.contains(char::is_whitespace) {
        err(
            "id",
            format!(
                "rule id `{}` must be a non-empty word like `rbac.clusterrole-missing.bound`",
                def.id
            ),
            None,
        );
    }
    let m = &def.matcher;
    let sources = [
        m.objects.is_some(),
        m.rbac.is_some(),
        m.logs.is_some(),
        m.fact.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if sources != 1 {
        err(
            "match",
            format!("`match` needs exactly one of objects, rbac, logs, fact; found {sources}"),
            None,
        );
    }
    if let Some(logs) = &m.logs
        && let Err(e) = Regex::new(&logs.pattern)
    {
        let msg = e.to_string();
        err("match.logs.pattern", format!("bad regular expression: {}", msg.lines().last().unwrap_or(&msg).trim()), Some("the pattern uses Rust `regex` syntax; look-around and backreferences are not supported".into()));
    }
    if let Some(fact) = &m.fact {
        let names: Vec<&str> = kdiag_model::tables::all().map(|t| t.name).collect();
        if !names.contains(&fact.as_str()) {
            err(
                "match.fact",
                format!("unknown fact table `{fact}`"),
                suggest(fact, &names)
                    .or_else(|| Some(format!("fact tables: {}", names.join(", ")))),
            );
        }
    }
    let mut expr = |path: &str, src: &str| -> Option<Expr> {
        if checked {
            return Some(Expr::deferred(src));
        }
        match Expr::compile(src) {
            Ok(e) => Some(e),
            Err(e) => {
                err(
                    path,
                    format!("bad CEL expression: {}", e.lines().next().unwrap_or(&e)),
                    None,
                );
                None
            }
        }
    };
    let condition = def.condition.as_deref().and_then(|s| expr("where", s));
    let lets: Vec<(String, Expr)> = def
        .lets
        .iter()
        .filter_map(|(k, v)| expr(&format!("let.{k}"), v).map(|e| (k.clone(), e)))
        .collect();
    let evidence: Vec<Expr> = def
        .evidence
        .iter()
        .enumerate()
        .filter_map(|(i, s)| expr(&format!("evidence.{i}"), s))
        .collect();
    let having = def.having.as_deref().and_then(|s| expr("having", s));
    let escalate = def
        .escalate
        .as_ref()
        .and_then(|e| expr("escalate.when", &e.when).map(|x| (e.to, x)));
    let subject: Vec<(String, Expr)> = def
        .subject
        .iter()
        .filter_map(|(k, v)| expr(&format!("subject.{k}"), v).map(|e| (k.clone(), e)))
        .collect();
    let attributes: Vec<(String, Expr)> = def
        .attributes
        .iter()
        .filter_map(|(k, v)| expr(&format!("attributes.{k}"), v).map(|e| (k.clone(), e)))
        .collect();
    let message = match Template::parse_with(&def.message, checked) {
        Ok(t) => Some(t),
        Err(e) => {
            err("message", format!("bad message template: {e}"), None);
            None
        }
    };
    for k in def.subject.keys() {
        if !SUBJECT_FIELDS.contains(&k.as_str()) {
            err(
                &format!("subject.{k}#key"),
                format!("`{k}` is not a subject field"),
                suggest(k, SUBJECT_FIELDS).or_else(|| {
                    Some(format!(
                        "subject fields: {}; put other join values under `attributes`",
                        SUBJECT_FIELDS.join(", ")
                    ))
                }),
            );
        }
    }
    let inputs: Vec<&str> = kdiag_model::tables::node::NODE_INPUTS
        .iter()
        .map(|(n, _)| *n)
        .collect();
    for (i, n) in def.needs.iter().enumerate() {
        for n in n.split('|') {
            if !inputs.contains(&n) && !n.starts_with("cluster.") {
                err(
                    &format!("needs.{i}"),
                    format!("unknown node input `{n}`"),
                    suggest(n, &inputs)
                        .or_else(|| Some(format!("node inputs: {}", inputs.join(", ")))),
                );
            }
        }
    }
    if def.subject.is_empty() {
        err(
            "subject",
            "a rule needs a subject (what its findings are about)".into(),
            None,
        );
    }
    for (i, c) in def.caused_by.iter().enumerate() {
        let named = [c.rule.is_some(), c.class.is_some(), c.from.is_some()];
        if named.iter().filter(|n| **n).count() != 1 {
            err(
                &format!("caused_by.{i}"),
                "a caused_by entry names exactly one of `rule`, `class` or `from`".into(),
                None,
            );
        }
        if let Some(prefix) = &c.from {
            let class_key = format!("{prefix}.class");
            if !def.attributes.contains_key(&class_key) {
                err(
                    &format!("caused_by.{i}.from"),
                    format!(
                        "`from: {prefix}` needs an attribute `{class_key}` naming the cause's class"
                    ),
                    Some(format!(
                        "add `{class_key}: r.{prefix}.class` under attributes"
                    )),
                );
            }
            if !c.on.is_empty() {
                err(
                    &format!("caused_by.{i}.on"),
                    "`from` joins on the `cause.*` attributes; it takes no `on`".into(),
                    None,
                );
            }
        }
        if let Some(class) = &c.class
            && layer_of(class).is_none()
        {
            let names: Vec<&str> = crate::catalog::class_names();
            err(
                &format!("caused_by.{i}.class"),
                format!("unknown class `{class}`"),
                suggest(class, &names),
            );
        }
    }
    match (errors.is_empty(), message) {
        (true, Some(message)) => Ok(Rule {
            def: def.clone(),
            file: file.to_owned(),
            layer,
            text: String::new(),
            condition,
            evidence,
            lets,
            subject,
            attributes,
            having,
            escalate,
            message,
        }),
        _ => Err(errors),
    }
}

/// Checks across files: unique ids, known rule references, no cycles.
fn cross_check(
    rules: &[(RuleDef, String)],
    positions: &HashMap<String, (String, BTreeMap<String, Pos>)>,
    errors: &mut Vec<RuleError>,
) {
    let at = |id: &str, path: &str| {
        let (file, pos) = &positions[id];
        (
            file.clone(),
            pos.get(path).copied().unwrap_or(Pos { line: 1, column: 1 }),
        )
    };
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for r in rules {
        if let Some(first) = seen.insert(&r.0.id, &r.1) {
            let (file, pos) = at(&r.0.id, "id");
            errors.push(RuleError {
                file,
                pos,
                message: format!("rule id `{}` is also used by {first}", r.0.id),
                hint: None,
            });
        }
    }
    let ids: Vec<&str> = rules.iter().map(|r| r.0.id.as_str()).collect();
    // `applies_to` names CNIs of rules/components.yaml; a typo would make a
    // rule not applicable everywhere.
    let cnis: Vec<&str> = kdiag_model::components::catalog()
        .iter()
        .filter(|c| c.kind == "cni")
        .map(|c| c.name.as_str())
        .collect();
    for r in rules {
        for (i, name) in r.0.applies_to.iter().enumerate() {
            if !cnis.contains(&name.as_str()) {
                let (file, pos) = at(&r.0.id, &format!("applies_to.{i}"));
                errors.push(RuleError {
                    file,
                    pos,
                    message: format!(
                        "applies_to names `{name}`, which is not a CNI of rules/components.yaml"
                    ),
                    hint: suggest(name, &cnis),
                });
            }
        }
    }
    for r in rules {
        for (i, c) in r.0.caused_by.iter().enumerate() {
            if let Some(rule) = &c.rule
                && !ids.contains(&rule.as_str())
            {
                let (file, pos) = at(&r.0.id, &format!("caused_by.{i}.rule"));
                errors.push(RuleError {
                    file,
                    pos,
                    message: format!("caused_by names unknown rule `{rule}`"),
                    hint: suggest(rule, &ids),
                });
            }
        }
    }
    // Join keys: `mine` is a subject field or attribute of this rule, `theirs`
    // one of some rule the entry names; a typo would silently never link.
    let keys = |d: &RuleDef| -> Vec<String> {
        d.subject
            .keys()
            .chain(d.attributes.keys())
            .cloned()
            .collect()
    };
    for r in rules {
        let mine_keys = keys(&r.0);
        for (i, c) in r.0.caused_by.iter().enumerate() {
            let targets: Vec<&(RuleDef, String)> = rules
                .iter()
                .filter(|o| {
                    c.rule.as_deref() == Some(o.0.id.as_str())
                        || c.class.as_deref() == Some(o.0.class.as_str())
                })
                .collect();
            let mut theirs_keys: Vec<String> = targets.iter().flat_map(|t| keys(&t.0)).collect();
            theirs_keys.sort();
            theirs_keys.dedup();
            for (j, on) in c.on.iter().enumerate() {
                let (mine, theirs) = on.split_once('=').unwrap_or((on, on));
                let mut bad = |key: &str, side: &str, options: &[String]| {
                    let (file, pos) = at(&r.0.id, &format!("caused_by.{i}.on.{j}"));
                    let opts: Vec<&str> = options.iter().map(String::as_str).collect();
                    errors.push(RuleError {
                        file,
                        pos,
                        message: format!(
                            "join key `{key}` is not a subject field or attribute of {side}"
                        ),
                        hint: suggest(key, &opts)
                            .or_else(|| Some(format!("keys there: {}", opts.join(", ")))),
                    });
                };
                let mine_ok = mine_keys.iter().any(|k| k == mine);
                if !mine_ok {
                    bad(mine, "this rule", &mine_keys);
                }
                // `field` names one key for both sides: one report is enough.
                let same = !on.contains('=');
                if (!same || mine_ok)
                    && !targets.is_empty()
                    && !theirs_keys.iter().any(|k| k == theirs)
                {
                    bad(theirs, "the rules it names", &theirs_keys);
                }
            }
        }
    }
    // Cycles: rule -> the rules that may cause it.
    let causes = |r: &(RuleDef, String)| -> Vec<usize> {
        let mut out = Vec::new();
        for c in &r.0.caused_by {
            for (j, other) in rules.iter().enumerate() {
                if c.rule.as_deref() == Some(other.0.id.as_str())
                    || c.class.as_deref() == Some(other.0.class.as_str())
                {
                    out.push(j);
                }
            }
        }
        out
    };
    let graph: Vec<Vec<usize>> = rules.iter().map(causes).collect();
    let mut state = vec![0u8; rules.len()];
    let mut reported = std::collections::HashSet::new();
    for start in 0..rules.len() {
        let mut stack = vec![(start, 0usize)];
        let mut path = vec![start];
        if state[start] != 0 {
            continue;
        }
        state[start] = 1;
        while let Some((node, next)) = stack.pop() {
            if next < graph[node].len() {
                stack.push((node, next + 1));
                let to = graph[node][next];
                match state[to] {
                    0 => {
                        state[to] = 1;
                        stack.push((to, 0));
                        path.push(to);
                    }
                    1 => {
                        let begin = path.iter().position(|p| *p == to).unwrap_or(0);
                        let cycle: Vec<&str> = path[begin..]
                            .iter()
                            .chain(std::iter::once(&to))
                            .map(|i| rules[*i].0.id.as_str())
                            .collect();
                        let mut key = cycle.clone();
                        key.sort();
                        if reported.insert(key) {
                            let r = &rules[node];
                            let entry = r
                                .0
                                .caused_by
                                .iter()
                                .position(|c| {
                                    c.rule.as_deref() == Some(rules[to].0.id.as_str())
                                        || c.class.as_deref() == Some(rules[to].0.class.as_str())
                                })
                                .unwrap_or(0);
                            let (file, pos) = at(&r.0.id, &format!("caused_by.{entry}"));
                            errors.push(RuleError { file, pos, message: format!("caused_by forms a cycle: {}", cycle.join(" -> ")), hint: Some("a cause must not, through other rules, be caused by its own effect".into()) });
                        }
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                path.pop();
            }
        }
    }
}

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
}

/// The built-in rules for a run of `analyze`: marked checked, because the
/// test suite (`builtin_rules_are_valid_and_the_schema_is_committed`) and
/// `kdiag rules lint` check them once, not every run (the checks were over
/// half of loading them).
pub fn builtin_sources_checked() -> Vec<RuleSource> {
    let mut sources = builtin_sources();
    for s in &mut sources {
        s.checked = true;
    }
    sources
}

/// The default rules compiled into kdiag, as sources named `rules/<path>`.
pub fn builtin_sources() -> Vec<RuleSource> {
    builtin::BUILTIN
        .iter()
        .map(|(path, text)| RuleSource {
            checked: false,
            file: format!("rules/{path}"),
            text: (*text).to_owned(),
        })
        .collect()
}
