//! `kdiag rules ...`.

use crate::exit;
use anyhow::Result;
use clap::Subcommand;
use kdiag_rules::load::{RuleSet, builtin_sources, load, read_dirs};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum RulesCommand {
    /// List the rules: id, class, severity, title.
    List {
        /// Rule directories to add to the built-in rules.
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
    /// Explain one rule: what it detects, what it matches, its fix, and its place in the cause graph.
    Explain {
        /// Rule id.
        id: String,
        /// Rule directories to add to the built-in rules.
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
    /// Check rule files without running them; every error of every file at once.
    Lint {
        /// Rule directories (default: the built-in rules).
        dirs: Vec<PathBuf>,
    },
    /// Run every rule against its fixtures (fires-*/ and quiet-*/ beside the rule file).
    Test {
        /// Rule directories (default: ./rules).
        dirs: Vec<PathBuf>,
    },
    /// Print the JSON Schema of rule files (committed as rules/schema.json).
    Schema,
    /// Write a Markdown page per built-in rule, and an index, into a directory (docs/rules).
    Docs {
        /// Output directory.
        dir: PathBuf,
    },
    /// List the fact tables rules can match, with their fields.
    Facts,
}

fn load_with(dirs: &[PathBuf], builtin: bool) -> Result<RuleSet, u8> {
    crate::analyze::rules(dirs, builtin)
}

pub fn run(cmd: RulesCommand) -> Result<u8> {
    match cmd {
        RulesCommand::List { rules } => {
            let Ok(set) = load_with(&rules, true) else {
                return Ok(exit::INVALID_RULES);
            };
            for r in &set.rules {
                println!(
                    "{:<40} {:<28} {:<9} {}",
                    r.def.id,
                    r.def.class,
                    format!("{:?}", r.def.severity).to_lowercase(),
                    r.def.title
                );
            }
            Ok(exit::OK)
        }
        RulesCommand::Explain { id, rules } => {
            let Ok(set) = load_with(&rules, true) else {
                return Ok(exit::INVALID_RULES);
            };
            let Some(r) = set.get(&id) else {
                eprintln!("kdiag: no rule `{id}`; `kdiag rules list` shows them");
                return Ok(exit::FAILED);
            };
            print!("{}", kdiag_rules::docs::explain(&set, r));
            Ok(exit::OK)
        }
        RulesCommand::Lint { dirs } => {
            let sources = if dirs.is_empty() {
                builtin_sources()
            } else {
                let d: Vec<&std::path::Path> = dirs.iter().map(PathBuf::as_path).collect();
                match read_dirs(&d) {
                    Ok(s) => s,
                    Err(errors) => {
                        errors.iter().for_each(|e| eprintln!("error: {e}"));
                        return Ok(exit::INVALID_RULES);
                    }
                }
            };
            match load(&sources) {
                Ok(set) => {
                    println!(
                        "{} rule{} ok",
                        set.rules.len(),
                        if set.rules.len() == 1 { "" } else { "s" }
                    );
                    Ok(exit::OK)
                }
                Err(errors) => {
                    errors.iter().for_each(|e| eprintln!("error: {e}"));
                    eprintln!(
                        "{} error{}",
                        errors.len(),
                        if errors.len() == 1 { "" } else { "s" }
                    );
                    Ok(exit::INVALID_RULES)
                }
            }
        }
        RulesCommand::Test { dirs } => {
            let dirs = if dirs.is_empty() {
                vec![PathBuf::from("rules")]
            } else {
                dirs
            };
            let Ok(set) = load_with(&dirs, false) else {
                return Ok(exit::INVALID_RULES);
            };
            let results = kdiag_rules::fixtures::test_rules(&set);
            for r in &results {
                println!("{r}");
            }
            let failed = results.iter().filter(|r| r.failed()).count();
            println!("{} passed, {} failed", results.len() - failed, failed);
            Ok(if failed == 0 { exit::OK } else { exit::FAILED })
        }
        RulesCommand::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&kdiag_rules::load::schema())?
            );
            Ok(exit::OK)
        }
        RulesCommand::Docs { dir } => {
            let Ok(set) = load_with(&[], true) else {
                return Ok(exit::INVALID_RULES);
            };
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join("README.md"), kdiag_rules::docs::index(&set))?;
            for r in &set.rules {
                std::fs::write(
                    dir.join(format!("{}.md", r.def.id)),
                    kdiag_rules::docs::page(&set, r),
                )?;
            }
            println!("{} pages written to {}", set.rules.len() + 1, dir.display());
            Ok(exit::OK)
        }
        RulesCommand::Facts => {
            for t in kdiag_model::tables::all() {
                println!("{}\n    {}", t.name, t.description);
            }
            Ok(exit::OK)
        }
    }
}
