//! Reading a stream line by line with a bound on the line length, so that
//! a 50 MB line without a newline costs 64 KiB, not 50 MB.

use std::io::{self, BufRead};

/// Default longest line kept; the rest of a longer line is skipped.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// One line of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamLine {
    /// 1-based line number.
    pub number: u64,
    /// The line, decoded lossily, without its newline, cut at the bound.
    pub text: String,
    /// Whether the line was longer than the bound.
    pub truncated: bool,
    /// Whether the line held bytes that are not UTF-8.
    pub lossy: bool,
}

/// A bounded line reader over any [`BufRead`].
pub struct BoundedLines<R> {
    reader: R,
    max: usize,
    number: u64,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> BoundedLines<R> {
    /// Reads lines of at most `max` bytes from `reader`.
    pub fn new(reader: R, max: usize) -> Self {
        BoundedLines {
            reader,
            max,
            number: 0,
            buf: Vec::new(),
            done: false,
        }
    }
}

impl<R: BufRead> Iterator for BoundedLines<R> {
    type Item = io::Result<StreamLine>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        self.buf.clear();
        let mut truncated = false;
        let mut saw_any = false;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            if chunk.is_empty() {
                self.done = true;
                if !saw_any {
                    return None;
                }
                break;
            }
            saw_any = true;
            let (take, found) = match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            let room = self.max.saturating_sub(self.buf.len());
            if take > room {
                truncated = true;
            }
            self.buf.extend_from_slice(&chunk[..take.min(room)]);
            self.reader.consume(if found { take + 1 } else { take });
            if found {
                break;
            }
        }
        self.number += 1;
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        let (text, lossy) = match String::from_utf8(std::mem::take(&mut self.buf)) {
            Ok(s) => (s, false),
            Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
        };
        Some(Ok(StreamLine {
            number: self.number,
            text,
            truncated,
            lossy,
        }))
    }
}

/// Decodes a whole small file: UTF-8 if it is, else lossily, saying so.
pub fn decode(bytes: &[u8]) -> (std::borrow::Cow<'_, str>, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (
            std::borrow::Cow::Borrowed(s.strip_prefix('\u{feff}').unwrap_or(s)),
            false,
        ),
        Err(_) => (String::from_utf8_lossy(bytes), true),
    }
}

/// Programs whose own error messages (`sysctl: permission denied on key
/// ...`, `cat: /proc/...: No such file or directory`) land in a captured
/// command output when stderr was collected with stdout.
const TOOLS: &[&str] = &[
    "sysctl",
    "ip",
    "bridge",
    "lsmod",
    "modprobe",
    "modinfo",
    "cat",
    "ls",
    "sh",
    "bash",
    "dash",
    "timeout",
    "sudo",
    "chroot",
    "nsenter",
    "iptables",
    "iptables-save",
    "ip6tables",
    "ip6tables-save",
    "iptables-legacy-save",
    "iptables-nft-save",
    "nft",
    "ipvsadm",
    "ss",
    "conntrack",
    "getenforce",
    "sestatus",
    "systemctl",
    "firewall-cmd",
];

/// Opening words of iproute2's and the kernel interface's error messages.
const STDERR_PREFIXES: &[&str] = &[
    "RTNETLINK answers:",
    "Cannot open ",
    "Cannot find device",
    "Cannot send dump request",
    "Cannot create ",
    "Dump terminated",
    "Dump was interrupted",
    "Error: ",
    "Object \"",
    "Command \"",
];

/// Whether a line of captured output is the tool's own error message
/// rather than output: `sysctl: unable to open directory "/proc/sys/fs/binfmt_misc/"`,
/// `RTNETLINK answers: Operation not permitted`, `Cannot open netlink socket: ...`,
/// `/bin/sh: ip: command not found`, `Device "flannel.1" does not exist.`
///
/// It names a known program (or a path to one) before `: `, or starts like
/// iproute2's messages do; a record of `sysctl -a`, `lsmod` or `ip` never
/// does. Line-based parsers skip such lines instead of reading them as data.
pub fn is_tool_stderr(line: &str) -> bool {
    let t = line.trim();
    if STDERR_PREFIXES.iter().any(|p| t.starts_with(p)) {
        return true;
    }
    if t.starts_with("Device \"") && t.ends_with("does not exist.") {
        return true;
    }
    let Some((prog, rest)) = t.split_once(": ") else {
        return false;
    };
    if rest.is_empty() || prog.contains(char::is_whitespace) {
        return false;
    }
    let base = prog.rsplit('/').next().unwrap_or(prog);
    TOOLS.contains(&base)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn long_line_is_cut_and_next_line_survives() {
        let mut data = vec![b'x'; 300_000];
        data.extend_from_slice(b"\nsecond\r\n");
        let lines: Vec<_> = BoundedLines::new(io::BufReader::with_capacity(4096, &data[..]), 1000)
            .map(Result::unwrap)
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text.len(), 1000);
        assert!(lines[0].truncated);
        assert_eq!(lines[1].text, "second");
        assert_eq!(lines[1].number, 2);
    }

    #[test]
    fn invalid_utf8_is_flagged() {
        let lines: Vec<_> = BoundedLines::new(&b"caf\xe9\n"[..], 100)
            .map(Result::unwrap)
            .collect();
        assert!(lines[0].lossy);
        assert_eq!(lines[0].text, "caf\u{fffd}");
    }

    #[test]
    fn tool_error_messages_are_recognised() {
        for yes in [
            "sysctl: unable to open directory \"/proc/sys/fs/binfmt_misc/\"",
            "sysctl: permission denied on key 'fs.protected_fifos'",
            "/usr/sbin/sysctl: cannot stat /proc/sys/x: No such file or directory",
            "RTNETLINK answers: Operation not permitted",
            "Cannot open netlink socket: Protocol not supported",
            "Device \"flannel.1\" does not exist.",
            "/bin/sh: ip: command not found",
            "lsmod: ERROR: could not open '/proc/modules'",
            "Error: Peer netns reference is invalid.",
        ] {
            assert!(is_tool_stderr(yes), "{yes}");
        }
        for no in [
            "net.ipv4.ip_forward = 1",
            "kernel.core_pattern = |/usr/lib/systemd/systemd-coredump %P %u",
            "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536",
            "br_netfilter           32768  0",
            "default via 10.0.0.1 dev eth0",
            "ip: ",
            "",
        ] {
            assert!(!is_tool_stderr(no), "{no}");
        }
    }

    proptest! {
        #[test]
        fn sysctl_and_lsmod_records_are_never_tool_errors(
            key in "[a-z][a-z0-9_]{0,8}(\\.[a-z0-9_/-]{1,8}){0,4}",
            value in "[ -~]{0,30}",
            size in 0u64..10_000_000,
        ) {
            let sysctl_line = format!("{key} = {value}");
            let lsmod_line = format!("{key}  {size}  0");
            prop_assert!(!is_tool_stderr(&sysctl_line));
            prop_assert!(!is_tool_stderr(&lsmod_line));
        }

        #[test]
        fn same_lines_as_std_when_short(text in "[a-z \\n]{0,200}") {
            let ours: Vec<String> = BoundedLines::new(text.as_bytes(), 1000).map(|l| l.unwrap().text).collect();
            let std: Vec<String> = text.lines().map(str::to_owned).collect();
            prop_assert_eq!(ours, std);
        }
    }
}
