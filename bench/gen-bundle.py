#!/usr/bin/env python3
"""Writes a kdiag bundle shaped like what the collector writes, straight
into a .tar.gz, for benchmarks. Deterministic (seeded).

  gen-bundle.py OUT.tar.gz --nodes N [--pods-per-node 25] [--services S]
                (default: one Service per 250 pods, ~3 endpoints each)
                [--log-kb-per-node 512] [--fault node-proxier-deleted]

- cluster objects as `kubectl get -o yaml` prints them (sorted keys,
  indentless sequences, quoted scalars where YAML would misread them,
  literal blocks for multi-line strings, long plain scalars folded at 80
  columns), one List per resource under cluster/;
- every node's `ip route`, `ip neigh` and `bridge fdb` with one flannel
  entry per peer (N^2 lines in all), its `iptables-save` with every
  Service's KUBE-SVC/KUBE-SEP chains (kube-proxy's shape), sysctl, lsmod;
- per node, klog lines from kube-proxy and flannel and application logs.

The fault `node-proxier-deleted` removes the ClusterRole system:node-proxier:
kube-proxy's logs say it is forbidden and no node programs the Services
created after it (the last tenth, the DNS Service among them).
"""
import argparse, gzip, io, json, random, re, tarfile, time, zlib

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--nodes", type=int, default=250)
ap.add_argument("--pods-per-node", type=int, default=25)
ap.add_argument("--services", type=int, default=0, help="default: one per 250 pods")
ap.add_argument("--log-kb-per-node", type=int, default=512)
ap.add_argument("--fault", choices=["none", "node-proxier-deleted"], default="none")
args = ap.parse_args()
N = args.nodes
PODS = N * args.pods_per_node
# Services: one per 250 pods, each in front of about three of them (its app's
# replicas); the other apps have no Service. So each node's iptables-save
# holds every Service with its endpoints, as kube-proxy writes it.
SVCS = args.services or max(10, PODS // 250)
APPS = max(SVCS, PODS // 3)
rnd = random.Random(20261127)
ROOT = "kdiag-bundle-bench"
MTIME = 1764230400  # 2025-11-27, fixed: the archive is byte-for-byte repeatable

# gzip's own header has a time too: fixed, so that runs are byte-identical.
gz = gzip.GzipFile(args.out, "wb", compresslevel=6, mtime=0)
tar = tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT)


def add(path, data):
    if isinstance(data, str):
        data = data.encode()
    info = tarfile.TarInfo(f"{ROOT}/{path}")
    info.size = len(data)
    info.mtime = MTIME
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


# --- YAML as kubectl (sigs.k8s.io/yaml over go-yaml v2) prints it ---------

PLAIN_UNSAFE = set(":#{}[],&*!|>'\"%@`")
KEYWORDS = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n", ""}


def needs_quotes(s):
    if s.lower() in KEYWORDS or s != s.strip():
        return True
    if s[0] in PLAIN_UNSAFE or s[0] in "-?" and (len(s) == 1 or s[1] == " "):
        return True
    if ": " in s or " #" in s or s.endswith(":"):
        return True
    try:
        float(s)
        return True
    except ValueError:
        pass
    # YAML 1.1 timestamps and sexagesimal numbers read as other types.
    return bool(re.fullmatch(r"\d{4}-\d\d?-\d\d?([Tt ].*)?|[-+]?\d+(:[0-5]?\d)+(\.\d*)?", s))


def scalar(v, indent):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    if "\n" in s:
        body = "\n".join((" " * indent + l) if l else "" for l in s.rstrip("\n").split("\n"))
        return "|\n" + body if s.endswith("\n") else "|-\n" + body
    if needs_quotes(s):
        # go-yaml v2 double-quotes what plain style would misread.
        return json.dumps(s)
    if len(s) > 80 and " " in s:
        # go-yaml folds long plain scalars at word boundaries.
        words, lines, cur = s.split(" "), [], ""
        for w in words:
            if cur and len(cur) + 1 + len(w) > 80:
                lines.append(cur)
                cur = w
            else:
                cur = f"{cur} {w}" if cur else w
        lines.append(cur)
        return ("\n" + " " * indent).join(lines)
    return s


def emit(v, indent, out):
    """Appends the lines of a mapping or sequence value at `indent`."""
    pad = " " * indent
    if isinstance(v, dict):
        for k in sorted(v):
            x = v[k]
            key = scalar(k, indent) if needs_quotes(k) else k
            if isinstance(x, dict) and x:
                out.append(f"{pad}{key}:")
                emit(x, indent + 2, out)
            elif isinstance(x, list) and x:
                out.append(f"{pad}{key}:")
                emit(x, indent, out)  # indentless sequence
            elif isinstance(x, dict):
                out.append(f"{pad}{key}: {{}}")
            elif isinstance(x, list):
                out.append(f"{pad}{key}: []")
            else:
                out.append(f"{pad}{key}: {scalar(x, indent + 2)}")
    else:
        for x in v:
            if isinstance(x, dict) and x:
                first = []
                emit(x, indent + 2, first)
                first[0] = pad + "- " + first[0][indent + 2:]
                out.extend(first)
            elif isinstance(x, list) and x:
                out.append(f"{pad}-")
                emit(x, indent + 2, out)
            else:
                out.append(f"{pad}- {scalar(x, indent + 2)}")


def kube_list(items):
    out = []
    emit({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}, 0, out)
    return "\n".join(out) + "\n"


# --- the cluster ----------------------------------------------------------

def node(i):
    return f"worker-{i:04d}"


def pod_cidr(i):
    return f"10.{64 + i // 256}.{i % 256}.0/24"


def host_ip(i):
    return f"172.16.{i // 256}.{i % 256}"


def vtep(i):
    return "4e:1a:%02x:%02x:7d:01" % (i // 256, i % 256)


def pod_ip(i, k):
    return f"10.{64 + i // 256}.{i % 256}.{2 + k}"


def svc_ip(s):
    return f"10.233.{s // 250}.{s % 250 + 1}"


STAMP = "2026-11-27T08:00:00Z"
meta = lambda name, ns=None, **extra: {k: v for k, v in dict(name=name, namespace=ns, creationTimestamp=STAMP, uid="%08x-0000-4000-8000-%012x" % (rnd.getrandbits(32), rnd.getrandbits(48)), resourceVersion=str(rnd.randrange(10**6)), **extra).items() if v is not None}

nodes = [{
    "apiVersion": "v1", "kind": "Node",
    "metadata": meta(node(i), labels={"kubernetes.io/hostname": node(i), "kubernetes.io/os": "linux", "node-role.kubernetes.io/worker": ""},
                     annotations={"flannel.alpha.coreos.com/backend-data": json.dumps({"VNI": 1, "VtepMAC": vtep(i)}, separators=(",", ":")),
                                  "flannel.alpha.coreos.com/backend-type": "vxlan", "flannel.alpha.coreos.com/kube-subnet-manager": "true",
                                  "flannel.alpha.coreos.com/public-ip": host_ip(i),
                                  "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}),
    "spec": {"podCIDR": pod_cidr(i), "podCIDRs": [pod_cidr(i)]},
    "status": {"addresses": [{"address": host_ip(i), "type": "InternalIP"}, {"address": node(i), "type": "Hostname"}],
               "conditions": [{"lastHeartbeatTime": STAMP, "lastTransitionTime": STAMP, "message": "kubelet is posting ready status", "reason": "KubeletReady", "status": "True", "type": "Ready"}],
               "nodeInfo": {"containerRuntimeVersion": "containerd://1.7.13", "kernelVersion": "6.1.0-18-amd64", "kubeProxyVersion": "v1.29.2", "kubeletVersion": "v1.29.2", "osImage": "Debian GNU/Linux 12 (bookworm)"}},
} for i in range(N)]
add("cluster/nodes.yaml", kube_list(nodes))
del nodes


def pod(name, ns, i, k, labels, image, sa="default", host=False, owner=None, container="app"):
    ip = host_ip(i) if host else pod_ip(i, k)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": meta(name, ns, labels=labels, generateName=name.rsplit("-", 1)[0] + "-",
                             ownerReferences=[{"apiVersion": "apps/v1", "blockOwnerDeletion": True, "controller": True, "kind": owner[0], "name": owner[1], "uid": "00000000-0000-4000-8000-000000000001"}] if owner else None),
            "spec": {"containers": [{"image": image, "imagePullPolicy": "IfNotPresent", "name": container,
                                     "resources": {"requests": {"cpu": "100m", "memory": "70Mi"}},
                                     "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}],
                     "dnsPolicy": "ClusterFirst", "enableServiceLinks": True, "hostNetwork": host or None, "nodeName": node(i), "restartPolicy": "Always",
                     "schedulerName": "default-scheduler", "serviceAccountName": sa, "terminationGracePeriodSeconds": 30},
            "status": {"conditions": [{"lastProbeTime": None, "lastTransitionTime": STAMP, "status": "True", "type": t} for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
                       "containerStatuses": [{"containerID": "containerd://%064x" % rnd.getrandbits(256), "image": image, "imageID": image + "@sha256:%064x" % rnd.getrandbits(256),
                                              "lastState": {}, "name": container, "ready": True, "restartCount": 0, "started": True, "state": {"running": {"startedAt": STAMP}}}],
                       "hostIP": host_ip(i), "phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "qosClass": "Burstable", "startTime": STAMP}}


pods = []
for i in range(N):
    pods.append(pod(f"kube-proxy-{i:05x}", "kube-system", i, 0, {"k8s-app": "kube-proxy", "controller-revision-hash": "7c8d9f5b6"}, "registry.k8s.io/kube-proxy:v1.29.2", "kube-proxy", True, ("DaemonSet", "kube-proxy"), "kube-proxy"))
    pods.append(pod(f"kube-flannel-ds-{i:05x}", "kube-flannel", i, 0, {"app": "flannel", "tier": "node", "controller-revision-hash": "6d5b8c7f9"}, "docker.io/flannel/flannel:v0.24.2", "flannel", True, ("DaemonSet", "kube-flannel-ds"), "kube-flannel"))
for k in range(2):
    pods.append(pod(f"coredns-76f75df574-{k:05x}", "kube-system", k % N, 1, {"k8s-app": "kube-dns", "pod-template-hash": "76f75df574"}, "registry.k8s.io/coredns/coredns:v1.11.1", "coredns", owner=("ReplicaSet", "coredns-76f75df574"), container="coredns"))
for i in range(N):
    for k in range(2, args.pods_per_node):
        s = (i * args.pods_per_node + k) % APPS
        pods.append(pod(f"app-{s}-{i:04x}{k:02x}", f"team-{s % 40}", i, k, {"app": f"app-{s}", "pod-template-hash": "5b9c7d8f6"}, f"registry.internal/team-{s % 40}/app-{s}:1.{s % 7}", owner=("ReplicaSet", f"app-{s}-5b9c7d8f6")))
add("cluster/pods.yaml", kube_list(pods))
endpoints_of = {}
for p in pods:
    a = p["metadata"]["labels"].get("app")
    if a and a.startswith("app-"):
        endpoints_of.setdefault(int(a[4:]), []).append((p["status"]["podIP"], p["spec"]["nodeName"], p["metadata"]["name"]))
dns_pods = [(p["status"]["podIP"], p["spec"]["nodeName"], p["metadata"]["name"]) for p in pods if p["metadata"]["labels"].get("k8s-app") == "kube-dns"]
del pods

# Service 0 is the DNS Service; the others belong to the teams.
services, slices = [], []
for s in range(SVCS):
    if s == 0:
        name, ns, sel, ports, eps = "kube-dns", "kube-system", {"k8s-app": "kube-dns"}, [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")], dns_pods
    else:
        name, ns, sel, ports, eps = f"app-{s}", f"team-{s % 40}", {"app": f"app-{s}"}, [("http", 80, "TCP")], endpoints_of.get(s, [])
    services.append({"apiVersion": "v1", "kind": "Service", "metadata": meta(name, ns, labels=sel),
                     "spec": {"clusterIP": svc_ip(s), "clusterIPs": [svc_ip(s)], "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                              "ports": [{"name": pn, "port": pp, "protocol": pr, "targetPort": pp if s == 0 else 8080} for pn, pp, pr in ports], "selector": sel, "sessionAffinity": "None", "type": "ClusterIP"},
                     "status": {"loadBalancer": {}}})
    slices.append({"addressType": "IPv4", "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                   "endpoints": [{"addresses": [ip], "conditions": {"ready": True, "serving": True, "terminating": False}, "nodeName": nd,
                                  "targetRef": {"kind": "Pod", "name": pn, "namespace": ns}} for ip, nd, pn in eps],
                   "metadata": meta(f"{name}-{rnd.getrandbits(20):05x}", ns, labels={"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}),
                   "ports": [{"name": pn, "port": pp if s == 0 else 8080, "protocol": pr} for pn, pp, pr in ports]})
add("cluster/services.yaml", kube_list(services))
add("cluster/endpointslices.yaml", kube_list(slices))
del slices

roles = [
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta("system:node-proxier", labels={"kubernetes.io/bootstrapping": "rbac-defaults"}, annotations={"rbac.authorization.kubernetes.io/autoupdate": "true"}),
     "rules": [{"apiGroups": [""], "resources": ["endpoints", "services"], "verbs": ["list", "watch"]}, {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
               {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]}, {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta("system:coredns"),
     "rules": [{"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"], "verbs": ["list", "watch"]}, {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta("flannel"),
     "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}, {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]}, {"apiGroups": [""], "resources": ["nodes/status"], "verbs": ["patch"]}]},
]
if args.fault == "node-proxier-deleted":
    roles = roles[1:]
binding = lambda name, role, ns, sa: {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": meta(name),
                                      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                                      "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]}
add("cluster/clusterroles.yaml", kube_list(roles))
add("cluster/clusterrolebindings.yaml", kube_list([binding("kubeadm:node-proxier", "system:node-proxier", "kube-system", "kube-proxy"),
                                                   binding("system:coredns", "system:coredns", "kube-system", "coredns"),
                                                   binding("flannel", "flannel", "kube-flannel", "flannel")]))
add("cluster/configmaps.yaml", kube_list([
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("kube-proxy", "kube-system"), "data": {"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nclusterCIDR: 10.64.0.0/14\nkind: KubeProxyConfiguration\nmode: iptables\n"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("kube-flannel-cfg", "kube-flannel"), "data": {"net-conf.json": "{\n  \"Network\": \"10.64.0.0/14\",\n  \"Backend\": {\n    \"Type\": \"vxlan\"\n  }\n}\n"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("coredns", "kube-system"), "data": {"Corefile": ".:53 {\n    errors\n    health\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n    }\n    forward . /etc/resolv.conf\n    cache 30\n    loop\n    reload\n}\n"}},
]))
ds = lambda name, ns, labels, image: {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta(name, ns, labels=labels),
                                      "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"image": image, "name": name}]}}},
                                      "status": {"currentNumberScheduled": N, "desiredNumberScheduled": N, "numberAvailable": N, "numberMisscheduled": 0, "numberReady": N, "observedGeneration": 1, "updatedNumberScheduled": N}}
add("cluster/daemonsets.yaml", kube_list([ds("kube-proxy", "kube-system", {"k8s-app": "kube-proxy"}, "registry.k8s.io/kube-proxy:v1.29.2"),
                                          ds("kube-flannel-ds", "kube-flannel", {"app": "flannel", "tier": "node"}, "docker.io/flannel/flannel:v0.24.2")]))
add("cluster/deployments.yaml", kube_list([{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("coredns", "kube-system", labels={"k8s-app": "kube-dns"}),
                                            "spec": {"replicas": 2, "selector": {"matchLabels": {"k8s-app": "kube-dns"}}, "template": {"metadata": {"labels": {"k8s-app": "kube-dns"}}, "spec": {"containers": [{"image": "registry.k8s.io/coredns/coredns:v1.11.1", "name": "coredns"}]}}},
                                            "status": {"availableReplicas": 2, "observedGeneration": 1, "readyReplicas": 2, "replicas": 2, "updatedReplicas": 2}}]))
add("cluster/version.yaml", "clientVersion:\n  gitVersion: v1.29.2\n  major: \"1\"\n  minor: \"29\"\nserverVersion:\n  gitVersion: v1.29.2\n  major: \"1\"\n  minor: \"29\"\n")

# --- every node's host state ----------------------------------------------

# The Services kube-proxy programmed: with the node-proxier role deleted,
# those created after the deletion (the last tenth, and the DNS Service,
# re-created) are on no node.
programmed = range(SVCS) if args.fault == "none" else range(1, SVCS - SVCS // 10)


def chain_id(*parts):
    """kube-proxy's chain suffix: 16 hex digits from a hash (here CRC-32s,
    so that runs are repeatable)."""
    key = "/".join(map(str, parts)).encode()
    return "%08X%08X" % (zlib.crc32(key), zlib.crc32(key[::-1]))


def iptables(i):
    out = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":FLANNEL-FWD - [0:0]", ":KUBE-FORWARD - [0:0]",
           '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD', '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
           "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP", '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
           '-A FLANNEL-FWD -s 10.64.0.0/14 -m comment --comment "flanneld forward" -j ACCEPT', '-A FLANNEL-FWD -d 10.64.0.0/14 -m comment --comment "flanneld forward" -j ACCEPT', "COMMIT",
           "*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", ":KUBE-MARK-MASQ - [0:0]", ":KUBE-POSTROUTING - [0:0]", ":KUBE-SERVICES - [0:0]"]
    chains, rules = [], []
    for s in programmed:
        svc = services[s]
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        eps = dns_pods if s == 0 else endpoints_of.get(s, [])
        for port in svc["spec"]["ports"]:
            tag = chain_id(s, port["name"])
            proto = port["protocol"].lower()
            chains.append(f":KUBE-SVC-{tag} - [0:0]")
            rules.append(f'-A KUBE-SERVICES -d {svc_ip(s)}/32 -p {proto} -m comment --comment "{ns}/{name}:{port["name"]} cluster IP" -m {proto} --dport {port["port"]} -j KUBE-SVC-{tag}')
            for e, (ip, _, _) in enumerate(eps):
                sep = chain_id(s, port["name"], e)
                chains.append(f":KUBE-SEP-{sep} - [0:0]")
                left = len(eps) - e
                prob = f" -m statistic --mode random --probability {1 / left:.11f}" if left > 1 else ""
                target = port["targetPort"]
                rules.append(f'-A KUBE-SVC-{tag} -m comment --comment "{ns}/{name}:{port["name"]} -> {ip}:{target}"{prob} -j KUBE-SEP-{sep}')
                rules.append(f'-A KUBE-SEP-{sep} -s {ip}/32 -m comment --comment "{ns}/{name}:{port["name"]}" -j KUBE-MARK-MASQ')
                rules.append(f'-A KUBE-SEP-{sep} -p {proto} -m comment --comment "{ns}/{name}:{port["name"]}" -m {proto} -j DNAT --to-destination {ip}:{target}')
    out += chains
    out += ['-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES', '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
            '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING', "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
            "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN", "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
            '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully']
    out += rules
    out += ['-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS', "COMMIT"]
    return "\n".join(out) + "\n"


SYSCTL = "net.bridge.bridge-nf-call-ip6tables = 1\nnet.bridge.bridge-nf-call-iptables = 1\nnet.ipv4.conf.all.forwarding = 1\nnet.ipv4.conf.all.rp_filter = 0\nnet.ipv4.conf.cni0.forwarding = 1\nnet.ipv4.conf.eth0.forwarding = 1\nnet.ipv4.conf.flannel/1.forwarding = 1\nnet.ipv4.ip_forward = 1\nnet.netfilter.nf_conntrack_count = 1893\nnet.netfilter.nf_conntrack_max = 262144\n"
LSMOD = "Module                  Size  Used by\nvxlan                 102400  0\nbr_netfilter           32768  0\nbridge                311296  1 br_netfilter\nnf_conntrack          172032  4 xt_conntrack,nf_nat,xt_MASQUERADE,nf_conntrack_netlink\noverlay               151552  30\n"
LINKS = """1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0 minmtu 0 maxmtu 0 addrgenmode eui64 numtxqueues 1 numrxqueues 1
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP mode DEFAULT group default qlen 1000
    link/ether 52:54:00:3a:10:15 brd ff:ff:ff:ff:ff:ff promiscuity 0 minmtu 68 maxmtu 9000 addrgenmode eui64 numtxqueues 2 numrxqueues 2
3: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN mode DEFAULT group default
    link/ether {mac} brd ff:ff:ff:ff:ff:ff promiscuity 0 minmtu 68 maxmtu 65535
    vxlan id 1 local {ip} dev eth0 srcport 0 0 dstport 8472 nolearning ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx addrgenmode eui64 numtxqueues 1 numrxqueues 1
4: cni0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP mode DEFAULT group default qlen 1000
    link/ether 5a:3e:91:c4:15:0b brd ff:ff:ff:ff:ff:ff promiscuity 0 minmtu 68 maxmtu 65535
    bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time 30000 stp_state 0 priority 32768 vlan_filtering 0 addrgenmode eui64 numtxqueues 1 numrxqueues 1
"""
ADDRS = """1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP group default qlen 1000
    link/ether 52:54:00:3a:10:15 brd ff:ff:ff:ff:ff:ff
    inet {ip}/16 scope global eth0
       valid_lft forever preferred_lft forever
3: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN group default
    link/ether {mac} brd ff:ff:ff:ff:ff:ff
    inet {net}.0/32 scope global flannel.1
       valid_lft forever preferred_lft forever
4: cni0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP group default qlen 1000
    link/ether 5a:3e:91:c4:15:0b brd ff:ff:ff:ff:ff:ff
    inet {net}.1/24 brd {net}.255 scope global cni0
       valid_lft forever preferred_lft forever
"""
KUBELET = """apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  webhook:
    enabled: true
cgroupDriver: systemd
clusterDNS:
- 10.233.0.1
clusterDomain: cluster.local
kind: KubeletConfiguration
resolvConf: /run/systemd/resolve/resolv.conf
"""
KLOG = "I1127 08:{m:02d}:{s:02d}.{us:06d}       1 {src}] {msg}\n"
PROXY_MSGS = ["Syncing iptables rules", "SyncProxyRules complete elapsed=\"{ms}ms\"", "Reloading service iptables data numServices={n} numEndpoints={e}"]
FLANNEL_MSGS = ["Handling initial subnet events", "watching for new subnet leases", "Subnet added: {cidr} via {ip}"]
FORBIDDEN = ('E1127 08:{m:02d}:{s:02d}.{us:06d}       1 reflector.go:147] k8s.io/client-go/informers/factory.go:159: Failed to watch *v1.Service: failed to list *v1.Service: '
             'services is forbidden: User "system:serviceaccount:kube-system:kube-proxy" cannot list resource "services" in API group "" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io "system:node-proxier" not found\n')


def log_lines(budget, pick):
    out, size, t = [], 0, 0
    while size < budget:
        line = pick(t)
        out.append(line)
        size += len(line)
        t += 1
    return "".join(out)


start = time.time()
for i in range(N):
    n = node(i)
    peers = [j for j in range(N) if j != i]
    # iproute2 ends every route and neighbour line with a space.
    add(f"nodes/{n}/ip-route.txt", "default via 172.16.0.1 dev eth0 proto static \n" + f"{pod_cidr(i)} dev cni0 proto kernel scope link src {pod_ip(i, -1)} \n"
        + "".join(f"{pod_cidr(j)} via 10.{64 + j // 256}.{j % 256}.0 dev flannel.1 onlink \n" for j in peers) + f"172.16.0.0/16 dev eth0 proto kernel scope link src {host_ip(i)} \n")
    add(f"nodes/{n}/ip-neigh.txt", "".join(f"10.{64 + j // 256}.{j % 256}.0 dev flannel.1 lladdr {vtep(j)} PERMANENT \n" for j in peers) + "172.16.0.1 dev eth0 lladdr 52:54:00:12:34:56 REACHABLE \n")
    add(f"nodes/{n}/bridge-fdb.txt", "".join(f"{vtep(j)} dev flannel.1 dst {host_ip(j)} self permanent\n" for j in peers))
    add(f"nodes/{n}/iptables-save.txt", iptables(i))
    add(f"nodes/{n}/sysctl.txt", SYSCTL)
    add(f"nodes/{n}/ip-link.txt", LINKS.format(mac=vtep(i), ip=host_ip(i)))
    add(f"nodes/{n}/ip-addr.txt", ADDRS.format(mac=vtep(i), ip=host_ip(i), net=f"10.{64 + i // 256}.{i % 256}"))
    add(f"nodes/{n}/kubelet-config.yaml", KUBELET)
    add(f"nodes/{n}/selinux.txt", "Permissive\n")
    add(f"nodes/{n}/lsmod.txt", LSMOD)
    budget = args.log_kb_per_node * 1024
    forbidden = args.fault == "node-proxier-deleted"

    def proxy(t):
        m, s, us = t // 3600 % 60, t // 60 % 60, t * 7919 % 10**6
        if forbidden and t % 5 == 4:
            return FORBIDDEN.format(m=m, s=s, us=us)
        msg = PROXY_MSGS[t % 3].format(ms=t % 97, n=SVCS, e=SVCS * 2)
        return KLOG.format(m=m, s=s, us=us, src="proxier.go:%d" % (796 + t % 40), msg=msg)

    def flannel(t):
        m, s, us = t // 3600 % 60, t // 60 % 60, t * 104729 % 10**6
        j = t % N
        return KLOG.format(m=m, s=s, us=us, src="main.go:%d" % (400 + t % 30), msg=FLANNEL_MSGS[t % 3].format(cidr=pod_cidr(j), ip=host_ip(j)))

    def app(t):
        return f'2026-11-27T08:{t // 60 % 60:02d}:{t % 60:02d}.{t * 31 % 1000:03d}Z INFO http request method=GET path=/api/v1/items/{t % 9973} status=200 duration_ms={t % 211}\n'

    add(f"logs/kube-system/kube-proxy-{i:05x}/kube-proxy.log", log_lines(budget // 4, proxy))
    add(f"logs/kube-flannel/kube-flannel-ds-{i:05x}/kube-flannel.log", log_lines(budget // 4, flannel))
    s = (i * args.pods_per_node + 2) % APPS
    add(f"logs/team-{s % 40}/app-{s}-{i:04x}02/app.log", log_lines(budget // 2, app))
add("manifest.json", json.dumps({"format": "kdiag-bundle/v1", "collector": {"name": "bench/gen-bundle.py", "version": "0.1.0"},
                                 "collected_at": "2026-11-27T08:05:00Z", "cluster": {"context": "bench", "server": "https://172.16.0.10:6443"},
                                 "options": {"since": "2h", "nodes": "all"}, "commands": []}, indent=2) + "\n")
tar.close()
gz.close()
