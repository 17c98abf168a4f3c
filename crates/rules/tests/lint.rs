//! Rule files are checked before anything runs, and every error of every
//! file comes back in one run, each at its line and column.
#![allow(clippy::unwrap_used)] // test setup panics on failure

use kdiag_rules::load::{RuleSource, load};

fn src(file: &str, text: &str) -> RuleSource {
    RuleSource {
        checked: false,
        file: file.into(),
        text: text.into(),
    }
}

const BROKEN: &str = r#"id: demo.forbidden
title: Forbidden lines
class: rbac.permission-denied
severity: critical
description: demo
match:
  logs:
    pattern: 'cannot (?P<verb>\w+ resource'
subject:
  serviceaccount: r.captures.sa
message: "{{ first.app }} is forbidden"
causd_by:
  - class: rbac.clusterrole-missing
caused_by:
  - rule: demo.loop
remediation:
  text: restore it
"#;

const LOOP: &str = r#"id: demo.loop
title: Loops back
class: rbac.clusterrole-missing
severity: warning
description: demo
match:
  fact: rbac.dangling-bindings
subject:
  name: r.role
message: "{{ subject.name }}"
caused_by:
  - rule: demo.forbidden
remediation:
  text: fix it
"#;

#[test]
fn typo_bad_regex_and_cycle_all_reported_with_positions() {
    let errors = load(&[
        src("rules/demo/forbidden.yaml", BROKEN),
        src("rules/demo/loop.yaml", LOOP),
    ])
    .unwrap_err();
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let typo = errors
        .iter()
        .find(|e| e.message.contains("unknown key `causd_by`"))
        .unwrap_or_else(|| panic!("{shown:#?}"));
    assert_eq!(
        (typo.file.as_str(), typo.pos.line, typo.pos.column),
        ("rules/demo/forbidden.yaml", 12, 1)
    );
    assert_eq!(typo.hint.as_deref(), Some("did you mean `caused_by`?"));
    let regex = errors
        .iter()
        .find(|e| e.message.starts_with("bad regular expression"))
        .unwrap_or_else(|| panic!("{shown:#?}"));
    assert_eq!((regex.pos.line, regex.pos.column), (8, 14));
    let cycle = errors
        .iter()
        .find(|e| e.message.starts_with("caused_by forms a cycle"))
        .unwrap_or_else(|| panic!("{shown:#?}"));
    assert!(
        cycle.message.contains("demo.forbidden") && cycle.message.contains("demo.loop"),
        "{}",
        cycle.message
    );
    assert!(cycle.pos.line > 1);
    assert_eq!(errors.len(), 3, "{shown:#?}");
    assert!(
        shown[0].starts_with("rules/demo/forbidden.yaml:12:1: unknown key `causd_by`"),
        "{}",
        shown[0]
    );
}

#[test]
fn every_kind_of_mistake_points_at_its_place() {
    let text = "id: demo.bad\ntitle: t\nclass: rbac.permision-denied\nseverity: urgent\ndescription: d\nmatch:\n  fact: flannel.route\n  rbac: {components: []}\nwhere: 'r.x =='\nsubject:\n  nodename: r.node\nmessage: '{{ r. }}'\nremediation:\n  text: t\n";
    let errors = load(&[src("bad.yaml", text)]).unwrap_err();
    let find = |needle: &str| {
        errors
            .iter()
            .find(|e| e.message.contains(needle))
            .unwrap_or_else(|| panic!("no '{needle}' in {errors:#?}"))
    };
    // A bad enum value is reported and the rest of the file is still checked.
    assert_eq!(
        find("`severity` is not one of the allowed values").pos.line,
        4
    );
    assert_eq!(find("unknown class `rbac.permision-denied`").pos.line, 3);
    let errors = load(&[src("bad.yaml", &text.replace("urgent", "critical"))]).unwrap_err();
    let find = |needle: &str| {
        errors
            .iter()
            .find(|e| e.message.contains(needle))
            .unwrap_or_else(|| panic!("no '{needle}' in {errors:#?}"))
    };
    let class = find("unknown class `rbac.permision-denied`");
    assert_eq!(
        (class.pos.line, class.hint.as_deref()),
        (3, Some("did you mean `rbac.permission-denied`?"))
    );
    assert_eq!(
        find("needs exactly one of objects, rbac, logs, fact")
            .pos
            .line,
        7
    );
    assert_eq!(
        find("unknown fact table `flannel.route`").hint.as_deref(),
        Some("did you mean `flannel.routes`?")
    );
    assert_eq!(find("bad CEL expression").pos.line, 9);
    assert_eq!(find("`nodename` is not a subject field").pos.line, 11);
    assert_eq!(find("bad message template").pos.line, 12);
}

#[test]
fn builtin_rules_are_valid_and_the_schema_is_committed() {
    let rules = load(&kdiag_rules::load::builtin_sources()).unwrap_or_else(|e| {
        panic!(
            "{}",
            e.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert!(rules.rules.len() >= 12);
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../rules/schema.json"
    ))
    .unwrap_or_default();
    let current = format!(
        "{}\n",
        serde_json::to_string_pretty(&kdiag_rules::load::schema()).unwrap()
    );
    assert!(
        committed == current,
        "rules/schema.json is stale: run `cargo run -- rules schema > rules/schema.json`"
    );
    for r in &rules.rules {
        assert!(r.file.starts_with("rules/"), "{}", r.file);
    }
}

#[test]
fn rule_docs_are_generated_from_the_rule_files() {
    let rules = load(&kdiag_rules::load::builtin_sources()).unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    let stale = |name: &str, want: String| {
        let have = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        assert!(
            have == want,
            "docs/rules/{name} is stale: run `cargo run -- rules docs docs/rules`"
        );
    };
    stale("README.md", kdiag_rules::docs::index(&rules));
    for r in &rules.rules {
        stale(
            &format!("{}.md", r.def.id),
            kdiag_rules::docs::page(&rules, r),
        );
    }
}

#[test]
fn every_failure_class_has_a_rule() {
    let rules = load(&kdiag_rules::load::builtin_sources()).unwrap();
    // Classes whose detection needs an engine that does not exist yet: the
    // packet tracer (issue "Trace a packet through the bundle") and layout
    // detection (issue "Read the archives people actually send").
    let pending = [
        "podnet.node-unregistered",
        "podnet.path-blocked",
        "bundle.layout-unrecognized",
    ];
    for class in kdiag_rules::catalog::class_names() {
        if pending.contains(&class) {
            continue;
        }
        assert!(
            rules.rules.iter().any(|r| r.def.class == *class),
            "no rule produces {class}"
        );
    }
}

#[test]
fn fields_types_and_join_keys_are_checked_against_the_tables() {
    let bad = "id: demo.fields\ntitle: t\nclass: node.ip-forward-disabled\nseverity: warning\ndescription: d\nmatch:\n  fact: node.sysctl\nwhere: >-\n  r.nodname != \"\" &&\n  r.value == 1\nsubject:\n  node: r.node\nmessage: '{{ first.vaule }} {{ node(subject.node).modls.size() }}'\ncaused_by:\n  - rule: demo.cause\n    on: [nod, node=nodee]\nremediation:\n  text: t\n";
    let cause = "id: demo.cause\ntitle: t\nclass: node.br-netfilter-missing\nseverity: warning\ndescription: d\nmatch:\n  fact: nodes\nsubject:\n  node: r.node\nmessage: m\nremediation:\n  text: t\n";
    let errors = load(&[src("f.yaml", bad), src("c.yaml", cause)]).unwrap_err();
    let find = |needle: &str| {
        errors
            .iter()
            .find(|e| e.message.contains(needle))
            .unwrap_or_else(|| panic!("no '{needle}' in {errors:#?}"))
    };
    let field = find("`r` has no field `nodname`");
    assert_eq!((field.pos.line, field.pos.column), (9, 5));
    assert_eq!(field.hint.as_deref(), Some("did you mean `node`?"));
    let ty = find("`r.value` is a string but `1` is an integer");
    assert_eq!((ty.pos.line, ty.pos.column), (10, 3));
    let first = find("`first` has no field `vaule`");
    assert_eq!(
        (first.pos.line, first.hint.as_deref()),
        (13, Some("did you mean `value`?"))
    );
    let view = find("`node(...)` has no field `modls`");
    assert_eq!(view.hint.as_deref(), Some("did you mean `modules`?"));
    let mine = find("join key `nod` is not a subject field or attribute of this rule");
    assert_eq!(
        (mine.pos.line, mine.hint.as_deref()),
        (16, Some("did you mean `node`?"))
    );
    let theirs = find("join key `nodee` is not a subject field or attribute of the rules it names");
    assert_eq!(theirs.hint.as_deref(), Some("did you mean `node`?"));
    assert_eq!(errors.len(), 6, "{errors:#?}");
    // The same rule, corrected, loads.
    let good = bad
        .replace(
            "r.nodname != \"\" &&\n  r.value == 1",
            "r.node != \"\" &&\n  r.value == \"1\"",
        )
        .replace("first.vaule", "first.value")
        .replace("modls", "modules")
        .replace("[nod, node=nodee]", "[node, node=node]");
    load(&[src("f.yaml", &good), src("c.yaml", cause)]).unwrap();
}

/// ARCHITECTURE.md: "rules and model never name a path" — only
/// crates/bundle maps an input to where a layout keeps it.
#[test]
fn model_and_rules_name_inputs_not_paths() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut offenders = Vec::new();
    for dir in ["crates/model/src", "crates/rules/src"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let text = std::fs::read_to_string(&p).unwrap();
                // Unit tests at the end of a file may build bundles by path.
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                for (i, line) in code.lines().enumerate() {
                    let l = line.trim_start();
                    if l.starts_with("//") {
                        continue;
                    }
                    for layout_path in [
                        "\"cluster/",
                        "\"nodes/",
                        "\"probes/",
                        "\"cluster-resources/",
                    ] {
                        if l.contains(layout_path) {
                            offenders.push(format!("{}:{}: {l}", p.display(), i + 1));
                        }
                    }
                }
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}
