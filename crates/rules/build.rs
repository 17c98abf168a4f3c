//! Embeds the default rules (`rules/**/*.yaml` at the repository root,
//! fixtures excluded) into the library, so the binary ships them.

use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            // A rule's fixtures live in a directory named after the rule file.
            if !p.with_extension("yaml").is_file() {
                collect(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "yaml")
            // Data beside the rules (failure classes, components), not rules.
            && !p
                .file_name()
                .is_some_and(|n| n == "classes.yaml" || n == "components.yaml")
        {
            out.push(p);
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    let mut code = String::from(
        "/// Default rules: (path under `rules/`, contents).\npub const BUILTIN: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        println!("cargo:rerun-if-changed={}", f.display());
        code.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("builtin_rules.rs");
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}
