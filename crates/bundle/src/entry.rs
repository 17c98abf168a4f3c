//! What every reader (tar, zip, directory) says the same way about an
//! entry: a name it cannot use, a path that came before, a file cut at the
//! per-file limit.

use crate::diag::{BundleDiagnostic, DiagnosticKind as K};
use crate::{EntrySink, Limits, PathProblem, StopReason};

/// Reports an entry name that cannot be a bundle path (an empty name, such
/// as `./`, is the archive's top and is skipped silently).
pub(crate) fn bad_name(sink: &mut dyn EntrySink, shown: &str, problem: PathProblem) {
    let kind = match problem {
        PathProblem::Empty => return,
        PathProblem::NonUtf8 => K::NonUtf8Name,
        PathProblem::Absolute | PathProblem::ParentDir => K::PathTraversal,
    };
    sink.diagnostic(BundleDiagnostic::new(
        Some(shown),
        kind,
        format!("skipped: {problem}"),
    ));
}

/// Reports a second entry with a path already read.
pub(crate) fn duplicate(sink: &mut dyn EntrySink, shown: &str) {
    sink.diagnostic(BundleDiagnostic::new(
        Some(shown),
        K::DuplicatePath,
        "skipped: a file with this path came earlier in the archive; the first one is used",
    ));
}

/// Reports that reading stopped early, once, for the bundle as a whole.
pub(crate) fn stopped(sink: &mut dyn EntrySink, reason: &StopReason) {
    let kind = match reason {
        StopReason::Truncated(_) => K::Truncated,
        StopReason::Corrupt(_) => K::Corrupt,
        _ => K::LimitExceeded,
    };
    sink.diagnostic(BundleDiagnostic::new(
        None,
        kind,
        format!("reading stopped: {reason}; everything before this point was analyzed"),
    ));
}

/// Reports a file larger than the per-file limit (only its start was read).
pub(crate) fn over_limit(sink: &mut dyn EntrySink, shown: &str, size: u64, limits: &Limits) {
    if size > limits.max_entry_bytes {
        sink.diagnostic(BundleDiagnostic::new(
            Some(shown),
            K::LimitExceeded,
            format!(
                "only the first {} of {size} bytes were read (per-file limit; raise it with --max-entry-bytes)",
                limits.max_entry_bytes
            ),
        ));
    }
}
