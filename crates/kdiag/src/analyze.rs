//! `kdiag analyze`.

use crate::{Format, LimitArgs, exit};
use anyhow::Result;
use clap::{Args, ValueEnum};
use kdiag_rules::def::Severity;
use kdiag_rules::load::{RuleSet, builtin_sources_checked, load, read_dirs};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Args)]
pub struct AnalyzeArgs {
    /// Bundles to read (`.tar.gz`, `.tar` or a directory); several are merged.
    #[arg(required = true)]
    bundles: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Add the rules in this directory to the built-in ones (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
    /// Do not load the built-in rules; use only those of --rules directories.
    #[arg(long)]
    no_builtin: bool,
    /// Run only rules with this id, class or layer (repeatable).
    #[arg(long, value_name = "ID|CLASS|LAYER")]
    only: Vec<String>,
    /// Skip rules with this id, class or layer (repeatable).
    #[arg(long, value_name = "ID|CLASS|LAYER")]
    skip: Vec<String>,
    /// Exit non-zero when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Warning)]
    fail_on: FailOn,
    /// Colour: auto (only on a terminal, and not with NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Info,
    Warning,
    Critical,
    Never,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// Loads the built-in rules plus `extra` directories; rule errors are printed.
pub fn rules(extra: &[PathBuf], builtin: bool) -> Result<RuleSet, u8> {
    let mut sources = if builtin {
        builtin_sources_checked()
    } else {
        Vec::new()
    };
    let dirs: Vec<&std::path::Path> = extra.iter().map(PathBuf::as_path).collect();
    let report = |errors: Vec<kdiag_rules::load::RuleError>| {
        for e in &errors {
            eprintln!("error: {e}");
        }
        eprintln!(
            "kdiag: {} error{} in rule files",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        );
        exit::INVALID_RULES
    };
    match read_dirs(&dirs) {
        Ok(more) => sources.extend(more),
        Err(errors) => return Err(report(errors)),
    }
    load(&sources).map_err(report)
}

pub fn run(args: &AnalyzeArgs) -> Result<u8> {
    use kdiag_model::timing::timed;
    let mut rules = match timed(
        || "load the rules".into(),
        || rules(&args.rules, !args.no_builtin),
    ) {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    rules.filter(&args.only, &args.skip);
    let patterns = timed(
        || "compile the log patterns".into(),
        || kdiag_model::LogPatterns::new(rules.log_patterns()),
    )
    .map_err(anyhow::Error::msg)?;
    let paths: Vec<&std::path::Path> = args.bundles.iter().map(PathBuf::as_path).collect();
    let (snap, bar) = crate::progress::load(&paths, &args.limits.limits(), &patterns)?;
    let snap = std::sync::Arc::new(snap);
    if let Err(e) = crate::ensure_read(&snap) {
        crate::progress::done(bar);
        return Err(e);
    }
    crate::progress::step(&bar, &format!("running {} rules", rules.rules.len()));
    let analysis = timed(
        || "run the rules".into(),
        || kdiag_rules::eval::analyze(&rules, &snap),
    );
    crate::progress::done(bar);
    // The process ends after the report: freeing a large snapshot record by
    // record would cost a tenth of the run (measured with perf on bench/),
    // for memory the exit returns anyway.
    std::mem::forget(snap);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &kdiag_report::json::report(&analysis))?;
            writeln!(out)?;
        }
        Format::Text => {
            let color = match args.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
            let style = if color {
                kdiag_report::text::Style::color()
            } else {
                kdiag_report::text::Style::plain()
            };
            kdiag_report::text::render(&analysis, &mut out, style)?;
        }
    }
    // A rule that failed at run time has answered nothing: never a pass.
    if !analysis.problems.is_empty() {
        for p in &analysis.problems {
            eprintln!("error: rule failed: {p}");
        }
        return Ok(exit::INVALID_RULES);
    }
    let worst = analysis.findings.iter().map(|f| f.severity).max();
    let threshold = match args.fail_on {
        FailOn::Info => Some(Severity::Info),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Critical => Some(Severity::Critical),
        FailOn::Never => None,
    };
    Ok(match (worst, threshold) {
        (Some(w), Some(t)) if w >= t => match w {
            Severity::Critical => exit::CRITICAL,
            Severity::Warning | Severity::Info => exit::WARNING,
        },
        _ => exit::OK,
    })
}
