//! The tar loop. Entries are read raw: GNU long names and PAX records are
//! capped and applied here, because the `tar` crate does not bound them.

use crate::diag::{BundleDiagnostic, DiagnosticKind as K};
use crate::guard::{Counters, EntryBody};
use crate::path::{CommonRoot, normalize_entry_path};
use crate::source::{Container, ReadSummary, StopReason};
use crate::{EntrySink, Limits};
use std::collections::HashSet;
use std::io::{self, Read};

/// Extension headers seen since the last real entry.
#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    pax_path: Option<Vec<u8>>,
    pax_size: Option<u64>,
    /// An extension header was refused; the next entry's name is unknown.
    poisoned: bool,
}

pub(crate) fn read_tar<R: Read>(
    stream: R,
    container: Container,
    limits: &Limits,
    counters: &Counters,
    sink: &mut dyn EntrySink,
) -> ReadSummary {
    let mut summary = ReadSummary {
        container,
        root: String::new(),
        entries: 0,
        files: 0,
        bytes: 0,
        compressed_bytes: 0,
        stopped: None,
    };
    let mut archive = tar::Archive::new(stream);
    let mut roots = CommonRoot::default();
    let mut seen = HashSet::new();
    let mut pending = Pending::default();

    let entries = match archive.entries() {
        Ok(e) => e.raw(true),
        Err(e) => {
            summary.stopped = Some(StopReason::Corrupt(e.to_string()));
            return finish(summary, counters, &roots, sink);
        }
    };
    for item in entries {
        summary.entries += 1;
        if summary.entries > limits.max_entries {
            summary.stopped = Some(StopReason::Entries(limits.max_entries));
            break;
        }
        let mut entry = match item {
            Ok(entry) => entry,
            Err(e) => {
                summary.stopped = Some(stream_stop(counters, &e));
                break;
            }
        };
        let ty = entry.header().entry_type();
        let header_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();

        if ty.is_gnu_longname()
            || ty.is_gnu_longlink()
            || ty.is_pax_local_extensions()
            || ty.is_pax_global_extensions()
        {
            let size = entry.size();
            if size > limits.max_header_bytes {
                sink.diagnostic(BundleDiagnostic::new(
                    Some(&header_name),
                    K::LimitExceeded,
                    format!("extension header of {size} bytes is over the {} byte limit; the entry it describes is skipped", limits.max_header_bytes),
                ));
                pending.poisoned = true;
                continue;
            }
            let mut data = Vec::new();
            if let Err(e) = (&mut entry)
                .take(limits.max_header_bytes)
                .read_to_end(&mut data)
            {
                summary.stopped = Some(stream_stop(counters, &e));
                break;
            }
            if ty.is_gnu_longname() {
                let end = data.iter().position(|b| *b == 0).unwrap_or(data.len());
                data.truncate(end);
                pending.long_name = Some(data);
            } else if ty.is_pax_local_extensions() {
                match parse_pax(&data) {
                    Ok(records) => {
                        for (key, value) in records {
                            match key.as_slice() {
                                b"path" => pending.pax_path = Some(value),
                                b"size" => {
                                    pending.pax_size = std::str::from_utf8(&value)
                                        .ok()
                                        .and_then(|s| s.parse().ok());
                                    if pending.pax_size.is_none() {
                                        pending.poisoned = true;
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                    Err(msg) => {
                        sink.diagnostic(BundleDiagnostic::new(
                            Some(&header_name),
                            K::Corrupt,
                            format!("bad PAX header: {msg}; the entry it describes is skipped"),
                        ));
                        pending.poisoned = true;
                    }
                }
            }
            continue;
        }

        let p = std::mem::take(&mut pending);
        let raw_name = p
            .pax_path
            .or(p.long_name)
            .unwrap_or_else(|| entry.path_bytes().into_owned());
        let shown = String::from_utf8_lossy(&raw_name).into_owned();
        if p.poisoned {
            sink.diagnostic(BundleDiagnostic::new(
                Some(&shown),
                K::Corrupt,
                "skipped: the extension header before it was refused, so its real name is unknown",
            ));
            continue;
        }
        if let Some(pax_size) = p.pax_size
            && pax_size != entry.size()
        {
            // Readers that honour the PAX size and readers that do not
            // would see different archives from here on: stop.
            summary.stopped = Some(StopReason::Corrupt(format!(
                "{shown}: PAX size {pax_size} disagrees with the header size {}",
                entry.size()
            )));
            break;
        }
        let path = match normalize_entry_path(&raw_name) {
            Ok(p) => p,
            Err(problem) => {
                crate::entry::bad_name(sink, &shown, problem);
                continue;
            }
        };
        if ty.is_dir() {
            continue;
        }
        roots.see(&path);
        if ty.is_symlink() || ty.is_hard_link() {
            let target = entry
                .link_name_bytes()
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                .unwrap_or_default();
            let what = if ty.is_symlink() { "symbolic" } else { "hard" };
            sink.diagnostic(BundleDiagnostic::new(
                Some(&shown),
                K::Link,
                format!("skipped: {what} link to '{target}' (links are never followed)"),
            ));
            continue;
        }
        if ty.is_character_special() || ty.is_block_special() || ty.is_fifo() {
            sink.diagnostic(BundleDiagnostic::new(
                Some(&shown),
                K::SpecialFile,
                "skipped: device or FIFO entry",
            ));
            continue;
        }
        if !(ty.is_file() || ty.is_contiguous()) {
            sink.diagnostic(BundleDiagnostic::new(
                Some(&shown),
                K::SpecialFile,
                format!(
                    "skipped: unsupported tar entry type '{}'",
                    char::from(ty.as_byte()).escape_default()
                ),
            ));
            continue;
        }
        if !seen.insert(path.clone()) {
            crate::entry::duplicate(sink, &shown);
            continue;
        }
        let size = entry.size();
        let cap = size.min(limits.max_entry_bytes);
        let mut body = EntryBody {
            inner: (&mut entry).take(cap),
            expected: cap,
            read: 0,
            error: None,
        };
        summary.files += 1;
        let sink_result = sink.file(&path, size, &mut body);
        if let Some((kind, message)) = body.error.take() {
            let reason = match counters.stop_reason() {
                Some(r) => r,
                None if kind == io::ErrorKind::UnexpectedEof => {
                    StopReason::Truncated(format!("{shown}: {message}"))
                }
                None => StopReason::Corrupt(format!("{shown}: {message}")),
            };
            sink.diagnostic(BundleDiagnostic::new(
                Some(&shown),
                K::Truncated,
                format!("incomplete: {reason}"),
            ));
            summary.stopped = Some(reason);
            break;
        }
        if let Err(e) = sink_result {
            sink.diagnostic(BundleDiagnostic::new(Some(&shown), K::Io, e.to_string()));
        }
        crate::entry::over_limit(sink, &shown, size, limits);
    }
    finish(summary, counters, &roots, sink)
}

fn finish(
    mut summary: ReadSummary,
    counters: &Counters,
    roots: &CommonRoot,
    sink: &mut dyn EntrySink,
) -> ReadSummary {
    summary.root = roots.root().to_owned();
    summary.bytes = counters.produced.get();
    summary.compressed_bytes = counters.compressed.get();
    if let Some(reason) = &summary.stopped {
        crate::entry::stopped(sink, reason);
    }
    summary
}

/// Turns an error from the archive stream into the reason reading stops.
fn stream_stop(counters: &Counters, e: &io::Error) -> StopReason {
    if let Some(r) = counters.stop_reason() {
        return r;
    }
    let text = e.to_string();
    if e.kind() == io::ErrorKind::UnexpectedEof || text.contains("failed to read entire block") {
        StopReason::Truncated(text)
    } else {
        StopReason::Corrupt(text)
    }
}

/// PAX extended header records: `<length> <key>=<value>\n`, repeated.
/// One `key=value` record of a PAX header.
type PaxRecord = (Vec<u8>, Vec<u8>);

fn parse_pax(mut data: &[u8]) -> Result<Vec<PaxRecord>, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let space = data
            .iter()
            .position(|b| *b == b' ')
            .ok_or("record without a length")?;
        let len: usize = std::str::from_utf8(&data[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("record length is not a number")?;
        if len <= space + 1 || len > data.len() {
            return Err(format!("record length {len} does not fit"));
        }
        let record = &data[space + 1..len];
        let record = record
            .strip_suffix(b"\n")
            .ok_or("record does not end with a newline")?;
        let eq = record
            .iter()
            .position(|b| *b == b'=')
            .ok_or("record without '='")?;
        out.push((record[..eq].to_vec(), record[eq + 1..].to_vec()));
        data = &data[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse_pax;
    use proptest::prelude::*;

    #[test]
    fn pax_records_parse() {
        let recs = parse_pax(b"31 path=cluster/very/long.yaml\n").unwrap();
        assert_eq!(
            recs,
            vec![(b"path".to_vec(), b"cluster/very/long.yaml".to_vec())]
        );
        assert!(parse_pax(b"99 path=x\n").is_err());
        assert!(parse_pax(b"x").is_err());
    }

    proptest! {
        #[test]
        fn pax_parser_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_pax(&data);
        }
    }
}
