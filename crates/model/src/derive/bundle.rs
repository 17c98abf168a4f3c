//! What the bundle itself lacks: commands the collector ran that failed
//! (from `manifest.json`), and files that could not be read or parsed.

use super::{Fact, FactTable, ev, row};
use crate::{Snapshot, Stage};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// `commands`: one command the collector ran, from `manifest.json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CommandRecord {
    /// The program run: the first word of the command line (`ip`,
    /// `iptables-save`, `kubectl`, ...); empty when the manifest gives no
    /// command line.
    pub program: String,
    /// The whole command line, its words joined by single spaces.
    pub command: String,
    /// The node it ran on; null for a cluster-side command.
    pub node: Option<String>,
    /// The bundle path the collector recorded as its output; null when it
    /// wrote nothing.
    pub output: Option<String>,
    /// Its exit code; null when it was killed or never started.
    pub exit_code: Option<i64>,
    /// How long it ran, in milliseconds, when recorded.
    pub duration_ms: Option<u64>,
    /// The tail of its standard error, trimmed; empty when none was recorded.
    pub stderr: String,
    /// Whether it succeeded (exit 0, or an exit its program uses for a
    /// normal answer, such as `systemctl is-active` saying inactive).
    pub succeeded: bool,
    /// Whether its output file is in the bundle (and was read).
    pub output_read: bool,
}

/// `bundle.unreadable-files`: one bundle file with read or parse problems.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UnreadableFileRecord {
    /// Bundle path of the file, e.g. `nodes/worker-1/ip-route.txt`.
    pub file: String,
    /// `read` when at least one problem is a read failure, else `parse`
    /// (the file was read, but some of it could not be parsed).
    pub stage: String,
    /// Number of read and parse problems reported for the file (at least 1).
    pub problems: usize,
    /// Message of the first problem.
    pub first: String,
}

/// Commands that did not exit 0 and left nothing in the bundle. A command
/// whose output is there (`systemctl is-active` exits 3 for "inactive")
/// collected its data; its exit code is the data's business.
pub(super) fn commands(snap: &Snapshot) -> FactTable {
    let mut table = FactTable::default();
    let Some(m) = &snap.manifest else {
        return table;
    };
    let present: std::collections::HashSet<&str> =
        snap.files.iter().map(|f| f.path.as_str()).collect();
    for (i, c) in m.value.commands.iter().enumerate() {
        let program = c.argv.first().cloned().unwrap_or_default();
        let stderr = c.stderr.clone().unwrap_or_default();
        table.records.push(Fact {
            record: row(CommandRecord {
                program,
                command: c.argv.join(" "),
                node: c.node.clone(),
                output: c.output.clone(),
                exit_code: c.exit_code,
                duration_ms: c.duration_ms,
                stderr: stderr.trim().to_owned(),
                succeeded: c.succeeded(),
                output_read: c.output.as_deref().is_some_and(|o| present.contains(o)),
            }),
            evidence: match snap.manifest_lines.get(i) {
                Some((file, line, text)) => vec![ev(file, *line, text)],
                None => vec![ev(
                    &m.file,
                    1,
                    format!("commands[{i}]: {}", c.argv.join(" ")),
                )],
            },
            first_seen: None,
        });
    }
    table
}

/// Files of the bundle with read or parse problems, one record per file.
/// Entries skipped on purpose (links, devices, unsafe names) are not files of
/// the bundle; `kdiag inspect` lists them.
pub(super) fn unreadable_files(snap: &Snapshot) -> FactTable {
    let mut per_file: BTreeMap<&str, Vec<&crate::Diagnostic>> = BTreeMap::new();
    for d in snap
        .diagnostics
        .iter()
        .filter(|d| matches!(d.stage, Stage::Read | Stage::Parse))
    {
        if let Some(f) = d
            .file
            .as_deref()
            .and_then(|f| snap.files.iter().find(|x| x.path == f))
            .map(|x| x.path.as_str())
        {
            per_file.entry(f).or_default().push(d);
        }
    }
    let mut table = FactTable::default();
    for (file, diags) in per_file {
        let stage = if diags.iter().any(|d| d.stage == Stage::Read) {
            "read"
        } else {
            "parse"
        };
        table.records.push(Fact {
            record: row(UnreadableFileRecord {
                file: file.to_owned(),
                stage: stage.to_owned(),
                problems: diags.len(),
                first: diags[0].message.clone(),
            }),
            evidence: diags
                .iter()
                .take(3)
                .map(|d| ev(file, d.line.unwrap_or(1), &d.message))
                .collect(),
            first_seen: None,
        });
    }
    table
}
