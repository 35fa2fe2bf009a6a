#!/usr/bin/env bash
# Brings up a real single-node Kubernetes on this machine, offline, for the end-to-end tests:
# kube-apiserver, controller-manager, scheduler, kubelet and kube-proxy (built from the
# k8s.io/kubernetes Go module by build.sh, cached outside the repo), etcd, containerd, runc and the
# CNI plugins from Debian, CoreDNS on the host. Idempotent: installs what is missing, starts what is
# not running, waits for the node to be Ready. Needs root, a bridge, iptables and overlayfs.
#
# Node IP 10.250.0.1 on a bridge of its own (kl-br0, no ports: nothing leaves the machine), pods
# 10.244.0.0/24, services 10.96.0.0/16, NodePorts on 127.0.0.1 and the node IP only.
# Afterwards: source "$ASF_CLUSTER_STATE/env" (default /var/lib/asf-kit-cluster/env) for KUBECONFIG
# and kubectl. down.sh stops it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"
state=$CLUSTER_STATE
pki=$state/pki logs=$state/logs pids=$state/pids
node=asf-e2e
pod_cidr=10.244.0.0/24 cluster_cidr=10.244.0.0/16
svc_cidr=10.96.0.0/16 svc_ip=10.96.0.1 dns_ip=10.96.0.10
pause_image=registry.k8s.io/pause:3.10
mkdir -p "$pki" "$logs" "$pids" "$state/etcd" /etc/cni/net.d /etc/containerd/certs.d /var/lib/kubelet
t0=$SECONDS
step() { echo "[cluster +$((SECONDS - t0))s] $*"; }
die() { echo "cluster: error: $*" >&2; exit 1; }
export PATH=$CLUSTER_BIN:/usr/local/sbin:/usr/sbin:/sbin:$PATH
[ "$(id -u)" = 0 ] || die "run as root (containerd, kubelet, iptables and a bridge need it)"

# ---- Debian packages
packages=(containerd runc conntrack socat ethtool ebtables etcd-server iproute2 containernetworking-plugins iptables gcc libc6-dev openssl curl)
missing=(); for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  step "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$logs/apt.log" 2>&1 ||
    { tail -20 "$logs/apt.log"; die "apt-get install failed"; }
fi

# ---- binaries (cached) and the sandbox image
step "kubernetes $KUBE_VERSION and coredns $COREDNS_VERSION binaries (a first build takes ~10 min; log: $logs/build.log)"
"$here/build.sh" >>"$logs/build.log" 2>&1 || { tail -30 "$logs/build.log"; die "building the cluster binaries failed (log: $logs/build.log)"; }
pause_tar=$CLUSTER_CACHE/pause-$(sha256sum <"$here/pause.c" | cut -c1-12).tar
[ -f "$pause_tar" ] || "$here/pause-image.sh" "$pause_tar" "$pause_image"

# ---- host: cgroup hierarchies kubelet wants, forwarding, the node bridge
for c in hugetlb net_cls net_prio perf_event; do
  grep -q " /sys/fs/cgroup/$c " /proc/mounts || { mkdir -p "/sys/fs/cgroup/$c"; mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c" 2>/dev/null || true; }
done
modprobe br_netfilter 2>/dev/null || true
sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1 || true
ip link show kl-br0 >/dev/null 2>&1 || ip link add kl-br0 type bridge
case "$(ip -4 -o addr show dev kl-br0)" in *"inet $NODE_IP/"*) ;; *) ip addr add "$NODE_IP/24" dev kl-br0 ;; esac
ip link set kl-br0 up

# ---- certificates and kubeconfigs
cd "$pki"
[ -f ca.key ] || { openssl genrsa -out ca.key 2048 2>/dev/null; openssl req -x509 -new -key ca.key -days 3650 -subj /CN=asf-e2e-ca -out ca.crt; }
[ -f sa.key ] || { openssl genrsa -out sa.key 2048 2>/dev/null; openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null; }
cert() { # NAME CN ORG [SANS]: a client (or, with SANs, client+server) certificate signed by the CA
  local name=$1 cn=$2 org=$3 san=${4:-} subject
  [ -f "$name.crt" ] && return 0
  subject=/CN=$cn; [ -n "$org" ] && subject="/O=$org/CN=$cn"
  openssl genrsa -out "$name.key" 2048 2>/dev/null
  openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr"
  { echo basicConstraints=CA:FALSE; echo keyUsage=critical,digitalSignature,keyEncipherment
    if [ -n "$san" ]; then echo extendedKeyUsage=serverAuth,clientAuth; echo "subjectAltName=$san"; else echo extendedKeyUsage=clientAuth; fi
  } >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile "$name.ext" -out "$name.crt" 2>/dev/null
}
cert apiserver kube-apiserver "" "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$svc_ip,IP:$NODE_IP"
cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
cert admin kubernetes-admin system:masters
cert controller-manager system:kube-controller-manager ""
cert scheduler system:kube-scheduler ""
cert kubelet "system:node:$node" system:nodes "DNS:$node,IP:$NODE_IP,IP:127.0.0.1"
cert kube-proxy system:kube-proxy ""
cert coredns coredns system:masters   # it only reads; a dedicated ClusterRole is not worth it here
kubeconfig() { # NAME CERT
  local file=$state/$1.kubeconfig
  [ -f "$file" ] && return 0
  kubectl config set-cluster e2e --server="https://$NODE_IP:6443" --certificate-authority="$pki/ca.crt" --embed-certs --kubeconfig="$file" >/dev/null
  kubectl config set-credentials "$1" --client-certificate="$pki/$2.crt" --client-key="$pki/$2.key" --embed-certs --kubeconfig="$file" >/dev/null
  kubectl config set-context default --cluster=e2e --user="$1" --kubeconfig="$file" >/dev/null
  kubectl config use-context default --kubeconfig="$file" >/dev/null
}
for n in admin controller-manager scheduler kubelet kube-proxy coredns; do kubeconfig "$n" "$n"; done
cd "$here"
export KUBECONFIG=$state/admin.kubeconfig
printf 'export KUBECONFIG=%s\nexport PATH=%s:$PATH\n' "$KUBECONFIG" "$CLUSTER_BIN" >"$state/env"

# ---- processes, each recorded in $pids/<name>.pid
running() { [ -f "$pids/$1.pid" ] && kill -0 "$(cat "$pids/$1.pid")" 2>/dev/null; }
start() { # NAME COMMAND...
  local name=$1; shift
  running "$name" && return 0
  step "start $name"
  setsid "$@" >>"$logs/$name.log" 2>&1 </dev/null &
  echo $! >"$pids/$name.pid"
}
wait_for() { # WHAT SECONDS COMMAND...
  local what=$1 seconds=$2; shift 2
  for _ in $(seq "$seconds"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  die "timed out after ${seconds}s waiting for $what (logs: $logs)"
}
replace_if_changed() { # NEW FILE: moves NEW over FILE when they differ; true when it did
  if cmp -s "$1" "$2"; then rm -f "$1"; return 1; fi
  mv "$1" "$2"
}
stop_pid() { local p; p=$(cat "$pids/$1.pid"); kill "$p"; while kill -0 "$p" 2>/dev/null; do sleep 0.2; done; }

# containerd: our pause image, registry mirrors from /etc/containerd/certs.d (what install.sh writes).
# restrict_oom_score_adj: some VMs drop CAP_SYS_RESOURCE even for root, and the sandbox's default
# oom_score_adj of -998 then fails every pod in runc ("can't get final child's PID from pipe").
[ -f /etc/containerd/config.toml.before-asf-e2e ] || cp /etc/containerd/config.toml /etc/containerd/config.toml.before-asf-e2e 2>/dev/null || true
cat >/etc/containerd/config.toml.new <<TOML
# written by asf-kit test/e2e/cluster/up.sh
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "/etc/containerd/certs.d"
TOML
if replace_if_changed /etc/containerd/config.toml.new /etc/containerd/config.toml && running containerd; then
  step "containerd config changed: restarting it"; stop_pid containerd
fi
cat >/etc/cni/net.d/10-asf-e2e.conflist <<JSON
{"cniVersion":"1.0.0","name":"asf-e2e","plugins":[
 {"type":"bridge","bridge":"cni0","isGateway":true,"ipMasq":true,"hairpinMode":true,
  "ipam":{"type":"host-local","ranges":[[{"subnet":"$pod_cidr"}]],"routes":[{"dst":"0.0.0.0/0"}]}},
 {"type":"portmap","capabilities":{"portMappings":true}}]}
JSON
start containerd containerd --config /etc/containerd/config.toml
wait_for containerd 60 ctr version
ctr -n k8s.io images ls -q | grep -qx "$pause_image" || ctr -n k8s.io images import "$pause_tar" >/dev/null

start etcd etcd --name asf-e2e --data-dir "$state/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster asf-e2e=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381
wait_for etcd 60 curl -sf http://127.0.0.1:2379/health

start kube-apiserver kube-apiserver --advertise-address="$NODE_IP" --bind-address=0.0.0.0 --secure-port=6443 \
  --etcd-servers=http://127.0.0.1:2379 --service-cluster-ip-range=$svc_cidr --service-node-port-range=30000-32767 \
  --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" --client-ca-file="$pki/ca.crt" \
  --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types=InternalIP \
  --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=true --profiling=false
wait_for kube-apiserver 180 kubectl get --raw /readyz

start kube-controller-manager kube-controller-manager --kubeconfig="$state/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$state/controller-manager.kubeconfig" --authorization-kubeconfig="$state/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
  --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" --root-ca-file="$pki/ca.crt" \
  --service-account-private-key-file="$pki/sa.key" --service-cluster-ip-range=$svc_cidr \
  --allocate-node-cidrs=true --cluster-cidr=$cluster_cidr --node-cidr-mask-size=24
start kube-scheduler kube-scheduler --kubeconfig="$state/scheduler.kubeconfig" \
  --authentication-kubeconfig="$state/scheduler.kubeconfig" --authorization-kubeconfig="$state/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false

echo "nameserver 127.0.0.1" >"$state/resolv.conf"   # pods with dnsPolicy Default never reach a real resolver
cat >"$state/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
clusterDomain: cluster.local
clusterDNS: [$dns_ip]
resolvConf: $state/resolv.conf
failSwapOn: false
tlsCertFile: $pki/kubelet.crt
tlsPrivateKeyFile: $pki/kubelet.key
healthzBindAddress: 127.0.0.1
serializeImagePulls: false
evictionHard: {memory.available: 200Mi, nodefs.available: 5%, imagefs.available: 5%}
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
podCIDR: $pod_cidr
YAML
start kubelet kubelet --config="$state/kubelet.yaml" --kubeconfig="$state/kubelet.kubeconfig" \
  --hostname-override="$node" --node-ip="$NODE_IP" --root-dir=/var/lib/kubelet -v=1

cat >"$state/kube-proxy.yaml.new" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $state/kube-proxy.kubeconfig}
mode: iptables
clusterCIDR: $cluster_cidr
hostnameOverride: $node
conntrack: {maxPerCore: 0}
nodePortAddresses: [127.0.0.0/8, $NODE_IP/32]
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
YAML
# kube-proxy exits when its config file is rewritten, even unchanged: replace it only on a change.
if [ ! -f "$state/kube-proxy.yaml" ] || ! cmp -s "$state/kube-proxy.yaml.new" "$state/kube-proxy.yaml"; then
  running kube-proxy && stop_pid kube-proxy
fi
replace_if_changed "$state/kube-proxy.yaml.new" "$state/kube-proxy.yaml" || true
start kube-proxy kube-proxy --config="$state/kube-proxy.yaml"

step "waiting for node $node to be Ready"
wait_for "node $node Ready" 300 sh -c "kubectl get node $node -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"

# ---- DNS for *.svc.cluster.local: CoreDNS on the host, behind the usual kube-dns ClusterIP
cat >"$state/Corefile" <<CORE
cluster.local:53 in-addr.arpa:53 {
  bind $NODE_IP
  errors
  ready 127.0.0.1:8182
  cache 30
  kubernetes cluster.local in-addr.arpa {
    kubeconfig $state/coredns.kubeconfig default
    pods insecure
    fallthrough in-addr.arpa
  }
}
CORE
start coredns coredns -conf "$state/Corefile"
wait_for coredns 60 curl -sf http://127.0.0.1:8182/ready
kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  clusterIP: $dns_ip
  ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: kube-dns-host, namespace: kube-system, labels: {kubernetes.io/service-name: kube-dns}}
addressType: IPv4
endpoints: [{addresses: ["$NODE_IP"], conditions: {ready: true}}]
ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]
YAML
step "ready: source $state/env   (KUBECONFIG and kubectl)"
