use std::fmt;

/// Why an entry name cannot be used as a bundle path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathProblem {
    /// Starts with `/`.
    Absolute,
    /// Has a `..` component.
    ParentDir,
    /// Nothing left after removing `.` and empty components.
    Empty,
    /// Not valid UTF-8.
    NonUtf8,
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathProblem::Absolute => "absolute path",
            PathProblem::ParentDir => "path climbs out of the bundle with '..'",
            PathProblem::Empty => "empty path",
            PathProblem::NonUtf8 => "name is not valid UTF-8",
        })
    }
}

/// Turns an archive entry name into a clean relative path: `/`-separated,
/// without `.` or empty components. Names that are absolute, climb with `..`
/// or are not UTF-8 are refused; the caller reports them and skips the entry.
pub fn normalize_entry_path(raw: &[u8]) -> Result<String, PathProblem> {
    let text = std::str::from_utf8(raw).map_err(|_| PathProblem::NonUtf8)?;
    if text.starts_with('/') {
        return Err(PathProblem::Absolute);
    }
    let mut parts = Vec::new();
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(PathProblem::ParentDir),
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return Err(PathProblem::Empty);
    }
    Ok(parts.join("/"))
}

/// The top-level directory every file of an archive shares, if any, for
/// the summary. Paths are never cut by it: each file keeps its whole path,
/// and the layout is found in each path wherever it starts.
#[derive(Debug, Default)]
pub(crate) struct CommonRoot {
    root: Option<Option<String>>,
}

impl CommonRoot {
    /// Notes one file's path.
    pub(crate) fn see(&mut self, path: &str) {
        let first = path.split_once('/').map(|(first, _)| first.to_owned());
        match &mut self.root {
            None => self.root = Some(first),
            Some(held) if *held != first => *held = None,
            Some(_) => {}
        }
    }

    /// The shared top-level directory (`""` when files do not share one).
    pub(crate) fn root(&self) -> &str {
        self.root.as_ref().and_then(Option::as_deref).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalizes_dot_and_empty_components() {
        assert_eq!(normalize_entry_path(b"./b/./c//d").unwrap(), "b/c/d");
        assert_eq!(normalize_entry_path(b"b/c/").unwrap(), "b/c");
    }

    #[test]
    fn refuses_traversal_absolute_and_non_utf8() {
        assert_eq!(
            normalize_entry_path(b"a/../../etc/passwd"),
            Err(PathProblem::ParentDir)
        );
        assert_eq!(
            normalize_entry_path(b"/etc/passwd"),
            Err(PathProblem::Absolute)
        );
        assert_eq!(
            normalize_entry_path(b"a/\xff.log"),
            Err(PathProblem::NonUtf8)
        );
        assert_eq!(normalize_entry_path(b"./"), Err(PathProblem::Empty));
    }

    #[test]
    fn root_is_shared_only_when_every_file_shares_it() {
        let mut r = CommonRoot::default();
        r.see("hosts/n1/configz.json");
        r.see("hosts/n1/healthz.json");
        assert_eq!(r.root(), "hosts");
        r.see("resources/cluster/Nodes.json");
        assert_eq!(r.root(), "");
        let mut top = CommonRoot::default();
        top.see("serverversion.json");
        assert_eq!(top.root(), "");
    }

    proptest! {
        #[test]
        fn normalized_paths_never_escape(raw in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(p) = normalize_entry_path(&raw) {
                prop_assert!(!p.starts_with('/'));
                prop_assert!(!p.split('/').any(|c| c == ".." || c == "." || c.is_empty()));
            }
        }
    }
}
