//! `kdiag`: explains a broken Kubernetes network from a support bundle,
//! offline. This binary only wires flags to the library crates.

mod analyze;
mod collect;
mod inspect;
mod progress;
mod regress;
mod rules_cmd;
mod trace;

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};
use kdiag_bundle::Limits;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes (documented in the README).
pub mod exit {
    /// Nothing at or above `--fail-on`.
    pub const OK: u8 = 0;
    /// Some rule test or rule check failed.
    pub const FAILED: u8 = 1;
    /// A bundle cannot be read at all.
    pub const UNREADABLE: u8 = 3;
    /// Rule files are invalid.
    pub const INVALID_RULES: u8 = 4;
    /// A bundle was opened, but nothing in it is in a layout kdiag reads.
    pub const NOTHING_READ: u8 = 5;
    /// Findings at warning (the worst) at or above `--fail-on`.
    pub const WARNING: u8 = 10;
    /// Critical findings at or above `--fail-on`.
    pub const CRITICAL: u8 = 11;
}

#[derive(Parser)]
#[command(
    name = "kdiag",
    version,
    about = "Explains a broken Kubernetes network from a support bundle, offline."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Explain what broke: root causes first, each with what it caused, the
    /// evidence (file:line and text) and the fix.
    Analyze(analyze::AnalyzeArgs),
    /// Show what a bundle holds: files and what each is, versions, nodes and
    /// their pod CIDRs, the networks each component believes in, components,
    /// and every diagnostic.
    Inspect(InspectArgs),
    /// Analyze every bundle under a directory that has an expected.yaml and
    /// report, per bundle, pass or what differed (archived-incident regression).
    Test(regress::TestArgs),
    /// Work with rules: list, explain, lint, test, schema, facts.
    #[command(subcommand)]
    Rules(rules_cmd::RulesCommand),
    /// Collect a bundle from a cluster (or, with --node-only, from this node)
    /// with the built-in collector script; `kdiag collect --help` for options.
    Collect(collect::CollectArgs),
    Trace(trace::TraceArgs),
}

#[derive(Args)]
struct InspectArgs {
    /// Bundles to read (`.tar.gz`, `.tar` or a directory); several are merged,
    /// e.g. a cluster bundle and node-only bundles.
    #[arg(required = true)]
    bundles: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Output format.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For a person.
    Text,
    /// Stable JSON, documented in the README.
    Json,
}

/// Reading limits (defaults are safe for bundles from strangers).
#[derive(Args)]
pub struct LimitArgs {
    /// Stop after this many uncompressed bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_total_bytes)]
    max_total_bytes: u64,
    /// Stop after this many archive entries.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_entries)]
    max_entries: u64,
    /// Read at most this many bytes of one file.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_entry_bytes)]
    max_entry_bytes: u64,
    /// Stop when decompressed/compressed exceeds this ratio.
    #[arg(long, value_name = "RATIO", default_value_t = Limits::default().max_compression_ratio)]
    max_compression_ratio: u64,
}

impl LimitArgs {
    /// The limits these flags ask for.
    pub fn limits(&self) -> Limits {
        Limits {
            max_total_bytes: self.max_total_bytes,
            max_entries: self.max_entries,
            max_entry_bytes: self.max_entry_bytes,
            max_compression_ratio: self.max_compression_ratio,
            ..Limits::default()
        }
    }
}

/// Reads bundles into one snapshot, without log patterns (for the commands
/// that run no rules).
pub fn load(bundles: &[PathBuf], limits: &LimitArgs) -> Result<kdiag_model::Snapshot> {
    let snap = load_any(bundles, limits)?;
    ensure_read(&snap)?;
    Ok(snap)
}

/// Like [`load`], also when nothing was read (for `inspect`, which shows
/// what each file was taken for).
fn load_any(bundles: &[PathBuf], limits: &LimitArgs) -> Result<kdiag_model::Snapshot> {
    let paths: Vec<&std::path::Path> = bundles.iter().map(PathBuf::as_path).collect();
    let (snap, bar) = progress::load(&paths, &limits.limits(), &kdiag_model::LogPatterns::none())?;
    progress::done(bar);
    Ok(snap)
}

/// A bundle opened fine but held nothing kdiag reads: its own exit code,
/// never "0 findings".
#[derive(Debug)]
pub struct NothingRead(String);

impl std::fmt::Display for NothingRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NothingRead {}

/// Fails with [`NothingRead`] for the first bundle nothing was read from,
/// saying what it holds and which layouts kdiag reads.
pub fn ensure_read(snap: &kdiag_model::Snapshot) -> Result<()> {
    for (i, source) in snap.sources.iter().enumerate() {
        if snap.layouts.get(i).copied().flatten().is_some() {
            continue;
        }
        let files: Vec<&kdiag_model::FileInfo> =
            snap.files.iter().filter(|f| f.source == i).collect();
        let mut top: Vec<String> = files
            .iter()
            .map(|f| match f.path.split_once('/') {
                Some((dir, _)) => format!("{dir}/"),
                None => f.path.clone(),
            })
            .collect();
        top.sort();
        top.dedup();
        let shown = top.len().min(8);
        let mut found = format!(
            "{} file{}",
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        );
        if !top.is_empty() {
            found.push_str(&format!(
                " under {}{}",
                top[..shown].join(", "),
                if top.len() > shown {
                    format!(" and {} more", top.len() - shown)
                } else {
                    String::new()
                }
            ));
        }
        let layouts: Vec<String> = kdiag_bundle::Layout::ALL
            .iter()
            .map(|l| format!("  - {}: {}", l.label(), l.describe()))
            .collect();
        return Err(NothingRead(format!(
            "nothing in {source} could be read: it holds {found}, none of them in a layout kdiag reads \
             and none Kubernetes objects or node state.\nkdiag reads:\n{}\n(`kdiag inspect {source}` lists every file and what it was taken for.)",
            layouts.join("\n")
        ))
        .into());
    }
    Ok(())
}

fn main() -> ExitCode {
    // Installed as `kubectl-kdiag`, the binary is a kubectl plugin:
    // `kubectl kdiag analyze ...`, `kubectl kdiag collect ...`.
    let plugin = std::env::args_os()
        .next()
        .map(PathBuf::from)
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .is_some_and(|name| name == "kubectl-kdiag");
    let cli = if plugin {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command().bin_name("kubectl kdiag").get_matches();
        match Cli::from_arg_matches(&matches) {
            Ok(cli) => cli,
            Err(e) => e.exit(),
        }
    } else {
        Cli::parse()
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kdiag: {e:#}");
            if e.downcast_ref::<NothingRead>().is_some() {
                ExitCode::from(exit::NOTHING_READ)
            } else {
                ExitCode::from(exit::UNREADABLE)
            }
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Analyze(args) => analyze::run(&args),
        Command::Rules(cmd) => rules_cmd::run(cmd),
        Command::Test(args) => regress::run(&args),
        Command::Collect(args) => collect::run(&args),
        Command::Trace(args) => trace::run(&args),
        Command::Inspect(args) => {
            let snap = load_any(&args.bundles, &args.limits)?;
            let report = inspect::InspectReport::of(&snap);
            let mut out = std::io::stdout().lock();
            match args.format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut out, &report)?;
                    use std::io::Write;
                    writeln!(out)?;
                }
                Format::Text => inspect::write_text(&report, &mut out)?,
            }
            if let Err(e) = ensure_read(&snap) {
                eprintln!("kdiag: {e}");
                return Ok(exit::NOTHING_READ);
            }
            Ok(exit::OK)
        }
    }
}
