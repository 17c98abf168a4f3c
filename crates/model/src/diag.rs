use serde::Serialize;
use std::fmt;

/// Which stage noticed a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Reading the archive or directory.
    Read,
    /// Parsing a file.
    Parse,
    /// Building the snapshot (conflicts, unresolved references).
    Model,
}

/// A problem with the bundle, located as precisely as it can be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Stage.
    pub stage: Stage,
    /// Bundle path (or the archive entry's name), when there is one.
    pub file: Option<String>,
    /// 1-based line, when there is one.
    pub line: Option<u32>,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: {}", self.message),
            (Some(file), None) => write!(f, "{file}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}
