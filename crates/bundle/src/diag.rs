use serde::Serialize;
use std::fmt;

/// What kind of trouble a [`BundleDiagnostic`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiagnosticKind {
    /// The entry's name climbs out of the bundle (`..`) or is absolute.
    PathTraversal,
    /// A symbolic or hard link; links are never followed.
    Link,
    /// A device node, FIFO or other special file.
    SpecialFile,
    /// A second entry with the same path; the first one wins.
    DuplicatePath,
    /// The entry's name is not valid UTF-8.
    NonUtf8Name,
    /// A limit from [`crate::Limits`] stopped reading the entry or the archive.
    LimitExceeded,
    /// The archive ends in the middle of an entry or its compressed stream is cut.
    Truncated,
    /// The archive's structure is damaged (bad header, checksum, PAX record).
    Corrupt,
    /// Reading the entry failed for another reason.
    Io,
}

/// A problem found while reading the bundle, naming the entry it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleDiagnostic {
    /// The entry as named in the archive (lossily decoded), or `None` for the
    /// archive as a whole.
    pub entry: Option<String>,
    /// What went wrong.
    pub kind: DiagnosticKind,
    /// A sentence for a person.
    pub message: String,
}

impl BundleDiagnostic {
    pub(crate) fn new(
        entry: Option<&str>,
        kind: DiagnosticKind,
        message: impl Into<String>,
    ) -> Self {
        BundleDiagnostic {
            entry: entry.map(str::to_owned),
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for BundleDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.entry {
            Some(e) => write!(f, "{e}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}
