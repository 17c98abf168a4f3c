//! Reading a zip archive. Its directory sits at the end, so a zip is read
//! from a file, never from a stream. Names, links, sizes and totals follow
//! the same rules as tar entries.

use crate::diag::{BundleDiagnostic, DiagnosticKind as K};
use crate::guard::{Counters, EntryBody, GuardedReader};
use crate::path::normalize_entry_path;
use crate::source::{Container, ReadSummary, StopReason};
use crate::{EntrySink, Limits};
use std::collections::HashSet;
use std::io::{self, Read, Seek};
use std::rc::Rc;

pub(crate) fn read_zip<R: Read + Seek>(
    reader: R,
    file_len: u64,
    limits: &Limits,
    sink: &mut dyn EntrySink,
) -> Result<ReadSummary, zip::result::ZipError> {
    let mut archive = zip::ZipArchive::new(reader)?;
    let counters = Rc::new(Counters::default());
    counters.compressed.set(file_len.max(1));
    let mut summary = ReadSummary {
        container: Container::Zip,
        root: String::new(),
        entries: 0,
        files: 0,
        bytes: 0,
        compressed_bytes: file_len,
        stopped: None,
    };
    let mut seen = HashSet::new();
    for index in 0..archive.len() {
        summary.entries += 1;
        if summary.entries > limits.max_entries {
            summary.stopped = Some(StopReason::Entries(limits.max_entries));
            break;
        }
        let entry = match archive.by_index(index) {
            Ok(e) => e,
            Err(e) => {
                sink.diagnostic(BundleDiagnostic::new(
                    None,
                    K::Corrupt,
                    format!("zip entry {index} cannot be read: {e}"),
                ));
                continue;
            }
        };
        let shown = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if entry.is_dir() {
            continue;
        }
        let path = match normalize_entry_path(entry.name_raw()) {
            Ok(p) => p,
            Err(problem) => {
                crate::entry::bad_name(sink, &shown, problem);
                continue;
            }
        };
        if entry.is_symlink() {
            sink.diagnostic(BundleDiagnostic::new(
                Some(&shown),
                K::Link,
                "skipped: symbolic link (links are never followed)",
            ));
            continue;
        }
        if !seen.insert(path.clone()) {
            crate::entry::duplicate(sink, &shown);
            continue;
        }
        let size = entry.size();
        let cap = size.min(limits.max_entry_bytes);
        let guarded = GuardedReader {
            inner: entry,
            counters: Rc::clone(&counters),
            limits: limits.clone(),
            compressed: true,
        };
        let mut body = EntryBody {
            inner: guarded.take(cap),
            expected: cap,
            read: 0,
            error: None,
        };
        summary.files += 1;
        let result = sink.file(&path, size, &mut body);
        if let Some((kind, message)) = body.error.take() {
            if let Some(reason) = counters.stop_reason() {
                sink.diagnostic(BundleDiagnostic::new(
                    Some(&shown),
                    K::LimitExceeded,
                    format!("incomplete: {reason}"),
                ));
                summary.stopped = Some(reason);
                break;
            }
            let kind = if kind == io::ErrorKind::UnexpectedEof {
                K::Truncated
            } else {
                K::Corrupt
            };
            sink.diagnostic(BundleDiagnostic::new(
                Some(&shown),
                kind,
                format!("incomplete: {message}"),
            ));
            continue;
        }
        if let Err(e) = result {
            sink.diagnostic(BundleDiagnostic::new(Some(&shown), K::Io, e.to_string()));
        }
        crate::entry::over_limit(sink, &shown, size, limits);
    }
    summary.bytes = counters.produced.get();
    if let Some(reason) = &summary.stopped {
        crate::entry::stopped(sink, reason);
    }
    Ok(summary)
}
