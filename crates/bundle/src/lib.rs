//! Reads a kdiag bundle — a `.tar.gz`, a plain `.tar` or a directory — safely
//! and in one pass, and says what each file in it means.
//!
//! A bundle comes from a stranger, so this crate never extracts anything,
//! never uses an entry's name as a file-system path, and stops at the
//! [`Limits`] it is given. Everything that goes wrong becomes a
//! [`BundleDiagnostic`] naming the entry; reading carries on where it can.
//!
//! ```no_run
//! use kdiag_bundle::{read_path, EntrySink, BundleDiagnostic, Limits};
//! struct Printer;
//! impl EntrySink for Printer {
//!     fn file(&mut self, path: &str, _size: u64, _body: &mut dyn std::io::Read) -> std::io::Result<()> {
//!         println!("{path}");
//!         Ok(())
//!     }
//!     fn diagnostic(&mut self, d: BundleDiagnostic) { eprintln!("{d}"); }
//! }
//! let summary = read_path("customer.tar.gz".as_ref(), &Limits::default(), &mut Printer)?;
//! # Ok::<(), kdiag_bundle::OpenError>(())
//! ```
//!
//! [`classify`] maps a bundle path — in kdiag's own layout or in a
//! troubleshoot.sh support bundle's — onto a [`FileRole`], so later stages
//! never need to know which layout they were given.

mod diag;
mod dir;
mod entry;
mod guard;
mod input;
mod layout;
mod limits;
mod manifest;
mod path;
mod source;
mod tarball;
mod zipped;

pub use diag::{BundleDiagnostic, DiagnosticKind};
pub use input::{Input, Layout, NodeInput};
pub use layout::{Classified, DataFormat, FileRole, NodeFile, classify, classify_in};
pub use limits::Limits;
pub use manifest::{CommandRecord, Manifest, parse_manifest};
pub use path::{PathProblem, normalize_entry_path};
pub use source::{
    Container, OpenError, ReadSummary, StopReason, read_path, read_path_observed, read_stream,
};

/// Receives the files of a bundle as they are read, in archive order.
///
/// `file` is called once per regular file with its path relative to the
/// bundle root (always `/`-separated, never absolute, never containing `..`)
/// and a reader over its bytes, already capped by the per-entry limit.
/// The sink may read as much or as little of `body` as it likes.
pub trait EntrySink {
    /// One regular file of the bundle. An error returned here is reported as
    /// a diagnostic for that entry; reading continues with the next entry.
    fn file(&mut self, path: &str, size: u64, body: &mut dyn std::io::Read) -> std::io::Result<()>;
    /// Something about the bundle that a person should know.
    fn diagnostic(&mut self, diagnostic: BundleDiagnostic);
}
