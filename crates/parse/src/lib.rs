//! Parsers for every input syntax a kdiag bundle holds, one module per
//! syntax. Each takes text and returns typed records that remember the line
//! they came from, plus a [`Diagnostic`] for every line or part it could not
//! read. A parser never panics and never looks at another file.
//!
//! ```
//! let parsed = kdiag_parse::iproute::parse_routes("default via 10.0.0.1 dev eth0\n");
//! assert_eq!(parsed.records[0].gateway.unwrap().to_string(), "10.0.0.1");
//! ```

pub mod cani;
pub mod cni;
mod diag;
pub mod firewall;
pub mod flags;
pub mod flannel;
pub mod iproute;
pub mod iproute_json;
pub mod iptables;
pub mod ipvs;
pub mod kube;
pub mod kubelet;
pub mod lines;
pub mod log;
pub mod lsmod;
pub mod name;
pub mod nft;
pub mod probe;
pub mod resolv;
pub mod sysctl;
pub mod version;

pub use diag::{Diagnostic, Parsed};
pub use name::{Intern, Interner, Mac, Name};
