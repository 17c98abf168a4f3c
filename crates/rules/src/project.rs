//! What of a record a rule reads. A rule over `objects` gets each object
//! whole as `r.object`, yet reads a few fields of it (`r.object.spec.
//! dnsPolicy`); turning every Pod into CEL values costs more than the rule.
//! [`of`] finds, in the rule's per-record expressions, every field path
//! under `r` they select; [`Projection::apply`] keeps just those subtrees. Where `r` is used other than through fields (passed whole,
//! indexed, shadowed), the projection keeps everything.

use crate::expr::Expr;
use cel::common::ast::{EntryExpr, Expr as Ast, IdedExpr};
pub use kdiag_model::derive::Projection;

/// What `exprs` read of `r`; everything when one does not compile or uses
/// `r` other than through its fields.
pub fn of<'e>(exprs: impl IntoIterator<Item = &'e Expr>) -> Projection {
    let mut p = Projection::default();
    for e in exprs {
        let Ok(program) = e.program() else {
            return Projection::all();
        };
        if !collect(&mut p, program.expression()) {
            return Projection::all();
        }
    }
    p
}

/// Adds what `e` reads to `p`; false when it reads `r` whole.
fn collect(p: &mut Projection, e: &IdedExpr) -> bool {
    if let Some(path) = path_under_r(e) {
        if path.is_empty() {
            return false;
        }
        p.add(&path);
        return true;
    }
    let mut go = |x: &IdedExpr| collect(p, x);
    match &e.expr {
        Ast::Ident(_) | Ast::Literal(_) | Ast::Unspecified => true,
        Ast::Select(s) => go(&s.operand),
        Ast::Call(c) => c.target.as_deref().is_none_or(&mut go) && c.args.iter().all(go),
        Ast::List(l) => l.elements.iter().all(go),
        Ast::Map(m) => m.entries.iter().all(|en| match &en.expr {
            EntryExpr::MapEntry(me) => go(&me.key) && go(&me.value),
            EntryExpr::StructField(f) => go(&f.value),
        }),
        Ast::Struct(s) => s.entries.iter().all(|en| match &en.expr {
            EntryExpr::MapEntry(me) => go(&me.key) && go(&me.value),
            EntryExpr::StructField(f) => go(&f.value),
        }),
        Ast::Comprehension(c) => {
            // A loop variable named `r` hides the record: keep all.
            let shadows =
                c.iter_var == "r" || c.accu_var == "r" || c.iter_var2.as_deref() == Some("r");
            !shadows
                && go(&c.iter_range)
                && go(&c.accu_init)
                && go(&c.loop_cond)
                && go(&c.loop_step)
                && go(&c.result)
        }
    }
}

/// The fields selected from `r` by a chain `r.a.b.c` (`has(r.a.b)`
/// included): `Some([])` for `r` alone, `None` when `e` is no such chain.
fn path_under_r(e: &IdedExpr) -> Option<Vec<&str>> {
    match &e.expr {
        Ast::Ident(name) if name == "r" => Some(Vec::new()),
        Ast::Select(s) => {
            let mut p = path_under_r(&s.operand)?;
            p.push(s.field.as_str());
            Some(p)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Scope;
    use serde_json::json;

    fn exprs(srcs: &[&str]) -> Vec<Expr> {
        srcs.iter()
            .map(|s| Expr::compile(s).unwrap_or_else(|e| panic!("{s}: {e}")))
            .collect()
    }

    #[test]
    fn fields_under_r_are_kept_and_the_rest_dropped() {
        let e = exprs(&[
            "has(r.object.spec.dnsPolicy) && r.object.spec.dnsPolicy == 'None'",
            "r.object.spec.containers.exists(c, c.name == 'x') && r.name != ''",
        ]);
        let p = of(&e);
        let pod = json!({"name": "p", "namespace": "ns", "object": {"metadata": {"labels": {"a": "b"}},
            "spec": {"dnsPolicy": "None", "containers": [{"name": "x"}], "volumes": [1, 2]},
            "status": {"phase": "Running"}}});
        assert_eq!(
            p.apply(&pod),
            json!({"name": "p", "object": {"spec": {"dnsPolicy": "None", "containers": [{"name": "x"}]}}})
        );
    }

    #[test]
    fn r_used_whole_keeps_everything() {
        for src in [
            "size(r) > 0",
            "r['name'] == 'x'",
            "[1].exists(r, r > 0) && r.name == ''",
        ] {
            assert_eq!(of(&exprs(&[src])), Projection::all(), "{src}");
        }
    }

    /// Every expression gives the same answer on the projected record as
    /// on the whole one, present fields, absent ones and wrong types alike.
    #[test]
    fn projected_records_answer_alike() {
        let srcs = [
            "has(r.object.spec.dnsConfig) && size(r.object.spec.dnsConfig.nameservers) > 0",
            "r.object.spec.dnsPolicy == 'None'",
            "has(r.object.missing.deeper)",
            "r.object.spec.dnsPolicy.nope",
            "r.count + 1",
            "r.object.metadata.labels.exists(k, k == 'app')",
        ];
        let records = [
            json!({"count": 1, "object": {"spec": {"dnsPolicy": "None"}, "metadata": {"labels": {"app": "x"}}}}),
            json!({"count": 2, "object": {"spec": {"dnsPolicy": "Default", "dnsConfig": {"nameservers": ["1.1.1.1"]}}, "metadata": {}}}),
            json!({"count": 3, "object": {"spec": "not a map", "metadata": {"labels": {}}}}),
            json!({"object": {}}),
        ];
        let all = exprs(&srcs);
        let p = of(&all);
        for rec in &records {
            let projected = p.apply(rec);
            for e in &all {
                let whole = e.eval_in(&Scope::new(&[("r", rec)]).unwrap());
                let part = e.eval_in(&Scope::new(&[("r", &projected)]).unwrap());
                assert_eq!(whole.is_ok(), part.is_ok(), "{} on {rec}", e.source());
                assert_eq!(whole.ok(), part.ok(), "{} on {rec}", e.source());
            }
        }
    }
}
