//! Renders an [`Analysis`](kdiag_rules::eval::Analysis): [`json::report`]
//! builds the `kdiag-report/v1` document of DESIGN.md, [`text::render`] the
//! cause-and-effect tree a support engineer reads.
//!
//! ```text
//! let doc = kdiag_report::json::report(&analysis, &snapshot);
//! kdiag_report::text::render(&analysis, &snapshot, &mut std::io::stdout(), &Style::plain())?;
//! ```

pub mod json;
pub mod text;

use kdiag_model::Snapshot;

/// What the report says about the bundle itself.
pub(crate) struct BundleInfo {
    pub source: String,
    pub collected_at: Option<String>,
    pub files: usize,
    pub kubernetes_version: Option<String>,
}

pub(crate) fn bundle_info(snap: &Snapshot) -> BundleInfo {
    BundleInfo {
        source: snap.sources.join(", "),
        collected_at: snap
            .manifest
            .as_ref()
            .and_then(|m| m.value.collected_at.clone()),
        files: snap.files.len(),
        kubernetes_version: snap.version.as_ref().and_then(|v| v.value.server.clone()),
    }
}
