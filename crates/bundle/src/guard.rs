//! Byte accounting shared between the compressed and decompressed sides of
//! a stream, so that size and ratio limits see both.

use crate::Limits;
use crate::source::StopReason;
use std::cell::{Cell, RefCell};
use std::io::{self, Read};
use std::rc::Rc;

/// Counters for one read of one bundle.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) compressed: Cell<u64>,
    pub(crate) produced: Cell<u64>,
    pub(crate) stop: RefCell<Option<StopReason>>,
}

impl Counters {
    pub(crate) fn stop_reason(&self) -> Option<StopReason> {
        self.stop.borrow().clone()
    }
}

/// Counts the bytes read from the compressed source.
pub(crate) struct CountingReader<R> {
    pub(crate) inner: R,
    pub(crate) counters: Rc<Counters>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counters
            .compressed
            .set(self.counters.compressed.get() + n as u64);
        Ok(n)
    }
}

/// Enforces the total-size and compression-ratio limits on the bytes a
/// decoder produces. Once a limit trips, every later read fails.
pub(crate) struct GuardedReader<R> {
    pub(crate) inner: R,
    pub(crate) counters: Rc<Counters>,
    pub(crate) limits: Limits,
    /// Whether the stream was compressed (the ratio check applies).
    pub(crate) compressed: bool,
}

impl<R: Read> GuardedReader<R> {
    fn trip(&self, reason: StopReason) -> io::Error {
        let message = reason.to_string();
        self.counters.stop.borrow_mut().get_or_insert(reason);
        io::Error::other(message)
    }
}

impl<R: Read> Read for GuardedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(reason) = self.counters.stop_reason() {
            return Err(io::Error::other(reason.to_string()));
        }
        let n = self.inner.read(buf)?;
        let produced = self.counters.produced.get() + n as u64;
        self.counters.produced.set(produced);
        if produced > self.limits.max_total_bytes {
            return Err(self.trip(StopReason::TotalBytes(self.limits.max_total_bytes)));
        }
        if self.compressed && produced > self.limits.ratio_grace_bytes {
            let compressed = self.counters.compressed.get().max(1);
            if produced / compressed > self.limits.max_compression_ratio {
                return Err(self.trip(StopReason::CompressionRatio(
                    self.limits.max_compression_ratio,
                )));
            }
        }
        Ok(n)
    }
}

/// Wraps one entry's body: remembers the first error the stream gave (the
/// sink may swallow it), and turns a body that ends before its announced
/// size into an `UnexpectedEof` error instead of silent truncation.
pub(crate) struct EntryBody<R> {
    pub(crate) inner: R,
    pub(crate) expected: u64,
    pub(crate) read: u64,
    pub(crate) error: Option<(io::ErrorKind, String)>,
}

impl<R: Read> Read for EntryBody<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match self.inner.read(buf) {
            Ok(0) if self.read < self.expected => {
                let e = io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "archive ends after {} of {} bytes of this entry",
                        self.read, self.expected
                    ),
                );
                self.error.get_or_insert((e.kind(), e.to_string()));
                Err(e)
            }
            Ok(n) => {
                self.read += n as u64;
                Ok(n)
            }
            Err(e) => {
                self.error.get_or_insert((e.kind(), e.to_string()));
                Err(e)
            }
        }
    }
}
