#!/usr/bin/env python3
"""Writes sample-bundles/seed-incident/: the seed incident as a kdiag bundle.

Kubernetes 1.29, flannel VXLAN, 3 control-plane nodes + 2 GPU workers. The
ClusterRoles system:node-proxier and flannel were deleted while their
bindings remain; the pod network was moved from 10.244.0.0/16 to
10.233.64.0/18 without draining, so two pod networks are in use.
Run from the repository root; needs PyYAML. Output is committed.
"""
import hashlib, json, os, yaml

OUT = "sample-bundles/seed-incident"
T0 = "2026-11-27T08:02:11"

NODES = [  # name, ip, podCIDR, vtep mac, control-plane
    ("master-1", "192.168.10.11", "10.244.0.0/24", "4e:1a:5b:0c:7d:01", True),
    ("master-2", "192.168.10.12", "10.244.1.0/24", "4e:1a:5b:0c:7d:02", True),
    ("master-3", "192.168.10.13", "10.233.65.0/24", "4e:1a:5b:0c:7d:03", True),
    ("gpu-worker-1", "192.168.10.21", "10.233.64.0/24", "4e:1a:5b:0c:7d:21", False),
    ("gpu-worker-2", "192.168.10.22", "10.233.66.0/24", "4e:1a:5b:0c:7d:22", False),
]

def dump(path, obj):
    full = os.path.join(OUT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        if isinstance(obj, str):
            f.write(obj)
        else:
            yaml.safe_dump(obj, f, default_flow_style=False, sort_keys=True, width=10000)

def lst(items):
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}

def meta(name, ns=None, **extra):
    h = hashlib.sha256(f"{ns}/{name}".encode()).hexdigest()
    m = {"name": name, "creationTimestamp": "2026-08-25T03:12:40Z", "uid": f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"}
    if ns:
        m["namespace"] = ns
    m.update(extra)
    return m

nodes = []
for name, ip, cidr, mac, cp in NODES:
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"}
    if cp:
        labels["node-role.kubernetes.io/control-plane"] = ""
    else:
        labels["nvidia.com/gpu.present"] = "true"
    nodes.append({
        "apiVersion": "v1", "kind": "Node",
        "metadata": meta(name, labels=labels, annotations={
            "flannel.alpha.coreos.com/backend-data": json.dumps({"VNI": 1, "VtepMAC": mac}, separators=(",", ":")),
            "flannel.alpha.coreos.com/backend-type": "vxlan",
            "flannel.alpha.coreos.com/kube-subnet-manager": "true",
            "flannel.alpha.coreos.com/public-ip": ip,
            "node.alpha.kubernetes.io/ttl": "0",
        }),
        "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
        "status": {
            "addresses": [{"address": ip, "type": "InternalIP"}, {"address": name, "type": "Hostname"}],
            "conditions": [{"lastHeartbeatTime": "2026-11-27T10:14:02Z", "lastTransitionTime": "2026-11-20T06:40:11Z", "message": "kubelet is posting ready status", "reason": "KubeletReady", "status": "True", "type": "Ready"}],
            "nodeInfo": {"kubeletVersion": "v1.29.4", "kubeProxyVersion": "v1.29.4", "osImage": "Ubuntu 22.04.4 LTS", "kernelVersion": "5.15.0-105-generic", "containerRuntimeVersion": "containerd://1.7.16"},
        },
    })
dump("cluster/nodes.yaml", lst(nodes))
dump("cluster/version.yaml", "clientVersion:\n  buildDate: \"2024-04-16T15:42:41Z\"\n  compiler: gc\n  gitCommit: 55019c83b0fd51ef4ced8c29eec2c4847f896e74\n  gitTreeState: clean\n  gitVersion: v1.29.4\n  goVersion: go1.21.9\n  major: \"1\"\n  minor: \"29\"\n  platform: linux/amd64\nkustomizeVersion: v5.0.4-0.20230601165947-6ce0bf390ce3\nserverVersion:\n  buildDate: \"2024-04-16T15:36:13Z\"\n  compiler: gc\n  gitCommit: 55019c83b0fd51ef4ced8c29eec2c4847f896e74\n  gitTreeState: clean\n  gitVersion: v1.29.4\n  goVersion: go1.21.9\n  major: \"1\"\n  minor: \"29\"\n  platform: linux/amd64\n")

def pod(name, ns, node, ip, labels, containers, ready=True, host=False, sa=None, restarts=0, owner=None):
    p = {"apiVersion": "v1", "kind": "Pod",
         "metadata": meta(name, ns, labels=labels),
         "spec": {"nodeName": node, "containers": containers, "dnsPolicy": "ClusterFirst", "serviceAccountName": sa or "default"},
         "status": {"phase": "Running", "hostIP": dict((n[0], n[1]) for n in NODES)[node], "podIP": ip, "podIPs": [{"ip": ip}],
                    "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                    "containerStatuses": [{"name": c["name"], "ready": ready, "restartCount": restarts, "image": c["image"], "state": {"running": {"startedAt": "2026-11-26T21:40:03Z"}}} for c in containers]}}
    if host:
        p["spec"]["hostNetwork"] = True
        p["spec"]["dnsPolicy"] = "ClusterFirstWithHostNet"
    if owner:
        p["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "controller": True}]
    return p

pods = []
suffix = {"master-1": "7xk2p", "master-2": "m9q4d", "master-3": "c2v8r", "gpu-worker-1": "h5t6w", "gpu-worker-2": "z3n7b"}
for name, ip, cidr, mac, cp in NODES:
    s = suffix[name]
    pods.append(pod(f"kube-proxy-{s}", "kube-system", name, ip, {"k8s-app": "kube-proxy", "controller-revision-hash": "6d4b8c9f7"},
                    [{"name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.29.4", "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", f"--hostname-override={name}"]}],
                    host=True, sa="kube-proxy", owner=("DaemonSet", "kube-proxy")))
    pods.append(pod(f"kube-flannel-ds-{s}", "kube-system", name, ip, {"app": "flannel", "tier": "node", "k8s-app": "flannel"},
                    [{"name": "kube-flannel", "image": "docker.io/flannel/flannel:v0.24.2", "command": ["/opt/bin/flanneld"], "args": ["--ip-masq", "--kube-subnet-mgr"]}],
                    host=True, sa="flannel", owner=("DaemonSet", "kube-flannel-ds")))
    if cp:
        cm = {"name": "kube-controller-manager", "image": "registry.k8s.io/kube-controller-manager:v1.29.4",
              "command": ["kube-controller-manager", "--allocate-node-cidrs=true", "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf", "--bind-address=127.0.0.1",
                          "--cluster-cidr=10.233.64.0/18", "--cluster-name=cluster.local", "--controllers=*,bootstrapsigner,tokencleaner", "--kubeconfig=/etc/kubernetes/controller-manager.conf",
                          "--leader-elect=true", "--node-cidr-mask-size=24", "--service-cluster-ip-range=10.233.0.0/18", "--use-service-account-credentials=true"]}
        pods.append(pod(f"kube-controller-manager-{name}", "kube-system", name, ip, {"component": "kube-controller-manager", "tier": "control-plane"}, [cm], host=True))
        api = {"name": "kube-apiserver", "image": "registry.k8s.io/kube-apiserver:v1.29.4",
               "command": ["kube-apiserver", f"--advertise-address={ip}", "--allow-privileged=true", "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
                           "--etcd-servers=https://192.168.10.11:2379,https://192.168.10.12:2379,https://192.168.10.13:2379", "--secure-port=6443", "--service-cluster-ip-range=10.233.0.0/18"]}
        pods.append(pod(f"kube-apiserver-{name}", "kube-system", name, ip, {"component": "kube-apiserver", "tier": "control-plane"}, [api], host=True))
# CoreDNS still on the old pod network.
for pname, node, ip in [("coredns-76f75df574-8lq2x", "master-1", "10.244.0.5"), ("coredns-76f75df574-qw7jt", "master-2", "10.244.1.7")]:
    pods.append(pod(pname, "kube-system", node, ip, {"k8s-app": "kube-dns", "pod-template-hash": "76f75df574"},
                    [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.11.1", "args": ["-conf", "/etc/coredns/Corefile"]}], sa="coredns", owner=("ReplicaSet", "coredns-76f75df574")))
for pname, node, ip in [("triton-inference-5b9c7d8f6-2kxlm", "gpu-worker-1", "10.233.64.12"), ("triton-inference-5b9c7d8f6-r8p4v", "gpu-worker-2", "10.233.66.9"), ("feature-store-7c6d5b4a9-tp2qs", "master-3", "10.233.65.4"), ("model-registry-6f8e9d7c5-lm3nb", "gpu-worker-1", "10.244.3.17")]:
    pods.append(pod(pname, "ml-serving", node, ip, {"app": pname.rsplit("-", 2)[0]}, [{"name": pname.rsplit("-", 2)[0], "image": "registry.internal/ml/" + pname.rsplit("-", 2)[0] + ":2.4.1"}], owner=("ReplicaSet", pname.rsplit("-", 1)[0])))
pods.append(pod("busybox-dns-probe", "default", "gpu-worker-1", "10.233.64.21", {"run": "busybox-dns-probe"}, [{"name": "busybox", "image": "busybox:1.36", "command": ["sleep", "3600"]}]))
dump("cluster/pods.yaml", lst(pods))

def svc(name, ns, ip, ports, selector, labels=None):
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(name, ns, labels=labels or {}),
            "spec": {"clusterIP": ip, "clusterIPs": [ip], "ports": ports, "selector": selector, "type": "ClusterIP", "sessionAffinity": "None", "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack"}}
services = [
    {"apiVersion": "v1", "kind": "Service", "metadata": meta("kubernetes", "default", labels={"component": "apiserver", "provider": "kubernetes"}),
     "spec": {"clusterIP": "10.233.0.1", "clusterIPs": ["10.233.0.1"], "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}], "type": "ClusterIP"}},
    svc("coredns", "kube-system", "10.233.0.3", [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53}, {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53}, {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}],
        {"k8s-app": "kube-dns"}, {"k8s-app": "kube-dns", "kubernetes.io/name": "coredns", "addonmanager.kubernetes.io/mode": "Reconcile"}),
    svc("triton-inference", "ml-serving", "10.233.12.40", [{"name": "grpc", "port": 8001, "protocol": "TCP", "targetPort": 8001}], {"app": "triton-inference"}),
]
dump("cluster/services.yaml", lst(services))
ep = lambda name, ns, addrs, ports: {"apiVersion": "v1", "kind": "Endpoints", "metadata": meta(name, ns), "subsets": [{"addresses": addrs, "ports": ports}]}
dump("cluster/endpoints.yaml", lst([
    ep("kubernetes", "default", [{"ip": n[1]} for n in NODES if n[4]], [{"name": "https", "port": 6443, "protocol": "TCP"}]),
    ep("coredns", "kube-system", [{"ip": "10.244.0.5", "nodeName": "master-1", "targetRef": {"kind": "Pod", "name": "coredns-76f75df574-8lq2x", "namespace": "kube-system"}}, {"ip": "10.244.1.7", "nodeName": "master-2", "targetRef": {"kind": "Pod", "name": "coredns-76f75df574-qw7jt", "namespace": "kube-system"}}],
       [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}, {"name": "metrics", "port": 9153, "protocol": "TCP"}]),
]))
dump("cluster/endpointslices.yaml", lst([{"addressType": "IPv4", "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
    "metadata": meta("coredns-6xq8m", "kube-system", labels={"kubernetes.io/service-name": "coredns", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}),
    "endpoints": [{"addresses": ["10.244.0.5"], "conditions": {"ready": True, "serving": True, "terminating": False}, "nodeName": "master-1", "targetRef": {"kind": "Pod", "name": "coredns-76f75df574-8lq2x", "namespace": "kube-system"}},
                  {"addresses": ["10.244.1.7"], "conditions": {"ready": True, "serving": True, "terminating": False}, "nodeName": "master-2", "targetRef": {"kind": "Pod", "name": "coredns-76f75df574-qw7jt", "namespace": "kube-system"}}],
    "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}, {"name": "metrics", "port": 9153, "protocol": "TCP"}]}]))
ds = lambda name, labels: {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta(name, "kube-system", labels=labels), "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {"containers": []}}},
                           "status": {"currentNumberScheduled": 5, "desiredNumberScheduled": 5, "numberAvailable": 5, "numberMisscheduled": 0, "numberReady": 5, "observedGeneration": 3, "updatedNumberScheduled": 5}}
dump("cluster/daemonsets.yaml", lst([ds("kube-proxy", {"k8s-app": "kube-proxy"}), ds("kube-flannel-ds", {"app": "flannel"})]))
dump("cluster/deployments.yaml", lst([{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("coredns", "kube-system", labels={"k8s-app": "kube-dns"}),
    "spec": {"replicas": 2, "selector": {"matchLabels": {"k8s-app": "kube-dns"}}}, "status": {"availableReplicas": 2, "readyReplicas": 2, "replicas": 2, "updatedReplicas": 2}}]))
corefile = ".:53 {\n    errors\n    health {\n        lameduck 5s\n    }\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n"
cms = [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("coredns", "kube-system"), "data": {"Corefile": corefile}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("kube-flannel-cfg", "kube-system", labels={"app": "flannel", "tier": "node"}),
     "data": {"cni-conf.json": "{\n  \"name\": \"cbr0\",\n  \"cniVersion\": \"0.3.1\",\n  \"plugins\": [\n    {\n      \"type\": \"flannel\",\n      \"delegate\": {\n        \"hairpinMode\": true,\n        \"isDefaultGateway\": true\n      }\n    },\n    {\n      \"type\": \"portmap\",\n      \"capabilities\": {\n        \"portMappings\": true\n      }\n    }\n  ]\n}\n",
              "net-conf.json": "{\n  \"Network\": \"10.244.0.0/16\",\n  \"Backend\": {\n    \"Type\": \"vxlan\"\n  }\n}\n"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("kube-proxy", "kube-system", labels={"app": "kube-proxy"}),
     "data": {"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nbindAddress: 0.0.0.0\nclientConnection:\n  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf\nclusterCIDR: 10.233.64.0/18\nmode: iptables\n"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("kubeadm-config", "kube-system"),
     "data": {"ClusterConfiguration": "apiVersion: kubeadm.k8s.io/v1beta3\nclusterName: cluster.local\nkind: ClusterConfiguration\nkubernetesVersion: v1.29.4\nnetworking:\n  dnsDomain: cluster.local\n  podSubnet: 10.233.64.0/18\n  serviceSubnet: 10.233.0.0/18\n"}},
]
dump("cluster/configmaps.yaml", lst(cms))
dump("cluster/serviceaccounts.yaml", lst([{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(n, "kube-system")} for n in ["coredns", "flannel", "kube-proxy", "default"]]))
rbac = "rbac.authorization.k8s.io/v1"
def crole(name, rules, labels=None):
    return {"apiVersion": rbac, "kind": "ClusterRole", "metadata": meta(name, labels=labels or {"kubernetes.io/bootstrapping": "rbac-defaults"}, annotations={"rbac.authorization.kubernetes.io/autoupdate": "true"}), "rules": rules}
def crb(name, role, subjects):
    return {"apiVersion": rbac, "kind": "ClusterRoleBinding", "metadata": meta(name), "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}, "subjects": subjects}
r = lambda groups, res, verbs: {"apiGroups": groups, "resources": res, "verbs": verbs}
roles = [
    crole("cluster-admin", [r(["*"], ["*"], ["*"]), {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
    crole("system:basic-user", [r(["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], ["create"]), r(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"])]),
    crole("system:discovery", [{"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"], "verbs": ["get"]}]),
    crole("system:coredns", [r([""], ["endpoints", "services", "pods", "namespaces"], ["list", "watch"]), r(["discovery.k8s.io"], ["endpointslices"], ["list", "watch"])], labels={"addonmanager.kubernetes.io/mode": "Reconcile"}),
    crole("system:node", [r([""], ["nodes"], ["create", "get", "list", "watch", "patch", "update"]), r([""], ["nodes/status"], ["patch", "update"])]),
]
dump("cluster/clusterroles.yaml", lst(roles))
bindings = [
    crb("cluster-admin", "cluster-admin", [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}]),
    crb("system:basic-user", "system:basic-user", [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}]),
    crb("system:discovery", "system:discovery", [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}]),
    crb("kubeadm:node-proxier", "system:node-proxier", [{"kind": "ServiceAccount", "name": "kube-proxy", "namespace": "kube-system"}]),
    crb("system:coredns", "system:coredns", [{"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}]),
    crb("flannel", "flannel", [{"kind": "ServiceAccount", "name": "flannel", "namespace": "kube-system"}]),
]
dump("cluster/clusterrolebindings.yaml", lst(bindings))

# Logs (kubectl logs --timestamps).
def ts(sec, frac):
    return f"2026-11-27T08:{2 + sec // 60:02d}:{sec % 60:02d}.{frac:09d}Z"
def klog(sev, sec, frac, src, msg, pid=1):
    return f"{ts(sec, frac)} {sev}1127 08:{2 + sec // 60:02d}:{sec % 60:02d}.{frac // 1000:06d}       {pid} {src}] {msg}\n"
forb = 'is forbidden: User "system:serviceaccount:kube-system:{sa}" cannot list resource "{res}" in API group "{grp}" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io "{role}" not found'
for name, ip, cidr, mac, cp in NODES:
    s = suffix[name]
    lines = [klog("I", 0, 112233000, "server_linux.go:69", 'Using iptables proxy'),
             klog("E", 0, 118004000, "server.go:1039", f'"Failed to retrieve node info" err="nodes \\"{name}\\" is forbidden: User \\"system:serviceaccount:kube-system:kube-proxy\\" cannot get resource \\"nodes\\" in API group \\"\\" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io \\"system:node-proxier\\" not found"'),
             klog("I", 1, 204000000, "server.go:1050", '"Can\'t determine this node\'s IP, assuming 127.0.0.1; if this is incorrect, please set the --bind-address flag"'),
             klog("I", 1, 350000000, "server_others.go:152", '"Using iptables Proxier"'),
             klog("I", 1, 361000000, "proxier.go:257", '"Setting route_localnet=1 to allow node-ports on localhost; to change this either disable iptables.localhostNodePorts (--iptables-localhost-nodeports) or set nodePortAddresses (--nodeport-addresses) to filter loopback addresses"')]
    for k in range(12):
        sec = 2 + k * 7
        for res, grp, kind in [("services", "", "Service"), ("endpointslices", "discovery.k8s.io", "EndpointSlice"), ("nodes", "", "Node")]:
            api = "discovery/v1" if grp else "v1"
            m = forb.format(sa="kube-proxy", res=res, grp=grp, role="system:node-proxier")
            lines.append(klog("W", sec, 345601000 + k * 1000, "reflector.go:539", f"k8s.io/client-go/informers/factory.go:159: failed to list *{api}.{kind}: {res} {m}"))
            lines.append(klog("E", sec, 345678000 + k * 1000, "reflector.go:147", f"k8s.io/client-go/informers/factory.go:159: Failed to watch *{api}.{kind}: failed to list *{api}.{kind}: {res} {m}"))
    dump(f"logs/kube-system/kube-proxy-{s}/kube-proxy.log", "".join(lines))
    fl = [f"{ts(0, 5000000)} I1127 08:02:00.005123       1 main.go:212] CLI flags config: {{etcdEndpoints:http://127.0.0.1:4001,http://127.0.0.1:2379 etcdPrefix:/coreos.com/network etcdKeyfile: etcdCertfile: etcdCAFile: etcdUsername: etcdPassword: version:false kubeSubnetMgr:true kubeApiUrl: kubeAnnotationPrefix:flannel.alpha.coreos.com kubeConfigFile: iface:[] ifaceRegex:[] ipMasq:true ifaceCanReach: subnetFile:/run/flannel/subnet.env publicIP: publicIPv6: subnetLeaseRenewMargin:60 healthzIP:0.0.0.0 healthzPort:0 iptablesResyncSeconds:5 iptablesForwardRules:true netConfPath:/etc/kube-flannel/net-conf.json setNodeNetworkUnavailable:true}}\n",
          f"{ts(0, 9000000)} W1127 08:02:00.009311       1 client_config.go:618] Neither --kubeconfig nor --master was specified.  Using the inClusterConfig.  This might not work.\n",
          f"{ts(0, 31000000)} I1127 08:02:00.031877       1 kube.go:139] Waiting 10m0s for node controller to sync\n"]
    for k in range(10):
        sec = 1 + k * 9
        m = forb.format(sa="flannel", res="nodes", grp="", role="flannel")
        fl.append(klog("W", sec, 512000000 + k * 1000, "reflector.go:539", f"pkg/subnet/kube/kube.go:470: failed to list *v1.Node: nodes {m}"))
        fl.append(klog("E", sec, 512300000 + k * 1000, "reflector.go:147", f"pkg/subnet/kube/kube.go:470: Failed to watch *v1.Node: failed to list *v1.Node: nodes {m}"))
    dump(f"logs/kube-system/kube-flannel-ds-{s}/kube-flannel.log", "".join(fl))
for pname in ["coredns-76f75df574-8lq2x", "coredns-76f75df574-qw7jt"]:
    dump(f"logs/kube-system/{pname}/coredns.log", f"{ts(0, 1000000)} .:53\n{ts(0, 1200000)} [INFO] plugin/reload: Running configuration SHA512 = 591cf328cccc12bc490481273e738df59329c62c0b729d94e8b61db9961c2fa5f046dd37f1cf888b953814040d180f52594972691cd6ff41be96639138a43908\n{ts(0, 1300000)} CoreDNS-1.11.1\n{ts(0, 1400000)} linux/amd64, go1.20.7, ae2bbc2\n")

# Node tables. ip/bridge outputs come from make-node-tables.sh, which builds
# each node in a network namespace; this script writes the rest.
LSMOD = """Module                  Size  Used by
xt_comment             12288  12
xt_mark                12288  5
veth                   40960  0
vxlan                 106496  0
ip6_udp_tunnel         16384  1 vxlan
udp_tunnel             32768  1 vxlan
nf_conntrack_netlink   57344  0
xt_addrtype            12288  2
xt_MASQUERADE          16384  3
iptable_nat            12288  1
nf_nat                 57344  2 iptable_nat,xt_MASQUERADE
xt_conntrack           12288  2
nf_conntrack          188416  4 xt_conntrack,nf_nat,nf_conntrack_netlink,xt_MASQUERADE
nf_defrag_ipv6         24576  1 nf_conntrack
nf_defrag_ipv4         12288  1 nf_conntrack
br_netfilter           32768  0
bridge                421888  1 br_netfilter
stp                    12288  1 bridge
llc                    16384  2 bridge,stp
overlay               196608  27
iptable_filter         12288  1
ip_tables              36864  2 iptable_filter,iptable_nat
x_tables               65536  8 xt_comment,xt_mark,iptable_filter,xt_addrtype,xt_conntrack,ip_tables,iptable_nat,xt_MASQUERADE
nvidia_uvm           1794048  0
"""
KUBELET = """apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 0s
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
cgroupDriver: systemd
clusterDNS:
- 10.233.0.3
clusterDomain: cluster.local
containerRuntimeEndpoint: ""
healthzBindAddress: 127.0.0.1
healthzPort: 10248
kind: KubeletConfiguration
resolvConf: /run/systemd/resolve/resolv.conf
rotateCertificates: true
staticPodPath: /etc/kubernetes/manifests
"""
CNI = """{
  "name": "cbr0",
  "cniVersion": "0.3.1",
  "plugins": [
    {
      "type": "flannel",
      "delegate": {
        "hairpinMode": true,
        "isDefaultGateway": true
      }
    },
    {
      "type": "portmap",
      "capabilities": {
        "portMappings": true
      }
    }
  ]
}
"""
for name, ip, cidr, mac, cp in NODES:
    ipt = f"""# Generated by iptables-save v1.8.7 on Fri Nov 27 10:15:31 2026
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:FLANNEL-FWD - [0:0]
:KUBE-FIREWALL - [0:0]
-A INPUT -j KUBE-FIREWALL
-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
-A OUTPUT -j KUBE-FIREWALL
-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
-A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
COMMIT
# Completed on Fri Nov 27 10:15:31 2026
# Generated by iptables-save v1.8.7 on Fri Nov 27 10:15:31 2026
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
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
COMMIT
# Completed on Fri Nov 27 10:15:31 2026
"""
    dump(f"nodes/{name}/iptables-save.txt", ipt)
    dump(f"nodes/{name}/sysctl.txt", "net.bridge.bridge-nf-call-arptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\nnet.bridge.bridge-nf-call-iptables = 1\nnet.ipv4.conf.all.forwarding = 1\nnet.ipv4.conf.all.rp_filter = 0\nnet.ipv4.conf.cni0.forwarding = 1\nnet.ipv4.conf.flannel/1.forwarding = 1\nnet.ipv4.ip_forward = 1\nnet.ipv4.ip_local_port_range = 32768\t60999\n")
    sub = "10.244.3.1/24" if name == "gpu-worker-1" else cidr.split("/")[0].rsplit(".", 1)[0] + ".1/24"
    dump(f"nodes/{name}/flannel-subnet.env", f"FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET={sub}\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n")
    dump(f"nodes/{name}/resolv.conf", "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch corp.internal\n")
    dump(f"nodes/{name}/lsmod.txt", LSMOD)
    dump(f"nodes/{name}/kubelet-config.yaml", KUBELET)
    dump(f"nodes/{name}/cni/10-flannel.conflist", CNI)
    dump(f"nodes/{name}/firewalld.txt", "inactive\n")

# kubectl auth can-i --list, formatted as kubectl's tabwriter does (min width 10, padding 3).
def can_i(rows):
    header = ["Resources", "Non-Resource URLs", "Resource Names", "Verbs"]
    table = [header] + rows
    widths = [max(10, max(len(r[c]) for r in table) + 3) for c in range(3)]
    return "".join("".join(r[c].ljust(widths[c]) for c in range(3)) + r[3] + "\n" for r in table)
BASIC = [["selfsubjectreviews.authentication.k8s.io", "[]", "[]", "[create]"], ["selfsubjectaccessreviews.authorization.k8s.io", "[]", "[]", "[create]"], ["selfsubjectrulesreviews.authorization.k8s.io", "[]", "[]", "[create]"]]
DISCOVERY = [["", f"[{u}]", "[]", "[get]"] for u in ["/api/*", "/api", "/apis/*", "/apis", "/healthz", "/livez", "/openapi/*", "/openapi", "/readyz", "/version/", "/version"]]
dump("cluster/can-i/kube-system.kube-proxy.txt", can_i(BASIC + DISCOVERY))
dump("cluster/can-i/kube-system.flannel.txt", can_i(BASIC + DISCOVERY))
dump("cluster/can-i/kube-system.coredns.txt", can_i(BASIC + [["endpoints", "[]", "[]", "[list watch]"], ["namespaces", "[]", "[]", "[list watch]"], ["pods", "[]", "[]", "[list watch]"], ["services", "[]", "[]", "[list watch]"], ["endpointslices.discovery.k8s.io", "[]", "[]", "[list watch]"]] + DISCOVERY))

dump("probes/gpu-worker-1/dns.txt", "$ ping -c 1 coredns.kube-system\nping: bad address 'coredns.kube-system'\n$ nc -zv coredns.kube-system 53\nnc: bad address 'coredns.kube-system'\n$ nslookup kubernetes.default.svc.cluster.local 10.233.0.3\n;; connection timed out; no servers could be reached\n\n")
dump("probes/gpu-worker-1/resolv.conf", "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.233.0.3\noptions ndots:5\n")

commands = []
for f in sorted(os.listdir(os.path.join(OUT, "cluster"))):
    if f.endswith(".yaml"):
        res = f[:-5]
        argv = ["kubectl", "version", "-o", "yaml"] if res == "version" else ["kubectl", "get", res, "-A", "-o", "yaml"]
        commands.append({"argv": argv, "output": f"cluster/{f}", "exit_code": 0, "duration_ms": 240, "stderr": ""})
for sa in ["coredns", "flannel", "kube-proxy"]:
    commands.append({"argv": ["kubectl", "auth", "can-i", "--list", f"--as=system:serviceaccount:kube-system:{sa}"], "output": f"cluster/can-i/kube-system.{sa}.txt", "exit_code": 0, "duration_ms": 180, "stderr": ""})
for pod_dir in sorted(os.listdir(os.path.join(OUT, "logs", "kube-system"))):
    for f in sorted(os.listdir(os.path.join(OUT, "logs", "kube-system", pod_dir))):
        commands.append({"argv": ["kubectl", "logs", "-n", "kube-system", pod_dir, "-c", f[:-4], "--timestamps", "--since=2h"], "output": f"logs/kube-system/{pod_dir}/{f}", "exit_code": 0, "duration_ms": 95, "stderr": ""})
for name, *_ in NODES:
    for f, argv in [("ip-addr.txt", ["ip", "addr", "show"]), ("ip-link.txt", ["ip", "-d", "link", "show"]), ("ip-route.txt", ["ip", "route", "show"]), ("ip-neigh.txt", ["ip", "neigh", "show"]), ("bridge-fdb.txt", ["bridge", "fdb", "show"]),
                    ("ip-addr.json", ["ip", "-j", "-d", "addr", "show"]), ("ip-route.json", ["ip", "-j", "route", "show"]), ("ip-neigh.json", ["ip", "-j", "neigh", "show"]),
                    ("iptables-save.txt", ["iptables-save"]), ("sysctl.txt", ["sysctl", "-a"]), ("lsmod.txt", ["lsmod"]), ("resolv.conf", ["cat", "/etc/resolv.conf"]),
                    ("kubelet-config.yaml", ["cat", "/var/lib/kubelet/config.yaml"]), ("cni/10-flannel.conflist", ["cat", "/etc/cni/net.d/10-flannel.conflist"]),
                    ("flannel-subnet.env", ["cat", "/run/flannel/subnet.env"]), ("firewalld.txt", ["sh", "-c", "systemctl is-active firewalld || true"])]:
        commands.append({"argv": argv, "node": name, "output": f"nodes/{name}/{f}", "exit_code": 0, "duration_ms": 12, "stderr": ""})
    commands.append({"argv": ["getenforce"], "node": name, "output": None, "exit_code": 127, "duration_ms": 1, "stderr": "chroot: failed to run command 'getenforce': No such file or directory"})
    commands.append({"argv": ["ipvsadm", "-Ln"], "node": name, "output": None, "exit_code": 127, "duration_ms": 2, "stderr": "chroot: failed to run command 'ipvsadm': No such file or directory"})
manifest = {"format": "kdiag-bundle/v1", "collector": {"name": "kdiag-collect", "version": "0.1.0"}, "collected_at": "2026-11-27T10:15:00Z",
            "cluster": {"context": "gpu-prod", "server": "https://192.168.10.10:6443"}, "options": {"since": "2h", "nodes": "all"}, "commands": commands, "redactions": {"rules": 6, "replacements": 0}}
dump("manifest.json", json.dumps(manifest, indent=2) + "\n")
