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

/// Top-level names that belong to a bundle's root itself (kdiag's layout and
/// troubleshoot.sh's); a first entry starting with one of them means the
/// archive has no wrapping directory.
const ROOT_NAMES: &[&str] = &[
    "manifest.json",
    "cluster",
    "logs",
    "nodes",
    "probes",
    "collector.log",
    "version.yaml",
    "cluster-resources",
    "cluster-info",
    "all-logs",
    "analysis.json",
    "sysctl",
    "host-collectors",
    "execution-data",
];

/// Finds the bundle root of an archive from its first entry, then strips it
/// from every later entry (BUNDLE-FORMAT.md: the single top-level directory,
/// or `.` when entries have no common top directory).
#[derive(Debug, Default)]
pub(crate) struct RootFinder {
    root: Option<String>,
}

/// Where an entry falls relative to the bundle root.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Rooted {
    /// A path inside the root, with the root removed.
    Inside(String),
    /// The root directory itself.
    IsRoot,
    /// Outside the root chosen from the first entry.
    Outside,
}

impl RootFinder {
    /// The root chosen so far (`""` for `.`).
    pub(crate) fn root(&self) -> &str {
        self.root.as_deref().unwrap_or("")
    }

    pub(crate) fn place(&mut self, path: &str, is_dir: bool) -> Rooted {
        let root = self.root.get_or_insert_with(|| {
            let (first, rest) = match path.split_once('/') {
                Some((first, rest)) => (first, Some(rest)),
                None => (path, None),
            };
            if ROOT_NAMES.contains(&first) || (rest.is_none() && !is_dir) {
                String::new()
            } else {
                first.to_owned()
            }
        });
        if root.is_empty() {
            return Rooted::Inside(path.to_owned());
        }
        if path == root.as_str() {
            return Rooted::IsRoot;
        }
        match path
            .strip_prefix(root.as_str())
            .and_then(|r| r.strip_prefix('/'))
        {
            Some(inner) => Rooted::Inside(inner.to_owned()),
            None => Rooted::Outside,
        }
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
    fn wrapping_directory_is_the_root() {
        let mut r = RootFinder::default();
        assert_eq!(r.place("kdiag-bundle-1", true), Rooted::IsRoot);
        assert_eq!(
            r.place("kdiag-bundle-1/cluster/nodes.yaml", false),
            Rooted::Inside("cluster/nodes.yaml".into())
        );
        assert_eq!(r.place("elsewhere/x", false), Rooted::Outside);
        assert_eq!(r.root(), "kdiag-bundle-1");
    }

    #[test]
    fn bare_layout_has_root_at_dot() {
        let mut r = RootFinder::default();
        assert_eq!(
            r.place("cluster/nodes.yaml", false),
            Rooted::Inside("cluster/nodes.yaml".into())
        );
        assert_eq!(
            r.place("nodes/w1/ip-route.txt", false),
            Rooted::Inside("nodes/w1/ip-route.txt".into())
        );
        assert_eq!(r.root(), "");
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
