//! Progress on long reads: a bar on stderr while large bundles are read,
//! then a spinner while the rules run. Only when stderr is a terminal and
//! the bundle files add up to [`SHOW_AFTER`] bytes; silent otherwise (CI,
//! pipes, tests), and never on stdout, where the report goes.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

/// Bundles smaller than this are read too fast to need a bar.
const SHOW_AFTER: u64 = 32 << 20;

/// A bar for reading `paths`, or `None` when it should stay silent.
fn bar_for(paths: &[&Path]) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let total: u64 = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    if total < SHOW_AFTER {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{prefix} [{bar:30}] {binary_bytes}/{binary_total_bytes} {elapsed} (eta {eta})",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_prefix("reading");
    Some(bar)
}

/// Reads the bundles into one snapshot, showing a bar when they are large.
pub fn load(
    paths: &[&Path],
    limits: &kdiag_bundle::Limits,
    patterns: &kdiag_model::LogPatterns,
) -> Result<(kdiag_model::Snapshot, Option<ProgressBar>), kdiag_bundle::OpenError> {
    let Some(bar) = bar_for(paths) else {
        return Ok((
            kdiag_model::Snapshot::load_many(paths, limits, patterns)?,
            None,
        ));
    };
    // Bytes of the bundles before the one being read.
    let mut done = 0u64;
    let mut current: Option<std::path::PathBuf> = None;
    let mut last = 0u64;
    let snap = kdiag_model::Snapshot::load_observed(paths, limits, patterns, &mut |p, n| {
        if current.as_deref() != Some(p) {
            done += last;
            current = Some(p.to_owned());
        }
        last = n;
        bar.set_position(done + n);
    });
    match snap {
        Ok(snap) => Ok((snap, Some(bar))),
        Err(e) => {
            bar.finish_and_clear();
            Err(e)
        }
    }
}

/// Turns the reading bar into a spinner for the next step (`what`).
pub fn step(bar: &Option<ProgressBar>, what: &str) {
    if let Some(bar) = bar {
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(what.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
    }
}

/// Clears whatever is shown.
pub fn done(bar: Option<ProgressBar>) {
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}
