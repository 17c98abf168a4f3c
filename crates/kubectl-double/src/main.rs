//! `kubectl`, as far as kdiag-collect uses it, answered from a sample bundle.
//!
//! The collector's tests put this binary first on `PATH` as `kubectl`. It
//! reads its configuration from the environment:
//!
//! - `KDIAG_DOUBLE_BUNDLE`: the sample bundle (a directory) to answer from.
//! - `KDIAG_DOUBLE_STATE`: a directory for its state: `calls.jsonl` (every
//!   call's argv without `--context`/`--kubeconfig`), `raw-calls.jsonl`
//!   (as given), `pods/` (pods created and not yet deleted) and
//!   `SECRETS-REQUESTED` (written if anything asks for Secrets).
//! - `KDIAG_DOUBLE_FAIL`: `pattern=>mode;...`: a call whose arguments
//!   contain `pattern` fails with `forbidden`, `notfound`, `unreachable`
//!   (API server refused), or hangs (`timeout`).
//! - `KDIAG_DOUBLE_UNREACHABLE`: node names whose pods never become Ready.
//! - `KDIAG_DOUBLE_NO_PULL`: node names where the pods' image cannot be pulled.
//! - `KDIAG_DOUBLE_NETNS`: `node=netns,...`: `ip` and `bridge` on that node
//!   run for real in that network namespace (`ip netns exec`).

mod jsonpath;
mod yaml;

use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

struct Double {
    bundle: PathBuf,
    state: PathBuf,
}

/// A finished call: stdout, stderr, exit code.
struct Answer {
    out: Vec<u8>,
    err: String,
    code: u8,
}

impl Answer {
    fn ok(out: impl Into<Vec<u8>>) -> Self {
        Answer {
            out: out.into(),
            err: String::new(),
            code: 0,
        }
    }
    fn fail(code: u8, err: impl Into<String>) -> Self {
        Answer {
            out: Vec::new(),
            err: err.into(),
            code,
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(bundle), Some(state)) = (
        std::env::var_os("KDIAG_DOUBLE_BUNDLE"),
        std::env::var_os("KDIAG_DOUBLE_STATE"),
    ) else {
        eprintln!("kubectl-double: KDIAG_DOUBLE_BUNDLE and KDIAG_DOUBLE_STATE must be set");
        return ExitCode::from(2);
    };
    let d = Double {
        bundle: bundle.into(),
        state: state.into(),
    };
    d.log_raw(&args);
    let args = strip_globals(&args);
    d.log_call(&args);
    let answer = d.answer(&args);
    let _ = std::io::stdout().write_all(&answer.out);
    if !answer.err.is_empty() {
        eprintln!("{}", answer.err);
    }
    ExitCode::from(answer.code)
}

/// Drops `--context X`, `--kubeconfig X` (and their `=` forms).
fn strip_globals(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--context" || a == "--kubeconfig" {
            i += 2;
            continue;
        }
        if a.starts_with("--context=") || a.starts_with("--kubeconfig=") {
            i += 1;
            continue;
        }
        out.push(a.clone());
        i += 1;
    }
    out
}

/// The value of `-n`/`--namespace`, `-l`/`--selector`, `-o`/`--output`, ...
fn flag<'a>(args: &'a [String], names: &[&str]) -> Option<&'a str> {
    for (i, a) in args.iter().enumerate() {
        for n in names {
            if a == n {
                return args.get(i + 1).map(String::as_str);
            }
            if let Some(v) = a.strip_prefix(&format!("{n}=")) {
                return Some(v);
            }
        }
    }
    None
}

fn has(args: &[String], name: &str) -> bool {
    args.iter().any(|a| a == name)
}

/// Positional arguments (flags and their values removed).
fn positionals(args: &[String]) -> Vec<&str> {
    const WITH_VALUE: &[&str] = &[
        "-n",
        "--namespace",
        "-l",
        "--selector",
        "-o",
        "--output",
        "-c",
        "--container",
        "-f",
        "--filename",
        "--for",
        "--timeout",
        "--since",
        "--as",
    ];
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--" {
            break;
        }
        if WITH_VALUE.contains(&a) {
            i += 2;
            continue;
        }
        if !a.starts_with('-') {
            out.push(a);
        }
        i += 1;
    }
    out
}

impl Double {
    /// Every call as given, global flags included (`raw-calls.jsonl`).
    fn log_raw(&self, args: &[String]) {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.state.join("raw-calls.jsonl"))
        {
            let _ = f.write_all(format!("{}\n", json!(args)).as_bytes());
        }
    }

    fn log_call(&self, args: &[String]) {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.state.join("calls.jsonl"))
        {
            // One write per line: parallel workers append to the same file.
            let _ = f.write_all(format!("{}\n", json!(args)).as_bytes());
        }
    }

    fn answer(&self, args: &[String]) -> Answer {
        if asks_for_secrets(args) {
            let _ = std::fs::write(self.state.join("SECRETS-REQUESTED"), args.join(" "));
            return Answer::fail(
                1,
                "kubectl-double: Secrets were requested; the collector must never do that",
            );
        }
        if let Some(a) = self.injected_failure(args) {
            return a;
        }
        let pos = positionals(args);
        match pos.as_slice() {
            ["config", "current-context", ..] => Answer::ok("double-context\n"),
            ["config", "view", ..] => Answer::ok(self.server()),
            ["version", ..] => self.file("cluster/version.yaml"),
            ["get", resources, ..] => self.get(resources, args),
            ["logs", pod, ..] => self.logs(pod, args),
            ["auth", "can-i", ..] => self.can_i(args),
            ["create", ..] | ["apply", ..] => self.create(args),
            ["wait", target, ..] => self.wait(target),
            ["exec", pod, ..] => self.exec(pod, args),
            ["delete", ..] => self.delete(args),
            _ => Answer::fail(
                1,
                format!("kubectl-double: no answer for: kubectl {}", args.join(" ")),
            ),
        }
    }

    fn injected_failure(&self, args: &[String]) -> Option<Answer> {
        let rules = std::env::var("KDIAG_DOUBLE_FAIL").ok()?;
        let line = args.join(" ");
        for rule in rules.split(';').filter(|r| !r.is_empty()) {
            let (pattern, mode) = rule.split_once("=>")?;
            if !line.contains(pattern) {
                continue;
            }
            let resource = positionals(args)
                .get(1)
                .copied()
                .unwrap_or("resource")
                .to_owned();
            return Some(match mode {
                "forbidden" => Answer::fail(
                    1,
                    format!(
                        "Error from server (Forbidden): {resource} is forbidden: User \"support@example.com\" cannot list resource \"{resource}\" in API group \"\" at the cluster scope"
                    ),
                ),
                "notfound" => Answer::fail(
                    1,
                    format!("Error from server (NotFound): {resource} not found"),
                ),
                "unreachable" => Answer::fail(
                    1,
                    "The connection to the server 192.168.10.10:6443 was refused - did you specify the right host or port?",
                ),
                "timeout" => {
                    std::thread::sleep(std::time::Duration::from_secs(3600));
                    Answer::fail(1, "kubectl-double: slept an hour")
                }
                other => Answer::fail(2, format!("kubectl-double: unknown failure mode {other}")),
            });
        }
        None
    }

    fn server(&self) -> String {
        let m = std::fs::read_to_string(self.bundle.join("manifest.json")).ok();
        m.and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| {
                v.pointer("/cluster/server")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "https://192.168.10.10:6443".into())
    }

    /// How the sample's own collection of this command failed, if its
    /// manifest says so: the same exit code and stderr.
    fn sample_failure(&self, node: Option<&str>, argv: &[&str]) -> Option<Answer> {
        let text = std::fs::read_to_string(self.bundle.join("manifest.json")).ok()?;
        let m: Value = serde_json::from_str(&text).ok()?;
        m.get("commands")?.as_array()?.iter().find_map(|c| {
            let same_node = c.get("node").and_then(Value::as_str) == node;
            let cargv: Vec<&str> = c
                .get("argv")?
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let cargv = if node.is_none() {
                cargv.get(1..)?.to_vec()
            } else {
                cargv
            };
            let code = c
                .get("exit_code")
                .and_then(Value::as_u64)
                .filter(|c| *c != 0)?;
            (same_node && cargv == argv).then(|| {
                Answer::fail(
                    u8::try_from(code).unwrap_or(1),
                    c.get("stderr")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                )
            })
        })
    }

    fn file(&self, rel: &str) -> Answer {
        match std::fs::read(self.bundle.join(rel)) {
            Ok(b) => Answer::ok(b),
            Err(_) => Answer::fail(1, format!("kubectl-double: the sample has no {rel}")),
        }
    }

    /// `kubectl get pod NAME` of a pod the collector created, with the
    /// status its node gives it.
    fn get_created_pod(&self, name: &str, args: &[String]) -> Answer {
        let Some(mut pod) = self.pod(name) else {
            return Answer::fail(
                1,
                format!("Error from server (NotFound): pods \"{name}\" not found"),
            );
        };
        let node = Self::node_of(&pod);
        let image = pod
            .pointer("/spec/containers/0/image")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        pod["status"] = if listed("KDIAG_DOUBLE_NO_PULL", &node) {
            json!({"phase": "Pending", "containerStatuses": [{"state": {"waiting": {
                "reason": "ImagePullBackOff",
                "message": format!("Back-off pulling image \"{image}\"")}}}]})
        } else if listed("KDIAG_DOUBLE_UNREACHABLE", &node) {
            json!({"phase": "Pending"})
        } else {
            json!({"phase": "Running", "containerStatuses": [{"state": {"running": {}}}]})
        };
        match flag(args, &["-o", "--output"]).and_then(|o| o.strip_prefix("jsonpath=")) {
            Some(t) => match jsonpath::render(t, &pod) {
                Ok(s) => Answer::ok(s),
                Err(e) => Answer::fail(1, format!("error: error parsing jsonpath {t}: {e}")),
            },
            None => Answer::ok(yaml::to_yaml(&pod)),
        }
    }

    /// `kubectl get RES[,RES] [-A | -n NS] [-l k=v] -o yaml|jsonpath=...`
    fn get(&self, resources: &str, args: &[String]) -> Answer {
        if let ["get", "pod" | "pods", name, ..] = positionals(args).as_slice() {
            return self.get_created_pod(name, args);
        }
        let namespace = if has(args, "-A") || has(args, "--all-namespaces") {
            None
        } else {
            Some(flag(args, &["-n", "--namespace"]).unwrap_or("default"))
        };
        let selector = flag(args, &["-l", "--selector"]);
        let mut items = Vec::new();
        let mut verbatim = None;
        for resource in resources.split(',') {
            let file = resource.split('.').next().unwrap_or(resource);
            let cluster_scoped = matches!(
                file,
                "nodes" | "namespaces" | "clusterroles" | "clusterrolebindings"
            );
            let Some((text, list)) = self.load_list(file) else {
                let argv: Vec<&str> = args.iter().map(String::as_str).collect();
                return self.sample_failure(None, &argv).unwrap_or_else(|| {
                    Answer::fail(
                        1,
                        format!("kubectl-double: the sample has no cluster/{file}.yaml"),
                    )
                });
            };
            let all = list.len();
            let kept: Vec<Value> = list
                .into_iter()
                .filter(|o| {
                    cluster_scoped
                        || namespace.is_none_or(|ns| {
                            o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)
                        })
                })
                .filter(|o| selector.is_none_or(|s| matches_selector(o, s)))
                .collect();
            if kept.len() == all && resources.split(',').count() == 1 {
                verbatim = Some(text);
            }
            items.extend(kept);
        }
        let output = flag(args, &["-o", "--output"]).unwrap_or("");
        if let Some(t) = output.strip_prefix("jsonpath=") {
            let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
            return match jsonpath::render(t, &list) {
                Ok(s) => Answer::ok(s),
                Err(e) => Answer::fail(1, format!("error: error parsing jsonpath {t}: {e}")),
            };
        }
        if output == "yaml" {
            if let Some(text) = verbatim {
                return Answer::ok(text);
            }
            let list = json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}});
            return Answer::ok(yaml::to_yaml(&list));
        }
        Answer::fail(
            1,
            format!("kubectl-double: output '{output}' is not supported"),
        )
    }

    /// A list file of the sample (YAML or JSON), as text and items.
    fn load_list(&self, file: &str) -> Option<(String, Vec<Value>)> {
        for ext in ["yaml", "json"] {
            let Ok(text) =
                std::fs::read_to_string(self.bundle.join(format!("cluster/{file}.{ext}")))
            else {
                continue;
            };
            let mut items = Vec::new();
            for doc in split_documents(&text) {
                let v: Value = if ext == "json" {
                    serde_json::from_str(doc).ok()?
                } else {
                    serde_saphyr::from_str(doc).ok()?
                };
                match v.get("items").and_then(Value::as_array) {
                    Some(a) => items.extend(a.iter().cloned()),
                    None if v.is_object() => items.push(v),
                    None => {}
                }
            }
            return Some((text, items));
        }
        None
    }

    /// `kubectl logs -n NS POD -c C [--previous]`
    fn logs(&self, pod: &str, args: &[String]) -> Answer {
        let ns = flag(args, &["-n", "--namespace"]).unwrap_or("default");
        let c = flag(args, &["-c", "--container"]).unwrap_or("");
        let previous = has(args, "--previous") || has(args, "-p");
        let name = if previous {
            format!("{c}.previous.log")
        } else {
            format!("{c}.log")
        };
        match std::fs::read(self.bundle.join(format!("logs/{ns}/{pod}/{name}"))) {
            Ok(b) => Answer::ok(b),
            Err(_) if previous => Answer::fail(
                1,
                format!(
                    "Error from server (BadRequest): previous terminated container \"{c}\" in pod \"{pod}\" not found"
                ),
            ),
            Err(_) => Answer::ok(Vec::new()),
        }
    }

    /// `kubectl auth can-i --list --as=system:serviceaccount:NS:SA`
    fn can_i(&self, args: &[String]) -> Answer {
        let who = flag(args, &["--as"]).unwrap_or("");
        let Some(sa) = who.strip_prefix("system:serviceaccount:") else {
            return Answer::fail(1, "kubectl-double: can-i only for service accounts");
        };
        let file = format!("cluster/can-i/{}.txt", sa.replacen(':', ".", 1));
        match std::fs::read(self.bundle.join(&file)) {
            Ok(b) => Answer::ok(b),
            // What a service account without any binding may do.
            Err(_) => Answer::ok(concat!(
                "Resources                                       Non-Resource URLs   Resource Names   Verbs\n",
                "selfsubjectreviews.authentication.k8s.io        []                  []               [create]\n",
                "selfsubjectaccessreviews.authorization.k8s.io   []                  []               [create]\n",
                "selfsubjectrulesreviews.authorization.k8s.io    []                  []               [create]\n",
            )),
        }
    }

    fn pods_dir(&self) -> PathBuf {
        self.state.join("pods")
    }

    /// `kubectl create -f FILE`: remembers the pod and its node.
    fn create(&self, args: &[String]) -> Answer {
        let Some(file) = flag(args, &["-f", "--filename"]) else {
            return Answer::fail(1, "kubectl-double: create needs -f");
        };
        let Ok(text) = std::fs::read_to_string(file) else {
            return Answer::fail(1, format!("error: the path \"{file}\" does not exist"));
        };
        let Ok(pod) = serde_saphyr::from_str::<Value>(&text) else {
            return Answer::fail(1, "error: error parsing the pod manifest");
        };
        let name = pod
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if name.is_empty() || pod.get("kind").and_then(Value::as_str) != Some("Pod") {
            return Answer::fail(1, "kubectl-double: only pods can be created");
        }
        let _ = std::fs::create_dir_all(self.pods_dir());
        let _ = std::fs::write(self.pods_dir().join(name), pod.to_string());
        let _ = std::fs::write(self.state.join(format!("created-{name}")), pod.to_string());
        Answer::ok(format!("pod/{name} created\n"))
    }

    fn pod(&self, name: &str) -> Option<Value> {
        let text = std::fs::read_to_string(self.pods_dir().join(name)).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn node_of(pod: &Value) -> String {
        pod.pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    /// `kubectl wait --for=condition=Ready pod/NAME`
    fn wait(&self, target: &str) -> Answer {
        let name = target.strip_prefix("pod/").unwrap_or(target);
        let Some(pod) = self.pod(name) else {
            return Answer::fail(
                1,
                format!("Error from server (NotFound): pods \"{name}\" not found"),
            );
        };
        let node = Self::node_of(&pod);
        if listed("KDIAG_DOUBLE_UNREACHABLE", &node) || listed("KDIAG_DOUBLE_NO_PULL", &node) {
            return Answer::fail(
                1,
                format!("error: timed out waiting for the condition on pods/{name}"),
            );
        }
        Answer::ok(format!("pod/{name} condition met\n"))
    }

    fn delete(&self, args: &[String]) -> Answer {
        let pos = positionals(args);
        let mut out = String::new();
        if let Some(sel) = flag(args, &["-l", "--selector"]) {
            if let Ok(dir) = std::fs::read_dir(self.pods_dir()) {
                for e in dir.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if self.pod(&name).is_some_and(|p| matches_selector(&p, sel)) {
                        let _ = std::fs::remove_file(e.path());
                        out.push_str(&format!("pod \"{name}\" deleted\n"));
                    }
                }
            }
            return Answer::ok(out);
        }
        for name in pos.iter().skip(2) {
            if std::fs::remove_file(self.pods_dir().join(name)).is_ok() {
                out.push_str(&format!("pod \"{name}\" deleted\n"));
            }
        }
        Answer::ok(out)
    }

    /// `kubectl exec -n NS POD -- CMD...`
    fn exec(&self, pod_name: &str, args: &[String]) -> Answer {
        let Some(pod) = self.pod(pod_name) else {
            return Answer::fail(
                1,
                format!("Error from server (NotFound): pods \"{pod_name}\" not found"),
            );
        };
        let node = Self::node_of(&pod);
        let cmd: Vec<String> = match args.iter().position(|a| a == "--") {
            Some(i) => args[i + 1..].to_vec(),
            None => return Answer::fail(1, "kubectl-double: exec without --"),
        };
        let role = pod
            .pointer("/metadata/labels/kdiag.io~1role")
            .and_then(Value::as_str)
            .unwrap_or("");
        if role == "node" {
            match cmd.as_slice() {
                [chroot, host, rest @ ..] if chroot == "chroot" && host == "/host" => {
                    self.on_node(&node, rest)
                }
                _ => Answer::fail(
                    126,
                    "kubectl-double: node pods run commands through chroot /host",
                ),
            }
        } else {
            self.in_probe_pod(&node, &cmd)
        }
    }

    fn node_file(&self, node: &str, file: &str) -> Option<Vec<u8>> {
        std::fs::read(self.bundle.join(format!("nodes/{node}/{file}"))).ok()
    }

    /// A command on a node's host: real `ip`/`bridge` in the node's network
    /// namespace when there is one, the sample's files for the rest.
    fn on_node(&self, node: &str, cmd: &[String]) -> Answer {
        let Some(program) = cmd.first() else {
            return Answer::fail(1, "chroot: missing operand");
        };
        let words: Vec<&str> = cmd.iter().map(String::as_str).collect();
        if program == "ip" || program == "bridge" {
            if let Some(ns) = netns_of(node) {
                return run_in_netns(&ns, cmd);
            }
            let json = words.contains(&"-j");
            let object = words
                .iter()
                .skip(1)
                .find(|w| !w.starts_with('-'))
                .copied()
                .unwrap_or("");
            let file = match (program.as_str(), object) {
                ("bridge", _) => "bridge-fdb.txt".to_owned(),
                (_, o) => format!("ip-{o}.{}", if json { "json" } else { "txt" }),
            };
            return match self.node_file(node, &file) {
                Some(b) => Answer::ok(b),
                None if json => Answer::fail(255, "Option \"-j\" is unknown, try \"ip -help\"."),
                None => Answer::fail(
                    1,
                    format!("kubectl-double: the sample has no nodes/{node}/{file}"),
                ),
            };
        }
        let from_file = |file: &str, missing: Answer| match self.node_file(node, file) {
            Some(b) => Answer::ok(b),
            None => self.sample_failure(Some(node), &words).unwrap_or(missing),
        };
        let not_found = |p: &str| {
            Answer::fail(
                127,
                format!("chroot: failed to run command '{p}': No such file or directory"),
            )
        };
        match words.as_slice() {
            ["cat", path] => {
                let file = match *path {
                    "/etc/resolv.conf" => "resolv.conf".to_owned(),
                    "/var/lib/kubelet/config.yaml" => "kubelet-config.yaml".to_owned(),
                    "/run/flannel/subnet.env" => "flannel-subnet.env".to_owned(),
                    p if p.starts_with("/etc/cni/net.d/") => {
                        format!("cni/{}", &p["/etc/cni/net.d/".len()..])
                    }
                    _ => String::new(),
                };
                from_file(
                    &file,
                    Answer::fail(1, format!("cat: {path}: No such file or directory")),
                )
            }
            ["ls", "-1", "/etc/cni/net.d"] => {
                match std::fs::read_dir(self.bundle.join(format!("nodes/{node}/cni"))) {
                    Ok(d) => {
                        let mut names: Vec<String> = d
                            .flatten()
                            .map(|e| e.file_name().to_string_lossy().into_owned())
                            .collect();
                        names.sort();
                        Answer::ok(names.iter().map(|n| format!("{n}\n")).collect::<String>())
                    }
                    Err(_) => Answer::fail(
                        2,
                        "ls: cannot access '/etc/cni/net.d': No such file or directory",
                    ),
                }
            }
            ["iptables-save"] => from_file("iptables-save.txt", not_found("iptables-save")),
            ["ipvsadm", ..] => from_file("ipvsadm.txt", not_found("ipvsadm")),
            ["sysctl", ..] => from_file("sysctl.txt", not_found("sysctl")),
            ["lsmod"] => from_file("lsmod.txt", not_found("lsmod")),
            ["getenforce"] => from_file("selinux.txt", not_found("getenforce")),
            ["journalctl", ..] => from_file("kubelet.log", Answer::ok("-- No entries --\n")),
            ["systemctl", "is-active", _] => match self.node_file(node, "firewalld.txt") {
                Some(b) => {
                    let active = String::from_utf8_lossy(&b).lines().next() == Some("active");
                    let first: Vec<u8> = String::from_utf8_lossy(&b)
                        .lines()
                        .next()
                        .map(|l| format!("{l}\n"))
                        .unwrap_or_default()
                        .into_bytes();
                    Answer {
                        out: first,
                        err: String::new(),
                        code: if active { 0 } else { 3 },
                    }
                }
                None => Answer {
                    out: b"inactive\n".to_vec(),
                    err: String::new(),
                    code: 3,
                },
            },
            ["firewall-cmd", "--list-all"] => match self.node_file(node, "firewalld.txt") {
                // The sample keeps `is-active` and then the zone in one file.
                Some(b) => {
                    let text = String::from_utf8_lossy(&b);
                    let zone: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
                    if zone.is_empty() {
                        not_found(program)
                    } else {
                        Answer::ok(zone)
                    }
                }
                None => not_found(program),
            },
            _ => not_found(program),
        }
    }

    /// A command in a probe pod, answered from the sample's probe files:
    /// the section after a `$ <command>` line that matches.
    fn in_probe_pod(&self, node: &str, cmd: &[String]) -> Answer {
        let dir = self.bundle.join(format!("probes/{node}"));
        if cmd == ["cat", "/etc/resolv.conf"] {
            return match std::fs::read(dir.join("resolv.conf")) {
                Ok(b) => Answer::ok(b),
                Err(_) => Answer::fail(
                    1,
                    format!("kubectl-double: the sample has no probes/{node}/resolv.conf"),
                ),
            };
        }
        let wanted = cmd.join(" ");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "txt"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        for f in files {
            let Ok(text) = std::fs::read_to_string(&f) else {
                continue;
            };
            let mut lines = text.lines();
            while let Some(l) = lines.next() {
                if l.strip_prefix("$ ") != Some(wanted.as_str()) {
                    continue;
                }
                let body: Vec<&str> = lines
                    .by_ref()
                    .take_while(|l| !l.starts_with("$ "))
                    .collect();
                let failed = body.iter().any(|l| {
                    l.contains("timed out")
                        || l.contains("can't")
                        || l.contains("bad address")
                        || l.contains("NXDOMAIN")
                        || l.contains("refused")
                });
                let mut out = body.join("\n");
                out.push('\n');
                return Answer {
                    out: out.into_bytes(),
                    err: String::new(),
                    code: u8::from(failed),
                };
            }
        }
        Answer::fail(
            1,
            format!("kubectl-double: no canned answer in probes/{node}/ for: {wanted}"),
        )
    }
}

/// Whether `node` is in the comma-separated list in environment variable `var`.
fn listed(var: &str, node: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v.split(',').any(|n| n == node))
}

fn asks_for_secrets(args: &[String]) -> bool {
    args.iter().any(|a| {
        a.to_ascii_lowercase().split(',').any(|r| {
            let r = r.trim();
            r == "secret"
                || r == "secrets"
                || r.starts_with("secret/")
                || r.starts_with("secrets/")
                || r.starts_with("secrets.")
        })
    })
}

/// `k=v[,k=v]` label selectors.
fn matches_selector(o: &Value, sel: &str) -> bool {
    sel.split(',').all(|term| match term.split_once('=') {
        Some((k, v)) => {
            o.pointer("/metadata/labels")
                .and_then(|l| l.get(k))
                .and_then(Value::as_str)
                == Some(v)
        }
        None => false,
    })
}

fn split_documents(text: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" {
            docs.push(&text[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    docs.push(&text[start..]);
    docs.into_iter().filter(|d| !d.trim().is_empty()).collect()
}

fn netns_of(node: &str) -> Option<String> {
    let map = std::env::var("KDIAG_DOUBLE_NETNS").ok()?;
    map.split(',')
        .filter_map(|p| p.split_once('='))
        .find(|(n, _)| *n == node)
        .map(|(_, ns)| ns.to_owned())
}

fn run_in_netns(ns: &str, cmd: &[String]) -> Answer {
    match std::process::Command::new("ip")
        .args(["netns", "exec", ns])
        .args(cmd)
        .output()
    {
        Ok(o) => Answer {
            out: o.stdout,
            err: String::from_utf8_lossy(&o.stderr).trim_end().to_owned(),
            code: o
                .status
                .code()
                .and_then(|c| u8::try_from(c).ok())
                .unwrap_or(1),
        },
        Err(e) => Answer::fail(
            127,
            format!("kubectl-double: cannot run ip netns exec: {e}"),
        ),
    }
}
