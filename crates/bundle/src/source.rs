use crate::guard::{Counters, CountingReader, GuardedReader};
use crate::{EntrySink, Limits};
use flate2::read::MultiGzDecoder;
use serde::Serialize;
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// What the bundle turned out to be, judged by its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Container {
    /// A directory holding the bundle tree.
    Directory,
    /// An uncompressed tar archive.
    Tar,
    /// A gzip-compressed tar archive (one or more gzip members).
    TarGzip,
}

/// Why reading stopped before the end of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", content = "detail", rename_all = "kebab-case")]
pub enum StopReason {
    /// More decompressed bytes than [`Limits::max_total_bytes`].
    TotalBytes(u64),
    /// More entries than [`Limits::max_entries`].
    Entries(u64),
    /// Decompressed/compressed above [`Limits::max_compression_ratio`].
    CompressionRatio(u64),
    /// The archive or its compressed stream ends early.
    Truncated(String),
    /// The archive's structure is damaged.
    Corrupt(String),
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::TotalBytes(n) => write!(
                f,
                "total size limit reached ({n} bytes uncompressed); raise it with --max-total-bytes"
            ),
            StopReason::Entries(n) => write!(
                f,
                "entry count limit reached ({n} entries); raise it with --max-entries"
            ),
            StopReason::CompressionRatio(n) => write!(
                f,
                "compression ratio above {n}:1, which looks like a decompression bomb; raise it with --max-compression-ratio"
            ),
            StopReason::Truncated(d) => write!(f, "the archive is truncated: {d}"),
            StopReason::Corrupt(d) => write!(f, "the archive is damaged: {d}"),
        }
    }
}

/// What one read of a bundle covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadSummary {
    /// The container, as detected from its bytes.
    pub container: Container,
    /// The bundle root inside the container (`""` for the top).
    pub root: String,
    /// Archive entries or directory items seen, of every type.
    pub entries: u64,
    /// Regular files handed to the sink.
    pub files: u64,
    /// Bytes produced by decompression (or read, for a plain tar or directory).
    pub bytes: u64,
    /// Compressed bytes read (gzip only).
    pub compressed_bytes: u64,
    /// Set when reading stopped early; everything before the stop was delivered.
    pub stopped: Option<StopReason>,
}

/// The bundle cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The path cannot be opened or read.
    #[error("cannot read {path}")]
    Io {
        /// The path given.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The bytes are neither a tar archive, a gzip-compressed tar, nor a directory.
    #[error("{what} is not a bundle: {detail}")]
    NotAnArchive {
        /// The path or stream name.
        what: String,
        /// What the bytes look like instead.
        detail: String,
    },
}

/// Reads the bundle at `path` (a directory, a `.tar` or a `.tar.gz`, told
/// apart by content) and hands every regular file to `sink`.
pub fn read_path(
    path: &Path,
    limits: &Limits,
    sink: &mut dyn EntrySink,
) -> Result<ReadSummary, OpenError> {
    let io_err = |source| OpenError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if meta.is_dir() {
        return crate::dir::read_dir(path, limits, sink).map_err(io_err);
    }
    let file = std::fs::File::open(path).map_err(io_err)?;
    read_stream(
        io::BufReader::with_capacity(256 << 10, file),
        &path.display().to_string(),
        limits,
        sink,
    )
}

/// Reads a tar or gzip-compressed tar from any byte stream, e.g. standard
/// input or a buffer built in a test. `name` is used in messages.
pub fn read_stream<R: Read>(
    reader: R,
    name: &str,
    limits: &Limits,
    sink: &mut dyn EntrySink,
) -> Result<ReadSummary, OpenError> {
    let (head, reader) = peek(reader, 512).map_err(|source| OpenError::Io {
        path: name.into(),
        source,
    })?;
    let counters = Rc::new(Counters::default());
    if head.starts_with(&[0x1f, 0x8b]) {
        let counting = CountingReader {
            inner: io::Cursor::new(head).chain(reader),
            counters: Rc::clone(&counters),
        };
        let guarded = GuardedReader {
            inner: MultiGzDecoder::new(counting),
            counters: Rc::clone(&counters),
            limits: limits.clone(),
            compressed: true,
        };
        let (inner_head, inner) = match peek(guarded, 512) {
            Ok(pair) => pair,
            Err(e) => {
                return Err(OpenError::NotAnArchive {
                    what: name.into(),
                    detail: format!("gzip stream cannot be decompressed ({e})"),
                });
            }
        };
        if !looks_like_tar(&inner_head) {
            return Err(OpenError::NotAnArchive {
                what: name.into(),
                detail: "gzip-compressed, but the content is not a tar archive".into(),
            });
        }
        let stream = io::Cursor::new(inner_head).chain(inner);
        Ok(crate::tarball::read_tar(
            stream,
            Container::TarGzip,
            limits,
            &counters,
            sink,
        ))
    } else if looks_like_tar(&head) {
        counters.compressed.set(0);
        let guarded = GuardedReader {
            inner: io::Cursor::new(head).chain(reader),
            counters: Rc::clone(&counters),
            limits: limits.clone(),
            compressed: false,
        };
        Ok(crate::tarball::read_tar(
            guarded,
            Container::Tar,
            limits,
            &counters,
            sink,
        ))
    } else {
        Err(OpenError::NotAnArchive {
            what: name.into(),
            detail: describe(&head),
        })
    }
}

/// Reads up to `n` bytes without losing them: returns them and the rest.
fn peek<R: Read>(mut reader: R, n: usize) -> io::Result<(Vec<u8>, R)> {
    let mut head = Vec::with_capacity(n);
    (&mut reader).take(n as u64).read_to_end(&mut head)?;
    Ok((head, reader))
}

/// A tar header: `ustar` magic at offset 257, or (old V7 archives) a valid
/// header checksum; an all-zero block is an empty archive.
fn looks_like_tar(head: &[u8]) -> bool {
    if head.len() < 512 {
        return false;
    }
    if head[257..262] == *b"ustar" || head.iter().all(|b| *b == 0) {
        return true;
    }
    let stored = std::str::from_utf8(&head[148..156])
        .ok()
        .map(|s| s.trim_matches(|c: char| c == '\0' || c == ' '))
        .and_then(|s| u32::from_str_radix(s, 8).ok());
    let sum: u32 = head[..148]
        .iter()
        .chain(&head[156..512])
        .map(|b| u32::from(*b))
        .sum::<u32>()
        + 8 * 32;
    stored == Some(sum)
}

/// A short description of bytes that are not an archive, for the error.
fn describe(head: &[u8]) -> String {
    if head.is_empty() {
        return "the file is empty".into();
    }
    let magic: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "a zip archive (repack it as .tar.gz)"),
        (
            b"BZh",
            "a bzip2 stream (decompress it first, or repack as .tar.gz)",
        ),
        (
            b"\xfd7zXZ",
            "an xz stream (decompress it first, or repack as .tar.gz)",
        ),
        (
            b"\x28\xb5\x2f\xfd",
            "a zstd stream (decompress it first, or repack as .tar.gz)",
        ),
    ];
    for (m, what) in magic {
        if head.starts_with(m) {
            return format!("it is {what}");
        }
    }
    if std::str::from_utf8(head).is_ok() {
        "it is a text file, not a tar archive".into()
    } else {
        "its bytes are neither tar nor gzip".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_text_inputs_are_not_archives() {
        assert!(!looks_like_tar(b""));
        assert!(!looks_like_tar(&[b'a'; 512]));
        assert!(looks_like_tar(&[0u8; 512]));
        assert_eq!(describe(b""), "the file is empty");
        assert!(describe(b"PK\x03\x04rest").contains("zip"));
    }
}
