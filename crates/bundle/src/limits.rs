/// Bounds on what reading one bundle may cost. Every bound stops reading
/// with a diagnostic; what was read before it is still analyzed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Total bytes produced by decompression (tar headers included).
    pub max_total_bytes: u64,
    /// Number of archive entries (of any type) or directory files.
    pub max_entries: u64,
    /// Bytes of one file handed to the sink; the rest of the entry is skipped.
    pub max_entry_bytes: u64,
    /// Decompressed bytes per compressed byte, checked once more than
    /// [`Limits::ratio_grace_bytes`] have been produced.
    pub max_compression_ratio: u64,
    /// Decompressed bytes allowed before the ratio check applies, so that a
    /// small, very compressible bundle is not rejected.
    pub ratio_grace_bytes: u64,
    /// Size of a GNU long-name or PAX extension header.
    pub max_header_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_bytes: 4 << 30,
            max_entries: 200_000,
            max_entry_bytes: 256 << 20,
            max_compression_ratio: 200,
            ratio_grace_bytes: 64 << 20,
            max_header_bytes: 64 << 10,
        }
    }
}
