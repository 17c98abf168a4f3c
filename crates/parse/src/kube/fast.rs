//! A fast reader for the YAML that kubectl (and `oc adm inspect`, and any
//! Go program through `sigs.k8s.io/yaml`) prints: block mappings and
//! sequences with two-space indentation, sequences indentless under a key,
//! plain, single- and double-quoted scalars that may be folded over several
//! lines, `|` block literals, and `{}` / `[]` for empty collections. It
//! builds the JSON value directly, with each list item's line.
//!
//! Anything outside that subset (anchors, aliases, tags, comments, flow
//! collections with content, folded `>` blocks, complex keys, tabs, a plain
//! scalar whose type is not plain to see, duplicate keys, deep nesting)
//! makes it answer `None`, and the caller reads the document with the full
//! YAML parser instead. Where a plain scalar could be a number, a boolean
//! or null, the full parser decides (its answers are cached), so both
//! readers give the same value; a property test and every YAML file of the
//! sample and real bundles check that they do.

use serde_json::{Map, Value};
use std::collections::HashMap;

/// Nesting deeper than this is left to the full parser (and its budget).
const MAX_DEPTH: usize = 60;

/// A document as the fast reader read it.
#[derive(Debug, PartialEq)]
pub(crate) enum FastDoc {
    /// A mapping; `items` is its `items` key when that is a sequence (each
    /// item with the 0-based line it starts on), kept out of `fields`.
    Map {
        /// The other keys.
        fields: Map<String, Value>,
        /// `items`, when present.
        items: Option<Vec<(u32, Value)>>,
        /// 0-based line of the first key.
        line: u32,
    },
    /// A top-level sequence, each item with its 0-based line.
    Seq(Vec<(u32, Value)>),
}

/// One physical line: its indentation and its text after it (without the
/// line break and trailing `\r`).
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

impl Line<'_> {
    fn blank(&self) -> bool {
        self.text.trim().is_empty()
    }
}

/// Why the fast reader gave up (only used to unwind).
struct Unsupported;

type R<T> = Result<T, Unsupported>;

/// Reads one document (without `---` separators), or `None` when it is not
/// in the subset.
pub(crate) fn parse_document(doc: &str, scalars: &mut ScalarCache) -> Option<FastDoc> {
    let mut lines = Vec::with_capacity(doc.len() / 24);
    // The text after the last line break is no line.
    let body = doc.strip_suffix('\n').unwrap_or(doc);
    for raw in body.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let text = raw.trim_start_matches(' ');
        if text.starts_with('\t') {
            return None;
        }
        lines.push(Line {
            indent: raw.len() - text.len(),
            text,
        });
    }
    let mut p = Reader {
        lines,
        pos: 0,
        scalars,
        depth: 0,
        unterminated: !doc.ends_with('\n'),
    };
    p.document().ok()
}

struct Reader<'a, 'c> {
    lines: Vec<Line<'a>>,
    pos: usize,
    scalars: &'c mut ScalarCache,
    depth: usize,
    /// The document's last line has no line break (a block literal that
    /// ends there is left to the full parser).
    unterminated: bool,
}

impl<'a> Reader<'a, '_> {
    fn skip_blank(&mut self) {
        while self.lines.get(self.pos).is_some_and(Line::blank) {
            self.pos += 1;
        }
    }

    fn line_no(&self) -> u32 {
        u32::try_from(self.pos).unwrap_or(u32::MAX)
    }

    fn document(&mut self) -> R<FastDoc> {
        self.skip_blank();
        let Some(first) = self.lines.get(self.pos).copied() else {
            return Err(Unsupported);
        };
        if first.indent != 0 || first.text.starts_with('#') || first.text.starts_with('%') {
            return Err(Unsupported);
        }
        let doc = if is_item(first.text) {
            FastDoc::Seq(self.sequence_items(0)?)
        } else {
            let line = self.line_no();
            let mut fields = Map::new();
            let mut items = None;
            self.mapping_entries(
                0,
                &mut |key, reader| {
                    if key == "items" && items.is_none() {
                        // Kept apart with each item's line; `items: []` or an
                        // empty `items:` is no item; anything else is left to
                        // the full parser.
                        if reader.lines[reader.pos].text.is_empty() {
                            reader.pos += 1;
                            match reader.next_content() {
                                Some(l) if is_item(l.text) => {
                                    reader.skip_blank();
                                    items = Some(reader.sequence_items(l.indent)?);
                                }
                                Some(l) if l.indent > 0 => return Err(Unsupported),
                                _ => items = Some(Vec::new()),
                            }
                            return Ok(None);
                        }
                        return match reader.value_after_key(0)? {
                            Value::Null => {
                                items = Some(Vec::new());
                                Ok(None)
                            }
                            Value::Array(a) if a.is_empty() => {
                                items = Some(Vec::new());
                                Ok(None)
                            }
                            _ => Err(Unsupported),
                        };
                    }
                    Ok(Some(reader.value_after_key(0)?))
                },
                &mut fields,
            )?;
            FastDoc::Map {
                fields,
                items,
                line,
            }
        };
        self.skip_blank();
        if self.pos < self.lines.len() {
            return Err(Unsupported);
        }
        Ok(doc)
    }

    fn next_content(&self) -> Option<Line<'a>> {
        self.lines[self.pos.min(self.lines.len())..]
            .iter()
            .find(|l| !l.blank())
            .copied()
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Unsupported);
        }
        Ok(())
    }

    /// The items of a block sequence whose dashes are at `indent`.
    fn sequence_items(&mut self, indent: usize) -> R<Vec<(u32, Value)>> {
        self.enter()?;
        let mut out = Vec::new();
        loop {
            self.skip_blank();
            let Some(l) = self.lines.get(self.pos).copied() else {
                break;
            };
            if l.indent != indent || !is_item(l.text) {
                if l.indent > indent {
                    return Err(Unsupported);
                }
                break;
            }
            let line = self.line_no();
            let rest = l.text[1..].trim_start_matches(' ');
            let value = if rest.is_empty() {
                // `-` alone: the item is the block below, or null.
                self.pos += 1;
                self.nested_or_null(indent, false)?
            } else {
                let col = indent + (l.text.len() - rest.len());
                if is_item(rest) {
                    return Err(Unsupported);
                }
                if mapping_key_end(rest).is_some() {
                    // `- key: value`: a mapping whose keys are at `col`.
                    self.lines[self.pos] = Line {
                        indent: col,
                        text: rest,
                    };
                    let mut fields = Map::new();
                    self.mapping_entries(
                        col,
                        &mut |_, r| Ok(Some(r.value_after_key(col)?)),
                        &mut fields,
                    )?;
                    Value::Object(fields)
                } else {
                    // `- scalar`, possibly folded over the lines below.
                    self.lines[self.pos] = Line {
                        indent: col,
                        text: rest,
                    };
                    self.scalar_at(indent)?
                }
            };
            out.push((line, value));
        }
        self.depth -= 1;
        Ok(out)
    }

    /// The entries of a block mapping whose keys are at `indent`, each
    /// value read by `value` (which may keep it out of the map: `None`).
    fn mapping_entries(
        &mut self,
        indent: usize,
        value: &mut dyn FnMut(&str, &mut Self) -> R<Option<Value>>,
        fields: &mut Map<String, Value>,
    ) -> R<()> {
        self.enter()?;
        loop {
            self.skip_blank();
            let Some(l) = self.lines.get(self.pos).copied() else {
                break;
            };
            if l.indent != indent {
                if l.indent > indent {
                    return Err(Unsupported);
                }
                break;
            }
            if is_item(l.text) {
                break;
            }
            let Some(key_end) = mapping_key_end(l.text) else {
                return Err(Unsupported);
            };
            let key = self.key(&l.text[..key_end])?;
            // What follows `key:` on this line.
            let rest = l.text[key_end + 1..].trim_start_matches(' ');
            self.lines[self.pos] = Line {
                indent: indent + (l.text.len() - rest.len()),
                text: rest,
            };
            let got = value(&key, self)?;
            if let Some(v) = got
                && fields.insert(key, v).is_some()
            {
                return Err(Unsupported);
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// The value after `key:` of a mapping at `indent`; the current line
    /// holds what followed the colon (possibly nothing).
    fn value_after_key(&mut self, indent: usize) -> R<Value> {
        let l = self.lines[self.pos];
        if l.text.is_empty() {
            self.pos += 1;
            return self.nested_or_null(indent, true);
        }
        self.scalar_at(indent)
    }

    /// After a line that ends in `key:` or `-`: the block nested below
    /// (deeper than `indent`, or an indentless sequence at `indent` when
    /// `under_key`), else null.
    fn nested_or_null(&mut self, indent: usize, under_key: bool) -> R<Value> {
        let Some(next) = self.next_content() else {
            return Ok(Value::Null);
        };
        if next.indent > indent {
            self.skip_blank();
            if is_item(next.text) {
                return Ok(items_value(self.sequence_items(next.indent)?));
            }
            if mapping_key_end(next.text).is_some() {
                let mut fields = Map::new();
                self.mapping_entries(
                    next.indent,
                    &mut |_, r| Ok(Some(r.value_after_key(next.indent)?)),
                    &mut fields,
                )?;
                return Ok(Value::Object(fields));
            }
            // A scalar alone on the next lines: rare in kubectl's output.
            return Err(Unsupported);
        }
        if under_key && next.indent == indent && is_item(next.text) {
            self.skip_blank();
            return Ok(items_value(self.sequence_items(indent)?));
        }
        Ok(Value::Null)
    }

    /// A scalar that starts on the current line (its text already cut to
    /// the value) and may continue on lines deeper than `indent`.
    fn scalar_at(&mut self, indent: usize) -> R<Value> {
        let l = self.lines[self.pos];
        let t = l.text;
        match t.as_bytes().first() {
            Some(b'"') => self.quoted(indent, true).map(Value::String),
            Some(b'\'') => self.quoted(indent, false).map(Value::String),
            Some(b'|') => self.literal(indent).map(Value::String),
            Some(b'{') if t.trim_end() == "{}" => {
                self.pos += 1;
                Ok(Value::Object(Map::new()))
            }
            Some(b'[') if t.trim_end() == "[]" => {
                self.pos += 1;
                Ok(Value::Array(Vec::new()))
            }
            Some(b) if b"&*!>%@`{[]},#?:-".contains(b) && !plain_dash(t) => Err(Unsupported),
            _ => self.plain(indent),
        }
    }

    /// A plain scalar, folded over the deeper lines that follow.
    fn plain(&mut self, indent: usize) -> R<Value> {
        let first = self.lines[self.pos].text.trim_end();
        check_plain(first)?;
        self.pos += 1;
        let mut text: Option<String> = None;
        // Continuation lines: deeper than the parent, not blank (a blank
        // line inside a plain scalar is a line break: left to the parser).
        while let Some(l) = self.lines.get(self.pos).copied() {
            if l.blank() || l.indent <= indent {
                break;
            }
            let part = l.text.trim_end();
            check_plain(part)?;
            if is_item(part) || mapping_key_end(part).is_some() {
                return Err(Unsupported);
            }
            let s = text.get_or_insert_with(|| first.to_owned());
            s.push(' ');
            s.push_str(part);
            self.pos += 1;
        }
        if let Some(l) = self.lines.get(self.pos)
            && l.blank()
            && self.lines[self.pos..]
                .iter()
                .find(|l| !l.blank())
                .is_some_and(|l| l.indent > indent)
        {
            return Err(Unsupported);
        }
        match text {
            Some(s) => Ok(Value::String(s)),
            None => self.scalars.resolve(first),
        }
    }

    /// A single- or double-quoted scalar, folded over the lines it spans.
    fn quoted(&mut self, indent: usize, double: bool) -> R<String> {
        let quote = if double { b'"' } else { b'\'' };
        let mut out = String::new();
        let mut text = &self.lines[self.pos].text[1..];
        loop {
            let bytes = text.as_bytes();
            let mut i = 0;
            // `out` up to here came from escapes: folding keeps it.
            let mut kept = out.len();
            let mut escaped_break = false;
            let mut closed = false;
            while i < bytes.len() {
                let c = bytes[i];
                if c == quote {
                    if !double && bytes.get(i + 1) == Some(&b'\'') {
                        out.push('\'');
                        i += 2;
                        kept = out.len();
                        continue;
                    }
                    closed = true;
                    i += 1;
                    break;
                }
                if double && c == b'\\' {
                    let Some(&e) = bytes.get(i + 1) else {
                        // `\` at the end of the line: the break is escaped.
                        escaped_break = true;
                        i += 1;
                        break;
                    };
                    i += 2;
                    match e {
                        b'n' => out.push('\n'),
                        b't' | b'\t' => out.push('\t'),
                        b'r' => out.push('\r'),
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b' ' => out.push(' '),
                        b'0' => out.push('\0'),
                        b'a' => out.push('\x07'),
                        b'b' => out.push('\x08'),
                        b'e' => out.push('\x1b'),
                        b'f' => out.push('\x0c'),
                        b'v' => out.push('\x0b'),
                        b'N' => out.push('\u{85}'),
                        b'_' => out.push('\u{a0}'),
                        b'L' => out.push('\u{2028}'),
                        b'P' => out.push('\u{2029}'),
                        b'x' | b'u' | b'U' => {
                            let n = match e {
                                b'x' => 2,
                                b'u' => 4,
                                _ => 8,
                            };
                            let hex = text.get(i..i + n).ok_or(Unsupported)?;
                            let code = u32::from_str_radix(hex, 16).map_err(|_| Unsupported)?;
                            out.push(char::from_u32(code).ok_or(Unsupported)?);
                            i += n;
                        }
                        _ => return Err(Unsupported),
                    }
                    kept = out.len();
                    continue;
                }
                // A run of ordinary bytes (it ends at an ASCII byte).
                let start = i;
                while i < bytes.len() && bytes[i] != quote && !(double && bytes[i] == b'\\') {
                    i += 1;
                }
                out.push_str(&text[start..i]);
            }
            if closed {
                if !text[i..].trim_end().is_empty() {
                    return Err(Unsupported);
                }
                self.pos += 1;
                return Ok(out);
            }
            // The scalar goes on over the line break: trailing blanks of
            // the line are not content (unless the break is escaped).
            if !escaped_break {
                let trimmed = out.trim_end_matches([' ', '\t']).len().max(kept);
                out.truncate(trimmed);
            }
            self.pos += 1;
            let mut breaks = 0;
            loop {
                let Some(l) = self.lines.get(self.pos) else {
                    return Err(Unsupported);
                };
                if !l.blank() {
                    if l.indent <= indent {
                        return Err(Unsupported);
                    }
                    break;
                }
                breaks += 1;
                self.pos += 1;
            }
            match (escaped_break, breaks) {
                (false, 0) => out.push(' '),
                (false, n) => out.extend(std::iter::repeat_n('\n', n)),
                (true, 0) => {}
                (true, _) => return Err(Unsupported),
            }
            // Leading blanks of a continuation line are not content.
            text = self.lines[self.pos].text.trim_start_matches([' ', '\t']);
        }
    }

    /// A `|` block literal (`|`, `|-`, `|+`, with an indentation digit).
    fn literal(&mut self, indent: usize) -> R<String> {
        let header = self.lines[self.pos].text.trim_end();
        let mut chomp = b' ';
        let mut explicit = None;
        for c in header[1..].bytes() {
            match c {
                b'-' | b'+' if chomp == b' ' => chomp = c,
                b'1'..=b'9' if explicit.is_none() => explicit = Some(usize::from(c - b'0')),
                _ => return Err(Unsupported),
            }
        }
        self.pos += 1;
        // The content's indentation: given, or that of its first non-blank line.
        let block_indent = match explicit {
            Some(n) => indent + n,
            None => {
                let first = self.lines[self.pos..].iter().find(|l| !l.blank());
                match first {
                    Some(l) if l.indent > indent => l.indent,
                    _ => {
                        // Empty content: only blank lines, if any.
                        return Err(Unsupported);
                    }
                }
            }
        };
        let mut out = String::new();
        let mut pending_breaks = 0usize;
        let mut any = false;
        while let Some(l) = self.lines.get(self.pos).copied() {
            if l.blank() {
                // A blank line inside the block (or trailing).
                if l.indent + l.text.len() > block_indent {
                    // Spaces beyond the indentation are content.
                    return Err(Unsupported);
                }
                pending_breaks += 1;
                self.pos += 1;
                continue;
            }
            if l.indent < block_indent {
                break;
            }
            if any {
                out.push('\n');
            }
            out.extend(std::iter::repeat_n('\n', pending_breaks));
            pending_breaks = 0;
            out.extend(std::iter::repeat_n(' ', l.indent - block_indent));
            out.push_str(l.text);
            any = true;
            self.pos += 1;
        }
        if !any || (self.unterminated && self.pos >= self.lines.len()) {
            return Err(Unsupported);
        }
        match chomp {
            b'-' => {}
            b'+' => {
                out.push('\n');
                out.extend(std::iter::repeat_n('\n', pending_breaks));
            }
            _ => out.push('\n'),
        }
        Ok(out)
    }

    /// A mapping key: plain, or quoted on one line.
    fn key(&mut self, raw: &str) -> R<String> {
        let raw = raw.trim_end();
        match raw.as_bytes().first() {
            Some(b'"') | Some(b'\'') => {
                let double = raw.starts_with('"');
                let inner = raw.get(1..raw.len().saturating_sub(1)).ok_or(Unsupported)?;
                if raw.len() < 2 || !raw.ends_with(if double { '"' } else { '\'' }) {
                    return Err(Unsupported);
                }
                if double {
                    if inner.contains(['\\', '"']) {
                        return Err(Unsupported);
                    }
                    Ok(inner.to_owned())
                } else {
                    if inner.contains('\'') {
                        return Err(Unsupported);
                    }
                    Ok(inner.to_owned())
                }
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' || *c == b'/' || !c.is_ascii() => {
                check_plain(raw)?;
                if ambiguous(raw) {
                    return Err(Unsupported);
                }
                Ok(raw.to_owned())
            }
            _ => Err(Unsupported),
        }
    }
}

fn items_value(items: Vec<(u32, Value)>) -> Value {
    Value::Array(items.into_iter().map(|(_, v)| v).collect())
}

/// `- x` or `-` alone.
fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// A plain scalar may start with `-` when a non-blank follows (`-1`).
fn plain_dash(t: &str) -> bool {
    t.starts_with('-') && t.len() > 1 && !t[1..].starts_with(' ')
}

/// Where `key` ends in a `key: value` or `key:` line, or `None` when the
/// line is not one.
fn mapping_key_end(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    match b.first()? {
        q @ (b'"' | b'\'') => {
            // A quoted key on one line, then `:`.
            let mut i = 1;
            while i < b.len() {
                if b[i] == *q {
                    if *q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                if *q == b'"' && b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            let colon = i + 1;
            (b.get(colon) == Some(&b':') && (colon + 1 == b.len() || b[colon + 1] == b' '))
                .then_some(colon)
        }
        _ => text
            .find(": ")
            .or_else(|| text.ends_with(':').then(|| text.len() - 1)),
    }
}

/// A plain scalar's text must hold nothing that ends or comments it.
fn check_plain(t: &str) -> R<()> {
    if t.contains(": ") || t.contains(" #") || t.ends_with(':') || t.contains('\t') {
        return Err(Unsupported);
    }
    Ok(())
}

/// Plain scalars whose type is not plainly a string: words YAML 1.1 or 1.2
/// read as booleans, null, infinity or NaN, and anything that starts like a
/// number.
fn ambiguous(t: &str) -> bool {
    let first = t.as_bytes().first().copied().unwrap_or(b' ');
    if first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.' | b'~') {
        return true;
    }
    t.len() <= 5
        && matches!(
            t.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "nan" | "inf"
        )
}

/// Plain scalars the full parser typed, by text: a bundle repeats the same
/// ports, counts and quantities many times.
#[derive(Default)]
pub(crate) struct ScalarCache {
    seen: HashMap<String, Value>,
}

/// At most this many distinct scalars are remembered.
const CACHE_MAX: usize = 1 << 16;

impl ScalarCache {
    /// The value of a one-line plain scalar.
    fn resolve(&mut self, t: &str) -> R<Value> {
        if !ambiguous(t) {
            return Ok(Value::String(t.to_owned()));
        }
        let b = t.as_bytes();
        // A decimal without a leading zero is an integer in every schema.
        if b.len() <= 18 && b.iter().all(u8::is_ascii_digit) && (b[0] != b'0' || b.len() == 1) {
            return t.parse::<u64>().map(Value::from).map_err(|_| Unsupported);
        }
        // No number has two dots (an IP address, a version).
        if b.iter().filter(|c| **c == b'.').count() >= 2
            || (b[0].is_ascii_digit()
                && b.iter().any(|c| {
                    c.is_ascii_alphabetic() && !matches!(c, b'e' | b'E' | b'x' | b'o' | b'b')
                }))
        {
            return Ok(Value::String(t.to_owned()));
        }
        if let Some(v) = self.seen.get(t) {
            return Ok(v.clone());
        }
        let v: Value = serde_saphyr::from_str_with_options(t, super::yaml::options())
            .map_err(|_| Unsupported)?;
        if matches!(v, Value::Array(_) | Value::Object(_)) {
            return Err(Unsupported);
        }
        if self.seen.len() < CACHE_MAX {
            self.seen.insert(t.to_owned(), v.clone());
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::yaml::{documents, parse_yaml_with};
    use proptest::prelude::*;
    use std::path::{Path, PathBuf};

    /// How many documents of `text` the fast reader takes.
    fn fast_share(text: &str) -> (usize, usize) {
        let mut cache = ScalarCache::default();
        let docs: Vec<_> = documents(text)
            .into_iter()
            .filter(|(_, d)| !d.trim().is_empty())
            .collect();
        let fast = docs
            .iter()
            .filter(|(_, d)| parse_document(d, &mut cache).is_some())
            .count();
        (fast, docs.len())
    }

    /// Both readers give the same objects, lines and problems.
    fn same(text: &str, what: &str) {
        let fast = parse_yaml_with(text, true);
        let full = parse_yaml_with(text, false);
        assert_eq!(fast.records, full.records, "{what}");
        assert_eq!(fast.diagnostics, full.diagnostics, "{what}");
    }

    fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                yaml_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(p);
            }
        }
    }

    /// Checks every file both ways; (documents read fast, documents).
    fn check_files(files: &[PathBuf]) -> (usize, usize) {
        let (mut fast, mut all) = (0, 0);
        for f in files {
            let Ok(text) = std::fs::read_to_string(f) else {
                continue;
            };
            same(&text, &f.display().to_string());
            let (a, b) = fast_share(&text);
            fast += a;
            all += b;
        }
        (fast, all)
    }

    #[test]
    fn kubectl_yaml_of_the_sample_bundles_reads_alike_and_fast() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample-bundles");
        let mut files = Vec::new();
        yaml_files(&root, &mut files);
        assert!(files.len() > 100, "{} files", files.len());
        let (fast, all) = check_files(&files);
        eprintln!("{fast} of {all} sample documents read fast");
        // Nearly every document the collector writes takes the fast way.
        assert!(fast * 10 >= all * 9, "{fast} of {all} documents read fast");
    }

    #[test]
    fn real_yaml_reads_alike() {
        let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/real-data");
        if !shared.exists() {
            eprintln!(
                "skipped: {} is absent (a clone without ../shared)",
                shared.display()
            );
            return;
        }
        let mut files = Vec::new();
        yaml_files(&shared, &mut files);
        let (mut fast, mut all) = check_files(&files);
        // The OpenShift must-gather: 2,341 YAML files `oc adm inspect` wrote.
        let mg = shared.join("bundles2/must-gather-ocp-4.9-sdn-metal-ci.tar.xz");
        if let Ok(file) = std::fs::File::open(&mg) {
            let xz = lzma_rust2::XzReader::new(std::io::BufReader::new(file), true);
            let mut archive = tar::Archive::new(xz);
            let mut n = 0;
            for entry in archive.entries().into_iter().flatten().flatten() {
                let mut entry = entry;
                let name = entry
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                if !name.ends_with(".yaml") {
                    continue;
                }
                let mut text = String::new();
                if std::io::Read::read_to_string(&mut entry, &mut text).is_err() {
                    continue;
                }
                same(&text, &name);
                let (a, b) = fast_share(&text);
                fast += a;
                all += b;
                n += 1;
            }
            assert!(n > 2000, "{n} YAML files in the must-gather");
        }
        eprintln!("{fast} of {all} real documents read fast");
        assert!(fast * 10 >= all * 7, "{fast} of {all} documents read fast");
    }

    /// Strings that need care: YAML words, numbers, indicators, blanks,
    /// quotes, escapes, line breaks, long text that a printer folds.
    const STRINGS: &[&str] = &[
        "kube-proxy",
        "true",
        "True",
        "null",
        "~",
        "yes",
        "0",
        "53",
        "0123",
        "-1",
        "1.5",
        "1e3",
        "0x1F",
        ".inf",
        "10.244.0.0/16",
        "100m",
        "2026-11-27T08:00:00Z",
        "a: b",
        "x #y",
        "",
        " lead",
        "trail ",
        "it's",
        "say \"hi\"",
        "back\\slash",
        "tab\there",
        "two\nlines",
        "trailing newline\n",
        "café",
        "-dash",
        "- item",
        "key:",
        "@at",
        "{brace}",
        "[bracket]",
        "*star",
        "&amp",
        "!bang",
        "%pct",
        "|pipe",
        ">gt",
        "0/3 nodes are available: 1 node(s) had taint {node-role.kubernetes.io/master: }, that the pod didn't tolerate, 2 Insufficient cpu.",
    ];

    /// A value as a Go printer would write it: block style, `|` for
    /// multi-line strings, quotes where plain would change the value, long
    /// quoted strings folded at a space.
    fn emit(v: &Value, indent: usize, out: &mut String) {
        match v {
            Value::Object(m) if m.is_empty() => out.push_str(" {}\n"),
            Value::Array(a) if a.is_empty() => out.push_str(" []\n"),
            Value::Object(m) => {
                out.push('\n');
                for (k, v) in m {
                    out.push_str(&" ".repeat(indent));
                    out.push_str(k);
                    out.push(':');
                    emit(v, indent + 2, out);
                }
            }
            Value::Array(a) => {
                out.push('\n');
                for v in a {
                    out.push_str(&" ".repeat(indent.saturating_sub(2)));
                    out.push('-');
                    match v {
                        Value::Object(m) if !m.is_empty() => {
                            let mut inner = String::new();
                            emit(v, indent, &mut inner);
                            // `- ` then the first key on the same line.
                            let inner = inner.trim_start_matches('\n');
                            out.push(' ');
                            out.push_str(inner.trim_start_matches(' '));
                        }
                        _ => emit(v, indent, out),
                    }
                }
            }
            Value::String(s) => emit_string(s, indent, out),
            other => {
                out.push(' ');
                out.push_str(&other.to_string());
                out.push('\n');
            }
        }
    }

    fn emit_string(s: &str, indent: usize, out: &mut String) {
        let plain_ok = !s.is_empty()
            && !ambiguous(s)
            && check_plain(s).is_ok()
            && !s.starts_with([
                ' ', '-', '@', '{', '[', '*', '&', '!', '%', '|', '>', '\'', '"', '#', '?', ':',
                '`', ',', ']', '}',
            ])
            && !s.ends_with(' ')
            && !s.contains(['\n', '\\', '"', '\'']);
        if plain_ok {
            out.push(' ');
            out.push_str(s);
            out.push('\n');
        } else if s.contains('\n')
            && !s.starts_with(' ')
            && !s.contains("\n\n")
            && !s.contains("\n ")
        {
            out.push_str(if s.ends_with('\n') { " |\n" } else { " |-\n" });
            for l in s.trim_end_matches('\n').split('\n') {
                out.push_str(&" ".repeat(indent));
                out.push_str(l);
                out.push('\n');
            }
        } else if !s.contains(['\n', '\t']) && !s.starts_with(' ') && !s.ends_with(' ') {
            // Single quotes, folded at a space past 40 columns.
            let quoted = s.replace('\'', "''");
            out.push_str(" '");
            let mut col = 0;
            for (i, word) in quoted.split(' ').enumerate() {
                if i > 0 {
                    if col > 40 && !word.is_empty() {
                        out.push('\n');
                        out.push_str(&" ".repeat(indent));
                        col = 0;
                    } else {
                        out.push(' ');
                    }
                }
                out.push_str(word);
                col += word.len() + 1;
            }
            out.push_str("'\n");
        } else {
            out.push(' ');
            out.push_str(&serde_json::to_string(s).unwrap_or_default());
            out.push('\n');
        }
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            (0..STRINGS.len()).prop_map(|i| Value::String(STRINGS[i].to_owned())),
            any::<u16>().prop_map(Value::from),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z][a-zA-Z0-9./-]{0,8}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Whatever values a List holds, written the way kubectl writes
        /// them, both readers read the same objects.
        #[test]
        fn both_readers_agree_on_printed_lists(
            items in proptest::collection::vec(proptest::collection::btree_map("[a-z]{1,6}", value(), 0..5), 0..4),
        ) {
            let mut text = String::from("apiVersion: v1\nitems:\n");
            for (i, fields) in items.iter().enumerate() {
                let mut m = Map::new();
                m.insert("apiVersion".into(), Value::String("v1".into()));
                m.insert("kind".into(), Value::String("ConfigMap".into()));
                let mut meta = Map::new();
                meta.insert("name".into(), Value::String(format!("cm-{i}")));
                m.insert("metadata".into(), Value::Object(meta));
                m.insert(
                    "data".into(),
                    Value::Object(fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
                );
                let mut item = String::new();
                emit(&Value::Array(vec![Value::Object(m)]), 2, &mut item);
                text.push_str(item.trim_start_matches('\n'));
            }
            text.push_str("kind: List\nmetadata:\n  resourceVersion: \"\"\n");
            let fast = parse_yaml_with(&text, true);
            let full = parse_yaml_with(&text, false);
            prop_assert_eq!(&fast.records, &full.records, "{}", text);
            prop_assert_eq!(&fast.diagnostics, &full.diagnostics, "{}", text);
        }
    }

    #[test]
    fn the_printer_of_the_property_test_is_read_fast() {
        let mut m = Map::new();
        for (i, s) in STRINGS.iter().enumerate() {
            m.insert(format!("k{i}"), Value::String((*s).to_owned()));
        }
        let mut text = String::from("kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: x\ndata:");
        emit(&Value::Object(m), 2, &mut text);
        let mut cache = ScalarCache::default();
        assert!(parse_document(&text, &mut cache).is_some(), "{text}");
        same(&text, "printer");
    }
}
