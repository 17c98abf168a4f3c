//! Tests of `collector/kdiag-collect`, run against the kubectl double (this
//! crate's `kubectl` binary, first on `PATH`) answering from sample bundles,
//! and — as root — against real network namespaces for the node tables.
#![allow(clippy::unwrap_used)] // test setup panics on failure

use kdiag_bundle::Limits;
use kdiag_model::{InputStatus, LogPatterns, Snapshot};
use kdiag_rules::eval::Analysis;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../collector/kdiag-collect");
const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sample-bundles");
const NODE_TABLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../sample-bundles/tools/make-node-tables.sh"
);

fn sample(name: &str) -> PathBuf {
    Path::new(SAMPLES).join(name)
}

/// A temporary world: a bin directory holding `kubectl` (the double), the
/// double's state directory, and room for output.
struct Harness {
    dir: tempfile::TempDir,
    bundle: PathBuf,
    env: Vec<(String, String)>,
}

impl Harness {
    fn new(bundle: &Path) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kubectl"), bin.join("kubectl")).unwrap();
        std::fs::create_dir_all(dir.path().join("state")).unwrap();
        Harness {
            dir,
            bundle: bundle.to_owned(),
            env: Vec::new(),
        }
    }

    fn with(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn state(&self) -> PathBuf {
        self.path("state")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("bash");
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.arg(SCRIPT)
            .args(args)
            .env("PATH", path)
            .env("KDIAG_DOUBLE_BUNDLE", &self.bundle)
            .env("KDIAG_DOUBLE_STATE", self.state())
            .env("TMPDIR", self.dir.path())
            .current_dir(self.dir.path());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs the collector; checks it never asked for Secrets and left no pod.
    fn collect(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().expect("run bash");
        self.assert_no_secrets_requested();
        out
    }

    fn assert_no_secrets_requested(&self) {
        let marker = self.state().join("SECRETS-REQUESTED");
        assert!(
            !marker.exists(),
            "the collector asked for Secrets: {}",
            std::fs::read_to_string(&marker).unwrap_or_default()
        );
    }

    fn pods_left(&self) -> Vec<String> {
        std::fs::read_dir(self.state().join("pods"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every pod the collector created, as the double received it.
    fn created_pods(&self) -> Vec<Value> {
        files(&self.state())
            .into_iter()
            .filter(|(p, _)| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("created-")
            })
            .map(|(_, b)| serde_json::from_slice(&b).unwrap())
            .collect()
    }

    fn calls(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(self.state().join("calls.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// Runs `kdiag-collect redact ARGS` over `input` and returns what it prints.
/// Standard input is fed from a thread, so a large input cannot deadlock
/// against the filter's output.
fn redact(args: &[&str], input: &str) -> String {
    let h = Harness::new(&sample("seed-incident"));
    let mut cmd_args = vec!["redact"];
    cmd_args.extend_from_slice(args);
    let mut child = h
        .command(&cmd_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_owned();
    let feeder =
        std::thread::spawn(move || std::io::Write::write_all(&mut stdin, input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "collector failed: {:?}\n{}",
        o.status,
        stderr(o)
    );
}

fn manifest(bundle: &Path) -> Value {
    let text = std::fs::read_to_string(bundle.join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("manifest.json is not JSON: {e}\n{text}"))
}

fn commands(m: &Value) -> &Vec<Value> {
    m["commands"].as_array().expect("commands")
}

fn analyze(paths: &[&Path]) -> (std::sync::Arc<Snapshot>, Analysis) {
    let rules = kdiag_rules::load::load(&kdiag_rules::load::builtin_sources())
        .unwrap_or_else(|e| panic!("built-in rules: {e:?}"));
    let patterns = LogPatterns::new(rules.log_patterns()).expect("patterns");
    let snap = std::sync::Arc::new(
        Snapshot::load_many(paths, &Limits::default(), &patterns).expect("bundle"),
    );
    let analysis = kdiag_rules::eval::analyze(&rules, &snap);
    (snap, analysis)
}

/// Root causes (class and subject) and the set of symptom classes.
fn outcome(a: &Analysis, with_subjects: bool) -> (BTreeSet<String>, BTreeSet<String>) {
    let roots = a
        .findings
        .iter()
        .filter(|f| f.root)
        .map(|f| {
            if with_subjects {
                format!("{} {:?}", f.class, f.subject)
            } else {
                f.class.clone()
            }
        })
        .collect();
    let symptoms = a
        .findings
        .iter()
        .filter(|f| !f.root)
        .map(|f| f.class.clone())
        .collect();
    (roots, symptoms)
}

/// Every file under `dir`, as (path, bytes).
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

// ---------------------------------------------------------------------------
// network namespaces (root only)

static NETNS: Mutex<()> = Mutex::new(());

/// The seed incident's nodes as network namespaces `kdseed-<node>`, with a
/// real flannel.1 VXLAN device, routes, neighbours and FDB entries; removed
/// on drop. `None` (and a note) where namespaces cannot be made.
struct SeedNamespaces;

impl SeedNamespaces {
    fn up() -> Option<SeedNamespaces> {
        let uid = Command::new("id").arg("-u").output().ok()?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            eprintln!("skipped: network namespaces need root (CI runs as root)");
            return None;
        }
        let out = Command::new("bash")
            .arg(NODE_TABLES)
            .arg("--up")
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "skipped: cannot create network namespaces: {}",
                stderr(&out)
            );
            let _ = Command::new("bash").arg(NODE_TABLES).arg("--down").output();
            return None;
        }
        Some(SeedNamespaces)
    }

    fn mapping() -> String {
        [
            "master-1",
            "master-2",
            "master-3",
            "gpu-worker-1",
            "gpu-worker-2",
        ]
        .iter()
        .map(|n| format!("{n}=kdseed-{n}"))
        .collect::<Vec<_>>()
        .join(",")
    }
}

impl Drop for SeedNamespaces {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(NODE_TABLES).arg("--down").output();
    }
}

// ---------------------------------------------------------------------------

#[test]
fn shellcheck_is_clean() {
    match Command::new("shellcheck").arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ if std::env::var_os("CI").is_some() => {
            panic!("shellcheck is not installed (.ci/run installs it)")
        }
        _ => {
            eprintln!("skipped: shellcheck is not installed");
            return;
        }
    }
    let out = Command::new("shellcheck")
        .args([SCRIPT, NODE_TABLES])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn round_trip_through_the_collector_keeps_every_cause() {
    let seed = sample("seed-incident");
    let h = Harness::new(&seed);
    let out = h.collect(&["-o", "collected/", "--timeout", "20"]);
    assert_ok(&out);
    let collected = h.path("collected");
    assert!(
        h.pods_left().is_empty(),
        "pods left behind: {:?}",
        h.pods_left()
    );

    let (_, original) = analyze(&[&seed]);
    let (snap, again) = analyze(&[&collected]);
    assert_eq!(outcome(&again, true), outcome(&original, true));
    assert!(!snap.nodes.is_empty());

    // Every command is in the manifest, with its exit code.
    let m = manifest(&collected);
    assert_eq!(m["format"], "kdiag-bundle/v1");
    let cmds = commands(&m);
    assert!(cmds.len() > 100, "{}", cmds.len());
    assert!(
        cmds.iter()
            .all(|c| c.get("duration_ms").is_some_and(Value::is_u64))
    );
    let ipvs = cmds
        .iter()
        .find(|c| c["node"] == "master-1" && c["argv"][0] == "ipvsadm")
        .expect("ipvsadm on master-1 recorded");
    assert_eq!(ipvs["exit_code"], 127);
    assert_eq!(ipvs["target"], "nodes/master-1/ipvsadm.txt");
    assert!(collected.join("collector.log").exists());
    assert!(stderr(&out).contains("what failed"), "{}", stderr(&out));
}

#[test]
fn round_trip_with_real_node_namespaces() {
    let _guard = NETNS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(_ns) = SeedNamespaces::up() else {
        return;
    };
    let seed = sample("seed-incident");
    let h = Harness::new(&seed).with("KDIAG_DOUBLE_NETNS", &SeedNamespaces::mapping());
    let out = h.collect(&["-o", "bundle.tar.gz", "--timeout", "20"]);
    assert_ok(&out);
    let tarball = h.path("bundle.tar.gz");
    assert!(tarball.exists());

    let (_, original) = analyze(&[&seed]);
    let (snap, again) = analyze(&[&tarball]);
    assert_eq!(outcome(&again, true), outcome(&original, true));
    // The node tables came from iproute2 itself, JSON included.
    let w2 = &snap.nodes["gpu-worker-2"];
    assert!(
        w2.links
            .as_ref()
            .is_some_and(|l| l.value.iter().any(|l| l.name == "flannel.1"))
    );
    let m = manifest_from_tar(&tarball);
    let link_json = commands(&m)
        .iter()
        .find(|c| {
            c["node"] == "gpu-worker-2"
                && c["argv"] == serde_json::json!(["ip", "-j", "-p", "-d", "link", "show"])
        })
        .expect("ip -j -p -d link show recorded");
    assert_eq!(link_json["exit_code"], 0);
}

fn manifest_from_tar(path: &Path) -> Value {
    let f = std::fs::File::open(path).unwrap();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().ends_with("manifest.json") {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut e, &mut s).unwrap();
            return serde_json::from_str(&s).unwrap();
        }
    }
    panic!("no manifest.json in {}", path.display());
}

/// A copy of a sample bundle to plant things in.
fn copy_sample(name: &str, into: &Path) -> PathBuf {
    let dest = into.join(name);
    let src = sample(name);
    for (p, bytes) in files(&src) {
        let rel = p.strip_prefix(&src).unwrap();
        let to = dest.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, bytes).unwrap();
    }
    dest
}

fn insert_after(path: &Path, anchor: &str, text: &str) {
    let body = std::fs::read_to_string(path).unwrap();
    let i = body
        .find(anchor)
        .unwrap_or_else(|| panic!("{anchor} not in {}", path.display()))
        + anchor.len();
    let j = body[i..].find('\n').map_or(body.len(), |j| i + j + 1);
    std::fs::write(path, format!("{}{}{}", &body[..j], text, &body[j..])).unwrap();
}

const PLANTED: &[&str] = &[
    "kdPlantedBearerTokenValue0123456789",
    "kdPlantedArgTokenValue42",
    "MIIEkdPlantedPrivateKeyBodyLine",
    "kdPlantedPasswordValue!x",
    "kdPlantedUrlPassword",
];

fn plant_secrets(bundle: &Path) {
    let log = bundle.join("logs/kube-system/kube-proxy-7xk2p/kube-proxy.log");
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str("2026-11-27T10:14:59.000000000Z I1127 10:14:59.000000       1 round_trippers.go:466] curl -v -XGET -H \"Authorization: Bearer kdPlantedBearerTokenValue0123456789\" 'https://admin:kdPlantedUrlPassword@192.168.10.10:6443/api'\n");
    std::fs::write(&log, text).unwrap();
    let pods = bundle.join("cluster/pods.yaml");
    insert_after(
        &pods,
        "- --hostname-override=",
        "      - --token=kdPlantedArgTokenValue42\n",
    );
    insert_after(
        &pods,
        "    containers:",
        "    - env:\n      - name: DB_PASSWORD\n        value: kdPlantedPasswordValue!x\n      name: planted\n",
    );
    let cms = bundle.join("cluster/configmaps.yaml");
    insert_after(
        &cms,
        "  data:",
        "    tls.key: |\n      -----BEGIN RSA PRIVATE KEY-----\n      MIIEkdPlantedPrivateKeyBodyLine\n      -----END RSA PRIVATE KEY-----\n",
    );
}

#[test]
fn planted_secrets_never_reach_the_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = copy_sample("seed-incident", tmp.path());
    plant_secrets(&bundle);
    // The planted values are in the input, as the test means them to be.
    let input: Vec<u8> = files(&bundle).into_iter().flat_map(|(_, b)| b).collect();
    for s in PLANTED {
        assert!(contains(&input, s), "{s} was not planted");
    }
    let h = Harness::new(&bundle);
    let out = h.collect(&["-o", "out/", "--nodes", "none", "--timeout", "20"]);
    assert_ok(&out);
    let written = files(&h.path("out"));
    assert!(written.len() > 20);
    for (path, bytes) in &written {
        for s in PLANTED {
            assert!(!contains(bytes, s), "{s} leaked into {}", path.display());
        }
    }
    assert!(!contains(stderr(&out).as_bytes(), "kdPlanted"));
    let m = manifest(&h.path("out"));
    let by_rule = &m["redactions"]["by_rule"];
    for rule in [
        "bearer-token",
        "credential-flag",
        "private-key",
        "env-var",
        "url-password",
    ] {
        assert!(
            by_rule[rule].as_u64().unwrap_or(0) >= 1,
            "{rule}: {by_rule}"
        );
    }
    assert!(m["redactions"]["replacements"].as_u64().unwrap() >= 5);
    // Redaction keeps the YAML readable: the pods still parse.
    let (snap, _) = analyze(&[&h.path("out")]);
    assert!(snap.objects_of("Pod").count() > 10);
    assert!(
        !snap
            .diagnostics
            .iter()
            .any(|d| d.file.as_deref() == Some("cluster/pods.yaml")),
        "{:?}",
        snap.diagnostics
    );
}

#[test]
fn the_redaction_filter_on_its_own() {
    let cases = [
        (
            "Authorization: Bearer abcdefghijklmnop123",
            "Authorization: Bearer <redacted>",
        ),
        ("      - --token=abc123secret", "      - --token=<redacted>"),
        (
            "      - --password hunter22",
            "      - --password <redacted>",
        ),
        (
            "      - --kubeconfig=/var/lib/kube-proxy/kubeconfig.conf",
            "      - --kubeconfig=/var/lib/kube-proxy/kubeconfig.conf",
        ),
        (
            "      - --use-service-account-credentials=true",
            "      - --use-service-account-credentials=true",
        ),
        (
            "    client-key-data: LS0tLS1CRUdJTi",
            "    client-key-data: <redacted>",
        ),
        ("    token: abc.def", "    token: <redacted>"),
        (
            "  automountServiceAccountToken: false",
            "  automountServiceAccountToken: false",
        ),
        (
            "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI",
            "export AWS_SECRET_ACCESS_KEY=<redacted>",
        ),
        (
            "url https://u:p4ss@host/x",
            "url https://u:<redacted>@host/x",
        ),
        (
            "net.ipv4.tcp_keepalive_time = 7200",
            "net.ipv4.tcp_keepalive_time = 7200",
        ),
        ("- name: flannel", "- name: flannel"),
    ];
    let input: String = cases.iter().map(|(i, _)| format!("{i}\n")).collect();
    let text = redact(&[], &input);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), cases.len(), "{text}");
    for ((input, want), got) in cases.iter().zip(lines) {
        assert_eq!(got, *want, "for {input}");
    }
}

#[test]
fn denied_resources_and_an_unreachable_node_are_unknown_not_healthy() {
    let seed = sample("seed-incident");
    let fail = [
        "get clusterroles =>forbidden",
        "get clusterrolebindings=>forbidden",
        "get roles=>forbidden",
        "get rolebindings=>forbidden",
        "get serviceaccounts=>forbidden",
        "get endpointslices=>forbidden",
        "get events=>forbidden",
        "auth can-i=>forbidden",
    ]
    .join(";");
    let h = Harness::new(&seed)
        .with("KDIAG_DOUBLE_FAIL", &fail)
        .with("KDIAG_DOUBLE_UNREACHABLE", "gpu-worker-2")
        .with("KDIAG_DOUBLE_NO_PULL", "master-3");
    let out = h.collect(&["-o", "partial/", "--timeout", "20"]);
    assert_ok(&out);
    assert!(h.pods_left().is_empty(), "{:?}", h.pods_left());
    let partial = h.path("partial");
    assert!(!partial.join("cluster/clusterroles.yaml").exists());
    assert!(!partial.join("nodes/gpu-worker-2").exists());
    assert!(partial.join("nodes/gpu-worker-1/ip-route.txt").exists());

    let m = manifest(&partial);
    let cmds = commands(&m);
    let roles = cmds
        .iter()
        .find(|c| c["argv"] == serde_json::json!(["kubectl", "get", "clusterroles", "-o", "yaml"]))
        .expect("clusterroles recorded");
    assert_eq!(roles["exit_code"], 1);
    assert!(roles["stderr"].as_str().unwrap().contains("Forbidden"));
    let route = cmds
        .iter()
        .find(|c| c["target"] == "nodes/gpu-worker-2/ip-route.txt")
        .expect("the unreachable node's route table is recorded as not run");
    assert!(route["exit_code"].is_null());
    assert!(
        route["stderr"]
            .as_str()
            .unwrap()
            .contains("did not become Ready")
    );
    // Where the image cannot be pulled, the reason says so and what to do.
    let pulled = cmds
        .iter()
        .find(|c| c["target"] == "nodes/master-3/ip-route.txt")
        .expect("master-3 recorded as not run");
    let why = pulled["stderr"].as_str().unwrap();
    assert!(
        why.contains("ImagePullBackOff") && why.contains("--node-image"),
        "{why}"
    );

    let (snap, analysis) = analyze(&[&partial]);
    for path in [
        "cluster/clusterroles.yaml",
        "nodes/gpu-worker-2/ip-route.txt",
        "nodes/gpu-worker-2/resolv.conf",
    ] {
        assert!(
            matches!(snap.input_status(path), InputStatus::Failed { .. }),
            "{path}: {:?}",
            snap.input_status(path)
        );
    }
    // The RBAC root causes cannot be seen without ClusterRoles: unknown, not healthy.
    let unknown_missing: BTreeSet<&str> = analysis
        .unknown
        .iter()
        .flat_map(|u| u.missing.iter().map(String::as_str))
        .collect();
    assert!(
        unknown_missing.contains("cluster/clusterroles.yaml"),
        "{unknown_missing:?}"
    );
    assert!(
        unknown_missing
            .iter()
            .any(|p| p.starts_with("nodes/gpu-worker-2/")),
        "{unknown_missing:?}"
    );
    assert!(
        !analysis
            .findings
            .iter()
            .any(|f| f.class == "rbac.clusterrole-missing")
    );
    assert!(stderr(&out).contains("[gpu-worker-2]"), "{}", stderr(&out));
    assert!(analysis.problems.is_empty(), "{:?}", analysis.problems);
}

#[test]
fn interrupt_deletes_the_pods_and_keeps_what_was_collected() {
    let seed = sample("seed-incident");
    // Every command on a node hangs, so the run is inside a node pod when interrupted.
    let h = Harness::new(&seed).with("KDIAG_DOUBLE_FAIL", "exec -n=>timeout");
    let mut child = h
        .command(&["-o", "cut/", "--timeout", "600", "--parallel", "2"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until a node pod exists and a command hangs in it.
    loop {
        let hanging = h
            .calls()
            .iter()
            .any(|c| c.first().is_some_and(|a| a == "exec"));
        if hanging && !h.pods_left().is_empty() {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the collector ended before it was interrupted: {status:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    h.assert_no_secrets_requested();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        h.pods_left().is_empty(),
        "pods left behind: {:?}",
        h.pods_left()
    );
    let m = manifest(&h.path("cut"));
    assert_eq!(m["options"]["interrupted"], true);
    assert!(h.path("cut/cluster/nodes.yaml").exists());
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
}

#[test]
fn node_only_bundle_merges_with_the_cluster_bundle() {
    let _guard = NETNS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(_ns) = SeedNamespaces::up() else {
        return;
    };
    let seed = sample("seed-incident");
    let h = Harness::new(&seed);
    // The cluster bundle, without node state.
    assert_ok(&h.collect(&["-o", "cluster/", "--nodes", "none", "--timeout", "20"]));
    // gpu-worker-2 collected on the node itself: its host files under a root.
    let root = h.path("host");
    for (file, to) in [
        ("resolv.conf", "etc/resolv.conf"),
        ("kubelet-config.yaml", "var/lib/kubelet/config.yaml"),
        ("flannel-subnet.env", "run/flannel/subnet.env"),
        (
            "cni/10-flannel.conflist",
            "etc/cni/net.d/10-flannel.conflist",
        ),
    ] {
        let dest = root.join(to);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(seed.join("nodes/gpu-worker-2").join(file), dest).unwrap();
    }
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", "kdseed-gpu-worker-2", "bash", SCRIPT])
        .args(["--node-only", "--node-name", "gpu-worker-2", "--host-root"])
        .arg(&root)
        .args(["-o", "node.tar.gz", "--timeout", "20"])
        .env("TMPDIR", h.dir.path())
        .current_dir(h.dir.path());
    let out = cmd.output().unwrap();
    assert_ok(&out);
    let node = h.path("node.tar.gz");

    let cluster = h.path("cluster");
    let (alone, _) = analyze(&[&cluster]);
    assert!(!alone.nodes.contains_key("gpu-worker-2"));
    let (merged, analysis) = analyze(&[&cluster, &node]);
    let w2 = &merged.nodes["gpu-worker-2"];
    assert!(w2.routes.is_some() && w2.fdb.is_some() && w2.resolv_conf.is_some());
    // The node's missing route to master-3's subnet is found from the merged pair.
    assert!(
        analysis
            .findings
            .iter()
            .any(|f| f.class == "podnet.route-missing"
                && f.subject.get("node").map(String::as_str) == Some("gpu-worker-2")),
        "{:?}",
        analysis
            .findings
            .iter()
            .map(|f| (&f.class, &f.subject))
            .collect::<Vec<_>>()
    );
    // Both manifests' commands are there, the node's marked with its node.
    let m = &merged.manifest.as_ref().unwrap().value;
    assert!(
        m.commands
            .iter()
            .any(|c| c.node.as_deref() == Some("gpu-worker-2"))
    );
    assert!(
        m.commands
            .iter()
            .any(|c| c.argv.first().is_some_and(|a| a == "kubectl"))
    );
}

#[test]
fn redact_ips_keeps_the_analysis_and_hides_the_addresses() {
    let seed = sample("seed-incident");
    let h = Harness::new(&seed);
    assert_ok(&h.collect(&["-o", "masked/", "--redact-ips", "--timeout", "20"]));
    let masked = h.path("masked");
    for (path, bytes) in files(&masked) {
        for ip in [
            "10.233.0.3",
            "192.168.10.22",
            "10.233.65.0/24",
            "10.244.3.17",
        ] {
            assert!(!contains(&bytes, ip), "{ip} left in {}", path.display());
        }
    }
    // Node names and the analysis' shape survive: same root causes and symptoms.
    let (_, original) = analyze(&[&seed]);
    let (snap, again) = analyze(&[&masked]);
    assert!(snap.nodes.contains_key("gpu-worker-2"));
    assert_eq!(outcome(&again, false), outcome(&original, false));
    let count = |a: &Analysis| {
        a.findings
            .iter()
            .filter(|f| f.class == "podnet.route-missing")
            .count()
    };
    assert_eq!(count(&again), count(&original));
    assert!(
        manifest(&masked)["redactions"]["by_rule"]["ip-address"]
            .as_u64()
            .unwrap()
            > 100
    );
}

#[test]
fn probes_run_from_a_pod_on_the_node() {
    let seed = sample("seed-incident");
    let h = Harness::new(&seed);
    let out = h.collect(&[
        "-o",
        "p/",
        "--nodes",
        "none",
        "--probe-nodes",
        "gpu-worker-1",
        "--timeout",
        "20",
    ]);
    assert_ok(&out);
    assert!(h.pods_left().is_empty());
    let dir = h.path("p/probes/gpu-worker-1");
    assert!(dir.join("resolv.conf").exists());
    let dns = std::fs::read_to_string(dir.join("dns-clusterip.txt")).unwrap();
    assert!(
        dns.starts_with("$ nslookup kubernetes.default.svc.cluster.local 10.233.0.3\n"),
        "{dns}"
    );
    let m = manifest(&h.path("p"));
    let probe = commands(&m)
        .iter()
        .find(|c| c["output"] == "probes/gpu-worker-1/dns-clusterip.txt")
        .unwrap();
    assert_eq!(probe["exit_code"], 1);
    // The created probe pod was unprivileged and pinned to the node.
    let pod = h
        .created_pods()
        .into_iter()
        .find(|p| p["metadata"]["labels"]["kdiag.io/role"] == "probe")
        .expect("a probe pod");
    assert_eq!(pod["spec"]["nodeName"], "gpu-worker-1");
    assert!(pod["spec"]["hostNetwork"].is_null());
    // A lookup through each CoreDNS pod directly, recorded even where it failed.
    for ip in ["10.244.0.5", "10.244.1.7"] {
        let target = format!("probes/gpu-worker-1/dns-pod-{ip}.txt");
        assert!(
            commands(&m)
                .iter()
                .any(|c| c["output"] == target.as_str() || c["target"] == target.as_str()),
            "{target}"
        );
    }
    assert!(
        commands(&m)
            .iter()
            .any(|c| c["argv"][0] == "nc" && c["node"] == "gpu-worker-1")
    );
    let (snap, _) = analyze(&[&h.path("p")]);
    assert!(snap.probes.contains_key("gpu-worker-1"));
}

#[test]
fn long_logs_keep_their_head_and_tail() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = copy_sample("seed-incident", tmp.path());
    let log = bundle.join("logs/kube-system/coredns-76f75df574-qw7jt/coredns.log");
    let mut text = String::from("2026-11-27T08:00:00.000000000Z FIRST LINE\n");
    for i in 0..5000 {
        text.push_str(&format!(
            "2026-11-27T09:00:00.000000000Z [INFO] filler line {i:05}\n"
        ));
    }
    text.push_str("2026-11-27T10:00:00.000000000Z LAST LINE\n");
    std::fs::write(&log, &text).unwrap();
    // The same container restarted twice: its previous instance's log is collected too.
    let pods = bundle.join("cluster/pods.yaml");
    let body = std::fs::read_to_string(&pods).unwrap();
    let at = body.find("name: coredns-76f75df574-qw7jt").unwrap();
    let rc = at + body[at..].find("restartCount: 0").unwrap();
    std::fs::write(
        &pods,
        format!(
            "{}restartCount: 2{}",
            &body[..rc],
            &body[rc + "restartCount: 0".len()..]
        ),
    )
    .unwrap();
    std::fs::write(
        log.with_file_name("coredns.previous.log"),
        "2026-11-27T07:00:00.000000000Z [FATAL] plugin/loop: Loop detected\n",
    )
    .unwrap();
    let h = Harness::new(&bundle);
    assert_ok(&h.collect(&[
        "-o",
        "l/",
        "--nodes",
        "none",
        "--max-log-bytes",
        "4096",
        "--timeout",
        "20",
        "--since",
        "3h",
        "--namespace",
        "ml-serving",
    ]));
    let got =
        std::fs::read_to_string(h.path("l/logs/kube-system/coredns-76f75df574-qw7jt/coredns.log"))
            .unwrap();
    assert!(got.starts_with("2026-11-27T08:00:00.000000000Z FIRST LINE\n"));
    assert!(got.ends_with("LAST LINE\n"));
    assert!(got.contains("cut here by --max-log-bytes=4096"), "{got}");
    assert!(got.len() < 4096 + 200, "{}", got.len());
    let previous = h.path("l/logs/kube-system/coredns-76f75df574-qw7jt/coredns.previous.log");
    assert!(
        std::fs::read_to_string(previous)
            .unwrap()
            .contains("Loop detected")
    );
    // Previous logs only where a container restarted; --since and --namespace are passed on.
    let calls = h.calls();
    let previous_calls: Vec<_> = calls
        .iter()
        .filter(|c| c.iter().any(|a| a == "--previous"))
        .collect();
    assert_eq!(previous_calls.len(), 1, "{previous_calls:?}");
    assert!(
        calls
            .iter()
            .any(|c| c.first().is_some_and(|a| a == "logs") && c.iter().any(|a| a == "--since=3h"))
    );
    assert!(
        calls
            .iter()
            .any(|c| c.first().is_some_and(|a| a == "get") && c.iter().any(|a| a == "ml-serving"))
    );
    assert!(h.path("l/logs/ml-serving").is_dir());
}

#[test]
fn default_output_is_a_dated_tarball_here_and_no_bundle_means_failure() {
    let h = Harness::new(&sample("healthy-kubeadm-flannel-iptables"));
    let out = h.collect(&["--nodes", "none", "--timeout", "20"]);
    assert_ok(&out);
    let written: Vec<String> = std::fs::read_dir(h.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("kdiag-bundle-") && n.ends_with("Z.tar.gz"))
        .collect();
    assert_eq!(written.len(), 1, "{}", stderr(&out));
    // The tarball's single top directory is named after the file.
    let (snap, _) = analyze(&[&h.path(&written[0])]);
    assert!(snap.manifest.is_some());
    assert!(
        snap.reads[0].root.starts_with("kdiag-bundle-"),
        "{:?}",
        snap.reads[0].root
    );

    let none = h.collect(&["--nodes", "none", "-o", "/nonexistent-dir/b.tar.gz"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(
        stderr(&none).contains("/nonexistent-dir"),
        "{}",
        stderr(&none)
    );
    // Only the work directory was used, and it is gone.
    let left: Vec<_> = std::fs::read_dir(h.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("kdiag-collect.")
        })
        .collect();
    assert!(left.is_empty());
}

mod pseudonyms {
    use super::*;
    use ipnet::Ipv4Net;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn redact_ips(lines: &str) -> Vec<String> {
        redact(&["--redact-ips"], lines)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn ordinary() -> impl Strategy<Value = Ipv4Addr> {
        // Not 0/8, loopback, link-local or multicast: those are kept as they are.
        (1u8..=223, any::<u8>(), any::<u8>(), any::<u8>())
            .prop_filter("kept ranges", |(a, _, _, _)| *a != 127 && *a != 169)
            .prop_map(|(a, b, c, d)| Ipv4Addr::new(a, b, c, d))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        /// "Is this address in that network?" has the same answer after redaction,
        /// networks stay networks, and one run maps an address the same way everywhere.
        #[test]
        fn containment_survives(pairs in proptest::collection::vec((ordinary(), 8u8..=32, ordinary()), 1..40)) {
            let mut input = String::new();
            let mut nets = Vec::new();
            for (base, len, ip) in &pairs {
                let net = Ipv4Net::new(*base, *len).unwrap().trunc();
                // Half the time the address is inside the network.
                let inside = Ipv4Addr::from(u32::from(net.network()) | (u32::from(*ip) & !u32::from(net.netmask())));
                input.push_str(&format!("{net} {ip} {inside} {ip}\n"));
                nets.push((net, *ip, inside));
            }
            let out = redact_ips(&input);
            prop_assert_eq!(out.len(), nets.len());
            for ((net, ip, inside), line) in nets.iter().zip(&out) {
                let w: Vec<&str> = line.split(' ').collect();
                let mnet: Ipv4Net = w[0].parse().unwrap();
                let mip: Ipv4Addr = w[1].parse().unwrap();
                let minside: Ipv4Addr = w[2].parse().unwrap();
                prop_assert_eq!(w[1], w[3]);
                prop_assert_eq!(mnet, mnet.trunc(), "a network stays a network: {}", line);
                prop_assert_eq!(mnet.prefix_len(), net.prefix_len());
                prop_assert_eq!(mnet.contains(&mip), net.contains(ip), "{} {} -> {}", net, ip, line);
                prop_assert!(mnet.contains(&minside), "{} {} -> {}", net, inside, line);
            }
        }
    }
}

#[test]
fn an_unreachable_api_server_still_gives_an_honest_bundle() {
    let h = Harness::new(&sample("seed-incident")).with(
        "KDIAG_DOUBLE_FAIL",
        "get =>unreachable;version=>unreachable;auth =>unreachable;config =>unreachable;logs =>unreachable",
    );
    let out = h.collect(&["-o", "down/", "--timeout", "20"]);
    assert_ok(&out);
    let down = h.path("down");
    let m = manifest(&down);
    let cmds = commands(&m);
    assert!(cmds.len() >= 17, "{}", cmds.len());
    assert!(cmds.iter().all(|c| c["exit_code"] != 0), "{cmds:?}");
    assert!(
        cmds.iter()
            .all(|c| c["stderr"].as_str().unwrap().contains("refused"))
    );
    assert!(
        stderr(&out).contains("no node names could be listed"),
        "{}",
        stderr(&out)
    );
    let (snap, analysis) = analyze(&[&down]);
    assert!(matches!(
        snap.input_status("cluster/pods.yaml"),
        InputStatus::Failed { .. }
    ));
    assert!(
        !analysis
            .findings
            .iter()
            .any(|f| !f.class.starts_with("bundle.")),
        "{:?}",
        analysis
            .findings
            .iter()
            .map(|f| &f.class)
            .collect::<Vec<_>>()
    );
    assert!(analysis.unknown.len() > 10, "{}", analysis.unknown.len());
    assert!(analysis.problems.is_empty(), "{:?}", analysis.problems);
}

#[test]
fn only_the_named_nodes_are_collected() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = copy_sample("seed-incident", tmp.path());
    // firewalld runs on master-1: its zone is listed after the state.
    let zone = "active\npublic (active)\n  target: default\n  services: ssh\n  ports: 6443/tcp 10250/tcp\n  masquerade: no\n";
    std::fs::write(bundle.join("nodes/master-1/firewalld.txt"), zone).unwrap();
    let h = Harness::new(&bundle);
    assert_ok(&h.collect(&[
        "-o",
        "two/",
        "--nodes",
        "master-1,gpu-worker-2",
        "--timeout",
        "20",
    ]));
    let mut nodes: Vec<String> = std::fs::read_dir(h.path("two/nodes"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    nodes.sort();
    assert_eq!(nodes, ["gpu-worker-2", "master-1"]);
    let got = std::fs::read_to_string(h.path("two/nodes/master-1/firewalld.txt")).unwrap();
    assert_eq!(got, zone);
    let (snap, _) = analyze(&[&h.path("two")]);
    let fw = &snap.nodes["master-1"].firewalld.as_ref().unwrap().value;
    assert!(
        fw.active() && fw.ports.contains(&"6443/tcp".to_owned()),
        "{fw:?}"
    );
    let inactive = &snap.nodes["gpu-worker-2"].firewalld.as_ref().unwrap().value;
    assert!(!inactive.active());
    // Each node pod was privileged, on its node, with the host read-only at /host.
    let created = h.created_pods();
    assert_eq!(created.len(), 2);
    for pod in &created {
        let c = &pod["spec"]["containers"][0];
        assert_eq!(c["securityContext"]["privileged"], true);
        assert_eq!(c["volumeMounts"][0]["readOnly"], true);
        assert_eq!(pod["spec"]["volumes"][0]["hostPath"]["path"], "/");
        assert_eq!(
            pod["metadata"]["labels"]["kdiag.io/run"]
                .as_str()
                .unwrap()
                .len(),
            6
        );
    }
    assert!(h.pods_left().is_empty());
}

#[test]
fn dashed_host_names_get_the_same_pseudonym_as_the_address() {
    let input = "node ip-10-20-30-40.ec2.internal has InternalIP 10.20.30.40\nloopback 127.0.0.1 any 0.0.0.0/0\n";
    let out = redact(&["--redact-ips"], input);
    let words: Vec<&str> = out.split_whitespace().collect();
    let host = words[1]
        .strip_prefix("ip-")
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .replace('-', ".");
    assert_eq!(host, words[4], "{out}");
    assert_ne!(words[4], "10.20.30.40");
    assert!(
        words[4].starts_with("10.") && words[4].ends_with(".40"),
        "{out}"
    );
    assert!(out.contains("loopback 127.0.0.1 any 0.0.0.0/0"), "{out}");
}

/// Every sample bundle, collected again through the double (node tables from
/// the sample's files), analyzes to the same root causes and symptoms.
#[test]
fn every_sample_survives_a_round_trip() {
    let mut samples: Vec<PathBuf> = std::fs::read_dir(SAMPLES)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("expected.yaml").exists())
        .collect();
    samples.sort();
    assert!(samples.len() >= 18, "{}", samples.len());
    let mut differ = Vec::new();
    for s in &samples {
        let h = Harness::new(s);
        // Probe the nodes the sample has probe output for (the double answers
        // from it), as a collection with --probes would have.
        let mut probed: Vec<String> = std::fs::read_dir(s.join("probes"))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().is_dir())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        probed.sort();
        let nodes = probed.join(",");
        let mut args = vec!["-o", "again/", "--timeout", "20", "--parallel", "4"];
        if !probed.is_empty() {
            args.extend(["--probe-nodes", nodes.as_str()]);
        }
        let out = h.collect(&args);
        assert_ok(&out);
        assert!(h.pods_left().is_empty());
        let (_, original) = analyze(&[s]);
        let (_, again) = analyze(&[&h.path("again")]);
        // The collection's own findings (bundle.*) may differ: the double
        // fails commands whose output the sample never had (ip -j, say).
        let cluster = |a: &Analysis| {
            let (roots, symptoms) = outcome(a, true);
            let keep = |c: &String| !c.starts_with("bundle.");
            (
                roots.into_iter().filter(keep).collect::<BTreeSet<_>>(),
                symptoms.into_iter().filter(keep).collect::<BTreeSet<_>>(),
            )
        };
        if cluster(&again) != cluster(&original) {
            differ.push(format!(
                "{}:\n  sample:    {:?}\n  collected: {:?}",
                s.display(),
                cluster(&original),
                cluster(&again)
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn a_line_of_megabytes_is_mapped_like_short_ones() {
    // One-line JSON of 200,000 addresses (about 3 MB), then the same address alone.
    let mut long = String::from("[");
    for i in 0..200_000u32 {
        long.push_str(&format!(
            "\"10.{}.{}.{}\",",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        ));
    }
    long.push_str("\"10.1.2.3\"]\n10.1.2.3\n");
    let out = redact(&["--redact-ips"], &long);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2);
    let alone = lines[1];
    assert_ne!(alone, "10.1.2.3");
    assert!(
        lines[0].ends_with(&format!("\"{alone}\"]")),
        "{}",
        &lines[0][lines[0].len() - 40..]
    );
    assert_eq!(lines[0].matches(',').count(), 200_000);
}

#[test]
fn context_kubeconfig_image_and_timeouts_are_honoured() {
    let h = Harness::new(&sample("seed-incident")).with("KDIAG_DOUBLE_FAIL", "get events=>timeout");
    let out = h.collect(&[
        "-o",
        "t/",
        "--context",
        "prod-eu",
        "--kubeconfig",
        "/etc/kdiag-test/kubeconfig",
        "--nodes",
        "master-1",
        "--node-image",
        "registry.local/tools/busybox:1.36",
        "--timeout",
        "2",
    ]);
    assert_ok(&out);
    // Every kubectl call carried the context and the kubeconfig.
    let raw: Vec<Vec<String>> = std::fs::read_to_string(h.state().join("raw-calls.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(raw.len() > 20);
    for call in &raw {
        let line = call.join(" ");
        assert!(
            line.contains("--context prod-eu")
                && line.contains("--kubeconfig /etc/kdiag-test/kubeconfig"),
            "{line}"
        );
    }
    let m = manifest(&h.path("t"));
    assert_eq!(m["cluster"]["context"], "prod-eu");
    // The hanging call was stopped by the timeout and says so.
    let events = commands(&m)
        .iter()
        .find(|c| c["target"] == "cluster/events.yaml")
        .expect("events recorded");
    assert_eq!(events["exit_code"], 124);
    assert!(
        events["stderr"]
            .as_str()
            .unwrap()
            .contains("timed out after 2s")
    );
    assert!(!h.path("t/cluster/events.yaml").exists());
    // The node pod used the image asked for.
    let created = h.created_pods();
    let pod = created.first().expect("a node pod");
    assert_eq!(
        pod["spec"]["containers"][0]["image"],
        "registry.local/tools/busybox:1.36"
    );
}
