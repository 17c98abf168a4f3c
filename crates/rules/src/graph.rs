//! The cause → effect graph: findings of the same class and subject merge
//! (their evidence adds up), `caused_by` joins link causes to effects, and a
//! finding that explains others and is explained by none is a root cause.
//! Findings are then ordered: each root, then what it explains, depth first.

use crate::def::CauseRef;
use crate::eval::{Analysis, Finding, MAX_EVIDENCE};
use crate::expr::cidr_overlaps;
use std::collections::BTreeSet;

fn merge(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for f in findings {
        match out
            .iter_mut()
            .find(|o| o.class == f.class && o.subject == f.subject)
        {
            Some(o) => {
                o.severity = o.severity.max(f.severity);
                if !f.message.is_empty() && !o.message.contains(&f.message) {
                    o.message = format!("{} {}", o.message, f.message);
                }
                for r in f.rules {
                    if !o.rules.contains(&r) {
                        o.rules.push(r);
                    }
                }
                for e in f.evidence {
                    if o.evidence.len() < MAX_EVIDENCE && !o.evidence.contains(&e) {
                        o.evidence.push(e);
                    }
                }
                for (k, vs) in f.attributes {
                    let list = o.attributes.entry(k).or_default();
                    for v in vs {
                        if !list.contains(&v) {
                            list.push(v);
                        }
                    }
                }
                for c in f.cause_refs {
                    o.cause_refs.push(c);
                }
                o.first_seen = match (o.first_seen, f.first_seen) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            None => out.push(f),
        }
    }
    out
}

fn values<'a>(f: &'a Finding, field: &str) -> Vec<&'a str> {
    let mut v: Vec<&str> = f
        .subject
        .get(field)
        .map(String::as_str)
        .into_iter()
        .collect();
    v.extend(
        f.attributes
            .get(field)
            .into_iter()
            .flatten()
            .map(String::as_str),
    );
    v
}

fn same(a: &str, b: &str) -> bool {
    a == b || cidr_overlaps(a, b)
}

/// Whether `cause` is the one `effect` names in its `PREFIX.*` attributes:
/// its class, and every other named key.
fn named_cause(prefix: &str, effect: &Finding, cause: &Finding) -> bool {
    let class_key = format!("{prefix}.class");
    if !values(effect, &class_key).contains(&cause.class.as_str()) {
        return false;
    }
    let lead = format!("{prefix}.");
    let mut keys = effect
        .attributes
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(&lead)?, v)))
        .filter(|(k, v)| *k != "class" && !v.is_empty())
        .peekable();
    keys.peek().is_some()
        && keys.all(|(k, vs)| {
            let theirs = values(cause, k);
            vs.iter().any(|a| theirs.iter().any(|b| same(a, b)))
        })
}

/// Whether `cause` explains `effect` under one `caused_by` entry.
fn joins(spec: &CauseRef, effect: &Finding, cause: &Finding) -> bool {
    if let Some(prefix) = &spec.from {
        return named_cause(prefix, effect, cause);
    }
    let named = spec.rule.as_ref().is_some_and(|r| cause.rules.contains(r))
        || spec.class.as_ref().is_some_and(|c| *c == cause.class);
    named
        && spec.on.iter().all(|on| {
            let (mine, theirs) = on
                .split_once('=')
                .map_or((on.as_str(), on.as_str()), |(a, b)| (a.trim(), b.trim()));
            let ours = values(effect, mine);
            let other = values(cause, theirs);
            ours.iter().any(|a| other.iter().any(|b| same(a, b)))
        })
}

/// A root cause explains others and is explained by none — or, at warning or
/// above, is explained by none: a fault that is its own cause (IP forwarding off)
/// is a root cause even when nothing else in the bundle shows its effects.
fn is_cause(f: &Finding, effects: &BTreeSet<usize>) -> bool {
    !effects.is_empty() || f.severity >= crate::def::Severity::Warning
}

/// Sort key of findings among siblings: worst first, then earliest, then by name.
type OrderKey = (
    std::cmp::Reverse<crate::def::Severity>,
    i128,
    String,
    std::collections::BTreeMap<String, String>,
);

fn order_key(f: &Finding) -> OrderKey {
    (
        std::cmp::Reverse(f.severity),
        f.first_seen.map(|t| t.as_nanosecond()).unwrap_or(i128::MAX),
        f.class.clone(),
        f.subject.clone(),
    )
}

pub(crate) fn link(analysis: &mut Analysis) {
    let mut findings = merge(std::mem::take(&mut analysis.findings));
    let n = findings.len();
    let mut edges: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n]; // cause -> effects
    let mut incoming = vec![0usize; n];
    for e in 0..n {
        for c in 0..n {
            if c == e {
                continue;
            }
            if findings[e]
                .cause_refs
                .iter()
                .any(|spec| joins(spec, &findings[e], &findings[c]))
                && edges[c].insert(e)
            {
                incoming[e] += 1;
            }
        }
    }
    // Order: roots (by severity, then first seen), each followed by its effects depth first; then the rest.
    let mut roots: Vec<usize> = (0..n)
        .filter(|i| incoming[*i] == 0 && is_cause(&findings[*i], &edges[*i]))
        .collect();
    // A root cause is as old as the first symptom it explains: order roots by that.
    let earliest = |root: usize| -> i128 {
        let mut seen = vec![false; n];
        let mut stack = vec![root];
        let mut t = i128::MAX;
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            if let Some(ts) = findings[i].first_seen {
                t = t.min(ts.as_nanosecond());
            }
            stack.extend(edges[i].iter().copied());
        }
        t
    };
    roots.sort_by_key(|i| {
        (
            std::cmp::Reverse(findings[*i].severity),
            earliest(*i),
            findings[*i].class.clone(),
            findings[*i].subject.clone(),
        )
    });
    let mut order = Vec::new();
    let mut placed = vec![false; n];
    fn visit(
        i: usize,
        edges: &[BTreeSet<usize>],
        placed: &mut [bool],
        order: &mut Vec<usize>,
        findings: &[Finding],
    ) {
        if placed[i] {
            return;
        }
        placed[i] = true;
        order.push(i);
        let mut kids: Vec<usize> = edges[i].iter().copied().collect();
        kids.sort_by_key(|k| order_key(&findings[*k]));
        for k in kids {
            visit(k, edges, placed, order, findings);
        }
    }
    for r in &roots {
        visit(*r, &edges, &mut placed, &mut order, &findings);
    }
    let mut rest: Vec<usize> = (0..n).filter(|i| !placed[*i]).collect();
    rest.sort_by_key(|i| order_key(&findings[*i]));
    for r in rest {
        visit(r, &edges, &mut placed, &mut order, &findings);
    }
    let id_of: Vec<String> = {
        let mut ids = vec![String::new(); n];
        for (pos, i) in order.iter().enumerate() {
            ids[*i] = format!("f{}", pos + 1);
        }
        ids
    };
    for (i, f) in findings.iter_mut().enumerate() {
        f.id = id_of[i].clone();
        f.root = incoming[i] == 0 && is_cause(f, &edges[i]);
    }
    for c in 0..n {
        for &e in &edges[c] {
            let (cid, eid) = (id_of[c].clone(), id_of[e].clone());
            findings[c].causes.push(eid);
            findings[e].caused_by.push(cid);
        }
    }
    let num = |id: &String| id[1..].parse::<usize>().unwrap_or(0);
    for f in &mut findings {
        f.causes.sort_by_key(num);
        f.caused_by.sort_by_key(num);
    }
    let mut ordered: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    analysis.findings = order
        .into_iter()
        .filter_map(|i| ordered[i].take())
        .collect();
}
