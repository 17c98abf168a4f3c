#!/usr/bin/env python3
"""Writes the single-fault sample bundles and the healthy clusters under
sample-bundles/. Each is a healthy three-node cluster (kubeadm, flannel VXLAN,
kube-proxy, CoreDNS) with exactly one fault injected. Node network tables
(ip addr/link/route/neigh, bridge fdb) are produced for real: every node is a
network namespace with the routes, neighbours and FDB entries of the scenario.
Run from the repository root, as root, with PyYAML and iproute2.
"""
import copy, hashlib, json, os, shutil, subprocess, sys, time, yaml

OUT = "sample-bundles"

def sh(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True).stdout

def dump(root, path, obj):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(obj if isinstance(obj, str) else yaml.safe_dump(obj, default_flow_style=False, sort_keys=True, width=10000))

def lst(items):
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}

def meta(name, ns=None, **extra):
    h = hashlib.sha256(f"{ns}/{name}".encode()).hexdigest()
    m = {"name": name, "creationTimestamp": "2026-09-14T08:21:05Z", "uid": f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"}
    if ns:
        m["namespace"] = ns
    m.update(extra)
    return m

class Cluster:
    """A healthy cluster; scenarios change it before it is written."""
    def __init__(self, name):
        self.name = name
        self.version = "v1.30.6"
        self.pod_cidr = "10.244.0.0/16"
        self.svc_cidr = "10.96.0.0/12"
        self.dns_ip = "10.96.0.10"
        self.flannel_ns = "kube-flannel"
        self.flannel_network = "10.244.0.0/16"
        self.proxy_mode = "iptables"
        self.nodes = [  # name, ip, podCIDR, vtep mac, control plane
            {"name": "cp-1", "ip": "172.20.0.11", "cidr": "10.244.0.0/24", "mac": "b6:4e:1c:20:00:11", "cp": True},
            {"name": "worker-1", "ip": "172.20.0.21", "cidr": "10.244.1.0/24", "mac": "b6:4e:1c:20:00:21", "cp": False},
            {"name": "worker-2", "ip": "172.20.0.22", "cidr": "10.244.2.0/24", "mac": "b6:4e:1c:20:00:22", "cp": False},
        ]
        self.coredns = [("coredns-7db6d8ff4d-4kq9m", "worker-1", "10.244.1.3"), ("coredns-7db6d8ff4d-x2wzt", "worker-2", "10.244.2.4")]
        self.roles_deleted = set()
        self.flannel_binding_ns = None       # binding subject namespace, None = the pods' namespace
        self.coredns_log = None               # extra CoreDNS log lines
        self.coredns_state = "ready"
        self.kubelet_dns = None               # clusterDNS override
        self.sysctl = {}                      # per node overrides {node: {key: value}}
        self.lsmod_without = set()            # nodes without br_netfilter
        self.selinux = {}                     # node -> mode
        self.firewalld = {}                   # node -> state
        self.vxlan_reject = set()             # nodes rejecting udp/8472
        self.vxlan_drop = set()               # nodes dropping udp/8472 (a firewall DROP)
        self.stale_peers = {}                 # node -> [(cidr, mac, ip)] left behind
        self.missing_peer = set()             # (node, peer) not programmed
        self.ipvs_missing = set()             # nodes whose ipvs lacks the DNS virtual server
        self.backend = "vxlan"                # or "host-gw"
        self.underlay_mtu = None               # lowered after flannel.1 exists
        self.events_core_only = False          # system:node-proxier as written before 1.19
        self.probes = {}                      # node -> probe output (probes/<node>/dns.txt)
        self.extra_pods = []                  # (name, namespace, node, ip) application pods
        self.readme = ""
        self.expected = {}

    # ---- cluster objects ----
    def write(self):
        root = os.path.join(OUT, self.name)
        if os.path.isdir(root):
            shutil.rmtree(root)
        os.makedirs(root)
        d = lambda p, o: dump(root, p, o)
        d("README.md", self.readme)
        d("expected.yaml", yaml.safe_dump(self.expected, sort_keys=False, width=100))
        d("cluster/version.yaml", f"clientVersion:\n  gitVersion: {self.version}\n  major: \"1\"\n  minor: \"30\"\n  platform: linux/amd64\nkustomizeVersion: v5.0.4-0.20230601165947-6ce0bf390ce3\nserverVersion:\n  gitVersion: {self.version}\n  major: \"1\"\n  minor: \"30\"\n  platform: linux/amd64\n")
        nodes = []
        for n in self.nodes:
            labels = {"kubernetes.io/hostname": n["name"], "kubernetes.io/os": "linux"}
            if n["cp"]:
                labels["node-role.kubernetes.io/control-plane"] = ""
            annotations = {} if n.get("unregistered") else {
                "flannel.alpha.coreos.com/backend-data": json.dumps({"VNI": 1, "VtepMAC": n["mac"]}, separators=(",", ":")) if self.backend == "vxlan" else "null",
                "flannel.alpha.coreos.com/backend-type": self.backend, "flannel.alpha.coreos.com/kube-subnet-manager": "true",
                "flannel.alpha.coreos.com/public-ip": n["ip"]}
            annotations["node.alpha.kubernetes.io/ttl"] = "0"
            nodes.append({"apiVersion": "v1", "kind": "Node", "metadata": meta(n["name"], labels=labels, annotations=annotations),
                "spec": {"podCIDR": n["cidr"], "podCIDRs": [n["cidr"]]},
                "status": {"addresses": [{"address": n["ip"], "type": "InternalIP"}, {"address": n["name"], "type": "Hostname"}],
                           "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
                           "nodeInfo": {"kubeletVersion": self.version, "kubeProxyVersion": self.version, "osImage": "Rocky Linux 9.4 (Blue Onyx)", "kernelVersion": "5.14.0-427.13.1.el9_4.x86_64", "containerRuntimeVersion": "containerd://1.7.22"}}})
        d("cluster/nodes.yaml", lst(nodes))
        for node, files in self.probes.items():
            for f, text in files.items():
                d(f"probes/{node}/{f}", text)
        pods, logs = self.pods()
        d("cluster/pods.yaml", lst(pods))
        for path, text in logs.items():
            d(path, text)
        svc = lambda name, ns, ip, ports, sel, labels: {"apiVersion": "v1", "kind": "Service", "metadata": meta(name, ns, labels=labels), "spec": {"clusterIP": ip, "clusterIPs": [ip], "ports": ports, "selector": sel, "type": "ClusterIP"}}
        d("cluster/services.yaml", lst([
            {"apiVersion": "v1", "kind": "Service", "metadata": meta("kubernetes", "default", labels={"component": "apiserver", "provider": "kubernetes"}), "spec": {"clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"], "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}], "type": "ClusterIP"}},
            svc("kube-dns", "kube-system", self.dns_ip, [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53}, {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53}, {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}], {"k8s-app": "kube-dns"}, {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}),
        ]))
        ready = self.coredns_state == "ready"
        eps = [{"addresses": [ip], "conditions": {"ready": ready, "serving": ready, "terminating": False}, "nodeName": node, "targetRef": {"kind": "Pod", "name": name, "namespace": "kube-system"}} for name, node, ip in self.coredns]
        d("cluster/endpointslices.yaml", lst([
            {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4", "metadata": meta("kubernetes", "default", labels={"kubernetes.io/service-name": "kubernetes"}), "endpoints": [{"addresses": [self.nodes[0]["ip"]], "conditions": {"ready": True}}], "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]},
            {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4", "metadata": meta("kube-dns-8hgqz", "kube-system", labels={"kubernetes.io/service-name": "kube-dns", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}), "endpoints": eps,
             "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}, {"name": "metrics", "port": 9153, "protocol": "TCP"}]}]))
        n_ready = len(self.nodes)
        ds = lambda name, ns, labels: {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta(name, ns, labels=labels), "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {"containers": []}}}, "status": {"desiredNumberScheduled": n_ready, "currentNumberScheduled": n_ready, "numberReady": n_ready, "numberAvailable": n_ready, "numberMisscheduled": 0}}
        flannel_ds = ds("kube-flannel-ds", self.flannel_ns, {"app": "flannel"})
        registered = sum(1 for n in self.nodes if not n.get("unregistered"))
        flannel_ds["status"].update({"desiredNumberScheduled": registered, "currentNumberScheduled": registered, "numberReady": registered, "numberAvailable": registered})
        d("cluster/daemonsets.yaml", lst([ds("kube-proxy", "kube-system", {"k8s-app": "kube-proxy"}), flannel_ds]))
        dready = len(self.coredns) if ready else 0
        d("cluster/deployments.yaml", lst([{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("coredns", "kube-system", labels={"k8s-app": "kube-dns"}), "spec": {"replicas": 2, "selector": {"matchLabels": {"k8s-app": "kube-dns"}}, "template": {"metadata": {"labels": {"k8s-app": "kube-dns"}}, "spec": {"containers": []}}}, "status": {"replicas": 2, "readyReplicas": dready, "availableReplicas": dready, "updatedReplicas": 2}}]))
        d("cluster/configmaps.yaml", lst([
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("coredns", "kube-system"), "data": {"Corefile": ".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n"}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("kube-flannel-cfg", self.flannel_ns, labels={"app": "flannel", "tier": "node"}), "data": {"net-conf.json": "{\n  \"Network\": \"%s\",\n  \"EnableNFTables\": false,\n  \"Backend\": {\n    \"Type\": \"vxlan\"\n  }\n}\n" % self.flannel_network}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("kube-proxy", "kube-system", labels={"app": "kube-proxy"}), "data": {"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nbindAddress: 0.0.0.0\nclientConnection:\n  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf\nclusterCIDR: %s\nkind: KubeProxyConfiguration\nmode: %s\n" % (self.pod_cidr, "ipvs" if self.proxy_mode == "ipvs" else "")}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("kubeadm-config", "kube-system"), "data": {"ClusterConfiguration": "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nkubernetesVersion: %s\nnetworking:\n  dnsDomain: cluster.local\n  podSubnet: %s\n  serviceSubnet: %s\n" % (self.version, self.pod_cidr, self.svc_cidr)}},
        ]))
        d("cluster/serviceaccounts.yaml", lst([{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(n, ns)} for n, ns in [("coredns", "kube-system"), ("kube-proxy", "kube-system"), ("flannel", self.flannel_ns)]]))
        self.rbac(d)
        self.node_files(root)
        self.manifest(root)

    def pods(self):
        pods, logs = [], {}
        def pod(name, ns, node, ip, labels, container, sa, host, image, owner, ready=True, waiting=None, restarts=0):
            st = {"running": {"startedAt": "2026-11-26T06:02:11Z"}} if waiting is None else {"waiting": {"reason": waiting, "message": "back-off 5m0s restarting failed container"}}
            p = {"apiVersion": "v1", "kind": "Pod", "metadata": meta(name, ns, labels=labels, ownerReferences=[{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "controller": True}]),
                 "spec": {"nodeName": node, "serviceAccountName": sa, "dnsPolicy": "ClusterFirst", "containers": [{"name": container, "image": image}]},
                 "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "hostIP": next(n["ip"] for n in self.nodes if n["name"] == node),
                            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                            "containerStatuses": [{"name": container, "ready": ready, "restartCount": restarts, "image": image, "state": st}]}}
            if host:
                p["spec"]["hostNetwork"] = True
                p["spec"]["dnsPolicy"] = "ClusterFirstWithHostNet"
            pods.append(p)
        suffix = ["9zqv4", "k2m7d", "t5xw8", "h8c3p", "w4n6r"]
        for i, n in enumerate(self.nodes):
            kp = f"kube-proxy-{suffix[i]}"
            pod(kp, "kube-system", n["name"], n["ip"], {"k8s-app": "kube-proxy"}, "kube-proxy", "kube-proxy", True, f"registry.k8s.io/kube-proxy:{self.version}", ("DaemonSet", "kube-proxy"))
            mode = "ipvs" if self.proxy_mode == "ipvs" else "iptables"
            lines = [f"2026-11-26T06:02:12.112233000Z I1126 06:02:12.112233       1 server_linux.go:69] \"Using {mode} proxy\"\n",
                     f"2026-11-26T06:02:12.201877000Z I1126 06:02:12.201877       1 server.go:1062] \"Successfully retrieved node IP(s)\" IPs=[\"{n['ip']}\"]\n",
                     "2026-11-26T06:02:12.560114000Z I1126 06:02:12.560114       1 config.go:192] \"Starting service config controller\"\n",
                     "2026-11-26T06:02:12.660342000Z I1126 06:02:12.660342       1 shared_informer.go:320] Caches are synced for service config\n"]
            if "system:node-proxier" in self.roles_deleted:
                forb = 'is forbidden: User \\"system:serviceaccount:kube-system:kube-proxy\\" cannot list resource \\"{r}\\" in API group \\"{g}\\" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io \\"system:node-proxier\\" not found'
                lines = lines[:1] + [f"2026-11-26T06:0{2 + k // 2}:{(k * 29) % 60:02d}.44{k}000000Z E1126 06:0{2 + k // 2}:{(k * 29) % 60:02d}.44{k}000       1 reflector.go:150] k8s.io/client-go/informers/factory.go:160: Failed to watch *v1.Service: failed to list *v1.Service: services " + forb.format(r="services", g="").replace('\\"', '"') + "\n" for k in range(8)]
            logs[f"logs/kube-system/{kp}/kube-proxy.log"] = "".join(lines)
            if n.get("unregistered"):
                continue  # flannel's DaemonSet never scheduled a pod there
            fl = f"kube-flannel-ds-{suffix[i]}"
            pod(fl, self.flannel_ns, n["name"], n["ip"], {"app": "flannel", "tier": "node"}, "kube-flannel", "flannel", True, "docker.io/flannel/flannel:v0.26.1", ("DaemonSet", "kube-flannel-ds"))
            flines = ["2026-11-26T06:02:14.005123000Z I1126 06:02:14.005123       1 main.go:211] CLI flags config: {etcdEndpoints:http://127.0.0.1:4001,http://127.0.0.1:2379 etcdPrefix:/coreos.com/network etcdKeyfile: etcdCertfile: etcdCAFile: etcdUsername: etcdPassword: version:false kubeSubnetMgr:true kubeApiUrl: kubeAnnotationPrefix:flannel.alpha.coreos.com kubeConfigFile: iface:[] ifaceRegex:[] ipMasq:true ifaceCanReach: subnetFile:/run/flannel/subnet.env publicIP: publicIPv6: subnetLeaseRenewMargin:60 healthzIP:0.0.0.0 healthzPort:0 iptablesResyncSeconds:5 iptablesForwardRules:true netConfPath:/etc/kube-flannel/net-conf.json setNodeNetworkUnavailable:true}\n",
                      f"2026-11-26T06:02:14.121010000Z I1126 06:02:14.121010       1 kube.go:652] List of node({n['name']}) annotations: map[string]string{{\"flannel.alpha.coreos.com/backend-type\":\"vxlan\"}}\n",
                      "2026-11-26T06:02:14.302455000Z I1126 06:02:14.302455       1 main.go:439] Running backend.\n"]
            if self.flannel_binding_ns:
                flines.append(f'2026-11-26T06:02:15.512000000Z E1126 06:02:15.512000       1 reflector.go:150] pkg/subnet/kube/kube.go:470: Failed to watch *v1.Node: failed to list *v1.Node: nodes is forbidden: User "system:serviceaccount:{self.flannel_ns}:flannel" cannot list resource "nodes" in API group "" at the cluster scope\n')
            logs[f"logs/{self.flannel_ns}/{fl}/kube-flannel.log"] = "".join(flines)
        for name, node, ip in self.coredns:
            ready = self.coredns_state == "ready"
            crash = self.coredns_state == "crashloop"
            pod(name, "kube-system", node, ip, {"k8s-app": "kube-dns", "pod-template-hash": "7db6d8ff4d"}, "coredns", "coredns", False, "registry.k8s.io/coredns/coredns:v1.11.3", ("ReplicaSet", "coredns-7db6d8ff4d"),
                ready=ready, waiting="CrashLoopBackOff" if crash else None, restarts=11 if crash else 0)
            text = "2026-11-26T06:02:20.001000000Z .:53\n2026-11-26T06:02:20.001200000Z [INFO] plugin/reload: Running configuration SHA512 = 8b19e3b6e0f4f1c8b1f3b2b4e3b0c4f1e6a9d7c2f5e8b1a4d7c0f3e6b9a2d5c8f1e4b7a0d3c6f9e2b5a8d1c4f7e0b3a6d9c2f5e8b1a4\n2026-11-26T06:02:20.001300000Z CoreDNS-1.11.3\n2026-11-26T06:02:20.001400000Z linux/amd64, go1.21.11, a6338e9\n"
            if self.coredns_state == "notready":
                text = text.split("CoreDNS-")[0].rsplit("\n", 2)[0] + "\n"
            logs[f"logs/kube-system/{name}/coredns.log"] = text + (self.coredns_log or "")
        for name, ns, node, ip in self.extra_pods:
            pod(name, ns, node, ip, {"app": name.rsplit("-", 2)[0]}, "app", "default", False, "registry.example.net/shop/web:2.4.1", ("ReplicaSet", name.rsplit("-", 1)[0]))
        return pods, logs

    def rbac(self, d):
        RB = "rbac.authorization.k8s.io/v1"
        def crole(name, rules, labels=None):
            return {"apiVersion": RB, "kind": "ClusterRole", "metadata": meta(name, labels=labels or {"kubernetes.io/bootstrapping": "rbac-defaults"}, annotations={"rbac.authorization.kubernetes.io/autoupdate": "true"}), "rules": rules}
        r = lambda g, res, v: {"apiGroups": g, "resources": res, "verbs": v}
        roles = [crole("cluster-admin", [r(["*"], ["*"], ["*"]), {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
                 crole("system:basic-user", [r(["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], ["create"]), r(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"])]),
                 crole("system:node-proxier", [r([""], ["endpoints", "services"], ["list", "watch"]), r([""], ["nodes"], ["get", "list", "watch"]), r([""] if self.events_core_only else ["", "events.k8s.io"], ["events"], ["create", "patch", "update"]), r(["discovery.k8s.io"], ["endpointslices"], ["list", "watch"])]),
                 crole("system:coredns", [r([""], ["endpoints", "services", "pods", "namespaces"], ["list", "watch"]), r(["discovery.k8s.io"], ["endpointslices"], ["list", "watch"])]),
                 crole("flannel", [r([""], ["pods"], ["get"]), r([""], ["nodes"], ["get", "list", "watch"]), r([""], ["nodes/status"], ["patch"])], labels={"k8s-app": "flannel"})]
        roles = [x for x in roles if x["metadata"]["name"] not in self.roles_deleted]
        d("cluster/clusterroles.yaml", lst(roles))
        crb = lambda name, role, subjects: {"apiVersion": RB, "kind": "ClusterRoleBinding", "metadata": meta(name), "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}, "subjects": subjects}
        sa = lambda ns, name: {"kind": "ServiceAccount", "name": name, "namespace": ns}
        d("cluster/clusterrolebindings.yaml", lst([
            crb("cluster-admin", "cluster-admin", [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}]),
            crb("system:basic-user", "system:basic-user", [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}]),
            crb("kubeadm:node-proxier", "system:node-proxier", [sa("kube-system", "kube-proxy")]),
            crb("system:coredns", "system:coredns", [sa("kube-system", "coredns")]),
            crb("flannel", "flannel", [sa(self.flannel_binding_ns or self.flannel_ns, "flannel")]),
        ]))

    # ---- node side ----
    def peers_of(self, n):
        # flannel programs nothing on a node it never registered, and no peer
        # programs anything for it.
        if n.get("unregistered"):
            return []
        return [p for p in self.nodes if p["name"] != n["name"] and not p.get("unregistered") and (n["name"], p["name"]) not in self.missing_peer]

    def node_files(self, root):
        pre = "kds" + hashlib.sha256(self.name.encode()).hexdigest()[:4]
        br = pre + "-br"
        names = [f"{pre}-{n['name']}" for n in self.nodes]
        pods = [f"cni-{hashlib.sha256((self.name + n['name']).encode()).hexdigest()[:8]}-4c1e-9a4b-7d2f-{hashlib.sha256(n['name'].encode()).hexdigest()[:12]}" for n in self.nodes]
        def cleanup():
            for x in names + pods:
                sh("ip", "netns", "del", x, check=False)
            sh("ip", "link", "del", br, check=False)
        cleanup()
        try:
            sh("ip", "link", "add", br, "type", "bridge")
            sh("ip", "addr", "add", "172.20.0.1/24", "dev", br)
            sh("ip", "link", "set", br, "up")
            for i, (n, ns, pns) in enumerate(zip(self.nodes, names, pods)):
                last = int(n["ip"].rsplit(".", 1)[1])
                ip = lambda *a: sh("ip", "-n", ns, *a)
                sh("ip", "netns", "add", ns)
                ip("link", "set", "lo", "up")
                sh("ip", "link", "add", f"{pre}v{i}", "type", "veth", "peer", "name", "eth0", "netns", ns)
                sh("ip", "link", "set", f"{pre}v{i}", "master", br, "up")
                ip("link", "set", "eth0", "address", f"52:54:00:8c:14:{last:02x}", "up")
                ip("addr", "add", f"{n['ip']}/24", "dev", "eth0")
                ip("route", "add", "default", "via", "172.20.0.1", "dev", "eth0", "proto", "static")
                if not n.get("unregistered"):
                    ip("link", "add", "flannel.1", "type", "vxlan", "id", "1", "local", n["ip"], "dev", "eth0", "dstport", "8472", "nolearning")
                    ip("link", "set", "flannel.1", "address", n["mac"], "mtu", "1450", "up")
                if self.underlay_mtu:
                    ip("link", "set", "eth0", "mtu", str(self.underlay_mtu))
                if not n.get("unregistered"):
                    ip("addr", "add", n["cidr"].split("/")[0] + "/32", "dev", "flannel.1")
                ip("link", "add", "cni0", "type", "bridge")
                ip("link", "set", "cni0", "address", f"2e:91:5c:07:{last:02x}:01", "mtu", "1450", "up")
                gw = n["cidr"].rsplit(".", 1)[0] + ".1"
                ip("addr", "add", gw + "/24", "dev", "cni0")
                sh("ip", "netns", "add", pns)
                veth = "veth" + hashlib.sha256(pns.encode()).hexdigest()[:8]
                sh("ip", "link", "add", veth, "netns", ns, "type", "veth", "peer", "name", "eth0", "netns", pns)
                ip("link", "set", veth, "master", "cni0", "mtu", "1450", "up")
                sh("ip", "-n", pns, "link", "set", "lo", "up")
                sh("ip", "-n", pns, "link", "set", "eth0", "mtu", "1450", "up")
                sh("ip", "-n", pns, "addr", "add", n["cidr"].rsplit(".", 1)[0] + ".2/24", "dev", "eth0")
            for n, ns in zip(self.nodes, names):
                for p in self.peers_of(n):
                    c0 = p["cidr"].split("/")[0]
                    if self.backend == "host-gw":
                        sh("ip", "-n", ns, "route", "add", p["cidr"], "via", p["ip"], "dev", "eth0")
                        continue
                    sh("ip", "-n", ns, "route", "add", p["cidr"], "via", c0, "dev", "flannel.1", "onlink")
                    sh("ip", "-n", ns, "neigh", "add", c0, "lladdr", p["mac"], "dev", "flannel.1", "nud", "permanent")
                    sh("bridge", "-n", ns, "fdb", "append", p["mac"], "dev", "flannel.1", "dst", p["ip"], "self", "permanent")
                for cidr, mac, dst in self.stale_peers.get(n["name"], []):
                    c0 = cidr.split("/")[0]
                    sh("ip", "-n", ns, "route", "add", cidr, "via", c0, "dev", "flannel.1", "onlink")
                    sh("ip", "-n", ns, "neigh", "add", c0, "lladdr", mac, "dev", "flannel.1", "nud", "permanent")
                    sh("bridge", "-n", ns, "fdb", "append", mac, "dev", "flannel.1", "dst", dst, "self", "permanent")
                for p in self.nodes:
                    if p is not n:
                        sh("ip", "netns", "exec", ns, "ping", "-c1", "-W1", p["ip"], check=False)
                sh("ip", "netns", "exec", ns, "ping", "-c1", "-W1", "172.20.0.1", check=False)
            time.sleep(3)
            for n, ns in zip(self.nodes, names):
                d = os.path.join(root, "nodes", n["name"])
                os.makedirs(d, exist_ok=True)
                for f, args in [("ip-addr.txt", ["addr", "show"]), ("ip-link.txt", ["-d", "link", "show"]), ("ip-route.txt", ["route", "show"]), ("ip-neigh.txt", ["neigh", "show"])]:
                    open(os.path.join(d, f), "w").write(sh("ip", "-n", ns, *args))
                open(os.path.join(d, "bridge-fdb.txt"), "w").write(sh("bridge", "-n", ns, "fdb", "show"))
        finally:
            cleanup()
        for n in self.nodes:
            self.host_files(root, n)

    def host_files(self, root, n):
        d = lambda f, t: dump(root, f"nodes/{n['name']}/{f}", t)
        sysctl = {"net.bridge.bridge-nf-call-arptables": "1", "net.bridge.bridge-nf-call-ip6tables": "1", "net.bridge.bridge-nf-call-iptables": "1",
                  "net.ipv4.conf.all.forwarding": "1", "net.ipv4.conf.all.rp_filter": "0", "net.ipv4.conf.cni0.forwarding": "1", "net.ipv4.conf.eth0.forwarding": "1",
                  "net.ipv4.conf.flannel/1.forwarding": "1", "net.ipv4.ip_forward": "1", "net.ipv4.ip_local_port_range": "32768\t60999"}
        if n["name"] in self.lsmod_without:
            sysctl = {k: v for k, v in sysctl.items() if not k.startswith("net.bridge.")}
        sysctl.update(self.sysctl.get(n["name"], {}))
        d("sysctl.txt", "".join(f"{k} = {v}\n" for k, v in sorted(sysctl.items())))
        mods = [("xt_comment", 12288, "4"), ("vxlan", 143360, "0"), ("ip6_udp_tunnel", 16384, "1 vxlan"), ("udp_tunnel", 36864, "1 vxlan"), ("xt_MASQUERADE", 16384, "2"), ("nf_nat", 65536, "2 xt_MASQUERADE,iptable_nat"),
                ("br_netfilter", 36864, "0"), ("bridge", 434176, "1 br_netfilter"), ("stp", 12288, "1 bridge"), ("llc", 16384, "2 bridge,stp"), ("overlay", 217088, "14")]
        if n["name"] in self.lsmod_without:
            mods = [(m, s, "0" if m == "bridge" else u) for m, s, u in mods if m != "br_netfilter"]
        if self.proxy_mode == "ipvs":
            mods += IPVS_MODULES
        d("lsmod.txt", "Module                  Size  Used by\n" + "".join(f"{m:<22} {s:>7}  {u}\n" for m, s, u in mods))
        d("kubelet-config.yaml", f"apiVersion: kubelet.config.k8s.io/v1beta1\nauthentication:\n  webhook:\n    enabled: true\nauthorization:\n  mode: Webhook\ncgroupDriver: systemd\nclusterDNS:\n- {self.kubelet_dns or self.dns_ip}\nclusterDomain: cluster.local\nkind: KubeletConfiguration\nresolvConf: /etc/resolv.conf\nstaticPodPath: /etc/kubernetes/manifests\n")
        d("resolv.conf", "# Generated by NetworkManager\nsearch corp.example.net\nnameserver 172.20.0.2\n")
        d("cni/10-flannel.conflist", "{\n  \"name\": \"cbr0\",\n  \"cniVersion\": \"0.3.1\",\n  \"plugins\": [\n    {\n      \"type\": \"flannel\",\n      \"delegate\": {\n        \"hairpinMode\": true,\n        \"isDefaultGateway\": true\n      }\n    },\n    {\n      \"type\": \"portmap\",\n      \"capabilities\": {\n        \"portMappings\": true\n      }\n    }\n  ]\n}\n")
        gw = n["cidr"].rsplit(".", 1)[0] + ".1/24"
        if not n.get("unregistered"):
            d("flannel-subnet.env", f"FLANNEL_NETWORK={self.flannel_network}\nFLANNEL_SUBNET={gw}\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n")
        fw = self.firewalld.get(n["name"], "inactive")
        d("firewalld.txt", fw + "\n" + ("public (active)\n  target: default\n  icmp-block-inversion: no\n  interfaces: eth0\n  sources: \n  services: cockpit dhcpv6-client ssh\n  ports: 6443/tcp 10250/tcp\n  protocols: \n  forward: yes\n  masquerade: no\n" if fw == "active" else ""))
        d("selinux.txt", self.selinux.get(n["name"], "Permissive") + "\n")
        d("iptables-save.txt", self.iptables(n))
        if self.proxy_mode == "ipvs":
            d("ipvsadm.txt", self.ipvsadm(n))

    def iptables(self, n):
        no_endpoints = "" if self.coredns_state == "ready" or self.proxy_mode == "ipvs" else "".join(
            f'-A KUBE-SERVICES -d {self.dns_ip}/32 -p {p} -m comment --comment "kube-system/kube-dns:{name} has no endpoints" -m {p} --dport {port} -j REJECT --reject-with icmp-port-unreachable\n'
            for name, p, port in [("dns", "udp", 53), ("dns-tcp", "tcp", 53), ("metrics", "tcp", 9153)])
        reject = "-A INPUT -p udp -m udp --dport 8472 -j REJECT --reject-with icmp-port-unreachable\n" if n["name"] in self.vxlan_reject else ""
        if n["name"] in self.vxlan_drop:
            reject += "-A INPUT -s 172.20.0.0/24 -p udp -m udp --dport 8472 -m comment --comment \"hardening: no tunnels\" -j DROP\n"
        filt = f"""# Generated by iptables-save v1.8.10 (nf_tables) on Wed Nov 26 09:41:07 2026
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:FLANNEL-FWD - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-SERVICES - [0:0]
{reject}-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A INPUT -j KUBE-FIREWALL
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
-A OUTPUT -j KUBE-FIREWALL
-A FLANNEL-FWD -s {self.flannel_network} -m comment --comment "flanneld forward" -j ACCEPT
-A FLANNEL-FWD -d {self.flannel_network} -m comment --comment "flanneld forward" -j ACCEPT
-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name  ct_state_invalid_dropped_pkts -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
{no_endpoints}COMMIT
# Completed on Wed Nov 26 09:41:07 2026
"""
        if self.proxy_mode == "ipvs":
            nat_services = f"""-A KUBE-SERVICES ! -s {self.pod_cidr} -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ
-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT
-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT
"""
            chains = ":KUBE-NODE-PORT - [0:0]\n"
        elif "system:node-proxier" in self.roles_deleted:
            nat_services, chains = "", ""
        else:
            seps = {}
            chains_l, rules_l = [], []
            svcs = [("default/kubernetes:https", "10.96.0.1", "tcp", 443, [(self.nodes[0]["ip"], 6443)]),
                    ("kube-system/kube-dns:dns", self.dns_ip, "udp", 53, [(ip, 53) for _, _, ip in self.coredns] if self.coredns_state == "ready" else []),
                    ("kube-system/kube-dns:dns-tcp", self.dns_ip, "tcp", 53, [(ip, 53) for _, _, ip in self.coredns] if self.coredns_state == "ready" else []),
                    ("kube-system/kube-dns:metrics", self.dns_ip, "tcp", 9153, [(ip, 9153) for _, _, ip in self.coredns] if self.coredns_state == "ready" else [])]
            for name, vip, proto, port, eps in svcs:
                h = lambda s: hashlib.sha256(s.encode()).hexdigest()[:16].upper().translate(str.maketrans("0189", "KLMN"))
                svc = "KUBE-SVC-" + h(name)
                if not eps:
                    continue
                chains_l.append(f":{svc} - [0:0]")
                rules_l.append(f'-A KUBE-SERVICES -d {vip}/32 -p {proto} -m comment --comment "{name} cluster IP" -m {proto} --dport {port} -j {svc}')
                for k, (eip, eport) in enumerate(eps):
                    sep = "KUBE-SEP-" + h(name + eip)
                    chains_l.append(f":{sep} - [0:0]")
                    prob = f" -m statistic --mode random --probability {1 / (len(eps) - k):.11f}" if k < len(eps) - 1 else ""
                    rules_l.append(f'-A {svc} -m comment --comment "{name} -> {eip}:{eport}"{prob} -j {sep}')
                    rules_l.append(f'-A {sep} -s {eip}/32 -m comment --comment "{name}" -j KUBE-MARK-MASQ')
                    rules_l.append(f'-A {sep} -p {proto} -m comment --comment "{name}" -m {proto} -j DNAT --to-destination {eip}:{eport}')
            chains = "".join(c + "\n" for c in chains_l)
            nat_services = "".join(r + "\n" for r in rules_l)
        nat = f"""# Generated by iptables-save v1.8.10 (nf_tables) on Wed Nov 26 09:41:07 2026
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:FLANNEL-POSTRTG - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SERVICES - [0:0]
{chains}-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s {self.flannel_network} -d {self.flannel_network} -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s {self.flannel_network} ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
{nat_services}COMMIT
# Completed on Wed Nov 26 09:41:07 2026
"""
        return filt + nat

    def ipvsadm(self, n):
        out = "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
        out += f"TCP  10.96.0.1:443 rr\n  -> {self.nodes[0]['ip']}:6443             Masq    1      3          0\n"
        if n["name"] not in self.ipvs_missing:
            for proto, port in [("TCP", 53), ("TCP", 9153), ("UDP", 53)]:
                out += f"{proto}  {self.dns_ip}:{port} rr\n"
                for _, _, ip in self.coredns:
                    out += f"  -> {ip}:{port}{' ' * (22 - len(ip) - len(str(port)))}Masq    1      0          0\n"
        return out

    def manifest(self, root):
        cmds = []
        for f in sorted(os.listdir(os.path.join(root, "cluster"))):
            if f.endswith(".yaml"):
                argv = ["kubectl", "version", "-o", "yaml"] if f == "version.yaml" else ["kubectl", "get", f[:-5], "-A", "-o", "yaml"]
                cmds.append({"argv": argv, "output": f"cluster/{f}", "exit_code": 0, "duration_ms": 180, "stderr": ""})
        for n in self.nodes:
            for f in sorted(os.listdir(os.path.join(root, "nodes", n["name"]))):
                if os.path.isdir(os.path.join(root, "nodes", n["name"], f)):
                    continue
                cmds.append({"argv": ["sh", "-c", f"collect {f}"], "node": n["name"], "output": f"nodes/{n['name']}/{f}", "exit_code": 0, "duration_ms": 9, "stderr": ""})
            if self.proxy_mode != "ipvs":
                cmds.append({"argv": ["ipvsadm", "-Ln"], "node": n["name"], "output": None, "exit_code": 127, "duration_ms": 2, "stderr": "chroot: failed to run command 'ipvsadm': No such file or directory"})
        dump(root, "manifest.json", json.dumps({"format": "kdiag-bundle/v1", "collector": {"name": "kdiag-collect", "version": "0.1.0"}, "collected_at": "2026-11-26T09:41:00Z",
                                               "cluster": {"context": self.name, "server": f"https://{self.nodes[0]['ip']}:6443"}, "options": {"since": "4h", "nodes": "all"}, "commands": cmds, "redactions": {"rules": 6, "replacements": 0}}, indent=2) + "\n")

def healthy(c):
    c.expected = {"description": c.readme.strip().splitlines()[0], "healthy": True}
    return c

SCENARIOS = []
def scenario(f):
    SCENARIOS.append(f)
    return f

@scenario
def healthy_kubeadm_flannel_iptables():
    c = Cluster("healthy-kubeadm-flannel-iptables")
    c.readme = "# healthy-kubeadm-flannel-iptables\n\nA healthy kubeadm 1.30 cluster: flannel VXLAN in `kube-flannel`, kube-proxy in iptables mode, CoreDNS. kdiag must report nothing at warning or above.\n"
    return healthy(c)

# What kube-proxy in ipvs mode loads (lsmod on a kubeadm node).
IPVS_MODULES = [("ip_vs_sh", 12288, "0"), ("ip_vs_wrr", 12288, "0"), ("ip_vs_rr", 12288, "0"),
                ("ip_vs", 200704, "6 ip_vs_rr,ip_vs_sh,ip_vs_wrr"), ("nf_conntrack", 184320, "3 xt_MASQUERADE,nf_nat,ip_vs")]

@scenario
def healthy_ipvs_kube_flannel():
    c = Cluster("healthy-ipvs-kube-flannel")
    c.proxy_mode = "ipvs"
    c.readme = "# healthy-ipvs-kube-flannel\n\nA healthy kubeadm 1.30 cluster with kube-proxy in ipvs mode and flannel in the `kube-flannel` namespace. kdiag must report nothing at warning or above.\n"
    return healthy(c)

@scenario
def fault_node_proxier_deleted():
    c = Cluster("fault-node-proxier-deleted")
    c.roles_deleted = {"system:node-proxier"}
    c.readme = "# fault-node-proxier-deleted\n\nThe ClusterRole `system:node-proxier` was deleted; the binding `kubeadm:node-proxier` remains. kube-proxy is forbidden to list Services, no node has Service rules, DNS through 10.96.0.10 is down.\n"
    c.expected = {"description": "system:node-proxier deleted", "root_causes": [{"class": "rbac.clusterrole-missing", "subject": {"name": "system:node-proxier"}}],
                  "symptoms": [{"class": "rbac.permission-denied", "subject": {"serviceaccount": "kube-system/kube-proxy"}}, {"class": "service.not-programmed", "subject": {"name": "kube-dns"}}, {"class": "dns.unreachable", "subject": {"name": "kube-dns"}}],
                  "allow": [{"class": "service.not-programmed"}]}
    # The flows traced hop by hop, dropped where the root cause is.
    c.expected.setdefault("symptoms", []).extend([{'class': 'podnet.path-blocked', 'subject': {'ip': '10.96.0.10', 'name': 'dns-service dropped at kube-proxy'}}])
    return c

@scenario
def fault_flannel_binding_wrong_namespace():
    c = Cluster("fault-flannel-binding-wrong-namespace")
    c.flannel_binding_ns = "kube-system"
    c.missing_peer = {("worker-2", "worker-1"), ("worker-1", "worker-2")}
    c.readme = "# fault-flannel-binding-wrong-namespace\n\nflannel runs in `kube-flannel`, but its ClusterRoleBinding still names `kube-system/flannel` (left from the old manifest). flannel cannot watch Nodes; worker-1 and worker-2 never learned each other.\n"
    c.expected = {"description": "flannel binding names kube-system/flannel", "root_causes": [{"class": "rbac.binding-missing", "subject": {"serviceaccount": "kube-flannel/flannel"}}],
                  "symptoms": [{"class": "rbac.permission-denied", "subject": {"serviceaccount": "kube-flannel/flannel"}}, {"class": "podnet.route-missing", "subject": {"node": "worker-2", "cidr": "10.244.1.0/24"}}, {"class": "podnet.vxlan-peer-missing"}],
                  "allow": [{"class": "podnet.route-missing"}]}
    # The flows traced hop by hop, dropped where the root cause is.
    c.expected.setdefault("symptoms", []).extend([{'class': 'podnet.path-blocked', 'subject': {'name': 'dns-pod dropped at route', 'node': 'worker-2'}}, {'class': 'podnet.path-blocked', 'subject': {'name': 'dns-service dropped at route', 'node': 'worker-2'}}, {'class': 'podnet.path-blocked', 'subject': {'name': 'pod-network dropped at route', 'node': 'worker-2'}}, {'class': 'podnet.path-blocked', 'subject': {'name': 'dns-pod dropped at route', 'node': 'worker-1'}}, {'class': 'podnet.path-blocked', 'subject': {'name': 'dns-service dropped at route', 'node': 'worker-1'}}, {'class': 'podnet.path-blocked', 'subject': {'name': 'pod-network dropped at route', 'node': 'worker-1'}}])
    return c

@scenario
def fault_coredns_loop():
    c = Cluster("fault-coredns-loop")
    c.coredns_state = "crashloop"
    c.coredns_log = '2026-11-26T06:02:22.334100000Z [FATAL] plugin/loop: Loop (127.0.0.1:41894 -> :53) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO 7104912834466913214.5810417127409536104."\n'
    c.readme = "# fault-coredns-loop\n\nThe nodes' `/etc/resolv.conf` points at a local stub resolver; CoreDNS forwards to itself, detects the loop and exits. Both CoreDNS pods crash-loop and the DNS Service has no ready endpoints.\n"
    c.expected = {"description": "CoreDNS forwarding loop", "root_causes": [{"class": "dns.coredns-failing", "subject": {"name": "coredns-7db6d8ff4d-4kq9m"}}, {"class": "dns.coredns-failing", "subject": {"name": "coredns-7db6d8ff4d-x2wzt"}}],
                  "symptoms": [{"class": "component.unhealthy", "subject": {"name": "coredns"}}, {"class": "service.no-endpoints", "subject": {"name": "kube-dns"}}]}
    # The flows traced hop by hop, dropped where the root cause is.
    c.expected.setdefault("symptoms", []).extend([{'class': 'podnet.path-blocked', 'subject': {'ip': '10.96.0.10', 'name': 'dns-service dropped at kube-proxy'}}])
    return c

@scenario
def fault_kubelet_cluster_dns():
    c = Cluster("fault-kubelet-cluster-dns")
    c.kubelet_dns = "10.96.0.100"
    c.readme = "# fault-kubelet-cluster-dns\n\nThe kubelets' `clusterDNS` is 10.96.0.100, but the DNS Service is 10.96.0.10: every pod's resolv.conf names a server that does not exist.\n"
    # One origin (the kubelets' shared config), one root cause listing the nodes.
    c.expected = {"description": "kubelet clusterDNS wrong", "root_causes": [{"class": "dns.resolv-conf-mismatch", "subject": {"kind": "KubeletConfiguration", "name": "clusterDNS", "ip": "10.96.0.100"}}]}
    return c

@scenario
def fault_ip_forward_off():
    c = Cluster("fault-ip-forward-off")
    c.sysctl = {"worker-2": {"net.ipv4.ip_forward": "0", "net.ipv4.conf.all.forwarding": "0"}}
    c.readme = "# fault-ip-forward-off\n\n`net.ipv4.ip_forward = 0` on worker-2 (a hardening baseline reapplied after a reboot). Pods on worker-2 reach nothing outside the node; CoreDNS on worker-2 answers no one else.\n"
    c.expected = {"description": "ip_forward off on worker-2", "root_causes": [{"class": "node.ip-forward-disabled", "subject": {"node": "worker-2"}}]}
    # The flows traced hop by hop, dropped where the root cause is.
    c.expected.setdefault("symptoms", []).extend([{'class': 'podnet.path-blocked', 'subject': {'name': 'dns-pod dropped at forwarding', 'node': 'worker-2'}}, {'class': 'podnet.path-blocked', 'subject': {'name': 'dns-service dropped at forwarding', 'node': 'worker-2'}}, {'class': 'podnet.path-blocked', 'subject': {'name': 'pod-network dropped at forwarding', 'node': 'worker-2'}}])
    return c

@scenario
def fault_br_netfilter_missing():
    c = Cluster("fault-br-netfilter-missing")
    c.lsmod_without = {"worker-1"}
    c.readme = "# fault-br-netfilter-missing\n\n`br_netfilter` is not loaded on worker-1: pod-to-Service traffic between pods on the same bridge bypasses kube-proxy's DNAT.\n"
    c.expected = {"description": "br_netfilter missing on worker-1", "root_causes": [{"class": "node.br-netfilter-missing", "subject": {"node": "worker-1"}}]}
    # The flows traced hop by hop, dropped where the root cause is.
    c.expected.setdefault("symptoms", []).extend([{'class': 'podnet.path-blocked', 'subject': {'name': 'dns-service dropped at bridge netfilter', 'node': 'worker-1'}}])
    return c

@scenario
def fault_vxlan_blocked():
    c = Cluster("fault-vxlan-blocked")
    c.vxlan_reject = {"worker-1"}
    c.readme = "# fault-vxlan-blocked\n\nworker-1 rejects udp/8472 in its INPUT chain: no VXLAN packet reaches it, so pods on worker-1 (CoreDNS included) are unreachable from other nodes.\n"
    c.expected = {"description": "VXLAN rejected on worker-1", "root_causes": [{"class": "node.firewall-blocking", "subject": {"node": "worker-1"}}]}
    # The flows traced hop by hop, dropped where the root cause is.
    c.expected.setdefault("symptoms", []).extend([{'class': 'podnet.path-blocked', 'subject': {'name': 'dns-pod dropped at filter INPUT', 'node': 'worker-1'}}, {'class': 'podnet.path-blocked', 'subject': {'name': 'dns-service dropped at filter INPUT', 'node': 'worker-1'}}, {'class': 'podnet.path-blocked', 'subject': {'name': 'pod-network dropped at filter INPUT', 'node': 'worker-1'}}])
    return c

@scenario
def fault_selinux_enforcing():
    c = Cluster("fault-selinux-enforcing")
    c.selinux = {"worker-2": "Enforcing"}
    c.readme = "# fault-selinux-enforcing\n\nSELinux is enforcing on worker-2 (a warning: it breaks some CNI setups).\n"
    c.expected = {"description": "SELinux enforcing on worker-2", "root_causes": [{"class": "node.selinux-enforcing", "subject": {"node": "worker-2"}}]}
    return c

@scenario
def fault_flannel_network_mismatch():
    c = Cluster("fault-flannel-network-mismatch")
    c.flannel_network = "10.42.0.0/16"
    c.readme = "# fault-flannel-network-mismatch\n\nflannel's `net-conf.json` says `Network: 10.42.0.0/16` while kubeadm allocates node pod CIDRs from 10.244.0.0/16: flannel masquerades and forwards the wrong network.\n"
    c.expected = {"description": "flannel Network differs from podSubnet", "root_causes": [{"class": "config.cidr-mismatch", "subject": {"cidr": "10.42.0.0/16"}}]}
    return c

@scenario
def fault_stale_vxlan_peer():
    c = Cluster("fault-stale-vxlan-peer")
    c.stale_peers = {"worker-1": [("10.244.3.0/24", "b6:4e:1c:20:00:23", "172.20.0.23")]}
    c.readme = "# fault-stale-vxlan-peer\n\nworker-3 (10.244.3.0/24) was removed while flannel on worker-1 was down; worker-1's flannel.1 still has its route, neighbour and FDB entry.\n"
    c.expected = {"description": "stale flannel.1 entries on worker-1", "root_causes": [{"class": "podnet.stale-entry", "subject": {"node": "worker-1"}}]}
    return c

@scenario
def fault_ipvs_dns_missing():
    c = Cluster("fault-ipvs-dns-missing")
    c.proxy_mode = "ipvs"
    c.ipvs_missing = {"worker-2"}
    c.readme = "# fault-ipvs-dns-missing\n\nipvs mode; worker-2's IPVS table has no virtual server for the DNS Service (kube-proxy on worker-2 was stopped by hand while debugging and its table flushed).\n"
    c.expected = {"description": "DNS virtual server missing on worker-2", "root_causes": [{"class": "service.not-programmed", "subject": {"name": "kube-dns"}}]}
    # The flows traced hop by hop, dropped where the root cause is.
    c.expected.setdefault("symptoms", []).extend([{'class': 'podnet.path-blocked', 'subject': {'ip': '10.96.0.10', 'name': 'dns-service dropped at ipvs'}}])
    return c

@scenario
def fault_coredns_clusterrole_missing():
    c = Cluster("fault-coredns-clusterrole-missing")
    c.roles_deleted = {"system:coredns"}
    c.coredns_state = "notready"
    forb = lambda t, kind, res: f'{t}[ERROR] plugin/kubernetes: pkg/mod/k8s.io/client-go@v0.29.3/tools/cache/reflector.go:229: Failed to watch *v1.{kind}: failed to list *v1.{kind}: {res} is forbidden: User "system:serviceaccount:kube-system:coredns" cannot list resource "{res}" in API group "" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io "system:coredns" not found\n'
    lines = ""
    for k in range(6):
        t = f"2026-11-26T06:{3 + k:02d}:0{k}.118000000Z "
        lines += forb(t, "Namespace", "namespaces") + forb(t, "Service", "services") + f'{t}[INFO] plugin/ready: Still waiting on: "kubernetes"\n'
    c.coredns_log = lines
    c.readme = "# fault-coredns-clusterrole-missing\n\nThe ClusterRole `system:coredns` was deleted. CoreDNS cannot list Services, Namespaces or EndpointSlices, never becomes ready, and the DNS Service has no ready endpoints.\n"
    c.expected = {"description": "system:coredns deleted", "root_causes": [{"class": "rbac.clusterrole-missing", "subject": {"name": "system:coredns"}}],
                  "symptoms": [{"class": "rbac.permission-denied", "subject": {"serviceaccount": "kube-system/coredns"}}, {"class": "dns.coredns-failing"}, {"class": "component.unhealthy", "subject": {"name": "coredns"}}, {"class": "service.no-endpoints", "subject": {"name": "kube-dns"}}]}
    # The flows traced hop by hop, dropped where the root cause is.
    c.expected.setdefault("symptoms", []).extend([{'class': 'podnet.path-blocked', 'subject': {'ip': '10.96.0.10', 'name': 'dns-service dropped at kube-proxy'}}])
    return c

@scenario
def fault_host_gw_route_missing():
    c = Cluster("fault-host-gw-route-missing")
    c.backend = "host-gw"
    c.missing_peer = {("worker-1", "cp-1")}
    c.readme = "# fault-host-gw-route-missing\n\nflannel with the host-gw backend; worker-1 has no route to cp-1's pods (10.244.0.0/24), deleted by hand by a network script. Pods on worker-1 cannot reach pods on cp-1.\n"
    c.expected = {"description": "host-gw route missing on worker-1", "root_causes": [{"class": "podnet.route-missing", "subject": {"node": "worker-1", "cidr": "10.244.0.0/24"}}]}
    # The flows traced hop by hop, dropped where the root cause is.
    c.expected.setdefault("symptoms", []).extend([{'class': 'podnet.path-blocked', 'subject': {'name': 'pod-network dropped at route', 'node': 'worker-1'}}])
    return c

@scenario
def fault_vxlan_mtu():
    c = Cluster("fault-vxlan-mtu")
    c.underlay_mtu = 1400
    c.readme = "# fault-vxlan-mtu\n\nThe nodes' underlay was moved to an MTU of 1400 (a new overlay in the data centre) after flannel created flannel.1 with 1450: VXLAN no longer fits; large packets between nodes are lost while pings and DNS still work.\n"
    c.expected = {"description": "flannel.1 MTU too large", "root_causes": [{"class": "podnet.mtu-mismatch", "subject": {"node": n["name"]}} for n in c.nodes]}
    return c

@scenario
def fault_events_denied():
    c = Cluster("fault-events-denied")
    c.events_core_only = True
    c.readme = "# fault-events-denied\n\n`system:node-proxier` was restored by hand from a pre-1.19 manifest: it grants events in the core group only, so kube-proxy's events in `events.k8s.io` are rejected.\n"
    c.expected = {"description": "kube-proxy cannot write events.k8s.io events", "root_causes": [{"class": "rbac.permission-denied", "subject": {"serviceaccount": "kube-system/kube-proxy"}}]}
    return c

NSLOOKUP = "$ nslookup kubernetes.default.svc.cluster.local %s\n"
TIMED_OUT = ";; connection timed out; no servers could be reached\n\n"
ANSWERED = "Server:\t\t%s\nAddress:\t%s:53\n\nName:\tkubernetes.default.svc.cluster.local\nAddress: 10.96.0.1\n\n"

@scenario
def fault_ip_forward_off_dns():
    c = Cluster("fault-ip-forward-off-dns")
    c.sysctl = {"worker-1": {"net.ipv4.ip_forward": "0", "net.ipv4.conf.all.forwarding": "0"}}
    # What the collector's probe pod on worker-1 printed: the Service and the
    # remote CoreDNS time out (routed: worker-1 forwards nothing), the CoreDNS
    # pod on worker-1's own bridge answers (bridged, not routed).
    c.probes = {"worker-1": {
        "resolv.conf": "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n",
        "dns-clusterip.txt": NSLOOKUP % "10.96.0.10" + TIMED_OUT,
        "dns-pod-10.244.1.3.txt": NSLOOKUP % "10.244.1.3" + ANSWERED % ("10.244.1.3", "10.244.1.3"),
        "dns-pod-10.244.2.4.txt": NSLOOKUP % "10.244.2.4" + TIMED_OUT}}
    c.readme = "# fault-ip-forward-off-dns\n\n`net.ipv4.ip_forward = 0` on worker-1. The collector's probe pod on worker-1 cannot resolve names: its lookups to 10.96.0.10 are DNATed to CoreDNS (on worker-1 itself and on worker-2) and worker-1 forwards neither; only the CoreDNS pod on its own bridge answers when asked directly. One root cause; the DNS failure seen from worker-1 hangs under it.\n"
    c.expected = {"description": "ip_forward off on worker-1, DNS failing from it", "root_causes": [{"class": "node.ip-forward-disabled", "subject": {"node": "worker-1"}}],
                  "symptoms": [{"class": "podnet.path-blocked", "subject": {"name": "dns-service dropped at forwarding", "node": "worker-1"}},
                               {"class": "dns.unreachable", "subject": {"name": "kube-dns"}}],
                  "allow": [{"class": "podnet.path-blocked"}]}
    return c

@scenario
def fault_vxlan_dropped():
    c = Cluster("fault-vxlan-dropped")
    c.vxlan_drop = {"worker-2"}
    c.readme = "# fault-vxlan-dropped\n\nA hardening script added `-A INPUT -s 172.20.0.0/24 -p udp --dport 8472 -j DROP` on worker-2: VXLAN from the other nodes is dropped silently, so pods on worker-2 (a CoreDNS pod among them) are unreachable from cp-1 and worker-1, and half of the DNS lookups from those nodes time out.\n"
    c.expected = {"description": "VXLAN dropped on worker-2", "root_causes": [{"class": "node.firewall-blocking", "subject": {"node": "worker-2"}}],
                  "symptoms": [{"class": "podnet.path-blocked", "subject": {"name": "dns-service dropped at filter INPUT", "node": "worker-2"}},
                               {"class": "podnet.path-blocked", "subject": {"name": "pod-network dropped at filter INPUT", "node": "worker-2"}}],
                  "allow": [{"class": "podnet.path-blocked"}]}
    return c

@scenario
def fault_flannel_node_unregistered():
    c = Cluster("fault-flannel-node-unregistered")
    c.nodes.append({"name": "worker-3", "ip": "172.20.0.23", "cidr": "10.244.3.0/24", "mac": "b6:4e:1c:20:00:23", "cp": False, "unregistered": True})
    c.extra_pods = [("web-5d8f7c9b6-q7x2k", "shop", "worker-3", "10.244.3.5")]
    c.readme = "# fault-flannel-node-unregistered\n\nworker-3 joined with podCIDR 10.244.3.0/24, but flannel's DaemonSet never ran there (a nodeSelector left from a migration): the Node has no flannel annotations, no subnet.env, no flannel.1, and no peer routes to its pods. The route checks cannot see it (they derive peers from flannel's annotations); the traced flows to 10.244.3.0/24 all stop at the peers' routes.\n"
    c.expected = {"description": "flannel never registered worker-3", "root_causes": [{"class": "component.unhealthy", "subject": {"name": "kube-flannel-ds"}}],
                  "symptoms": [{"class": "podnet.node-unregistered", "subject": {"node": "worker-3"}},
                               {"class": "podnet.path-blocked", "subject": {"name": "pod-network dropped at route", "node": "cp-1"}},
                               {"class": "podnet.path-blocked", "subject": {"name": "dns-service dropped at route", "node": "worker-3"}}],
                  "allow": [{"class": "podnet.path-blocked"}]}
    return c

@scenario
def fault_dual_pod_cidr():
    c = Cluster("fault-dual-pod-cidr")
    # The cluster moved to 10.233.64.0/18; cp-1 and worker-1 still have pod CIDRs of
    # the old 10.244.0.0/16, where the CoreDNS pods run.
    c.pod_cidr = "10.233.64.0/18"
    c.nodes[2]["cidr"] = "10.233.64.0/24"
    c.nodes.append({"name": "worker-3", "ip": "172.20.0.23", "cidr": "10.233.65.0/24", "mac": "b6:4e:1c:20:00:23", "cp": False})
    c.coredns = [("coredns-7db6d8ff4d-4kq9m", "cp-1", "10.244.0.3"), ("coredns-7db6d8ff4d-x2wzt", "worker-1", "10.244.1.3")]
    old, new = ["cp-1", "worker-1"], ["worker-2", "worker-3"]
    c.missing_peer = {(a, b) for a in old for b in new} | {(b, a) for a in old for b in new}
    c.readme = "# fault-dual-pod-cidr\n\nThe pod network was moved from 10.244.0.0/16 to 10.233.64.0/18 (kubeadm podSubnet) without draining: cp-1 and worker-1 keep pod CIDRs of the old network, worker-2 and worker-3 have new ones, and flannel (still configured for 10.244.0.0/16) programs no route between the two in either direction. Both CoreDNS pods are on the old side, so DNS fails from worker-2 and worker-3.\n"
    c.expected = {"description": "two pod networks, routes missing both ways", "root_causes": [{"class": "config.dual-pod-cidr", "subject": {"cidr": "10.244.0.0/16"}}],
                  "symptoms": [{"class": "podnet.route-missing", "subject": {"node": "cp-1", "cidr": "10.233.64.0/24"}},
                               {"class": "podnet.route-missing", "subject": {"node": "worker-2", "cidr": "10.244.0.0/24"}},
                               {"class": "podnet.path-blocked", "subject": {"name": "dns-service dropped at route", "node": "worker-2"}}],
                  "allow": [{"class": "podnet.route-missing"}, {"class": "podnet.vxlan-peer-missing"}, {"class": "podnet.path-blocked"}, {"class": "config.cidr-mismatch"}]}
    return c

if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("run as root: node tables are produced in network namespaces")
    only = set(sys.argv[1:])
    for s in SCENARIOS:
        c = s()
        if only and c.name not in only:
            continue
        c.write()
        print("wrote", os.path.join(OUT, c.name))
