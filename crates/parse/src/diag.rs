use serde::Serialize;
use std::fmt;

/// Something a parser could not read: the 1-based line (when it applies)
/// and a sentence saying what was expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// 1-based line in the input, if the problem has one.
    pub line: Option<u32>,
    /// What was wrong.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic at a line.
    pub fn at(line: u32, message: impl Into<String>) -> Self {
        Diagnostic {
            line: Some(line),
            message: message.into(),
        }
    }
    /// A diagnostic about the input as a whole.
    pub fn whole(message: impl Into<String>) -> Self {
        Diagnostic {
            line: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Records read from one input, and what could not be read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parsed<T> {
    /// The records, in input order.
    pub records: Vec<T>,
    /// Problems, in input order.
    pub diagnostics: Vec<Diagnostic>,
}

impl<T> Default for Parsed<T> {
    fn default() -> Self {
        Parsed {
            records: Vec::new(),
            diagnostics: Vec::new(),
        }
    }
}

impl<T> Parsed<T> {
    pub(crate) fn push(&mut self, record: T) {
        self.records.push(record);
    }
    pub(crate) fn problem(&mut self, line: u32, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::at(line, message));
    }
}

/// Iterates over the lines of a text with 1-based line numbers, without
/// the trailing `\r` of CRLF files.
pub(crate) fn numbered(text: &str) -> impl Iterator<Item = (u32, &str)> {
    text.lines().enumerate().map(|(i, l)| {
        (
            u32::try_from(i + 1).unwrap_or(u32::MAX),
            l.strip_suffix('\r').unwrap_or(l),
        )
    })
}
