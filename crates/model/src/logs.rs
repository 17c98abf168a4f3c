//! Logs are streamed, never held whole: they are read in blocks of whole
//! lines, each line is summarised once, and the patterns rules registered
//! up front in a [`LogPatterns`] are looked for in the whole block by one
//! multi-pattern search with literal prefilters; only the lines it finds
//! are tested against every pattern ([`regex::RegexSet`]). The snapshot
//! keeps, per log and pattern, a count, the first and last hit, and a few
//! samples.

use jiff::Timestamp;
use kdiag_parse::lines::MAX_LINE_BYTES;
use kdiag_parse::log::{LogFormat, Severity, parse_log_line};
use regex::{Regex, RegexSet};
use regex_automata::{Input, meta};
use regex_syntax::hir::{self, Hir, HirKind, Look};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Read};

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
    /// Every pattern, unable to match a newline, searched for across a
    /// block of lines: it finds the lines that may match (a superset), so
    /// that the set runs on those only. `None` when it could not be built:
    /// then the set runs on every line.
    finder: Option<meta::Regex>,
}

impl LogPatterns {
    /// No patterns: logs are only summarised.
    pub fn none() -> Self {
        LogPatterns {
            ids: Vec::new(),
            set: RegexSet::empty(),
            regexes: Vec::new(),
            finder: None,
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
        let finder = line_finder(&sources);
        Ok(LogPatterns {
            ids,
            set,
            regexes,
            finder,
        })
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

/// Bytes read at a time: whole lines are taken from each block.
const BLOCK: usize = 1 << 20;

/// Reads a log once, filling `stream`.
pub(crate) fn scan(
    reader: impl Read,
    patterns: &LogPatterns,
    stream: &mut LogStream,
) -> io::Result<()> {
    BLOCK_BUF.with(|buf| {
        let mut buf = buf.borrow_mut();
        scan_with(reader, patterns, stream, MAX_LINE_BYTES, BLOCK, &mut buf)
    })
}

thread_local! {
    /// One block buffer per thread, reused for every log.
    static BLOCK_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// [`scan`] with lines cut at `max` bytes, reading blocks of `block`
/// bytes (at least `max + 1`) into `buf`.
fn scan_with(
    mut reader: impl Read,
    patterns: &LogPatterns,
    stream: &mut LogStream,
    max: usize,
    block: usize,
    buf: &mut Vec<u8>,
) -> io::Result<()> {
    let size = block.max(max + 1);
    buf.truncate(size);
    if buf.len() < size {
        buf.resize(size, 0);
    }
    let mut scanner = Scanner {
        patterns,
        stream,
        max,
        number: 0,
        hits: vec![None; patterns.len()],
        formats: [0; 3],
        severities: [0; 5],
        candidates: Vec::new(),
    };
    // buf[start..filled] is unread; `skipping`: inside a cut line's rest.
    let (mut start, mut filled, mut skipping) = (0usize, 0usize, false);
    let mut result = Ok(());
    loop {
        if start > 0 {
            buf.copy_within(start..filled, 0);
            filled -= start;
            start = 0;
        }
        let mut eof = false;
        while filled < buf.len() {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    scanner.stream.incomplete = true;
                    result = Err(e);
                    eof = true;
                    break;
                }
            }
        }
        if skipping {
            match memchr::memchr(b'\n', &buf[..filled]) {
                Some(i) => {
                    start = i + 1;
                    skipping = false;
                }
                None => {
                    start = filled;
                    if eof {
                        break;
                    }
                    continue;
                }
            }
        }
        let data = &buf[start..filled];
        // Whole lines: up to the last newline; at the end, the rest too.
        let cut = if eof {
            data.len()
        } else {
            memchr::memrchr(b'\n', data).map_or(0, |i| i + 1)
        };
        if cut == 0 && !eof {
            if start > 0 {
                // The rest of a line: move it to the front and read on.
                continue;
            }
            // One line longer than the block: its first `max` bytes stand
            // for it, and the rest is skipped.
            scanner.line(&data[..max], true);
            skipping = true;
            start = filled;
            continue;
        }
        scanner.block(&data[..cut]);
        start += cut;
        if eof {
            break;
        }
    }
    scanner.finish();
    result
}

/// The running summary of one log.
struct Scanner<'p, 's> {
    patterns: &'p LogPatterns,
    stream: &'s mut LogStream,
    max: usize,
    number: u64,
    hits: Vec<Option<LogHits>>,
    formats: [u64; 3],
    severities: [u64; 5],
    /// Offsets (in the block) of the lines the finder found.
    candidates: Vec<usize>,
}

impl Scanner<'_, '_> {
    /// A block of whole lines (the last one may lack its newline).
    fn block(&mut self, block: &[u8]) {
        self.find_candidates(block);
        let mut next = 0;
        let mut at = 0;
        let mut lines = memchr::memchr_iter(b'\n', block);
        let candidates = std::mem::take(&mut self.candidates);
        while at < block.len() {
            let end = lines.next().unwrap_or(block.len());
            let line = &block[at..end];
            while next < candidates.len() && candidates[next] < at {
                next += 1;
            }
            let candidate = candidates.get(next) == Some(&at);
            self.line_at(line, line.len() > self.max, candidate);
            at = end + 1;
        }
        self.candidates = candidates;
    }

    /// Where in `block` the lines that may match start, in order.
    fn find_candidates(&mut self, block: &[u8]) {
        self.candidates.clear();
        let Some(finder) = &self.patterns.finder else {
            return;
        };
        let mut pos = 0;
        while pos <= block.len() {
            let Some(m) = finder.search(&Input::new(block).range(pos..)) else {
                break;
            };
            let line = memchr::memrchr(b'\n', &block[..m.start()]).map_or(0, |i| i + 1);
            self.candidates.push(line);
            pos = match memchr::memchr(b'\n', &block[m.start()..]) {
                Some(i) => m.start() + i + 1,
                None => break,
            };
        }
    }

    /// One line from its own read (a cut line): patterns are tested on it.
    fn line(&mut self, raw: &[u8], truncated: bool) {
        self.line_at(raw, truncated, true);
    }

    /// One line; `candidate`: the finder found it (or there is no finder).
    fn line_at(&mut self, raw: &[u8], truncated: bool, candidate: bool) {
        let raw = if truncated {
            &raw[..self.max.min(raw.len())]
        } else {
            raw
        };
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let (text, lossy) = match std::str::from_utf8(raw) {
            Ok(t) => (Cow::Borrowed(t), false),
            Err(_) => (String::from_utf8_lossy(raw), true),
        };
        let stream = &mut *self.stream;
        self.number += 1;
        stream.lines += 1;
        stream.bytes += text.len() as u64 + 1;
        if stream.lines == 1 && unavailable_log(&text) {
            stream.unavailable = Some(text.to_string());
        }
        stream.long_lines += u64::from(truncated);
        stream.lossy_lines += u64::from(lossy);
        let parsed = parse_log_line(&text);
        self.formats[match parsed.format {
            LogFormat::Klog => 0,
            LogFormat::CoreDns => 1,
            LogFormat::Generic => 2,
        }] += 1;
        if let Some(s) = parsed.severity {
            self.severities[s as usize] += 1;
        }
        if let Some(ts) = parsed.timestamp {
            stream.first_time = Some(stream.first_time.map_or(ts, |f| f.min(ts)));
            stream.last_time = Some(stream.last_time.map_or(ts, |l| l.max(ts)));
        }
        let patterns = self.patterns;
        if patterns.is_empty() {
            return;
        }
        // A cut or lossy line is not what the finder searched: test it.
        if !(candidate || truncated || lossy || patterns.finder.is_none()) {
            return;
        }
        for idx in patterns.set.matches(&text).iter() {
            record_hit(
                &mut self.hits[idx],
                patterns,
                idx,
                &text,
                self.number + stream.line_offset,
                parsed.timestamp,
            );
        }
    }

    fn finish(self) {
        let names = ["klog", "coredns", "generic"];
        for (name, n) in names.iter().zip(self.formats) {
            if n > 0 {
                self.stream.formats.insert((*name).to_owned(), n);
            }
        }
        let severities = [
            Severity::Debug,
            Severity::Info,
            Severity::Warning,
            Severity::Error,
            Severity::Fatal,
        ];
        for s in severities {
            let n = self.severities[s as usize];
            if n > 0 {
                self.stream.severities.insert(sev_name(s).to_owned(), n);
            }
        }
        self.stream.hits = self.hits.into_iter().flatten().collect();
    }
}

/// Counts one line that pattern `idx` matched.
fn record_hit(
    slot: &mut Option<LogHits>,
    patterns: &LogPatterns,
    idx: usize,
    text: &str,
    line: u64,
    timestamp: Option<Timestamp>,
) {
    let mut captures = BTreeMap::new();
    if let Some(c) = patterns.regexes[idx].captures(text) {
        for name in patterns.regexes[idx].capture_names().flatten() {
            if let Some(m) = c.name(name) {
                captures.insert(name.to_owned(), m.as_str().to_owned());
            }
        }
    }
    let new = LogHit {
        line,
        timestamp,
        text: text.to_owned(),
        captures,
    };
    match slot {
        None => {
            let distinct = if new.captures.is_empty() {
                Vec::new()
            } else {
                vec![new.captures.clone()]
            };
            *slot = Some(LogHits {
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

/// Builds the block finder: every pattern as `regex` reads it, with `\n`
/// taken out of what it can match (a line never holds one) and its text
/// anchors (`\A`, `\z`, `^`, `$`) made line anchors, captures dropped.
/// Whatever a pattern matches in a line, the finder matches in a block
/// holding that line. `None` if one does not parse or build (the set then
/// runs on every line).
fn line_finder(sources: &[String]) -> Option<meta::Regex> {
    if sources.is_empty() {
        return None;
    }
    let hirs = sources
        .iter()
        .map(|s| {
            regex_syntax::ParserBuilder::new()
                .build()
                .parse(s)
                .ok()
                .map(within_line)
        })
        .collect::<Option<Vec<Hir>>>()?;
    meta::Builder::new()
        .configure(meta::Config::new().utf8_empty(false))
        .build_many_from_hir(&hirs)
        .ok()
}

/// `hir` unable to match `\n`, anchored at line ends instead of text ends.
fn within_line(hir: Hir) -> Hir {
    match hir.into_kind() {
        HirKind::Empty => Hir::empty(),
        HirKind::Literal(hir::Literal(bytes)) => {
            if bytes.contains(&b'\n') {
                Hir::fail()
            } else {
                Hir::literal(bytes)
            }
        }
        HirKind::Class(hir::Class::Unicode(mut c)) => {
            c.difference(&hir::ClassUnicode::new([hir::ClassUnicodeRange::new(
                '\n', '\n',
            )]));
            Hir::class(hir::Class::Unicode(c))
        }
        HirKind::Class(hir::Class::Bytes(mut c)) => {
            c.difference(&hir::ClassBytes::new([hir::ClassBytesRange::new(
                b'\n', b'\n',
            )]));
            Hir::class(hir::Class::Bytes(c))
        }
        HirKind::Look(look) => Hir::look(match look {
            Look::Start | Look::StartLF => Look::StartCRLF,
            Look::End | Look::EndLF => Look::EndCRLF,
            other => other,
        }),
        HirKind::Repetition(mut r) => {
            r.sub = Box::new(within_line(*r.sub));
            Hir::repetition(r)
        }
        HirKind::Capture(c) => within_line(*c.sub),
        HirKind::Concat(subs) => Hir::concat(subs.into_iter().map(within_line).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.into_iter().map(within_line).collect()),
    }
}

/// The plain statement of what [`scan`] computes, line by line through
/// [`kdiag_parse::lines::BoundedLines`]: the reference its property test
/// compares against.
#[cfg(test)]
fn scan_reference(
    reader: impl io::BufRead,
    max: usize,
    patterns: &LogPatterns,
    stream: &mut LogStream,
) -> io::Result<()> {
    let mut hits: Vec<Option<LogHits>> = vec![None; patterns.len()];
    let mut result = Ok(());
    for line in kdiag_parse::lines::BoundedLines::new(reader, max) {
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
        // Counting a hit is shared with `scan`: what is compared is which
        // lines are tested and what they say.
        for idx in patterns.set.matches(&line.text).iter() {
            record_hit(
                &mut hits[idx],
                patterns,
                idx,
                &line.text,
                line.number + stream.line_offset,
                parsed.timestamp,
            );
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

    use proptest::prelude::*;

    /// Pieces logs are made of: formats, words the patterns look for,
    /// anchors' neighbours, CRLF, non-UTF-8 bytes, long runs.
    const PIECES: &[&[u8]] = &[
        b"I1127 08:02:11.345601       1 reflector.go:147] ",
        b"E1127 08:02:12.000001       1 server.go:1] ",
        b"2026-11-27T08:02:11.345678901Z ",
        b"2026-11-27T08:02:10Z ",
        b"[INFO] plugin/ready: Still waiting on: \"kubernetes\"",
        b"cannot list resource \"nodes\"",
        b"level=error msg=x",
        b"waiting ",
        b" on",
        b"caf\xc3\xa9 ",
        b"\xff\xfe",
        b"\r",
        b"\n",
        b"\n",
        b"\n",
        b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        b"",
    ];

    fn test_patterns() -> LogPatterns {
        LogPatterns::new([
            ("anchored", r"^\[INFO\] plugin/(?P<plugin>\w+)"),
            ("resource", r#"resource "(?P<r>[^"]+)"$"#),
            ("start", r"\AE\d+"),
            ("end", r"nodes\S*\z"),
            ("spaces", r"waiting\s+on"),
            ("unicode", r"café"),
            ("lossy", "\u{FFFD}"),
            ("dot", r"a.a{30}"),
            ("empty-line", r"^$"),
        ])
        .unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        /// Block scanning, with its finder, summarises a log exactly as
        /// reading it line by line and testing every line does, wherever
        /// the blocks and the line bound fall.
        #[test]
        fn block_scan_agrees_with_line_by_line(
            pieces in proptest::collection::vec(0..PIECES.len(), 0..80),
            max in 4usize..80,
            block in 1usize..200,
        ) {
            let log: Vec<u8> = pieces.iter().flat_map(|i| PIECES[*i].iter().copied()).collect();
            let patterns = test_patterns();
            let mut want = LogStream::default();
            scan_reference(io::BufReader::with_capacity(7, &log[..]), max, &patterns, &mut want).unwrap();
            let mut got = LogStream::default();
            let mut buf = Vec::new();
            scan_with(&log[..], &patterns, &mut got, max, block, &mut buf).unwrap();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn the_test_patterns_build_a_finder() {
        let patterns = test_patterns();
        assert!(patterns.finder.is_some());
    }

    #[test]
    fn bad_pattern_names_its_id() {
        let err = LogPatterns::new([("broken", "(")]).unwrap_err();
        assert!(err.contains("broken"));
    }
}
