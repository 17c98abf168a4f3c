//! `kdiag test DIR`: analyzes every bundle under DIR that has an
//! `expected.yaml` and reports, per bundle, pass or what differed.

use crate::exit;
use anyhow::Result;
use clap::Args;
use kdiag_rules::expect::{Expected, check};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct TestArgs {
    /// Directories holding bundles with `expected.yaml` (a directory bundle holds it
    /// inside; `name.tar.gz` has `name.expected.yaml` beside it).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Add the rules in this directory to the built-in ones (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
}

/// Bundles under `dir` with their expectation file.
pub fn find_bundles(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    walk(dir, 0, &mut out);
    out.sort();
    out
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<(PathBuf, PathBuf)>) {
    let expected = dir.join("expected.yaml");
    if expected.is_file() {
        out.push((dir.to_path_buf(), expected));
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if p.is_dir() && depth < 3 {
            walk(&p, depth + 1, out);
        } else if let Some(stem) = [".tar.gz", ".tgz", ".tar"]
            .iter()
            .find_map(|ext| name.strip_suffix(ext))
        {
            let exp = dir.join(format!("{stem}.expected.yaml"));
            if exp.is_file() {
                out.push((p.clone(), exp));
            }
        }
    }
}

pub fn run(args: &TestArgs) -> Result<u8> {
    let rules = match crate::analyze::rules(&args.rules, true) {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    let patterns =
        kdiag_model::LogPatterns::new(rules.log_patterns()).map_err(anyhow::Error::msg)?;
    let mut failed = 0;
    let mut total = 0;
    for dir in &args.dirs {
        for (bundle, expected_path) in find_bundles(dir) {
            total += 1;
            let shown = bundle.display().to_string();
            let expected: Expected = match std::fs::read_to_string(&expected_path)
                .map_err(|e| e.to_string())
                .and_then(|t| serde_saphyr::from_str(&t).map_err(|e| e.to_string()))
            {
                Ok(e) => e,
                Err(e) => {
                    failed += 1;
                    println!(
                        "FAIL  {shown}\n      {}: {}",
                        expected_path.display(),
                        e.lines().next().unwrap_or_default()
                    );
                    continue;
                }
            };
            let snap = match kdiag_model::Snapshot::load(&bundle, &Default::default(), &patterns) {
                Ok(s) => std::sync::Arc::new(s),
                Err(e) => {
                    failed += 1;
                    println!("FAIL  {shown}\n      cannot read: {e}");
                    continue;
                }
            };
            let analysis = kdiag_rules::eval::analyze(&rules, &snap);
            let diffs = check(&analysis, &expected);
            if diffs.is_empty() {
                println!(
                    "pass  {shown}  ({} root cause{}, {} finding{})",
                    analysis.root_causes().len(),
                    if analysis.root_causes().len() == 1 {
                        ""
                    } else {
                        "s"
                    },
                    analysis.findings.len(),
                    if analysis.findings.len() == 1 {
                        ""
                    } else {
                        "s"
                    }
                );
            } else {
                failed += 1;
                println!("FAIL  {shown}");
                for d in diffs {
                    println!("      {d}");
                }
            }
        }
    }
    println!("{} passed, {} failed", total - failed, failed);
    Ok(if failed == 0 && total > 0 {
        exit::OK
    } else {
        exit::FAILED
    })
}
