//! Reading a bundle that is an ordinary directory. Symbolic links are
//! reported, never followed; nothing outside the directory is opened.

use crate::diag::{BundleDiagnostic, DiagnosticKind as K};
use crate::guard::EntryBody;
use crate::source::{Container, ReadSummary, StopReason};
use crate::{EntrySink, Limits};
use std::fs;
use std::io::{self, Read};
use std::path::Path;

/// Deeper than any real bundle; bounds the walk.
const MAX_DEPTH: usize = 16;

pub(crate) fn read_dir(
    top: &Path,
    limits: &Limits,
    sink: &mut dyn EntrySink,
) -> io::Result<ReadSummary> {
    // A directory holding nothing but one wrapping directory (an unpacked
    // `kdiag-bundle-.../` or `support-bundle/`) names it as the root, for
    // the summary; paths keep it, as they do in an archive.
    let children = sorted_children(top)?;
    let mut root_name = String::new();
    if let [(name, only)] = children.as_slice()
        && fs::symlink_metadata(only)
            .map(|m| m.is_dir())
            .unwrap_or(false)
    {
        root_name = name.clone();
    }
    let mut summary = ReadSummary {
        container: Container::Directory,
        root: root_name,
        entries: 0,
        files: 0,
        bytes: 0,
        compressed_bytes: 0,
        stopped: None,
    };
    walk(top, "", 0, limits, sink, &mut summary)?;
    if let Some(reason) = &summary.stopped {
        crate::entry::stopped(sink, reason);
    }
    Ok(summary)
}

fn sorted_children(dir: &Path) -> io::Result<Vec<(String, std::path::PathBuf)>> {
    let mut out = Vec::new();
    for item in fs::read_dir(dir)? {
        let item = item?;
        let name = item.file_name().to_string_lossy().into_owned();
        out.push((name, item.path()));
    }
    out.sort();
    Ok(out)
}

fn walk(
    dir: &Path,
    prefix: &str,
    depth: usize,
    limits: &Limits,
    sink: &mut dyn EntrySink,
    summary: &mut ReadSummary,
) -> io::Result<()> {
    if depth > MAX_DEPTH {
        sink.diagnostic(BundleDiagnostic::new(
            Some(prefix),
            K::LimitExceeded,
            format!("skipped: nested deeper than {MAX_DEPTH} directories"),
        ));
        return Ok(());
    }
    for item in fs::read_dir(dir)?
        .collect::<Result<Vec<_>, _>>()
        .map(|mut v| {
            v.sort_by_key(|e| e.file_name());
            v
        })?
    {
        if summary.stopped.is_some() {
            return Ok(());
        }
        summary.entries += 1;
        if summary.entries > limits.max_entries {
            summary.stopped = Some(StopReason::Entries(limits.max_entries));
            return Ok(());
        }
        let os_name = item.file_name();
        let shown = format!("{prefix}{}", os_name.to_string_lossy());
        let Some(name) = os_name.to_str() else {
            sink.diagnostic(BundleDiagnostic::new(
                Some(&shown),
                K::NonUtf8Name,
                "skipped: name is not valid UTF-8",
            ));
            continue;
        };
        let rel = format!("{prefix}{name}");
        let meta = match fs::symlink_metadata(item.path()) {
            Ok(m) => m,
            Err(e) => {
                sink.diagnostic(BundleDiagnostic::new(Some(&rel), K::Io, e.to_string()));
                continue;
            }
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            let target = fs::read_link(item.path())
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            sink.diagnostic(BundleDiagnostic::new(
                Some(&rel),
                K::Link,
                format!("skipped: symbolic link to '{target}' (links are never followed)"),
            ));
        } else if ft.is_dir() {
            walk(
                &item.path(),
                &format!("{rel}/"),
                depth + 1,
                limits,
                sink,
                summary,
            )?;
        } else if ft.is_file() {
            let size = meta.len();
            if summary
                .bytes
                .saturating_add(size.min(limits.max_entry_bytes))
                > limits.max_total_bytes
            {
                summary.stopped = Some(StopReason::TotalBytes(limits.max_total_bytes));
                return Ok(());
            }
            let file = match fs::File::open(item.path()) {
                Ok(f) => f,
                Err(e) => {
                    sink.diagnostic(BundleDiagnostic::new(Some(&rel), K::Io, e.to_string()));
                    continue;
                }
            };
            let cap = size.min(limits.max_entry_bytes);
            let mut body = EntryBody {
                inner: file.take(cap),
                expected: 0,
                read: 0,
                error: None,
            };
            summary.files += 1;
            let result = sink.file(&rel, size, &mut body);
            summary.bytes += body.read;
            if let Err(e) = result {
                sink.diagnostic(BundleDiagnostic::new(Some(&rel), K::Io, e.to_string()));
            }
            crate::entry::over_limit(sink, &rel, size, limits);
        } else {
            sink.diagnostic(BundleDiagnostic::new(
                Some(&rel),
                K::SpecialFile,
                "skipped: device, FIFO or socket",
            ));
        }
    }
    Ok(())
}
