//! The rule language: the rule file format ([`def`]), loading and validating
//! rule files with errors that point at line and column ([`load`]),
//! evaluating rules over a snapshot ([`eval`]), and the cause → effect
//! graph of findings ([`graph`]).

pub mod catalog;
pub mod def;
pub mod docs;
pub mod eval;
pub mod expect;
pub mod expr;
pub mod fixtures;
mod graph;
pub mod lint;
pub mod load;
pub mod project;
mod sources;
pub mod template;
pub mod tree;
pub mod world;
