#!/usr/bin/env bash
# Produces the node network tables of sample-bundles/seed-incident for real:
# every node is a network namespace with an underlay (eth0 on a shared
# bridge), flannel's VXLAN device flannel.1, the cni0 bridge with one pod,
# docker0, and exactly the routes, neighbours and FDB entries flannel had
# programmed when it lost its RBAC. The outputs of `ip` and `bridge` are then
# what iproute2 prints. Needs root and iproute2; cleans up after itself.
#
#   make-node-tables.sh [OUT]   write the tables under OUT/nodes/ (default
#                               sample-bundles/seed-incident), then remove
#                               the namespaces
#   make-node-tables.sh --up    create the namespaces kdseed-<node> and keep
#                               them (the collector's tests run ip/bridge there)
#   make-node-tables.sh --down  remove them
set -euo pipefail
mode="write"
case "${1:-}" in
  --up) mode=up ;;
  --down) mode=down ;;
esac
out=${1:-sample-bundles/seed-incident}
p=kdseed

# name  underlay-ip    podCIDR(.0)   cni0 address     vtep-mac           pod-ip
nodes=(
  "master-1     192.168.10.11 10.244.0.0  10.244.0.1/24  4e:1a:5b:0c:7d:01 10.244.0.5"
  "master-2     192.168.10.12 10.244.1.0  10.244.1.1/24  4e:1a:5b:0c:7d:02 10.244.1.7"
  "master-3     192.168.10.13 10.233.65.0 10.233.65.1/24 4e:1a:5b:0c:7d:03 10.233.65.4"
  "gpu-worker-1 192.168.10.21 10.233.64.0 10.244.3.1/24  4e:1a:5b:0c:7d:21 10.244.3.17"
  "gpu-worker-2 192.168.10.22 10.233.66.0 10.233.66.1/24 4e:1a:5b:0c:7d:22 10.233.66.9"
)
# Peers whose subnet each node learned before flannel was forbidden to watch Nodes.
declare -A peers=(
  [master-1]="master-2 gpu-worker-1"
  [master-2]="master-1 gpu-worker-1"
  [master-3]=""
  [gpu-worker-1]="gpu-worker-2"
  [gpu-worker-2]="gpu-worker-1"
)

declare -A ip cidr0 mac
for row in "${nodes[@]}"; do
  read -r n u c _ m _ <<<"$row"
  ip[$n]=$u; cidr0[$n]=$c; mac[$n]=$m
done

podns() { printf 'cni-%s-5c1e-9a4b-7d2f-0b%010d' "$(printf %08x $((0x6a1f3c00 + $1)))" "$1"; }
cleanup() {
  local j=0
  for row in "${nodes[@]}"; do
    read -r n _ <<<"$row"
    j=$((j + 1))
    ip netns del "$p-$n" 2>/dev/null || true
    ip netns del "$(podns $j)" 2>/dev/null || true
  done
  ip link del kdseed-br 2>/dev/null || true
}
if [[ $mode == down ]]; then cleanup; exit 0; fi
[[ $mode == write ]] && trap cleanup EXIT
cleanup

# The underlay switch and gateway live in the root namespace, so that each
# node's eth0 peer shows as `link-netnsid 0`, not as a named namespace.
ip link add kdseed-br type bridge
ip addr add 192.168.10.1/24 dev kdseed-br
ip link set kdseed-br up

i=0
for row in "${nodes[@]}"; do
  read -r n u c bridge m podip <<<"$row"
  ns="$p-$n"; i=$((i + 1))
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "kdseed$i" type veth peer name eth0 netns "$ns"
  ip link set "kdseed$i" master kdseed-br up
  ip -n "$ns" link set eth0 address "52:54:00:3a:10:$(printf %02x "${u##*.}")" up
  ip -n "$ns" addr add "$u/24" dev eth0
  ip -n "$ns" route add default via 192.168.10.1 dev eth0 proto static
  ip -n "$ns" link add flannel.1 type vxlan id 1 local "$u" dev eth0 dstport 8472 nolearning
  ip -n "$ns" link set flannel.1 address "$m" mtu 1450 up
  ip -n "$ns" addr add "$c/32" dev flannel.1
  ip -n "$ns" link add cni0 type bridge
  ip -n "$ns" link set cni0 address "5a:3e:91:c4:$(printf %02x "${u##*.}"):0b" mtu 1450 up
  ip -n "$ns" addr add "$bridge" dev cni0
  pod=$(podns $i)
  ip netns add "$pod"
  ip link add "veth$(printf %08x $((0x3c9a1e00 + i)))" netns "$ns" type veth peer name eth0 netns "$pod"
  ip -n "$ns" link set "veth$(printf %08x $((0x3c9a1e00 + i)))" master cni0 mtu 1450 up
  ip -n "$pod" link set lo up
  ip -n "$pod" link set eth0 mtu 1450 up
  ip -n "$pod" addr add "$podip/24" dev eth0
  ip -n "$ns" link add docker0 type bridge
  ip -n "$ns" link set docker0 address "02:42:9c:1f:$(printf %02x "${u##*.}"):6e" up
  ip -n "$ns" addr add 172.17.0.1/16 dev docker0
done

j=0
for row in "${nodes[@]}"; do
  read -r n _ <<<"$row"
  ns="$p-$n"; j=$((j + 1))
  for peer in ${peers[$n]}; do
    ip -n "$ns" route add "${cidr0[$peer]}/24" via "${cidr0[$peer]}" dev flannel.1 onlink
    ip -n "$ns" neigh add "${cidr0[$peer]}" lladdr "${mac[$peer]}" dev flannel.1 nud permanent
    bridge -n "$ns" fdb append "${mac[$peer]}" dev flannel.1 dst "${ip[$peer]}" self permanent
  done
  # Underlay traffic so that the ARP table holds what a live node's does.
  ip netns exec "$ns" ping -c1 -W1 192.168.10.1 >/dev/null || true
  for row2 in "${nodes[@]}"; do
    read -r m u _ <<<"$row2"
    [ "$m" = "$n" ] || ip netns exec "$ns" ping -c1 -W1 "$u" >/dev/null || true
  done
  ip netns exec "$(podns $j)" ping -c1 -W1 "$(ip -n "$ns" -4 -o addr show dev cni0 | awk '{print $4}' | cut -d/ -f1)" >/dev/null 2>&1 || true
done
# Let IPv6 duplicate address detection finish, as on a node that has been up for days.
sleep 3
if [[ $mode == up ]]; then
  echo "namespaces ${p}-<node> are up; remove them with: $0 --down"
  exit 0
fi

for row in "${nodes[@]}"; do
  read -r n _ <<<"$row"
  ns="$p-$n"; d="$out/nodes/$n"
  mkdir -p "$d"
  ip -n "$ns" addr show >"$d/ip-addr.txt"
  ip -n "$ns" -d link show >"$d/ip-link.txt"
  ip -n "$ns" route show >"$d/ip-route.txt"
  ip -n "$ns" neigh show >"$d/ip-neigh.txt"
  bridge -n "$ns" fdb show >"$d/bridge-fdb.txt"
  ip -n "$ns" -j -d addr show >"$d/ip-addr.json"
  ip -n "$ns" -j route show >"$d/ip-route.json"
  ip -n "$ns" -j neigh show >"$d/ip-neigh.json"
done
echo "node tables written under $out/nodes/"
