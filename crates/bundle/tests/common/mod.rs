//! Builds archives byte by byte, so tests can make the hostile ones that
//! well-behaved archive writers refuse to produce.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // test helpers panic on setup failure

use kdiag_bundle::{BundleDiagnostic, DiagnosticKind, EntrySink};
use std::io::{Read, Write};

/// A 512-byte ustar header with a correct checksum.
pub fn header(name: &[u8], typeflag: u8, size: u64, link: &[u8]) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    let size_field = format!("{size:011o}");
    h[124..124 + size_field.len().min(11)]
        .copy_from_slice(&size_field.as_bytes()[..size_field.len().min(11)]);
    h[136..147].copy_from_slice(b"14707346740");
    h[156] = typeflag;
    h[157..157 + link.len().min(100)].copy_from_slice(&link[..link.len().min(100)]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    let ck = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(ck.as_bytes());
    h
}

/// Appends an entry (header + data padded to a block).
pub fn entry(out: &mut Vec<u8>, name: &[u8], typeflag: u8, data: &[u8], link: &[u8]) {
    out.extend_from_slice(&header(name, typeflag, data.len() as u64, link));
    out.extend_from_slice(data);
    let pad = (512 - data.len() % 512) % 512;
    out.extend(std::iter::repeat_n(0u8, pad));
}

pub fn file(out: &mut Vec<u8>, name: &str, data: &[u8]) {
    entry(out, name.as_bytes(), b'0', data, b"");
}

pub fn end(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0u8; 1024]);
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Deterministic bytes that do not compress.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Records everything the reader hands out.
#[derive(Default)]
pub struct Recorder {
    pub files: Vec<(String, Vec<u8>, bool)>,
    pub diagnostics: Vec<BundleDiagnostic>,
}

/// A path under the archive's wrapping directory (the tests' archives all
/// have one, and the reader hands paths over whole).
fn inner(path: &str) -> &str {
    path.split_once('/').map_or(path, |(_, rest)| rest)
}

impl Recorder {
    pub fn complete(&self, path: &str) -> Option<&Vec<u8>> {
        self.files
            .iter()
            .find(|(p, _, ok)| inner(p) == path && *ok)
            .map(|(_, d, _)| d)
    }
    /// The paths handed out, under the wrapping directory.
    pub fn paths(&self) -> Vec<&str> {
        self.files.iter().map(|(p, _, _)| inner(p)).collect()
    }
    pub fn has(&self, kind: DiagnosticKind, entry_contains: &str) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.kind == kind && d.entry.as_deref().unwrap_or("").contains(entry_contains))
    }
}

impl EntrySink for Recorder {
    fn file(&mut self, path: &str, _size: u64, body: &mut dyn Read) -> std::io::Result<()> {
        let mut data = Vec::new();
        let ok = body.read_to_end(&mut data).is_ok();
        self.files.push((path.to_owned(), data, ok));
        Ok(())
    }
    fn diagnostic(&mut self, d: BundleDiagnostic) {
        self.diagnostics.push(d);
    }
}
