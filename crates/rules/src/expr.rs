//! CEL expressions: one environment (the standard library, the strings
//! extension, and kdiag's network functions), compiled at load time.
//!
//! Network functions: `cidrContains(net, ipOrNet)`, `cidrOverlaps(a, b)`,
//! `isIP(s)`, `isCIDR(s)`, `isInt(s)`. Cross-table functions (see [`crate::world`]):
//! `node(name)`, `object(kind, namespace, name)`, `component(name)`,
//! `podNetworks()`, `dnsService()`, `table(name)`, `iptablesRules(node, table)`,
//! `iptablesChains(node, table)`.

use crate::world::World;
use ipnet::IpNet;
use serde_json::Value;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

/// The CEL environment every rule expression is compiled and run in.
pub(crate) fn cel_env() -> Arc<cel::Env> {
    env()
}

fn env() -> Arc<cel::Env> {
    static ENV: OnceLock<Arc<cel::Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = cel::Env::stdlib();
        // Registering a standard extension on a fresh environment cannot clash.
        let _ = cel::extensions::strings(&mut env);
        let _ = cel::extensions::lists(&mut env);
        Arc::new(env)
    })
    .clone()
}

fn net(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

/// Whether `outer` (a CIDR) contains `inner` (an address or CIDR).
pub fn cidr_contains(outer: &str, inner: &str) -> bool {
    match (outer.parse::<IpNet>().ok(), net(inner)) {
        (Some(o), Some(i)) => o.contains(&i),
        _ => false,
    }
}

/// Whether two CIDRs (or addresses) share any address.
pub fn cidr_overlaps(a: &str, b: &str) -> bool {
    match (net(a), net(b)) {
        (Some(x), Some(y)) => x.contains(&y) || y.contains(&x),
        _ => false,
    }
}

fn compile_now(source: &str) -> Result<cel::Program, String> {
    env()
        .compile(source)
        .map_err(|e| e.to_string().replace("<input>:", ""))
}

/// A CEL expression with its source, compiled when it is made or, for a
/// rule already checked (the built-in ones), when it is first evaluated: a
/// run compiles only what it evaluates (most rules of a small bundle have
/// no record to test).
#[derive(Clone)]
pub struct Expr {
    source: String,
    program: Arc<std::sync::OnceLock<Result<cel::Program, String>>>,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

impl Expr {
    /// Compiles; the error is CEL's own message.
    pub fn compile(source: &str) -> Result<Expr, String> {
        let program = compile_now(source)?;
        Ok(Expr {
            source: source.to_owned(),
            program: Arc::new(std::sync::OnceLock::from(Ok(program))),
        })
    }

    /// An expression compiled on first use; one that does not compile then
    /// fails where it is evaluated. For rules whose expressions a lint has
    /// already compiled.
    pub fn deferred(source: &str) -> Expr {
        Expr {
            source: source.to_owned(),
            program: Arc::new(std::sync::OnceLock::new()),
        }
    }

    /// The source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The compiled program (its syntax tree and source offsets), or CEL's
    /// message when it does not compile.
    pub fn program(&self) -> Result<&cel::Program, String> {
        self.program
            .get_or_init(|| compile_now(&self.source))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Evaluates in a scope built once for several expressions, so a record's
    /// fields are converted to CEL values once rather than per expression.
    pub fn eval_in(&self, scope: &Scope<'_>) -> Result<Value, String> {
        let v = self
            .program()?
            .execute(&scope.0)
            .map_err(|e| e.to_string())?;
        v.json()
            .map_err(|e| format!("result cannot be shown: {e:?}"))
    }

    /// [`Expr::eval_in`] that must produce a boolean.
    pub fn eval_bool_in(&self, scope: &Scope<'_>) -> Result<bool, String> {
        match self.eval_in(scope)? {
            Value::Bool(b) => Ok(b),
            other => Err(format!("expected true or false, got {other}")),
        }
    }
}

/// Variables and kdiag's functions, ready for evaluating expressions. A
/// child scope ([`Scope::child`]) adds variables to its parent's without
/// registering the functions again (one per record of a table).
pub struct Scope<'p>(cel::Context<'p, 'static>);

impl Scope<'_> {
    /// A scope with `vars` added to this one's variables and functions.
    pub fn child(&self, vars: &[(&str, &Value)]) -> Scope<'_> {
        let mut ctx = self.0.new_inner_scope();
        for (name, value) in vars {
            ctx.add_variable_from_value(*name, to_cel(value));
        }
        Scope(ctx)
    }
}

impl Scope<'static> {
    /// Builds a scope holding `vars` (converted to CEL values once), with
    /// the network functions but no cross-table ones.
    pub fn new(vars: &[(&str, &Value)]) -> Result<Scope<'static>, String> {
        Self::build(None, vars)
    }

    /// A scope whose cross-table functions (`node`, `object`, `component`,
    /// `podNetworks`) answer from `world`.
    pub fn with_world(
        world: &Arc<World>,
        vars: &[(&str, &Value)],
    ) -> Result<Scope<'static>, String> {
        Self::build(Some(world), vars)
    }

    fn build(
        world: Option<&Arc<World>>,
        vars: &[(&str, &Value)],
    ) -> Result<Scope<'static>, String> {
        let mut ctx = cel::Context::with_env(env());
        if let Some(w) = world {
            let w1 = w.clone();
            let _ = ctx.add_function("node", move |name: Arc<String>| w1.node(&name));
            let w2 = w.clone();
            let _ = ctx.add_function(
                "object",
                move |kind: Arc<String>, ns: Arc<String>, name: Arc<String>| {
                    w2.object(&kind, &ns, &name)
                },
            );
            let w3 = w.clone();
            let _ = ctx.add_function("component", move |name: Arc<String>| w3.component(&name));
            let w4 = w.clone();
            let _ = ctx.add_function("podNetworks", move || w4.pod_networks());
            let w5 = w.clone();
            let _ = ctx.add_function("dnsService", move || w5.dns_service());
            let w8 = w.clone();
            let _ = ctx.add_function("table", move |name: Arc<String>| w8.table_value(&name));
            let w6 = w.clone();
            let _ = ctx.add_function(
                "iptablesRules",
                move |node: Arc<String>, table: Arc<String>| w6.iptables(&node, &table, false),
            );
            let w7 = w.clone();
            let _ = ctx.add_function(
                "iptablesChains",
                move |node: Arc<String>, table: Arc<String>| w7.iptables(&node, &table, true),
            );
        }
        let _ = ctx.add_function("cidrContains", |a: Arc<String>, b: Arc<String>| {
            cidr_contains(&a, &b)
        });
        let _ = ctx.add_function("cidrOverlaps", |a: Arc<String>, b: Arc<String>| {
            cidr_overlaps(&a, &b)
        });
        let _ = ctx.add_function("isIP", |a: Arc<String>| a.parse::<IpAddr>().is_ok());
        let _ = ctx.add_function("isCIDR", |a: Arc<String>| a.parse::<IpNet>().is_ok());
        let _ = ctx.add_function("isInt", |a: Arc<String>| a.trim().parse::<i64>().is_ok());
        for (name, value) in vars {
            ctx.add_variable_from_value(*name, to_cel(value));
        }
        Ok(Scope(ctx))
    }
}

/// A JSON value as CEL sees it. Whole numbers are CEL `int` (so `r.mtu - 50`
/// works whatever the field's Rust type), others `double`.
pub fn to_cel(v: &Value) -> cel::Value {
    match v {
        Value::Null => cel::Value::Null,
        Value::Bool(b) => cel::Value::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => cel::Value::Int(i),
            (None, Some(u)) => cel::Value::UInt(u),
            _ => cel::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => cel::Value::String(Arc::new(s.clone())),
        Value::Array(items) => cel::Value::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(o) => cel::Value::from(
            o.iter()
                .map(|(k, v)| (k.clone(), to_cel(v)))
                .collect::<std::collections::HashMap<String, cel::Value>>(),
        ),
    }
}

/// A value as text for subjects and messages: strings as they are, lists
/// joined with ", ", null as empty.
pub fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items
            .iter()
            .map(display)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// A value as a list of strings, for join attributes.
pub fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        Value::Null => Vec::new(),
        other => vec![display(other)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn network_functions() {
        let r = json!({"cidr": "10.244.3.0/24", "ip": "10.244.3.17"});
        let e = Expr::compile("cidrContains('10.244.0.0/16', r.cidr) && cidrContains(r.cidr, r.ip) && !cidrOverlaps('10.233.64.0/18', r.cidr)").unwrap();
        assert!(e.eval_bool_in(&Scope::new(&[("r", &r)]).unwrap()).unwrap());
        assert!(Expr::compile("r.cidr ==").is_err());
        // Deferred: the same error, where it is first needed.
        let late = Expr::deferred("r.cidr ==");
        assert_eq!(late.source(), "r.cidr ==");
        assert!(late.program().is_err());
        assert!(Expr::deferred("1 + 2").program().is_ok());
        assert_eq!(
            display(
                &Expr::compile("['a', 'b']")
                    .unwrap()
                    .eval_in(&Scope::new(&[]).unwrap())
                    .unwrap()
            ),
            "a, b"
        );
    }
}
