//! Renders an [`Analysis`](kdiag_rules::eval::Analysis): [`json::report`]
//! builds the `kdiag-report/v1` document of DESIGN.md, [`text::render`] the
//! cause-and-effect tree a support engineer reads. A renderer only shows
//! what the analysis holds; it never reads the bundle or decides anything.
//!
//! ```text
//! let doc = kdiag_report::json::report(&analysis);
//! kdiag_report::text::render(&analysis, &mut std::io::stdout(), Style::plain())?;
//! ```

pub mod json;
pub mod text;
