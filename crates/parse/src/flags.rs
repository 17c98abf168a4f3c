//! Command-line flags of Kubernetes components as they appear in pod
//! specs: `--cluster-cidr=10.244.0.0/16` or `--cluster-cidr 10.244.0.0/16`.

/// The value of `--name` in a command line, in either spelling; the last
/// occurrence wins, as with Go's flag package.
pub fn flag_value(argv: &[String], name: &str) -> Option<String> {
    let long = format!("--{name}");
    let with_eq = format!("{long}=");
    let mut found = None;
    let mut iter = argv.iter().flat_map(|a| a.split_whitespace()).peekable();
    while let Some(arg) = iter.next() {
        if let Some(v) = arg.strip_prefix(&with_eq) {
            found = Some(v.to_owned());
        } else if arg == long
            && let Some(next) = iter.peek()
            && !next.starts_with("--")
        {
            found = iter.next().map(str::to_owned);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings() {
        let argv: Vec<String> = [
            "kube-controller-manager",
            "--allocate-node-cidrs=true",
            "--cluster-cidr=10.244.0.0/16",
            "--service-cluster-ip-range",
            "10.233.0.0/18",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            flag_value(&argv, "cluster-cidr").as_deref(),
            Some("10.244.0.0/16")
        );
        assert_eq!(
            flag_value(&argv, "service-cluster-ip-range").as_deref(),
            Some("10.233.0.0/18")
        );
        assert_eq!(flag_value(&argv, "node-cidr-mask-size"), None);
    }
}
