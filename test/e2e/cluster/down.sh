#!/usr/bin/env bash
# Stops the test cluster up.sh started (pods first, then each process by its recorded PID) and
# unmounts what pods left. --purge also deletes its state (etcd, certificates, images in
# containerd, the node bridge); the cached binaries stay.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"
pids=$CLUSTER_STATE/pids
export PATH=$CLUSTER_BIN:/usr/sbin:/sbin:$PATH

stop() { # NAME: TERM, up to 30 s, then KILL
  local file=$pids/$1.pid pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "stopped $1 (pid $pid)"
  fi
  rm -f "$file"
}

# Containers first, while containerd still runs.
if [ -S /run/containerd/containerd.sock ] && [ -f "$pids/containerd.pid" ]; then
  for t in $(ctr -n k8s.io tasks ls -q 2>/dev/null); do ctr -n k8s.io tasks kill -s KILL "$t" >/dev/null 2>&1; done
  sleep 2
  for t in $(ctr -n k8s.io tasks ls -q 2>/dev/null); do ctr -n k8s.io tasks delete -f "$t" >/dev/null 2>&1; done
fi
for name in coredns kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver etcd containerd; do stop "$name"; done
for p in $(pgrep -f 'containerd-shim-runc-v2 -namespace k8s.io .*-address /run/containerd/containerd.sock'); do kill -TERM "$p" 2>/dev/null; done
# Pod volumes, container rootfs mounts, CNI network namespaces and kubelet's bind mount of its root.
awk '$2 ~ "^/var/lib/kubelet|^/run/containerd/io.containerd|^/run/netns/cni-|^/var/run/netns/cni-" {print $2}' /proc/mounts | sort -r |
  while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done

if [ "${1:-}" = --purge ]; then
  for n in /run/netns/cni-*; do [ -e "$n" ] && ip netns delete "${n##*/}" 2>/dev/null; done
  rm -rf "$CLUSTER_STATE" /var/lib/kubelet /var/lib/containerd /run/containerd /var/lib/cni/networks/asf-e2e
  ip link del kl-br0 2>/dev/null; ip link del cni0 2>/dev/null
  echo "cluster state purged (binaries stay cached in $CLUSTER_BIN)"
fi
