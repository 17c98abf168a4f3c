#!/usr/bin/env python3
"""Writes a large, realistic kdiag bundle for benchmarks: N nodes with their
ip tables and iptables, pods spread over them, and big klog logs. Usage:
make-big-bundle.py OUT_DIR [NODES] [PODS] [LOG_MB]"""
import json, os, random, sys

out = sys.argv[1]
nodes = int(sys.argv[2]) if len(sys.argv) > 2 else 300
pods = int(sys.argv[3]) if len(sys.argv) > 3 else 15000
log_mb = int(sys.argv[4]) if len(sys.argv) > 4 else 200
rnd = random.Random(7)

def w(path, text):
    full = os.path.join(out, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)

def node_name(i):
    return f"worker-{i:04d}"

items = []
for i in range(nodes):
    cidr = f"10.{64 + i // 256}.{i % 256}.0/24"
    items.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node_name(i), "annotations": {
        "flannel.alpha.coreos.com/backend-data": json.dumps({"VNI": 1, "VtepMAC": "4e:1a:%02x:%02x:7d:01" % (i // 256, i % 256)}),
        "flannel.alpha.coreos.com/backend-type": "vxlan", "flannel.alpha.coreos.com/public-ip": f"172.16.{i // 256}.{i % 256}"}},
        "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
        "status": {"addresses": [{"type": "InternalIP", "address": f"172.16.{i // 256}.{i % 256}"}], "conditions": [{"type": "Ready", "status": "True"}]}})
w("cluster/nodes.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=2))
items = []
for p in range(pods):
    n = p % nodes
    items.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"app-{p:06d}", "namespace": f"team-{p % 40}", "labels": {"app": f"app-{p % 500}", "pod-template-hash": "5b9c7d8f6"}},
                  "spec": {"nodeName": node_name(n), "containers": [{"name": "app", "image": "registry.internal/app:1.0", "args": ["--port=8080"]}]},
                  "status": {"phase": "Running", "podIP": f"10.{64 + n // 256}.{n % 256}.{2 + p // nodes % 250}", "conditions": [{"type": "Ready", "status": "True"}],
                             "containerStatuses": [{"name": "app", "ready": True, "restartCount": 0, "state": {"running": {"startedAt": "2026-11-26T21:40:03Z"}}}]}})
w("cluster/pods.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=2))
# The same objects as YAML, to measure the YAML path too.
def yaml_list(objs):
    lines = ["apiVersion: v1", "items:"]
    for o in objs:
        lines.append(f"- apiVersion: v1\n  kind: Service\n  metadata:\n    name: {o}\n    namespace: default\n  spec:\n    clusterIP: 10.233.{rnd.randrange(64)}.{rnd.randrange(1, 254)}\n    ports:\n    - name: http\n      port: 80\n      protocol: TCP\n      targetPort: 8080\n    selector:\n      app: {o}\n    type: ClusterIP")
    lines.append("kind: List\nmetadata:\n  resourceVersion: \"\"\n")
    return "\n".join(lines)
w("cluster/services.yaml", yaml_list([f"svc-{i}" for i in range(pods // 5)]))
for i in range(min(nodes, 50)):
    n = node_name(i)
    routes = ["default via 172.16.0.1 dev eth0 proto static", f"10.{64 + i // 256}.{i % 256}.0/24 dev cni0 proto kernel scope link src 10.{64 + i // 256}.{i % 256}.1"] + [f"10.{64 + j // 256}.{j % 256}.0/24 via 10.{64 + j // 256}.{j % 256}.0 dev flannel.1 onlink" for j in range(nodes) if j != i]
    w(f"nodes/{n}/ip-route.txt", "\n".join(routes) + "\n")
    w(f"nodes/{n}/ip-neigh.txt", "".join(f"10.{64 + j // 256}.{j % 256}.0 dev flannel.1 lladdr 4e:1a:{j // 256:02x}:{j % 256:02x}:7d:01 PERMANENT\n" for j in range(nodes) if j != i))
    w(f"nodes/{n}/bridge-fdb.txt", "".join(f"4e:1a:{j // 256:02x}:{j % 256:02x}:7d:01 dev flannel.1 dst 172.16.{j // 256}.{j % 256} self permanent\n" for j in range(nodes) if j != i))
    # As kube-proxy writes it: the hooks, KUBE-SERVICES, one KUBE-SVC and
    # KUBE-SEP chain per Service port (a DNAT to a pod), the filter chains.
    svcs = range(pods // 5)
    ep = lambda k: f"10.{64 + k % nodes // 256}.{k % nodes % 256}.{2 + k // nodes % 250}"
    rules = (["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":KUBE-FORWARD - [0:0]", ":FLANNEL-FWD - [0:0]",
              '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD', '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
              '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP', '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
              '-A FLANNEL-FWD -s 10.64.0.0/14 -m comment --comment "flanneld forward" -j ACCEPT', '-A FLANNEL-FWD -d 10.64.0.0/14 -m comment --comment "flanneld forward" -j ACCEPT', "COMMIT",
              "*nat", ":PREROUTING ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":KUBE-SERVICES - [0:0]", ":KUBE-MARK-MASQ - [0:0]"]
             + [f":KUBE-SVC-{k:016X} - [0:0]" for k in svcs] + [f":KUBE-SEP-{k:016X} - [0:0]" for k in svcs]
             + ['-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES', '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
                "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000"]
             + [f'-A KUBE-SERVICES -d 10.233.{k // 250}.{k % 250 + 1}/32 -p tcp -m comment --comment "default/svc-{k}:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-{k:016X}' for k in svcs]
             + [line for k in svcs for line in (f'-A KUBE-SVC-{k:016X} -m comment --comment "default/svc-{k}:http -> {ep(k)}:8080" -j KUBE-SEP-{k:016X}',
                                               f'-A KUBE-SEP-{k:016X} -s {ep(k)}/32 -m comment --comment "default/svc-{k}:http" -j KUBE-MARK-MASQ',
                                               f'-A KUBE-SEP-{k:016X} -p tcp -m comment --comment "default/svc-{k}:http" -m tcp -j DNAT --to-destination {ep(k)}:8080')]
             + ["COMMIT"])
    w(f"nodes/{n}/iptables-save.txt", "\n".join(rules) + "\n")
    w(f"nodes/{n}/sysctl.txt", "net.bridge.bridge-nf-call-iptables = 1\nnet.ipv4.conf.all.forwarding = 1\nnet.ipv4.conf.all.rp_filter = 0\nnet.ipv4.ip_forward = 1\n")
per_log = 1 << 20
line = "{ts} E1127 08:02:11.345601       1 reflector.go:147] k8s.io/client-go/informers/factory.go:159: Failed to watch *v1.Service: failed to list *v1.Service: services is forbidden: User \"system:serviceaccount:kube-system:kube-proxy\" cannot list resource \"services\" in API group \"\" at the cluster scope\n"
one = line.format(ts="2026-11-27T08:02:11.345678901Z")
body = one * (per_log // len(one))
for k in range(log_mb):
    w(f"logs/kube-system/kube-proxy-{k:05d}/kube-proxy.log", body)
