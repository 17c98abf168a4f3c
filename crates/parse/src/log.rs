//! Log lines of Kubernetes components: the `kubectl logs --timestamps`
//! prefix, klog headers, CoreDNS's `[LEVEL]` lines, journald prefixes, and a
//! generic fallback. [`parse_log_line`] works on one line, so callers can
//! stream a log of any size (see [`crate::lines::BoundedLines`]).

use jiff::Timestamp;
use serde::Serialize;

/// Which format the line was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `I1127 10:15:00.123456       1 reflector.go:147] message`
    Klog,
    /// `[INFO] plugin/ready: ...` (optionally after a `2018/08/15 14:37:17` date)
    CoreDns,
    /// Anything else.
    Generic,
}

/// Severity, normalised across formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Debug / trace.
    Debug,
    /// Information.
    Info,
    /// Warning.
    Warning,
    /// Error.
    Error,
    /// Fatal: the process exits.
    Fatal,
}

/// One parsed log line. `message` borrows from the input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogLine<'a> {
    /// Recognised format.
    pub format: LogFormat,
    /// Full timestamp, from the `--timestamps` prefix or a dated format.
    pub timestamp: Option<Timestamp>,
    /// klog's month-day and time (`1127 10:15:00.123456`); klog has no year.
    pub klog_time: Option<&'a str>,
    /// Severity, where the format has one.
    pub severity: Option<Severity>,
    /// klog's thread/process id.
    pub pid: Option<u32>,
    /// klog's `file.go:line`.
    pub source: Option<&'a str>,
    /// CoreDNS plugin (`ready` in `plugin/ready: ...`).
    pub plugin: Option<&'a str>,
    /// The message after every header.
    pub message: &'a str,
}

/// Parses one line (without its newline).
pub fn parse_log_line(line: &str) -> LogLine<'_> {
    let (timestamp, rest) = split_timestamp(line);
    let (rest, journald_ts) = strip_journald(rest);
    let timestamp = timestamp.or(journald_ts);
    if let Some(l) = klog(rest, timestamp) {
        return l;
    }
    if let Some(l) = coredns(rest, timestamp) {
        return l;
    }
    LogLine {
        format: LogFormat::Generic,
        timestamp,
        klog_time: None,
        severity: generic_severity(rest),
        pid: None,
        source: None,
        plugin: None,
        message: rest,
    }
}

/// The RFC 3339 prefix `kubectl logs --timestamps` adds.
fn split_timestamp(line: &str) -> (Option<Timestamp>, &str) {
    let Some((first, rest)) = line.split_once(' ') else {
        return (None, line);
    };
    if first.len() >= 20
        && first.as_bytes()[4] == b'-'
        && first.as_bytes()[10] == b'T'
        && let Ok(ts) = first.parse::<Timestamp>()
    {
        return (Some(ts), rest);
    }
    (None, line)
}

/// `Jan 23 16:55:10 host unit[pid]: message` (journalctl's short format).
fn strip_journald(line: &str) -> (&str, Option<Timestamp>) {
    let b = line.as_bytes();
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    if b.len() > 16
        && MONTHS.iter().any(|m| line.starts_with(m))
        && b[3] == b' '
        && b[9] == b':'
        && b[12] == b':'
        && b[15] == b' '
    {
        let rest = &line[16..];
        if let Some((head, msg)) = rest.split_once(": ")
            && head.split_whitespace().count() == 2
        {
            return (msg, None);
        }
    }
    (line, None)
}

fn klog<'a>(s: &'a str, timestamp: Option<Timestamp>) -> Option<LogLine<'a>> {
    let b = s.as_bytes();
    if b.len() < 22 {
        return None;
    }
    let severity = match b[0] {
        b'I' => Severity::Info,
        b'W' => Severity::Warning,
        b'E' => Severity::Error,
        b'F' => Severity::Fatal,
        _ => return None,
    };
    // I1127 10:15:00.123456
    if !(b[1..5].iter().all(u8::is_ascii_digit) && b[5] == b' ' && b[8] == b':' && b[11] == b':') {
        return None;
    }
    let time_end = s[5..]
        .find([' ', '\t'])
        .map(|i| i + 5)
        .filter(|i| *i > 6)
        .unwrap_or(0);
    let time_end = if time_end == 0 {
        s[6..].find(' ').map(|i| i + 6)?
    } else {
        s[6..].find(' ').map(|i| i + 6).unwrap_or(time_end)
    };
    let klog_time = &s[1..time_end];
    let rest = s[time_end..].trim_start();
    let (pid, rest) = match rest.split_once(' ') {
        Some((p, r)) if p.chars().all(|c| c.is_ascii_digit()) => (p.parse().ok(), r.trim_start()),
        _ => (None, rest),
    };
    let (source, message) = match rest.split_once("] ") {
        Some((src, msg)) if src.contains(':') && !src.contains(' ') => (Some(src), msg),
        _ => match rest.strip_suffix(']') {
            Some(src) if src.contains(':') && !src.contains(' ') => (Some(src), ""),
            _ => (None, rest),
        },
    };
    Some(LogLine {
        format: LogFormat::Klog,
        timestamp,
        klog_time: Some(klog_time),
        severity: Some(severity),
        pid,
        source,
        plugin: None,
        message,
    })
}

fn coredns<'a>(s: &'a str, timestamp: Option<Timestamp>) -> Option<LogLine<'a>> {
    // Older CoreDNS: `2018/08/15 14:37:17 [INFO] ...`
    let (timestamp, s) = match s.get(..20) {
        Some(head)
            if head.as_bytes()[4] == b'/'
                && head.as_bytes()[7] == b'/'
                && head.as_bytes()[19] == b' ' =>
        {
            let iso = format!(
                "{}-{}-{}T{}Z",
                &head[0..4],
                &head[5..7],
                &head[8..10],
                &head[11..19]
            );
            (timestamp.or_else(|| iso.parse().ok()), &s[20..])
        }
        _ => (timestamp, s),
    };
    let rest = s.strip_prefix('[')?;
    let (level, msg) = rest
        .split_once("] ")
        .or_else(|| rest.strip_suffix(']').map(|l| (l, "")))?;
    let severity = match level {
        "INFO" => Severity::Info,
        "WARNING" => Severity::Warning,
        "ERROR" => Severity::Error,
        "FATAL" | "PANIC" => Severity::Fatal,
        "DEBUG" => Severity::Debug,
        _ => return None,
    };
    let plugin = msg
        .strip_prefix("plugin/")
        .and_then(|p| p.split_once(':'))
        .map(|(name, _)| name);
    Some(LogLine {
        format: LogFormat::CoreDns,
        timestamp,
        klog_time: None,
        severity: Some(severity),
        pid: None,
        source: None,
        plugin,
        message: msg,
    })
}

fn generic_severity(s: &str) -> Option<Severity> {
    // The first 40 bytes, lower-cased on the stack (this runs on every line
    // of every application log).
    let mut head = [0u8; 40];
    let n = s.len().min(head.len());
    head[..n].copy_from_slice(&s.as_bytes()[..n]);
    head[..n].make_ascii_lowercase();
    let lower = &head[..n];
    let has = |needle: &[u8]| lower.windows(needle.len()).any(|w| w == needle);
    if has(b"level=error") || has(b"\"level\":\"error\"") {
        Some(Severity::Error)
    } else if has(b"level=warn") || has(b"\"level\":\"warn") {
        Some(Severity::Warning)
    } else if has(b"level=info") || has(b"\"level\":\"info\"") {
        Some(Severity::Info)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn klog_with_kubectl_timestamp() {
        let l = parse_log_line(
            "2026-11-27T08:02:11.345678901Z E1127 08:02:11.345601       1 reflector.go:147] k8s.io/client-go/informers/factory.go:159: Failed to watch *v1.Service: failed to list *v1.Service: services is forbidden",
        );
        assert_eq!(l.format, LogFormat::Klog);
        assert_eq!(l.severity, Some(Severity::Error));
        assert_eq!(l.klog_time, Some("1127 08:02:11.345601"));
        assert_eq!(l.pid, Some(1));
        assert_eq!(l.source, Some("reflector.go:147"));
        assert!(l.message.starts_with("k8s.io/client-go"));
        assert_eq!(
            l.timestamp.unwrap().to_string(),
            "2026-11-27T08:02:11.345678901Z"
        );
    }

    #[test]
    fn coredns_levels_and_dates() {
        let l = parse_log_line("[INFO] plugin/ready: Still waiting on: \"kubernetes\"");
        assert_eq!(
            (l.format, l.severity, l.plugin),
            (LogFormat::CoreDns, Some(Severity::Info), Some("ready"))
        );
        let l = parse_log_line("2018/08/15 14:37:17 [INFO] CoreDNS-1.2.2");
        assert_eq!(l.message, "CoreDNS-1.2.2");
        assert_eq!(l.timestamp.unwrap().to_string(), "2018-08-15T14:37:17Z");
        assert_eq!(
            parse_log_line("[FATAL] plugin/loop: Loop detected").severity,
            Some(Severity::Fatal)
        );
    }

    #[test]
    fn journald_prefix_then_klog() {
        let l = parse_log_line(
            "Jan 23 16:55:10 kevin-test1 flanneld[692]: I0123 16:55:10.487907     692 main.go:439] Searching for interface using 10.162.0.7",
        );
        assert_eq!(l.format, LogFormat::Klog);
        assert_eq!(l.source, Some("main.go:439"));
    }

    #[test]
    fn generic_fallback() {
        let l = parse_log_line("server.go:610] Failed to retrieve node IP: host IP unknown");
        assert_eq!(l.format, LogFormat::Generic);
        assert_eq!(
            l.message,
            "server.go:610] Failed to retrieve node IP: host IP unknown"
        );
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,120}") {
            let _ = parse_log_line(&s);
        }
        #[test]
        fn klog_like_lines_never_panic(sev in "[IWEF]", rest in "[0-9 :.\\]a-z]{0,40}") {
            let _ = parse_log_line(&format!("{sev}1127 {rest}"));
        }
    }
}
