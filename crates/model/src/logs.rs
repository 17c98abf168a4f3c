//! Logs are streamed, never held whole: each line is read once, summarised,
//! and tested against every registered pattern at once ([`regex::RegexSet`]).
//! A later rule engine registers all its patterns up front in a
//! [`LogPatterns`]; the snapshot keeps, per log and pattern, a count, the
//! first and last hit, and a few samples.

use jiff::Timestamp;
use kdiag_parse::lines::{BoundedLines, MAX_LINE_BYTES};
use kdiag_parse::log::{LogFormat, Severity, parse_log_line};
use regex::{Regex, RegexSet};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, BufRead};

/// Samples kept per log and pattern besides the first and last hit.
pub const SAMPLES: usize = 3;

/// Distinct capture sets kept per log and pattern.
pub const DISTINCT: usize = 32;

/// Patterns to look for in every log, compiled into one matcher.
#[derive(Debug, Clone)]
pub struct LogPatterns {
    ids: Vec<String>,
    set: RegexSet,
    regexes: Vec<Regex>,
}

impl LogPatterns {
    /// No patterns: logs are only summarised.
    pub fn none() -> Self {
        LogPatterns {
            ids: Vec::new(),
            set: RegexSet::empty(),
            regexes: Vec::new(),
        }
    }

    /// Compiles `(id, regex)` pairs; an error names the id.
    pub fn new<I, S>(patterns: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = (S, S)>,
        S: Into<String>,
    {
        let mut ids = Vec::new();
        let mut sources = Vec::new();
        let mut regexes = Vec::new();
        for (id, re) in patterns {
            let id = id.into();
            let re = re.into();
            regexes.push(Regex::new(&re).map_err(|e| format!("log pattern '{id}': {e}"))?);
            ids.push(id);
            sources.push(re);
        }
        let set = RegexSet::new(&sources).map_err(|e| e.to_string())?;
        Ok(LogPatterns { ids, set, regexes })
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// One matching line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogHit {
    /// 1-based line in the log file.
    pub line: u64,
    /// The line's timestamp, if it had one.
    pub timestamp: Option<Timestamp>,
    /// The line.
    pub text: String,
    /// Named captures of the pattern.
    pub captures: BTreeMap<String, String>,
}

/// What one pattern found in one log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogHits {
    /// The pattern's id.
    pub pattern: String,
    /// Matching lines.
    pub count: u64,
    /// The first match.
    pub first: LogHit,
    /// The last match.
    pub last: LogHit,
    /// A few matches after the first.
    pub samples: Vec<LogHit>,
    /// The distinct sets of named captures seen (at most [`DISTINCT`]).
    pub distinct: Vec<BTreeMap<String, String>>,
}

/// The summary of one container log (or a node's kubelet journal).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LogStream {
    /// Bundle path.
    pub file: String,
    /// Pod namespace (empty for node logs).
    pub namespace: String,
    /// Pod name, or the node name for node logs.
    pub pod: String,
    /// Container name (`kubelet` for node logs).
    pub container: String,
    /// The previous instance of the container.
    pub previous: bool,
    /// Lines read.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Lines per recognised format.
    pub formats: BTreeMap<String, u64>,
    /// Lines per severity.
    pub severities: BTreeMap<String, u64>,
    /// Earliest timestamp seen.
    pub first_time: Option<Timestamp>,
    /// Latest timestamp seen.
    pub last_time: Option<Timestamp>,
    /// Lines longer than the line bound (cut).
    pub long_lines: u64,
    /// Lines with bytes that are not UTF-8.
    pub lossy_lines: u64,
    /// What each pattern found (patterns without hits are absent).
    pub hits: Vec<LogHits>,
    /// The stream ended in an error (truncated archive, limit).
    pub incomplete: bool,
    /// Lines of the file before this log (a log that is a section of a
    /// larger file, as in `cluster-info dump`): added to hit line numbers.
    #[serde(skip_serializing_if = "is_zero")]
    pub line_offset: u64,
    /// The log was not collected: in its place is the error the API server
    /// gave (`Request log error: ...`, when it could not reach the kubelet).
    /// Nothing can be concluded from its lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How a log that could not be fetched reads: the API server's error in
/// place of the container's lines.
fn unavailable_log(first_line: &str) -> bool {
    first_line.starts_with("Request log error:")
        || (first_line.starts_with("Error from server")
            && (first_line.contains("container") || first_line.contains("log")))
        || first_line.starts_with("unable to retrieve container logs")
        || first_line.starts_with("failed to get parse function")
}

impl LogStream {
    /// Hits of one pattern.
    pub fn hits_for(&self, pattern: &str) -> Option<&LogHits> {
        self.hits.iter().find(|h| h.pattern == pattern)
    }
}

fn sev_name(s: Severity) -> &'static str {
    match s {
        Severity::Debug => "debug",
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Error => "error",
        Severity::Fatal => "fatal",
    }
}

/// Reads a log once, line by line, filling `stream`.
pub(crate) fn scan(
    reader: impl BufRead,
    patterns: &LogPatterns,
    stream: &mut LogStream,
) -> io::Result<()> {
    let mut hits: Vec<Option<LogHits>> = vec![None; patterns.len()];
    let mut result = Ok(());
    for line in BoundedLines::new(reader, MAX_LINE_BYTES) {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                stream.incomplete = true;
                result = Err(e);
                break;
            }
        };
        stream.lines += 1;
        stream.bytes += line.text.len() as u64 + 1;
        if stream.lines == 1 && unavailable_log(&line.text) {
            stream.unavailable = Some(line.text.clone());
        }
        stream.long_lines += u64::from(line.truncated);
        stream.lossy_lines += u64::from(line.lossy);
        let parsed = parse_log_line(&line.text);
        let format = match parsed.format {
            LogFormat::Klog => "klog",
            LogFormat::CoreDns => "coredns",
            LogFormat::Generic => "generic",
        };
        *stream.formats.entry(format.into()).or_default() += 1;
        if let Some(s) = parsed.severity {
            *stream.severities.entry(sev_name(s).into()).or_default() += 1;
        }
        if let Some(ts) = parsed.timestamp {
            stream.first_time = Some(stream.first_time.map_or(ts, |f| f.min(ts)));
            stream.last_time = Some(stream.last_time.map_or(ts, |l| l.max(ts)));
        }
        if patterns.is_empty() {
            continue;
        }
        for idx in patterns.set.matches(&line.text).iter() {
            let hit = || {
                let mut captures = BTreeMap::new();
                if let Some(c) = patterns.regexes[idx].captures(&line.text) {
                    for name in patterns.regexes[idx].capture_names().flatten() {
                        if let Some(m) = c.name(name) {
                            captures.insert(name.to_owned(), m.as_str().to_owned());
                        }
                    }
                }
                LogHit {
                    line: line.number + stream.line_offset,
                    timestamp: parsed.timestamp,
                    text: line.text.clone(),
                    captures,
                }
            };
            let new = hit();
            match &mut hits[idx] {
                None => {
                    let distinct = if new.captures.is_empty() {
                        Vec::new()
                    } else {
                        vec![new.captures.clone()]
                    };
                    hits[idx] = Some(LogHits {
                        pattern: patterns.ids[idx].clone(),
                        count: 1,
                        first: new.clone(),
                        last: new,
                        samples: Vec::new(),
                        distinct,
                    });
                }
                Some(h) => {
                    h.count += 1;
                    if !new.captures.is_empty()
                        && h.distinct.len() < DISTINCT
                        && !h.distinct.contains(&new.captures)
                    {
                        h.distinct.push(new.captures.clone());
                    }
                    if h.samples.len() < SAMPLES {
                        h.samples.push(new.clone());
                    }
                    h.last = new;
                }
            }
        }
    }
    stream.hits = hits.into_iter().flatten().collect();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pass_many_patterns() {
        let log = "2026-11-27T08:02:11Z E1127 08:02:11.345601       1 reflector.go:147] failed to list *v1.Service: services is forbidden: User \"system:serviceaccount:kube-system:kube-proxy\" cannot list resource \"services\" in API group \"\" at the cluster scope\n2026-11-27T08:02:12Z I1127 08:02:12.000000       1 server.go:1] ok\n2026-11-27T08:02:13Z E1127 08:02:13.345601       1 reflector.go:147] failed to list *v1.Node: nodes is forbidden: User \"system:serviceaccount:kube-system:kube-proxy\" cannot list resource \"nodes\" in API group \"\" at the cluster scope\n";
        let patterns = LogPatterns::new([
            (
                "forbidden",
                r#"cannot (?P<verb>\w+) resource "(?P<resource>[^"]+)""#,
            ),
            ("never", "no such text"),
        ])
        .unwrap();
        let mut s = LogStream::default();
        scan(log.as_bytes(), &patterns, &mut s).unwrap();
        assert_eq!(s.lines, 3);
        assert_eq!(s.hits.len(), 1);
        let h = &s.hits[0];
        assert_eq!((h.count, h.first.line, h.last.line), (2, 1, 3));
        assert_eq!(h.last.captures["resource"], "nodes");
        assert_eq!(s.severities["error"], 2);
        assert_eq!(s.first_time.unwrap().to_string(), "2026-11-27T08:02:11Z");
    }

    #[test]
    fn a_fifty_megabyte_line_costs_one_bounded_line() {
        let mut data = vec![b'a'; 50 << 20];
        data.push(b'\n');
        data.extend_from_slice(b"[INFO] plugin/ready: Still waiting on: \"kubernetes\"\n");
        let patterns = LogPatterns::new([("waiting", "Still waiting on")]).unwrap();
        let mut s = LogStream::default();
        scan(io::BufReader::new(&data[..]), &patterns, &mut s).unwrap();
        assert_eq!((s.lines, s.long_lines), (2, 1));
        assert_eq!(s.hits[0].first.line, 2);
        assert!(s.hits[0].first.text.len() < 100);
    }

    #[test]
    fn bad_pattern_names_its_id() {
        let err = LogPatterns::new([("broken", "(")]).unwrap_err();
        assert!(err.contains("broken"));
    }
}
