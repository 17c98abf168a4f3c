//! One snapshot of a cluster built from a bundle: Kubernetes objects indexed
//! by kind, namespace and name; every node's network tables; per-container
//! log summaries (each log streamed once through the caller's patterns); the
//! collector's manifest; an RBAC evaluator; and the inventory of networks
//! each component believes in.
//!
//! ```no_run
//! use kdiag_model::{Snapshot, LogPatterns};
//! let snap = Snapshot::load("customer.tar.gz".as_ref(), &Default::default(), &LogPatterns::none())?;
//! for node in snap.objects_of("Node") { println!("{}", node.object.name); }
//! # Ok::<(), kdiag_bundle::OpenError>(())
//! ```

mod build;
pub mod components;
pub mod derive;
mod diag;
pub mod inventory;
pub mod logs;
pub mod node;
pub mod rbac;
mod snapshot;
pub mod tables;
pub mod timing;
pub mod trace;

pub use diag::{Diagnostic, Stage};
pub use logs::{LogHit, LogHits, LogPatterns, LogStream};
pub use node::{NodeTables, Sourced};
pub use snapshot::{FileInfo, InputStatus, Located, Snapshot};
