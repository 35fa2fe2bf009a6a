#!/usr/bin/env bash
# Installs or upgrades the ASF kit chart; what `sealos run` executes on master0 from the image's
# workdir (CMD ["bash entrypoint.sh"]). Safe to re-run: `helm upgrade --install` with the same
# inputs converges to the same release. Returns at once (no --wait): sealos gives remote commands
# 300 s, and loading models can take longer; it prints how to watch the rollout instead.
#
# Environment (Kubefile ENV defaults; override with `sealos run ... -e KEY=VALUE`):
#   RELEASE_NAME  helm release name                 (asf)
#   NAMESPACE     namespace, created if missing     (asf)
#   NODE_PORT     gateway NodePort                  (30889)
#   HELM_OPTS     extra helm flags, split on spaces (e.g. "--set capabilities.mmocr.replicas=2 -f my.yaml")
set -euo pipefail
cd "$(dirname "$0")"

RELEASE_NAME="${RELEASE_NAME:-asf}"
NAMESPACE="${NAMESPACE:-asf}"
NODE_PORT="${NODE_PORT:-30889}"
HELM_OPTS="${HELM_OPTS:-}"
chart=charts/asf

if ! command -v helm >/dev/null 2>&1; then
  echo "entrypoint: helm is not on PATH; install it first (e.g. sealos run labring/helm:v3.17.3)" >&2
  exit 1
fi
if [ ! -f "$chart/Chart.yaml" ]; then
  echo "entrypoint: $chart/Chart.yaml not found in $(pwd)" >&2
  exit 1
fi

# sealos keeps no `-e` between runs: a release first installed as `-e RELEASE_NAME=ocr` and re-run
# without it would get a second, default-named release beside it. With the defaults, the existing
# release of this chart is upgraded instead (named ones are used as given).
if [ "$RELEASE_NAME" = asf ] && [ "$NAMESPACE" = asf ] && ! helm status asf --namespace asf >/dev/null 2>&1; then
  existing=$(helm list --all-namespaces --filter '.*' 2>/dev/null | awk 'NR > 1 && $(NF - 1) ~ /^asf-[0-9]/ { print $1 " " $2 }' || true)
  if [ "$(printf '%s\n' "$existing" | grep -c .)" = 1 ]; then
    RELEASE_NAME=${existing%% *}
    NAMESPACE=${existing#* }
    echo "entrypoint: upgrading the existing release $RELEASE_NAME in $NAMESPACE (give -e RELEASE_NAME and -e NAMESPACE for another)"
  fi
fi

# charts/asf.values.yaml: the bundle's values (its profile's, and the digest of every image).
# No arrays here: bash before 4.4 (CentOS/RHEL 7 masters) calls an empty one unbound under set -u.
values_opt=""
if [ -f charts/asf.values.yaml ]; then values_opt="--values charts/asf.values.yaml"; fi

echo "entrypoint: helm upgrade --install $RELEASE_NAME $chart (namespace $NAMESPACE)"
# HELM_OPTS is split on whitespace on purpose: it carries several flags.
# shellcheck disable=SC2086
helm upgrade --install "$RELEASE_NAME" "$chart" \
  --namespace "$NAMESPACE" --create-namespace \
  --set "gateway.service.nodePort=$NODE_PORT" \
  $values_opt $HELM_OPTS

# gpu bundles carry our chart for the NVIDIA device plugin: without it no node advertises
# nvidia.com/gpu. It runs on the nodes the asf-gpu-driver patch image labelled (asf.io/gpu-driver).
plugin=charts/nvidia-device-plugin
if [ -f "$plugin/Chart.yaml" ]; then
  echo "entrypoint: helm upgrade --install nvidia-device-plugin $plugin (namespace $NAMESPACE)"
  helm upgrade --install nvidia-device-plugin "$plugin" --namespace "$NAMESPACE" --create-namespace
fi

if command -v kubectl >/dev/null 2>&1; then
  kubectl --namespace "$NAMESPACE" get deployments --selector "app.kubernetes.io/instance=$RELEASE_NAME" || true
fi
cat <<MSG
entrypoint: release $RELEASE_NAME applied; the loaders may need minutes to load their models.
  watch:  kubectl -n $NAMESPACE get pods -l app.kubernetes.io/instance=$RELEASE_NAME -w
  wait:   kubectl -n $NAMESPACE get deployments -l app.kubernetes.io/instance=$RELEASE_NAME -o name | xargs -n1 kubectl -n $NAMESPACE rollout status --timeout 15m
  check:  helm test $RELEASE_NAME -n $NAMESPACE
  demo:   asf demo mmocr --url http://<node>:$NODE_PORT
MSG
