# Versions of the test cluster and where its built binaries are cached (outside the repo, keyed on
# every version that changes the output, so only the first run on a machine pays the Go build).
KUBE_VERSION=${KUBE_VERSION:-1.34.4}
COREDNS_VERSION=${COREDNS_VERSION:-1.12.4}
GO_VERSION=$(go env GOVERSION 2>/dev/null || echo go-missing)
CLUSTER_CACHE=${ASF_CLUSTER_CACHE:-/var/cache/asf-kit/cluster}
CLUSTER_BIN=$CLUSTER_CACHE/k8s-$KUBE_VERSION-coredns-$COREDNS_VERSION-$GO_VERSION/bin
CLUSTER_STATE=${ASF_CLUSTER_STATE:-/var/lib/asf-kit-cluster}
NODE_IP=10.250.0.1
