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
    /// An xz-compressed tar archive.
    TarXz,
    /// A zstd-compressed tar archive.
    TarZstd,
    /// A zip archive.
    Zip,
    /// One plain file (e.g. `kubectl get -o yaml` or `cluster-info dump` output).
    File,
    /// One gzip-, xz- or zstd-compressed plain file.
    CompressedFile,
}

impl Container {
    /// How the container is named in messages.
    pub fn label(self) -> &'static str {
        match self {
            Container::Directory => "directory",
            Container::Tar => "tar",
            Container::TarGzip => "tar.gz",
            Container::TarXz => "tar.xz",
            Container::TarZstd => "tar.zst",
            Container::Zip => "zip",
            Container::File => "single file",
            Container::CompressedFile => "compressed single file",
        }
    }
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

/// Reads the bundle at `path` — a directory, a tar archive (plain, gzip,
/// xz or zstd), a zip archive, or one plain file, told apart by content —
/// and hands every regular file to `sink`.
pub fn read_path(
    path: &Path,
    limits: &Limits,
    sink: &mut dyn EntrySink,
) -> Result<ReadSummary, OpenError> {
    read_path_observed(path, limits, sink, &mut |_| {})
}

/// [`read_path`], telling `observe` how many bytes of the bundle file have
/// been read so far as the read goes on (for a progress bar; not called
/// for a directory or a zip archive).
pub fn read_path_observed(
    path: &Path,
    limits: &Limits,
    sink: &mut dyn EntrySink,
    observe: &mut dyn FnMut(u64),
) -> Result<ReadSummary, OpenError> {
    let io_err = |source| OpenError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if meta.is_dir() {
        return crate::dir::read_dir(path, limits, sink).map_err(io_err);
    }
    let mut file = std::fs::File::open(path).map_err(io_err)?;
    let mut magic = [0u8; 4];
    let n = read_up_to(&mut file, &mut magic).map_err(io_err)?;
    if magic[..n] == *b"PK\x03\x04" || magic[..n] == *b"PK\x05\x06" {
        return crate::zipped::read_zip(file, meta.len(), limits, sink).map_err(|e| {
            OpenError::NotAnArchive {
                what: path.display().to_string(),
                detail: format!("a damaged zip archive ({e})"),
            }
        });
    }
    let file = Observed {
        inner: std::fs::File::open(path).map_err(io_err)?,
        read: 0,
        observe,
    };
    read_named(
        io::BufReader::with_capacity(256 << 10, file),
        &path.display().to_string(),
        &single_file_name(path),
        limits,
        sink,
    )
}

/// A reader that reports how far it has read.
struct Observed<'o, R> {
    inner: R,
    read: u64,
    observe: &'o mut dyn FnMut(u64),
}

impl<R: Read> Read for Observed<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        (self.observe)(self.read);
        Ok(n)
    }
}

/// Reads a tar archive (plain, gzip, xz or zstd) or one plain file from
/// any byte stream, e.g. standard input or a buffer built in a test.
/// `name` is used in messages. A zip archive needs [`read_path`] (its
/// directory is at the end).
pub fn read_stream<R: Read>(
    reader: R,
    name: &str,
    limits: &Limits,
    sink: &mut dyn EntrySink,
) -> Result<ReadSummary, OpenError> {
    read_named(reader, name, "stdin", limits, sink)
}

/// The bundle path a single-file bundle's one file gets: its file name,
/// without a compression suffix.
fn single_file_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into());
    for ext in [".gz", ".xz", ".zst"] {
        if let Some(stem) = name.strip_suffix(ext)
            && !stem.is_empty()
        {
            return stem.to_owned();
        }
    }
    name
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The compressions kdiag decodes, by magic number.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Compression {
    Gzip,
    Xz,
    Zstd,
}

impl Compression {
    fn of(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(b"\xfd7zXZ\x00") {
            Some(Compression::Xz)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
        }
    }

    fn tar(self) -> Container {
        match self {
            Compression::Gzip => Container::TarGzip,
            Compression::Xz => Container::TarXz,
            Compression::Zstd => Container::TarZstd,
        }
    }

    /// A decoder over `inner`. Decoder memory is bounded: an xz dictionary
    /// or a zstd window above [`MAX_DECODER_WINDOW`] is refused.
    fn decoder<'a, R: Read + 'a>(self, inner: R) -> io::Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Compression::Gzip => Box::new(MultiGzDecoder::new(inner)),
            Compression::Xz => Box::new(lzma_rust2::XzReader::new_mem_limit(
                inner,
                true,
                u32::try_from(MAX_DECODER_WINDOW >> 10).unwrap_or(u32::MAX),
            )),
            Compression::Zstd => Box::new(
                ruzstd::decoding::StreamingDecoder::new_with_max_window_size(
                    inner,
                    MAX_DECODER_WINDOW,
                )
                .map_err(|e| io::Error::other(e.to_string()))?,
            ),
        })
    }
}

/// The largest dictionary (xz) or window (zstd) a decoder may allocate.
/// `xz -9` uses 64 MiB and `zstd --long` 128 MiB; more is refused rather
/// than allocated on a stranger's say-so.
pub const MAX_DECODER_WINDOW: u64 = 256 << 20;

fn read_named<R: Read>(
    reader: R,
    name: &str,
    file_name: &str,
    limits: &Limits,
    sink: &mut dyn EntrySink,
) -> Result<ReadSummary, OpenError> {
    let (head, reader) = peek(reader, 512).map_err(|source| OpenError::Io {
        path: name.into(),
        source,
    })?;
    let counters = Rc::new(Counters::default());
    if let Some(compression) = Compression::of(&head) {
        let counting = CountingReader {
            inner: io::Cursor::new(head).chain(reader),
            counters: Rc::clone(&counters),
        };
        let not_archive = |e: io::Error| OpenError::NotAnArchive {
            what: name.into(),
            detail: format!("{} stream cannot be decompressed ({e})", compression.name()),
        };
        let guarded = GuardedReader {
            inner: compression.decoder(counting).map_err(not_archive)?,
            counters: Rc::clone(&counters),
            limits: limits.clone(),
            compressed: true,
        };
        let (inner_head, inner) = peek(guarded, 512).map_err(not_archive)?;
        let stream = io::Cursor::new(inner_head.clone()).chain(inner);
        if looks_like_tar(&inner_head) {
            return Ok(crate::tarball::read_tar(
                stream,
                compression.tar(),
                limits,
                &counters,
                sink,
            ));
        }
        if looks_like_text(&inner_head) {
            return Ok(single_file(
                stream,
                Container::CompressedFile,
                file_name,
                limits,
                &counters,
                sink,
            ));
        }
        return Err(OpenError::NotAnArchive {
            what: name.into(),
            detail: format!(
                "{}-compressed, but the content is neither a tar archive nor text",
                compression.name()
            ),
        });
    }
    let guarded = GuardedReader {
        inner: io::Cursor::new(head.clone()).chain(reader),
        counters: Rc::clone(&counters),
        limits: limits.clone(),
        compressed: false,
    };
    if looks_like_tar(&head) {
        return Ok(crate::tarball::read_tar(
            guarded,
            Container::Tar,
            limits,
            &counters,
            sink,
        ));
    }
    if looks_like_text(&head) {
        return Ok(single_file(
            guarded,
            Container::File,
            file_name,
            limits,
            &counters,
            sink,
        ));
    }
    Err(OpenError::NotAnArchive {
        what: name.into(),
        detail: describe(&head),
    })
}

/// A bundle of one file: handed to the sink whole, under its own name.
fn single_file<R: Read>(
    stream: R,
    container: Container,
    file_name: &str,
    limits: &Limits,
    counters: &Counters,
    sink: &mut dyn EntrySink,
) -> ReadSummary {
    let mut body = crate::guard::EntryBody {
        inner: stream.take(limits.max_entry_bytes),
        expected: 0,
        read: 0,
        error: None,
    };
    let result = sink.file(file_name, 0, &mut body);
    let mut summary = ReadSummary {
        container,
        root: String::new(),
        entries: 1,
        files: 1,
        bytes: counters.produced.get(),
        compressed_bytes: counters.compressed.get(),
        stopped: None,
    };
    if let Some((_, message)) = body.error.take() {
        let reason = counters
            .stop_reason()
            .unwrap_or_else(|| StopReason::Truncated(format!("{file_name}: {message}")));
        sink.diagnostic(crate::BundleDiagnostic::new(
            Some(file_name),
            crate::DiagnosticKind::Truncated,
            format!("incomplete: {reason}"),
        ));
        summary.stopped = Some(reason);
    } else if let Err(e) = result {
        sink.diagnostic(crate::BundleDiagnostic::new(
            Some(file_name),
            crate::DiagnosticKind::Io,
            e.to_string(),
        ));
    }
    if body.read >= limits.max_entry_bytes {
        sink.diagnostic(crate::BundleDiagnostic::new(
            Some(file_name),
            crate::DiagnosticKind::LimitExceeded,
            format!(
                "only the first {} bytes were read (per-file limit; raise it with --max-entry-bytes)",
                limits.max_entry_bytes
            ),
        ));
    }
    summary
}

/// Text, judged by the first bytes: valid UTF-8 (allowing a character cut
/// at the end) without NUL bytes.
fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 > head.len(),
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
        (
            b"BZh",
            "a bzip2 stream (decompress it first, or repack as .tar.gz)",
        ),
        (
            b"PK\x03\x04",
            "a zip archive, which kdiag reads from a file path, not from a stream",
        ),
    ];
    for (m, what) in magic {
        if head.starts_with(m) {
            return format!("it is {what}");
        }
    }
    "its bytes are not a tar, zip, gzip, xz or zstd archive, nor text".into()
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
        assert!(describe(b"BZh91AY").contains("bzip2"));
        assert!(looks_like_text(b"apiVersion: v1\n"));
        assert!(!looks_like_text(b"\x00\x01"));
        assert_eq!(single_file_name(Path::new("/x/dump.json.gz")), "dump.json");
    }
}
