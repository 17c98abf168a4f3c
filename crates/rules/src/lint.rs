//! Static checks of a rule's CEL against the schema of the table it reads:
//! an unknown field (`r.nodname`), a field of a value that has none, a
//! comparison of a field with a literal of another type (`r.mtu == "1450"`),
//! an unknown variable or function. Each problem is placed at its line and
//! column in the rule file, with a did-you-mean.

use crate::expr::Expr;
use cel::common::ast::{Expr as Ast, LiteralValue};
use cel::parser::Expression;
use serde_json::Value;
use std::collections::BTreeMap;

/// A type as far as the lint knows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// Anything (not checked).
    Any,
    /// `null`.
    Null,
    /// `bool`.
    Bool,
    /// `int` / `uint`.
    Int,
    /// `double`.
    Double,
    /// `string`.
    Str,
    /// A list of one type.
    List(Box<Ty>),
    /// A record with known fields; `name` says what it is in messages.
    Record(String, BTreeMap<String, Ty>),
    /// A map of string keys to one type.
    Map(Box<Ty>),
}

impl Ty {
    fn describe(&self) -> &'static str {
        match self {
            Ty::Any => "any value",
            Ty::Null => "null",
            Ty::Bool => "a bool",
            Ty::Int => "an integer",
            Ty::Double => "a number",
            Ty::Str => "a string",
            Ty::List(_) => "a list",
            Ty::Record(..) | Ty::Map(_) => "a map",
        }
    }
    fn scalar(&self) -> bool {
        matches!(self, Ty::Bool | Ty::Int | Ty::Double | Ty::Str)
    }
}

/// The type a JSON Schema describes (`$ref`s resolved against `root`).
pub fn from_schema(root: &Value, s: &Value, name: &str) -> Ty {
    from_schema_depth(root, s, name, 0)
}

fn from_schema_depth(root: &Value, s: &Value, name: &str, depth: u32) -> Ty {
    if depth > 16 {
        return Ty::Any;
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let key = r.trim_start_matches("#/$defs/");
        return match root.get("$defs").and_then(|d| d.get(key)) {
            Some(d) => from_schema_depth(root, d, key, depth + 1),
            None => Ty::Any,
        };
    }
    for k in ["anyOf", "oneOf"] {
        if let Some(alts) = s.get(k).and_then(Value::as_array) {
            let tys: Vec<Ty> = alts
                .iter()
                .map(|a| from_schema_depth(root, a, name, depth + 1))
                .filter(|t| *t != Ty::Null)
                .collect();
            return match tys.as_slice() {
                [one] => one.clone(),
                _ => Ty::Any,
            };
        }
    }
    let types: Vec<&str> = match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let types: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
    match types.as_slice() {
        ["string"] => Ty::Str,
        ["integer"] => Ty::Int,
        ["number"] => Ty::Double,
        ["boolean"] => Ty::Bool,
        ["array"] => Ty::List(Box::new(
            s.get("items")
                .map(|i| from_schema_depth(root, i, name, depth + 1))
                .unwrap_or(Ty::Any),
        )),
        ["object"] | [] => {
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                Ty::Record(
                    name.to_owned(),
                    props
                        .iter()
                        .map(|(k, v)| (k.clone(), from_schema_depth(root, v, k, depth + 1)))
                        .collect(),
                )
            } else if let Some(extra) = s.get("additionalProperties").filter(|v| v.is_object()) {
                Ty::Map(Box::new(from_schema_depth(root, extra, name, depth + 1)))
            } else {
                Ty::Any
            }
        }
        _ => Ty::Any,
    }
}

/// One problem: byte offset in the expression, what to search for to place
/// it, the message and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Byte offset in the expression source where the problem starts.
    pub offset: usize,
    /// A snippet at that place, to find it in the rule file.
    pub needle: String,
    /// What is wrong.
    pub message: String,
    /// A likely fix.
    pub hint: Option<String>,
}

/// Variables in scope and their types.
pub type Env = BTreeMap<String, Ty>;

const OUR_FUNCTIONS: &[&str] = &[
    "cidrContains",
    "cidrOverlaps",
    "isIP",
    "isCIDR",
    "isInt",
    "node",
    "object",
    "component",
    "podNetworks",
    "dnsService",
    "iptablesRules",
    "iptablesChains",
    "table",
];

fn known_function(name: &str) -> bool {
    if name.starts_with('_') || name.starts_with('@') || name == "!_" || name == "-_" {
        return true;
    }
    if OUR_FUNCTIONS.contains(&name) {
        return true;
    }
    // The environment refuses a new function under a name it already has.
    let mut probe = cel::Context::with_env(crate::expr::cel_env());
    probe.add_function(name, || 0i64).is_err()
}

fn suggest(word: &str, options: &[&str]) -> Option<String> {
    options
        .iter()
        .map(|o| (strsim::jaro_winkler(word, o), *o))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, o)| format!("did you mean `{o}`?"))
}

struct Checker<'a> {
    source: &'a str,
    info: &'a cel::common::ast::SourceInfo,
    node_view: &'a Ty,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn offset(&self, e: &Expression) -> usize {
        self.info
            .offset_for(e.id)
            .map(|(start, _)| start as usize)
            .unwrap_or(0)
    }

    fn push(&mut self, at: usize, needle: String, message: String, hint: Option<String>) {
        let p = Problem {
            offset: at,
            needle,
            message,
            hint,
        };
        if !self.problems.contains(&p) {
            self.problems.push(p);
        }
    }

    fn field(&mut self, at: usize, base: &Ty, field: &str, shown: &str) -> Ty {
        match base {
            Ty::Record(name, fields) => match fields.get(field) {
                Some(t) => t.clone(),
                None => {
                    let names: Vec<&str> = fields.keys().map(String::as_str).collect();
                    // The selection's own offset is its operand; find `.field` after it.
                    let needle = format!(".{field}");
                    let at = self.source[at.min(self.source.len())..]
                        .find(&needle)
                        .map(|i| at + i + 1)
                        .unwrap_or(at);
                    let hint = suggest(field, &names)
                        .or_else(|| Some(format!("fields of {name}: {}", names.join(", "))));
                    self.push(
                        at,
                        field.to_owned(),
                        format!("`{shown}` has no field `{field}`"),
                        hint,
                    );
                    Ty::Any
                }
            },
            Ty::Map(v) => (**v).clone(),
            t if t.scalar() || matches!(t, Ty::List(_)) => {
                self.push(
                    at,
                    format!(".{field}"),
                    format!("`{shown}` is {}; it has no field `{field}`", t.describe()),
                    None,
                );
                Ty::Any
            }
            _ => Ty::Any,
        }
    }

    fn compare(&mut self, args: &[Ty], exprs: &[Expression]) {
        let [a, b] = args else { return };
        let literal = |x: &Expression| matches!(x.expr, Ast::Literal(_));
        let mismatch = a.scalar()
            && b.scalar()
            && a != b
            && !matches!((a, b), (Ty::Int, Ty::Double) | (Ty::Double, Ty::Int));
        if mismatch && (literal(&exprs[0]) || literal(&exprs[1])) {
            let at = self.offset(&exprs[0]);
            let shown = |x: &Expression| self.text(x);
            self.push(
                at,
                shown(&exprs[0]),
                format!(
                    "`{}` is {} but `{}` is {}: they are never equal",
                    shown(&exprs[0]),
                    a.describe(),
                    shown(&exprs[1]),
                    b.describe()
                ),
                Some(match (a, b) {
                    (Ty::Str, _) | (_, Ty::Str) => {
                        "quote the number, or convert with int(...) / string(...)".into()
                    }
                    _ => "compare values of the same type".into(),
                }),
            );
        }
    }

    /// The source text of a sub-expression, as well as offsets tell it.
    fn text(&self, e: &Expression) -> String {
        match &e.expr {
            Ast::Ident(n) => n.clone(),
            Ast::Select(s) => format!("{}.{}", self.text(&s.operand), s.field),
            Ast::Literal(LiteralValue::String(s)) => format!("{:?}", s.inner()),
            Ast::Literal(LiteralValue::Int(i)) => i.inner().to_string(),
            Ast::Literal(LiteralValue::UInt(i)) => i.inner().to_string(),
            Ast::Literal(LiteralValue::Boolean(b)) => b.inner().to_string(),
            Ast::Literal(LiteralValue::Null) => "null".into(),
            Ast::Call(c) if !c.func_name.starts_with('_') => format!("{}(...)", c.func_name),
            _ => "the expression".into(),
        }
    }

    fn walk(&mut self, e: &Expression, env: &Env) -> Ty {
        match &e.expr {
            Ast::Ident(name) => match env.get(name) {
                Some(t) => t.clone(),
                None => {
                    let names: Vec<&str> = env
                        .keys()
                        .map(String::as_str)
                        .filter(|n| !n.starts_with('@'))
                        .collect();
                    self.push(
                        self.offset(e),
                        name.clone(),
                        format!("unknown variable `{name}`"),
                        suggest(name, &names)
                            .or_else(|| Some(format!("variables here: {}", names.join(", ")))),
                    );
                    Ty::Any
                }
            },
            Ast::Literal(l) => match l {
                LiteralValue::Boolean(_) => Ty::Bool,
                LiteralValue::Int(_) | LiteralValue::UInt(_) => Ty::Int,
                LiteralValue::Double(_) => Ty::Double,
                LiteralValue::String(_) => Ty::Str,
                LiteralValue::Null => Ty::Null,
                LiteralValue::Bytes(_) => Ty::Any,
            },
            Ast::Select(s) => {
                let base = self.walk(&s.operand, env);
                if s.test {
                    if let Ty::Record(..) = base {
                        let shown = self.text(&s.operand);
                        self.field(self.offset(e), &base, &s.field, &shown);
                    }
                    return Ty::Bool;
                }
                let shown = self.text(&s.operand);
                self.field(self.offset(&s.operand), &base, &s.field, &shown)
            }
            Ast::List(l) => {
                let tys: Vec<Ty> = l.elements.iter().map(|x| self.walk(x, env)).collect();
                Ty::List(Box::new(tys.first().cloned().unwrap_or(Ty::Any)))
            }
            Ast::Map(m) => {
                for entry in &m.entries {
                    if let cel::common::ast::EntryExpr::MapEntry(me) = &entry.expr {
                        self.walk(&me.key, env);
                        self.walk(&me.value, env);
                    }
                }
                Ty::Any
            }
            Ast::Comprehension(c) => {
                let range = self.walk(&c.iter_range, env);
                let elem = match &range {
                    Ty::List(t) => (**t).clone(),
                    Ty::Map(_) | Ty::Record(..) => Ty::Str,
                    _ => Ty::Any,
                };
                let mut inner = env.clone();
                let accu = self.walk(&c.accu_init, env);
                inner.insert(c.iter_var.clone(), elem);
                if let Some(v2) = &c.iter_var2 {
                    inner.insert(v2.clone(), Ty::Any);
                }
                inner.insert(c.accu_var.clone(), accu);
                self.walk(&c.loop_cond, &inner);
                let step = self.walk(&c.loop_step, &inner);
                inner.insert(c.accu_var.clone(), step);
                self.walk(&c.result, &inner)
            }
            Ast::Call(call) => {
                if let Some(t) = &call.target {
                    self.walk(t, env);
                }
                let args: Vec<Ty> = call.args.iter().map(|a| self.walk(a, env)).collect();
                let f = call.func_name.as_str();
                if !known_function(f) {
                    self.push(
                        self.offset(e),
                        f.to_owned(),
                        format!("unknown function `{f}`"),
                        suggest(f, OUR_FUNCTIONS),
                    );
                }
                match f {
                    "_==_" | "_!=_" | "_<_" | "_<=_" | "_>_" | "_>=_" => {
                        self.compare(&args, &call.args);
                        Ty::Bool
                    }
                    "_&&_" | "_||_" | "!_" | "@in" | "startsWith" | "endsWith" | "contains"
                    | "exists" | "all" | "isIP" | "isCIDR" | "isInt" | "cidrContains"
                    | "cidrOverlaps" => Ty::Bool,
                    "size" | "int" | "uint" => Ty::Int,
                    "string" | "join" | "lowerAscii" | "upperAscii" | "trim" | "replace"
                    | "substring" => Ty::Str,
                    "split" | "podNetworks" => Ty::List(Box::new(Ty::Str)),
                    "node" => self.node_view.clone(),
                    "table" => match call.args.first().map(|a| &a.expr) {
                        Some(Ast::Literal(LiteralValue::String(name))) => {
                            match kdiag_model::tables::spec(name.inner()).and_then(|t| t.schema) {
                                Some(f) => {
                                    let s = f();
                                    let mut rec = from_schema(&s, &s, name.inner());
                                    if let Ty::Record(_, fields) = &mut rec {
                                        fields.insert("at".into(), Ty::Any);
                                    }
                                    Ty::List(Box::new(rec))
                                }
                                None => {
                                    let names: Vec<&str> =
                                        kdiag_model::tables::all().map(|t| t.name).collect();
                                    self.push(
                                        self.offset(e),
                                        name.inner().to_owned(),
                                        format!("unknown table `{}`", name.inner()),
                                        suggest(name.inner(), &names),
                                    );
                                    Ty::Any
                                }
                            }
                        }
                        _ => Ty::Any,
                    },
                    "iptablesRules" | "iptablesChains" => match self.node_view {
                        Ty::Record(_, fields) => fields
                            .get(if f == "iptablesRules" {
                                "iptables"
                            } else {
                                "iptables_chains"
                            })
                            .cloned()
                            .unwrap_or(Ty::Any),
                        _ => Ty::Any,
                    },
                    "_[_]" => {
                        let base = args.first().cloned().unwrap_or(Ty::Any);
                        match (&base, call.args.get(1).map(|k| &k.expr)) {
                            (Ty::List(t), _) => (**t).clone(),
                            (Ty::Map(v), _) => (**v).clone(),
                            (Ty::Record(..), Some(Ast::Literal(LiteralValue::String(k)))) => {
                                let shown = self.text(&call.args[0]);
                                self.field(self.offset(e), &base, k.inner(), &shown)
                            }
                            _ => Ty::Any,
                        }
                    }
                    "_?_:_" => match (args.get(1), args.get(2)) {
                        (Some(a), Some(_)) if *a != Ty::Any && *a != Ty::Null => a.clone(),
                        (_, Some(b)) => b.clone(),
                        _ => Ty::Any,
                    },
                    "_+_" => match (args.first(), args.get(1)) {
                        (Some(Ty::Int), Some(Ty::Int)) => Ty::Int,
                        (Some(Ty::Str), Some(Ty::Str)) => Ty::Str,
                        (Some(l @ Ty::List(_)), _) => l.clone(),
                        _ => Ty::Any,
                    },
                    "_-_" | "_*_" | "_/_" | "_%_" => match (args.first(), args.get(1)) {
                        (Some(Ty::Int), Some(Ty::Int)) => Ty::Int,
                        _ => Ty::Any,
                    },
                    _ => Ty::Any,
                }
            }
            _ => Ty::Any,
        }
    }
}

/// Checks one expression in `env`; the problems found.
pub fn check(expr: &Expr, env: &Env, node_view: &Ty) -> Vec<Problem> {
    let program = match expr.program() {
        Ok(p) => p,
        Err(e) => {
            return vec![Problem {
                offset: 0,
                needle: String::new(),
                message: format!("bad CEL expression: {e}"),
                hint: None,
            }];
        }
    };
    let mut c = Checker {
        source: expr.source(),
        info: program.source_info(),
        node_view,
        problems: Vec::new(),
    };
    c.walk(program.expression(), env);
    c.problems
}

fn record(name: &str, fields: &[(&str, Ty)]) -> Ty {
    Ty::Record(
        name.to_owned(),
        fields
            .iter()
            .map(|(k, t)| ((*k).to_owned(), t.clone()))
            .collect(),
    )
}

fn strs() -> Ty {
    Ty::List(Box::new(Ty::Str))
}

/// The type of one record of a rule's source.
fn record_type(rule: &crate::load::Rule) -> Ty {
    let m = &rule.def.matcher;
    if let Some(name) = &m.fact {
        return kdiag_model::tables::spec(name)
            .and_then(|t| t.schema)
            .map(|f| {
                let s = f();
                from_schema(&s, &s, name)
            })
            .unwrap_or(Ty::Any);
    }
    if m.objects.is_some() {
        return record(
            "an objects record",
            &[
                ("kind", Ty::Str),
                ("namespace", Ty::Str),
                ("name", Ty::Str),
                ("labels", Ty::Map(Box::new(Ty::Str))),
                ("selector", Ty::Map(Box::new(Ty::Str))),
                ("object", Ty::Any),
            ],
        );
    }
    if m.rbac.is_some() {
        return record(
            "an rbac record",
            &[
                ("component", Ty::Str),
                ("principal", Ty::Str),
                ("principals", strs()),
                ("serviceaccounts", strs()),
                ("verb", Ty::Str),
                ("group", Ty::Str),
                ("resource", Ty::Str),
                ("allowed", Ty::Bool),
                ("can_i", Ty::Bool),
                ("missing_roles", strs()),
                ("role", Ty::Str),
                ("role_exists", Ty::Bool),
                ("role_bound", Ty::Bool),
                ("role_bound_to", strs()),
                ("version", Ty::Str),
            ],
        );
    }
    if m.logs.is_some() {
        let hit = record(
            "a log hit",
            &[
                ("line", Ty::Int),
                ("text", Ty::Str),
                ("time", Ty::Str),
                ("captures", Ty::Map(Box::new(Ty::Str))),
            ],
        );
        return record(
            "a logs record",
            &[
                ("namespace", Ty::Str),
                ("pod", Ty::Str),
                ("container", Ty::Str),
                ("previous", Ty::Bool),
                ("node", Ty::Str),
                ("app", Ty::Str),
                ("component", Ty::Str),
                ("labels", Ty::Map(Box::new(Ty::Str))),
                ("count", Ty::Int),
                ("first", hit.clone()),
                ("last", hit),
                ("captures", Ty::Map(Box::new(Ty::Str))),
                ("distinct", Ty::Int),
            ],
        );
    }
    Ty::Any
}

/// Where the `k`-th occurrence of `needle` after `from` is in the file.
fn locate(text: &str, from: crate::tree::Pos, needle: &str, k: usize) -> crate::tree::Pos {
    let mut seen = 0;
    for (i, line) in text
        .lines()
        .enumerate()
        .skip(from.line.saturating_sub(1) as usize)
    {
        let start = if i + 1 == from.line as usize {
            line.char_indices()
                .nth(from.column.saturating_sub(1) as usize)
                .map(|(b, _)| b)
                .unwrap_or(line.len())
        } else {
            0
        };
        let mut rest = start;
        while let Some(found) = line.get(rest..).and_then(|l| l.find(needle)) {
            let at = rest + found;
            if seen == k {
                return crate::tree::Pos {
                    line: u32::try_from(i + 1).unwrap_or(u32::MAX),
                    column: u32::try_from(line[..at].chars().count() + 1).unwrap_or(u32::MAX),
                };
            }
            seen += 1;
            rest = at + needle.len().max(1);
        }
    }
    from
}

/// Checks every expression of a loaded rule; errors at file:line:column.
pub(crate) fn lint_rule(
    rule: &crate::load::Rule,
    text: &str,
    at: &dyn Fn(&str) -> crate::tree::Pos,
) -> Vec<crate::load::RuleError> {
    let view_schema = kdiag_model::tables::node_view_schema();
    let node_view = from_schema(&view_schema, &view_schema, "node(...)");
    let mut rec = record_type(rule);
    let mut env = Env::new();
    env.insert("r".into(), rec.clone());
    let mut out = Vec::new();
    let run = |path: &str, e: &Expr, env: &Env, out: &mut Vec<crate::load::RuleError>| -> Ty {
        let problems = check(e, env, &node_view);
        for p in problems {
            // The occurrence of the needle that ends nearest after the offset.
            let src = e.source();
            let end = (p.offset + p.needle.len()).min(src.len());
            let k = src
                .get(..end)
                .map(|s| s.matches(p.needle.as_str()).count())
                .unwrap_or(0)
                .saturating_sub(1);
            out.push(crate::load::RuleError {
                file: rule.file.clone(),
                pos: locate(text, at(path), &p.needle, k),
                message: format!("in `{path}`: {}", p.message),
                hint: p.hint,
            });
        }
        Ty::Any
    };
    // `let` values become fields of the record, typed as far as known.
    let mut let_types = Vec::new();
    for (k, e) in &rule.lets {
        run(&format!("let.{k}"), e, &env, &mut out);
        let Ok(program) = e.program() else {
            let_types.push((k.clone(), Ty::Any));
            continue;
        };
        let mut c = Checker {
            source: e.source(),
            info: program.source_info(),
            node_view: &node_view,
            problems: Vec::new(),
        };
        let_types.push((k.clone(), c.walk(program.expression(), &env)));
    }
    if let Ty::Record(_, fields) = &mut rec {
        for (k, t) in let_types {
            fields.insert(k, t);
        }
    }
    env.insert("r".into(), rec.clone());
    if let Some(c) = &rule.condition {
        run("where", c, &env, &mut out);
    }
    for (k, e) in &rule.subject {
        run(&format!("subject.{k}"), e, &env, &mut out);
    }
    for (k, e) in &rule.attributes {
        run(&format!("attributes.{k}"), e, &env, &mut out);
    }
    for (i, e) in rule.evidence.iter().enumerate() {
        run(&format!("evidence.{i}"), e, &env, &mut out);
    }
    let mut group = Env::new();
    group.insert("first".into(), rec.clone());
    group.insert("records".into(), Ty::List(Box::new(rec)));
    group.insert("subject".into(), Ty::Map(Box::new(Ty::Str)));
    group.insert(
        "attributes".into(),
        Ty::Map(Box::new(Ty::List(Box::new(Ty::Str)))),
    );
    group.insert("count".into(), Ty::Int);
    group.insert("total".into(), Ty::Int);
    if let Some(h) = &rule.having {
        run("having", h, &group, &mut out);
    }
    if let Some((_, w)) = &rule.escalate {
        run("escalate.when", w, &group, &mut out);
    }
    for e in rule.message.exprs() {
        run("message", e, &group, &mut out);
    }
    out
}
