#!/usr/bin/env bash
# Installs ASF kit from an extracted offline bundle onto an existing Kubernetes cluster.
# Needs bash, curl, coreutils, kubectl and helm (the bundle's bin/helm is used when present);
# no Node.js, no internet. Every step says what it does and is safe to re-run after an interruption.
#
#   install.sh [install] --registry HOST:PORT [--registry-user U --registry-password P]
#       push every bundle image to the cluster's registry, then helm upgrade -i with global.imageRegistry
#   install.sh [install] --serve-registry [ADDR]
#       serve the bundle's images from this node (bin/registry, read-only), print the containerd
#       mirror config every node needs (--apply-mirror writes it on this node), then helm upgrade -i
#   install.sh uninstall [--purge-registry]
#   install.sh status [--registry HOST:PORT] [--gateway URL]
#       the releases, each bundle image in the registry, each capability's readiness at the gateway
#   install.sh check
#       the post-install check again: each capability's sample request through the gateway (helm test)
#
# Run `install.sh --help` for every option.
set -euo pipefail
# With pipefail, never end a pipe early (head -1, grep -q): the writer's SIGPIPE fails the whole pipe.

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  cat <<'USAGE'
Usage: install.sh [install|uninstall|status|check] [options]

Where the images go (install picks one):
  --registry HOST:PORT        push every image to this registry, then point the chart at it
  --registry-user USER        basic-auth user for --registry (or env ASF_REGISTRY_USER)
  --registry-password PASS    basic-auth password (or env ASF_REGISTRY_PASSWORD)
  --plain-http                talk to --registry over http instead of https
  --insecure                  do not verify the registry's TLS certificate
  --jobs N                    blobs pushed at once (default 4)
  --serve-registry [ADDR]     serve the bundle's images from this node on ADDR (default 0.0.0.0:5000);
                              under systemd as the enabled unit asf-registry.service (back after a reboot)
  --advertise HOST:PORT       address other nodes reach the served registry at (default: this node's IP and the port)
  --apply-mirror              write the containerd mirror config on this node too

Install:
  --bundle DIR                extracted bundle root (default: this script's folder)
  --release NAME              helm release (default asf)
  --namespace NS              namespace (default asf)
  --profile cpu|gpu           overrides bundle.json's profile
  --node-port PORT            gateway NodePort (default 30889)
  --set KEY=VALUE             extra helm value (repeatable)
  --state-dir DIR             where served registry data and its config live (default /var/lib/asf)
  --skip-preflight            do not check the cluster first (not recommended)
  --skip-verify               do not check the bundle's files against its checksums
  --no-check                  end without the post-install check (see check below)
  --check-timeout SECONDS     how long the check waits for the loaders to load their models (default 600)

Uninstall:
  --purge-registry            also stop the served registry and delete its data
                              (a gpu install's nvidia-device-plugin release is removed with ours)

Check (the end of every install; exits 1 when a capability does not answer):
  runs each capability's sample request through the gateway, from a Pod of the capability's own
  image, and prints what it answered (helm test; no Node.js needed here)

Status (exits 1 when an image is missing, a capability is not ready or the gateway is not reached):
  --gateway URL               the gateway to ask for readiness (default http://<first node>:<node-port>)

Examples:
  install.sh --registry registry.local:5000 --registry-user ci --registry-password "$PW"
  install.sh --serve-registry --apply-mirror --profile gpu
  install.sh status --registry registry.local:5000
  install.sh uninstall --purge-registry
USAGE
}

# ---------- options ----------
action=install
case "${1:-}" in install|uninstall|status|check|__push-blob) action="$1"; shift ;; esac
prefix="${action#__push-blob}"; prefix="${prefix:-install}"

log() { printf '%s: %s\n' "$prefix" "$*"; }
die() { printf '%s: error: %s\n' "$prefix" "$*" >&2; exit 1; }

bundle="$script_dir"
registry=""
registry_user="${ASF_REGISTRY_USER:-}"
registry_password="${ASF_REGISTRY_PASSWORD:-}"
scheme=https
insecure=0
jobs=4
serve=0
serve_addr=0.0.0.0:5000
advertise=""
apply_mirror=0
release=asf
namespace=asf
profile=""
node_port=30889
extra_sets=()
state_dir="${ASF_STATE_DIR:-/var/lib/asf}"
skip_preflight=0
skip_verify=0
post_check=1
check_timeout=600
purge=0
gateway_url=""
min_kube_minor=25
certs_dir="${ASF_CONTAINERD_CERTS_DIR:-/etc/containerd/certs.d}"

need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"; }
if [[ "$action" != __* ]]; then
  while [ $# -gt 0 ]; do
    case "$1" in
      --bundle) need_value "$@"; bundle="$2"; shift 2 ;;
      --registry) need_value "$@"; registry="$2"; shift 2 ;;
      --registry-user) need_value "$@"; registry_user="$2"; shift 2 ;;
      --registry-password) need_value "$@"; registry_password="$2"; shift 2 ;;
      --plain-http) scheme=http; shift ;;
      --insecure) insecure=1; shift ;;
      --jobs) need_value "$@"; jobs="$2"; shift 2 ;;
      --serve-registry)
        serve=1
        if [ $# -ge 2 ] && [[ "$2" != --* ]]; then serve_addr="$2"; shift; fi
        shift ;;
      --advertise) need_value "$@"; advertise="$2"; shift 2 ;;
      --apply-mirror) apply_mirror=1; shift ;;
      --release) need_value "$@"; release="$2"; shift 2 ;;
      --namespace) need_value "$@"; namespace="$2"; shift 2 ;;
      --profile) need_value "$@"; profile="$2"; shift 2 ;;
      --node-port) need_value "$@"; node_port="$2"; shift 2 ;;
      --set) need_value "$@"; extra_sets+=(--set "$2"); shift 2 ;;
      --state-dir) need_value "$@"; state_dir="$2"; shift 2 ;;
      --skip-preflight) skip_preflight=1; shift ;;
      --skip-verify) skip_verify=1; shift ;;
      --no-check) post_check=0; shift ;;
      --check-timeout) need_value "$@"; check_timeout="$2"; shift 2 ;;
      --purge-registry) purge=1; shift ;;
      --gateway) need_value "$@"; gateway_url="$2"; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown option '$1' (see --help)" ;;
    esac
  done
fi

[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive integer, got '$jobs'"
[[ "$node_port" =~ ^[0-9]+$ ]] || die "--node-port must be a number, got '$node_port'"
[[ "$check_timeout" =~ ^[1-9][0-9]*$ ]] || die "--check-timeout must be a positive number of seconds, got '$check_timeout'"
case "$profile" in ""|cpu|gpu) ;; *) die "--profile must be cpu or gpu, got '$profile'" ;; esac
if [ -n "$registry" ] && [[ ! "$registry" =~ ^[A-Za-z0-9.-]+(:[0-9]+)?$ ]]; then
  die "--registry must be HOST or HOST:PORT (no scheme or path), got '$registry'"
fi
if [ -n "$registry_user" ] && [ -z "$registry_password" ]; then die "--registry-user needs --registry-password"; fi
if [ -n "$gateway_url" ] && [[ ! "$gateway_url" =~ ^https?://[^[:space:]]+$ ]]; then
  die "--gateway must be a URL such as http://HOST:PORT, got '$gateway_url'"
fi

v2="$bundle/registry/docker/registry/v2"
registry_log="$state_dir/registry.log"
registry_pidfile="$state_dir/registry.pid"
registry_config="$state_dir/registry.yml"
registry_data="$state_dir/registry"
registry_server="$state_dir/registry-server"
registry_unit=asf-registry.service
systemd_units="${ASF_SYSTEMD_UNIT_DIR:-/etc/systemd/system}"

# ---------- registry HTTP (distribution API over curl) ----------
curl_opts=(--silent --show-error --connect-timeout 10 --retry 3 --retry-connrefused)
[ "$insecure" = 1 ] && curl_opts+=(--insecure)
# Credentials reach curl through a private config file, never its command line (visible in ps).
# Files with secrets in them, removed however the script ends.
curl_auth="" pull_values=""
trap 'rm -f ${curl_auth:+"$curl_auth"} ${pull_values:+"$pull_values"}' EXIT
if [ -n "$registry_user" ]; then
  curl_auth="$(mktemp)"
  quoted="${registry_user}:${registry_password}"; quoted="${quoted//\\/\\\\}"; quoted="${quoted//\"/\\\"}"
  printf 'user = "%s"\n' "$quoted" >"$curl_auth"
  curl_opts+=(--config "$curl_auth")
fi
manifest_accept='application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.list.v2+json,application/vnd.docker.distribution.manifest.v2+json'

# HTTP status of a request (000 when nothing answered); our callers explain failures themselves.
http_status() { # METHOD URL [curl args...]
  local method="$1" url="$2"; shift 2
  local code
  code="$(curl "${curl_opts[@]}" -X "$method" -o /dev/null -w '%{http_code}' "$@" "$url" 2>/dev/null)" || true
  echo "${code:-000}"
}

blob_path() { local hex="${1#sha256:}"; echo "$v2/blobs/sha256/${hex:0:2}/$hex/data"; }

# Pushes one blob unless the registry has it: HEAD, else POST an upload and PUT it whole. With
# FROM (a repository already holding it) the POST asks the registry to mount it instead: no bytes sent.
push_blob() { # REPO DIGEST [FROM]
  local repo="$1" digest="$2" from="${3:-}" base="$scheme://$registry/v2/$1" code location file headers query=""
  file="$(blob_path "$digest")"
  [ -f "$file" ] || die "blob $digest of $repo is missing from the bundle ($file); the bundle is incomplete"
  code="$(http_status HEAD "$base/blobs/$digest" --head)"
  case "$code" in
    200) return 0 ;;
    401) die "registry $registry refused $repo (401): give --registry-user and --registry-password" ;;
  esac
  [ -n "$from" ] && query="?mount=$digest&from=$from"
  headers="$(curl "${curl_opts[@]}" -X POST -o /dev/null -D - "$base/blobs/uploads/$query" 2>/dev/null | tr -d '\r')" || true
  if [ -n "$from" ] && [[ "${headers%%$'\n'*}" == *" 201"* ]]; then
    log "mounted blob $repo@$digest from $from"
    return 0
  fi
  location="$(printf '%s\n' "$headers" | sed -n 's/^[Ll]ocation: *//p')"
  [ -n "$location" ] || die "registry $registry did not start an upload for $repo (POST $base/blobs/uploads/); check the address and credentials"
  case "$location" in /*) location="$scheme://$registry$location" ;; esac
  case "$location" in *\?*) location="$location&digest=$digest" ;; *) location="$location?digest=$digest" ;; esac
  code="$(http_status PUT "$location" -H 'Content-Type: application/octet-stream' --upload-file "$file")"
  [ "$code" = 201 ] || die "pushing blob $digest to $repo failed (HTTP $code)"
  log "pushed blob $repo@$digest ($(stat -c %s "$file") bytes)"
}

# The manifest's own media type, needed as Content-Type when it is PUT.
manifest_type() { # FILE
  local body; body="$(tr -d '\n' <"$1")"
  local first; first="$(printf '%s' "$body" | sed -n 's/^{[^{]*"mediaType" *: *"\([^"]*\)".*/\1/p')"
  if [ -n "$first" ]; then echo "$first"
  elif [[ "$body" == *'"manifests"'* ]]; then echo application/vnd.oci.image.index.v1+json
  else echo application/vnd.oci.image.manifest.v1+json; fi
}

push_manifest() { # REPO DIGEST REFERENCE(digest or tag)
  local repo="$1" digest="$2" ref="$3" file type code url="$scheme://$registry/v2/$1/manifests/$3"
  file="$(blob_path "$digest")"
  code="$(curl "${curl_opts[@]}" --head -o /dev/null -D - -H "Accept: $manifest_accept" "$url" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p')" || true
  [ "$code" = "$digest" ] && return 0
  type="$(manifest_type "$file")"
  code="$(http_status PUT "$url" -H "Content-Type: $type" --upload-file "$file")"
  [ "$code" = 201 ] || die "pushing manifest $repo:$ref ($digest) failed (HTTP $code)"
  if [ "$ref" = "$digest" ]; then log "pushed manifest $repo@$digest"; else log "tagged $repo:$ref ($digest)"; fi
}

# Every repository in the bundle, as stored under registry/ (host stripped).
bundle_repos() {
  [ -d "$v2/repositories" ] || return 0
  find "$v2/repositories" -type d -name _manifests | sed "s|^$v2/repositories/||; s|/_manifests$||" | sort
}
link_digests() { # DIR holding sha256/<hex>/link
  [ -d "$1/sha256" ] || return 0
  local link
  for link in "$1"/sha256/*/link; do [ -f "$link" ] && { cat "$link"; echo; }; done
  return 0
}
bundle_tags() { # REPO -> "tag digest" lines
  local dir="$v2/repositories/$1/_manifests/tags" tag
  [ -d "$dir" ] || return 0
  for tag in "$dir"/*; do printf '%s %s\n' "${tag##*/}" "$(cat "$tag/current/link")"; done
}

push_images() {
  local repos repo digest tag tags_file list
  repos="$(bundle_repos)"
  [ -n "$repos" ] || die "no images under $bundle/registry/; is --bundle the bundle root?"
  check_registry_reachable
  list="$(mktemp)"
  for repo in $repos; do
    for digest in $(link_digests "$v2/repositories/$repo/_layers"); do printf '%s %s\n' "$repo" "$digest"; done
  done >"$list"
  log "pushing $(wc -l <"$list") blobs of $(echo "$repos" | wc -w) images to $registry ($jobs at once; blobs it has are skipped)"
  # Each blob in its own process so $jobs run at once; any failure fails the push. A blob several
  # images share is sent once (first pass), then mounted into the others (second pass).
  export ASF_REGISTRY_USER="$registry_user" ASF_REGISTRY_PASSWORD="$registry_password"
  export ASF_PUSH_REGISTRY="$registry" ASF_PUSH_BUNDLE="$bundle" ASF_PUSH_SCHEME="$scheme" ASF_PUSH_INSECURE="$insecure"
  local pass
  for pass in first shared; do
    if ! awk -v pass="$pass" '{ if ($2 in holder) { if (pass == "shared") print $1, $2, holder[$2] } else { holder[$2] = $1; if (pass == "first") print $1, $2 } }' "$list" |
      xargs -r -P "$jobs" -L 1 bash "$script_dir/install.sh" __push-blob; then
      rm -f "$list"; die "some blobs failed to push (see above); re-run the same command to resume"
    fi
  done
  rm -f "$list"
  # Manifests after their blobs: plain manifests before the indexes that list them, tags last.
  for repo in $repos; do
    local manifests plain=() indexes=()
    manifests="$(link_digests "$v2/repositories/$repo/_manifests/revisions")"
    for digest in $manifests; do
      if grep -q '"manifests"' "$(blob_path "$digest")"; then indexes+=("$digest"); else plain+=("$digest"); fi
    done
    # ${a[@]+"${a[@]}"}: an empty array under set -u aborts bash before 4.4 (CentOS/RHEL 7).
    for digest in ${plain[@]+"${plain[@]}"} ${indexes[@]+"${indexes[@]}"}; do push_manifest "$repo" "$digest" "$digest"; done
    while read -r tag digest; do [ -n "$tag" ] && push_manifest "$repo" "$digest" "$tag"; done < <(bundle_tags "$repo")
  done
  log "all $(echo "$repos" | wc -w) images are in $registry"
}

check_registry_reachable() {
  local code; code="$(http_status GET "$scheme://$registry/v2/")"
  case "$code" in
    200) ;;
    401) if [ -n "$registry_user" ]; then die "registry $registry rejected user '$registry_user' (401): check --registry-user/--registry-password"
         else die "registry $registry needs credentials (401): give --registry-user and --registry-password"; fi ;;
    000) die "cannot reach registry at $scheme://$registry/v2/ (is the address right? add --plain-http for an http registry)" ;;
    *) die "registry $registry answered HTTP $code on /v2/; is it a distribution v2 registry?" ;;
  esac
}

# ---------- bundle metadata (bundle.json read with sed: no jq, no node) ----------
bundle_field() { # KEY -> first string value of "KEY": "..."
  [ -f "$bundle/bundle.json" ] || return 0
  tr -d '\n' <"$bundle/bundle.json" | grep -o "\"$1\" *: *\"[^\"]*\"" | sed -n '1s/.*: *"\(.*\)"/\1/p'
}
bundle_values() { # KEY -> every string value of "KEY"
  [ -f "$bundle/bundle.json" ] || return 0
  tr -d '\n' <"$bundle/bundle.json" | grep -o "\"$1\" *: *\"[^\"]*\"" | sed 's/.*: *"\(.*\)"/\1/' | sort -u
}

# A damaged copy must fail here, not as a digest error halfway through a push.
verify_bundle() {
  if [ ! -f "$bundle/checksums" ]; then log "no checksums file in $bundle; skipping the integrity check"; return 0; fi
  log "verifying $(wc -l <"$bundle/checksums") files against $bundle/checksums"
  local failed
  failed="$(cd "$bundle" && sha256sum --quiet --strict -c checksums 2>&1)" ||
    die "the bundle is damaged or incomplete; copy it again (or pass --skip-verify):
$failed"
}

# ---------- cluster ----------
# ASF_HELM names another helm; otherwise the bundle's own, else the one on PATH.
helm_bin() { if [ -n "${ASF_HELM:-}" ]; then echo "$ASF_HELM"; elif [ -x "$bundle/bin/helm" ]; then echo "$bundle/bin/helm"; else command -v helm || true; fi; }

nodes_jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.nodeInfo.architecture}{" "}{.metadata.labels.nvidia\.com/gpu\.present}{" "}{.metadata.labels.asf\.io/gpu-driver}{"\n"}{end}'

preflight() {
  log "preflight: checking the cluster before changing anything"
  command -v kubectl >/dev/null || die "kubectl is not on PATH; install it and point it at the cluster (KUBECONFIG)"
  [ -n "$(helm_bin)" ] || die "helm not found (neither $bundle/bin/helm nor on PATH)"
  local version
  version="$(kubectl version -o json 2>&1)" || die "cannot reach the cluster with kubectl ($(printf '%s' "$version" | tail -1)); check KUBECONFIG and that the API server is up"
  local git minor
  git="$(printf '%s' "$version" | tr -d '\n' | sed -n 's/.*"serverVersion"[^}]*"gitVersion" *: *"\([^"]*\)".*/\1/p')"
  [ -n "$git" ] || die "kubectl could not tell the server version; is the cluster reachable?"
  minor="$(printf '%s' "$git" | sed -n 's/^v1\.\([0-9]*\).*/\1/p')"
  [ -n "$minor" ] && [ "$minor" -ge "$min_kube_minor" ] || die "Kubernetes $git is too old: the chart needs v1.$min_kube_minor or newer"
  log "preflight: cluster reachable, Kubernetes $git (>= v1.$min_kube_minor)"

  local nodes; nodes="$(kubectl get nodes -o jsonpath="$nodes_jsonpath")" || die "kubectl get nodes failed; does your user may list nodes?"
  [ -n "$nodes" ] || die "the cluster has no nodes"
  local archs bad=""; archs="$(bundle_values platform | tr ',' '\n' | sed 's|^linux/||; s|/.*||' | sort -u | tr '\n' ' ')"
  if [ -n "$archs" ]; then
    local name arch gpu driver
    while read -r name arch gpu driver; do
      [[ " $archs" == *" $arch "* ]] || bad+=" $name($arch)"
    done <<<"$nodes"
    [ -z "$bad" ] || die "node architecture not in the bundle:$bad; this bundle carries images for: $archs"
    log "preflight: $(printf '%s\n' "$nodes" | wc -l) nodes, all $archs"
  fi

  if [ "$profile" = gpu ]; then
    local gpu_nodes="" missing=""
    while read -r name arch gpu driver; do
      [ "$gpu" = true ] || continue
      gpu_nodes+=" $name"
      [ -n "$driver" ] || missing+=" $name"
    done <<<"$nodes"
    [ -n "$gpu_nodes" ] || die "GPU profile, but no node is labelled nvidia.com/gpu.present=true; label the GPU nodes (kubectl label node NAME nvidia.com/gpu.present=true)"
    [ -z "$missing" ] || die "GPU driver missing on:$missing; on each, run the bundle's install-driver.sh --node NAME (it installs packages/ and labels the node asf.io/gpu-driver=<version>), or label a node whose driver is already there"
    log "preflight: GPU nodes with a driver:$gpu_nodes"
  fi

  if [ "$serve" = 1 ]; then
    local need free parent="$state_dir"
    need="$(du -sk "$bundle/registry" | cut -f1)"
    while [ ! -d "$parent" ]; do parent="$(dirname "$parent")"; done
    free="$(df -Pk "$parent" | awk 'NR==2 {print $4}')"
    [ -n "$free" ] && [ "$free" -ge "$need" ] || die "not enough disk for the registry in $state_dir: need ${need} KiB, $parent has ${free:-?} KiB free; free space or pass --state-dir"
    log "preflight: disk for the registry: need ${need} KiB, ${free} KiB free in $parent"
  fi
}

# ---------- serving the bundle's images from this node ----------
registry_bin() {
  if [ -x "$bundle/bin/registry" ]; then echo "$bundle/bin/registry"; else command -v docker-registry || command -v registry || true; fi
}
# Under systemd the served registry is a unit, so it is back after a reboot; elsewhere it runs under
# nohup until then. (ASF_SYSTEMD_RUN_DIR lets tests say whether systemd runs.)
use_systemd() { [ -d "${ASF_SYSTEMD_RUN_DIR:-/run/systemd/system}" ] && command -v systemctl >/dev/null; }
# A server started under nohup (this node has no systemd, or an earlier install.sh ran without it).
nohup_registry_running() { [ -f "$registry_pidfile" ] && kill -0 "$(cat "$registry_pidfile")" 2>/dev/null; }
registry_running() { if use_systemd; then systemctl is-active --quiet "$registry_unit"; else nohup_registry_running; fi; }
registry_pid() { if use_systemd; then systemctl show -p MainPID --value "$registry_unit"; else cat "$registry_pidfile"; fi; }
stop_nohup_registry() {
  nohup_registry_running || return 0
  local pid; pid="$(cat "$registry_pidfile")"
  log "stopping the served registry (pid $pid)"
  kill "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done # its port must be free again
  rm -f "$registry_pidfile"
}
stop_registry() {
  stop_nohup_registry
  use_systemd && [ -f "$systemd_units/$registry_unit" ] || return 0
  log "stopping and disabling systemd unit $registry_unit"
  systemctl disable --now --quiet "$registry_unit" || true
  rm -f "$systemd_units/$registry_unit"
  systemctl daemon-reload
}

start_registry_unit() {
  mkdir -p "$systemd_units"
  cat >"$systemd_units/$registry_unit" <<UNIT
# Written by install.sh (ASF kit): serves the offline bundle's images read-only from $registry_data.
[Unit]
Description=ASF kit offline image registry (read-only)
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=$registry_server serve $registry_config
Restart=on-failure
RestartSec=2
StandardOutput=append:$registry_log
StandardError=append:$registry_log

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable --quiet "$registry_unit"
  log "starting systemd unit $registry_unit: $registry_server serving $registry_data read-only on $serve_addr (log: $registry_log)"
  systemctl restart "$registry_unit"
  log "it is enabled, so it starts again at boot (systemctl status $registry_unit)"
}

start_registry_nohup() {
  log "starting $registry_server serving $registry_data read-only on $serve_addr (log: $registry_log)"
  nohup "$registry_server" serve "$registry_config" >>"$registry_log" 2>&1 </dev/null &
  echo $! >"$registry_pidfile"
  log "note: no systemd here, so it is not restarted after a reboot; run this same command again then (it only starts what is missing)"
}

# Copies the bundle's registry tree into the state dir; only files not there yet (an upgrade adds its new blobs).
copy_registry_data() {
  log "copying images into $registry_data (files already there are kept)"
  mkdir -p "$registry_data"
  local copied=0 rel
  while IFS= read -r -d '' rel; do
    rel="${rel#./}"
    if [ ! -e "$registry_data/$rel" ]; then
      mkdir -p "$registry_data/$(dirname "$rel")"
      cp "$bundle/registry/$rel" "$registry_data/$rel.part" && mv "$registry_data/$rel.part" "$registry_data/$rel"
      copied=$((copied + 1))
    elif [[ "$rel" == */current/link ]] && ! cmp -s "$bundle/registry/$rel" "$registry_data/$rel"; then
      cp "$bundle/registry/$rel" "$registry_data/$rel"; copied=$((copied + 1)) # a tag moved to the new version
    fi
  done < <(cd "$bundle/registry" && find . -type f -print0)
  log "copied $copied new files"
}

serve_registry() {
  local bin; bin="$(registry_bin)"
  [ -n "$bin" ] || die "no registry server: neither $bundle/bin/registry nor docker-registry on PATH"
  copy_registry_data
  cat >"$registry_config.tmp" <<CONFIG
# Written by install.sh: serves the bundle's images read-only.
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $registry_data
  maintenance:
    readonly:
      enabled: true
    uploadpurging:
      enabled: false
http:
  addr: $serve_addr
CONFIG
  # The server runs from the state dir, like its data: the extracted bundle may be deleted later.
  if ! cmp -s "$bin" "$registry_server"; then cp "$bin" "$registry_server.part" && chmod 755 "$registry_server.part" && mv "$registry_server.part" "$registry_server"; fi
  if registry_running && cmp -s "$registry_config.tmp" "$registry_config"; then
    rm -f "$registry_config.tmp"
    log "registry already serving on $serve_addr (pid $(registry_pid))"
  else
    if registry_running; then log "restarting the registry with its new config"; fi
    stop_nohup_registry # systemd restarts its unit itself
    mv "$registry_config.tmp" "$registry_config"
    if use_systemd; then start_registry_unit; else start_registry_nohup; fi
  fi
  local local_addr tries=0
  local_addr="$(served_local_addr)"
  until [ "$(http_status GET "http://$local_addr/v2/")" = 200 ]; do
    registry_running || die "the registry exited at start; see $registry_log"
    tries=$((tries + 1)); [ "$tries" -lt 300 ] || die "the registry did not answer on $local_addr; see $registry_log"
    sleep 0.2
  done
  log "registry answers on http://$local_addr/v2/"
}

# Where this node reaches the served registry: its listen address, or loopback for a wildcard one.
served_local_addr() {
  local host="${serve_addr%:*}"
  case "$host" in ""|0.0.0.0|"[::]") host=127.0.0.1 ;; esac
  echo "$host:${serve_addr##*:}"
}

node_ip() {
  kubectl get nodes -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}' 2>/dev/null || true
}

# containerd reads /etc/containerd/certs.d/<host>/hosts.toml on each pull: mirror every registry
# the bundle's images come from to this node's registry, over plain http. The mirror is also each
# file's `server`, so a missing image fails there, naming it, instead of falling back to the upstream
# host (which an air-gapped node cannot resolve: a misleading DNS error).
mirror_marker="# written by ASF kit install.sh: the bundle's registry"
mirror_config() { # ADVERTISED_ADDR -> for each file, a "### PATH" line then its content
  local addr="$1" host
  for host in $( (bundle_values ref | sed -n 's|^\([^/]*[.:][^/]*\)/.*|\1|p'; echo "$addr") | sort -u); do
    printf '### %s/%s/hosts.toml\n' "$certs_dir" "$host"
    printf '%s at %s\nserver = "http://%s"\n' "$mirror_marker" "$addr" "$addr"
    printf '\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n  skip_verify = true\n\n' "$addr"
  done
}

# Removes the mirror files an install wrote (they name its registry), on uninstall --purge-registry.
remove_mirror_config() {
  local file
  for file in "$certs_dir"/*/hosts.toml; do
    [ -f "$file" ] && grep -qF "$mirror_marker" "$file" || continue
    log "removing $file (it points at the removed registry)"
    rm -f "$file"; rmdir "$(dirname "$file")" 2>/dev/null || true
  done
}

apply_mirror_config() { # TEXT from mirror_config
  local file="" line
  while IFS= read -r line; do
    if [[ "$line" == '### '* ]]; then
      file="${line#\#\#\# }"; mkdir -p "$(dirname "$file")"; : >"$file.tmp"
      log "writing $file"
    elif [ -n "$file" ]; then printf '%s\n' "$line" >>"$file.tmp"; fi
  done <<<"$1"
  for file in $(printf '%s\n' "$1" | sed -n 's/^### //p'); do mv "$file.tmp" "$file"; done
}

# ---------- helm ----------
# The device plugin's release: one per namespace, next to ours (charts/nvidia-device-plugin, gpu bundles).
plugin_release=nvidia-device-plugin

# helm upgrade --install RELEASE CHART ARGS..., unless the release already has this chart with these
# settings: its description carries a fingerprint of the chart's files, the values files given,
# bundle.json and the arguments, so a re-run that would change nothing adds no revision.
helm_apply() { # RELEASE CHART [helm args...]
  local release="$1" chart="$2" helm fingerprint current prev="" arg; shift 2
  helm="$(helm_bin)"
  fingerprint="$(
    (cd "$chart" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    # A values file counts by its content, not its path (the pull credentials' is a new temp file each run).
    for arg in "$@"; do if [ "$prev" = --values ]; then sha256sum <"$arg"; else printf '%s\n' "$arg"; fi; prev="$arg"; done
    [ -f "$bundle/bundle.json" ] && sha256sum <"$bundle/bundle.json"
  )"
  fingerprint="$(printf '%s\n' "$fingerprint" | sha256sum | cut -c1-16)"
  current="$("$helm" status "$release" --namespace "$namespace" -o json 2>/dev/null | tr -d '\n' | grep -o '"description" *: *"[^"]*"' | sed -n 1p || true)"
  if [[ "$current" == *"asf-install $fingerprint"* ]]; then
    log "helm: release $release already has this chart and these settings; nothing to change"
    return 0
  fi
  log "helm upgrade --install $release $chart $*"
  "$helm" upgrade --install "$release" "$chart" "$@" --description "asf-install $fingerprint"
}

# The bundle's own chart is the first bundle.json lists (third-party charts such as the NVIDIA
# device plugin come after it); charts/asf when there is no bundle.json.
release_chart() {
  local name
  name="$(bundle_values path | awk '/^charts\/[^\/]+$/ && $0 != "charts/nvidia-device-plugin" && !found { print; found = 1 }')"
  echo "$bundle/${name:-charts/asf}"
}

# helm arguments of our release (after the chart), in release_args[]; the same for the image check
# and for the install, so that what is checked is what is installed.
release_args=()
set_release_args() {
  local chart; chart="$(release_chart)"
  release_args=(--namespace "$namespace" --create-namespace --set "gateway.service.nodePort=$node_port")
  [ -n "$registry" ] && release_args+=(--set "global.imageRegistry=$registry")
  # The profile's values (GPU scheduling for the gpu profile) come with the bundle.
  [ -f "$chart.values.yaml" ] && release_args+=(--values "$chart.values.yaml")
  # Pods pull from a registry with credentials through a pull secret the chart creates from them.
  # They reach helm in a private values file, never on a command line (visible in ps).
  if [ -n "$registry" ] && [ -n "$registry_user" ]; then
    pull_values="$(mktemp)"
    chmod 600 "$pull_values"
    printf 'global:\n  imageRegistryAuth: "%s"\n' "$(printf '%s:%s' "$registry_user" "$registry_password" | base64 -w0)" >"$pull_values"
    release_args+=(--values "$pull_values")
  fi
  if [ ${#extra_sets[@]} -gt 0 ]; then release_args+=("${extra_sets[@]}"); fi
}

# Every image the release would run must be in the bundle: an air-gapped node cannot pull anything
# else, and finding out from a Pod stuck in ImagePullBackOff is too late. Renders the chart with the
# install's own values (so bad values fail here too, before anything changes).
check_release_images() {
  local chart helm rendered ref rest repo tag missing=""
  chart="$(release_chart)"; helm="$(helm_bin)"
  rendered="$("$helm" template "$release" "$chart" "${release_args[@]}" 2>&1)" ||
    die "the chart does not render with these values; nothing was changed:
$rendered"
  for ref in $(printf '%s\n' "$rendered" | sed -n 's/^[[:space:]-]*image:[[:space:]]*["'"'"']\{0,1\}\([^"'"'"'[:space:]]*\).*/\1/p' | sort -u); do
    rest="$ref"
    case "${rest%%/*}" in *.*|*:*|localhost) rest="${rest#*/}" ;; esac # the registry host, if any
    if [[ "$rest" == *@* ]]; then repo="${rest%@*}"; tag="${rest#*@}"
      [[ "${repo##*/}" == *:* ]] && repo="${repo%:*}" # name:tag@digest: the digest decides
      [ -f "$v2/repositories/$repo/_manifests/revisions/sha256/${tag#sha256:}/link" ] || missing+=" $ref"
    else repo="${rest%:*}"; tag="${rest##*:}"
      [ -f "$v2/repositories/$repo/_manifests/tags/$tag/current/link" ] || missing+=" $ref"
    fi
  done
  [ -z "$missing" ] || die "the release would run images that are not in this bundle:$missing
  an air-gapped cluster cannot pull them; this bundle has: $(bundle_values ref | tr '\n' ' ')
  fix the --set values, or add the images to bundle.yaml and build the bundle again. Nothing was changed."
  log "preflight: every image the release runs is in the bundle"
}

helm_install() {
  local chart args
  chart="$(release_chart)"
  [ -f "$chart/Chart.yaml" ] || die "$chart/Chart.yaml not found; is --bundle the bundle root?"
  [ -n "$(helm_bin)" ] || die "helm not found (neither $bundle/bin/helm nor on PATH)"
  helm_apply "$release" "$chart" "${release_args[@]}" || die "helm upgrade failed (above); fix the cause and re-run the same command"

  [ "$profile" = gpu ] || return 0
  # The NVIDIA device plugin (gpu bundles carry our chart for it): without it no node advertises
  # nvidia.com/gpu and GPU loaders stay Pending. It runs on the nodes install-driver.sh labelled.
  local plugin="$bundle/charts/nvidia-device-plugin"
  if [ ! -f "$plugin/Chart.yaml" ]; then
    log "no charts/nvidia-device-plugin in this bundle; GPU loaders need a device plugin already running on the cluster"
    return 0
  fi
  args=(--namespace "$namespace" --create-namespace)
  [ -n "$registry" ] && args+=(--set "global.imageRegistry=$registry")
  helm_apply "$plugin_release" "$plugin" "${args[@]}" || die "installing the NVIDIA device plugin failed (above); fix the cause and re-run the same command"
}

# ---------- actions ----------
do_install() {
  [ -d "$v2" ] || die "$bundle is not a bundle root (no registry/docker/registry/v2); pass --bundle DIR"
  [ -n "$profile" ] || profile="$(bundle_field profile)"
  [ -n "$profile" ] || profile=cpu
  if [ -n "$registry" ] && [ "$serve" = 1 ]; then die "choose one of --registry (push to it) and --serve-registry (serve from this node)"; fi
  [ -n "$registry" ] || [ "$serve" = 1 ] || die "say where the images go: --registry HOST:PORT (push to your registry) or --serve-registry (serve them from this node)"
  log "bundle $(bundle_field name) $(bundle_field version) ($profile) from $bundle"
  if [ "$skip_verify" = 1 ]; then log "integrity check skipped (--skip-verify)"; else verify_bundle; fi
  set_release_args
  if [ "$skip_preflight" = 1 ]; then log "preflight skipped (--skip-preflight)"; else preflight; check_release_images; fi
  if [ -n "$registry" ]; then
    push_images
  else
    mkdir -p "$state_dir"
    serve_registry
    local addr="$advertise"
    [ -n "$addr" ] || addr="$(node_ip)"
    [ -n "$addr" ] && [[ "$addr" != *:* ]] && addr="$addr:${serve_addr##*:}"
    [ -n "$addr" ] || addr="127.0.0.1:${serve_addr##*:}"
    local config; config="$(mirror_config "$addr")"
    log "every node needs this containerd mirror config (config_path = \"$certs_dir\" in containerd's CRI registry settings):"
    printf '%s\n' "$config"
    if [ "$apply_mirror" = 1 ]; then apply_mirror_config "$config"; else log "pass --apply-mirror to write it on this node"; fi
  fi
  ensure_namespace
  helm_install
  local ip; ip="$(node_ip)"; [ -n "$ip" ] || ip="<node>"
  if [ "$post_check" = 1 ]; then
    do_check || die "installed, but the check failed (above): kubectl -n $namespace get pods shows the loaders; re-run the check with: $0 check"
  else
    log "done. Loaders may take minutes to load their models; watch: kubectl -n $namespace get pods -w; then check: $0 check"
  fi
  echo "the API: curl http://$ip:$node_port/v1/private/<serviceId> -H 'content-type: application/json' -d @request.json"
}

# The post-install check: once every Deployment of the release has rolled out, `helm test` runs a
# Pod per capability that sends the capability's sample request through the gateway Service; their
# logs are the answers.
do_check() {
  local helm deploy output
  helm="$(helm_bin)"
  [ -n "$helm" ] || die "helm not found (neither $bundle/bin/helm nor on PATH)"
  "$helm" status "$release" --namespace "$namespace" >/dev/null 2>&1 || die "release $release is not installed in namespace $namespace"
  log "check: waiting up to ${check_timeout}s for the loaders to load their models"
  for deploy in $(kubectl -n "$namespace" get deployments -l "app.kubernetes.io/instance=$release" -o name); do
    kubectl -n "$namespace" rollout status "$deploy" --timeout="${check_timeout}s" >/dev/null 2>&1 || {
      log "check: $deploy did not become ready within ${check_timeout}s"
      kubectl -n "$namespace" get pods -l "app.kubernetes.io/instance=$release" >&2 || true
      return 1
    }
  done
  log "check: sending each capability's sample request through the gateway (helm test $release)"
  if output="$("$helm" test "$release" --namespace "$namespace" --logs --timeout "${check_timeout}s" 2>&1)"; then
    printf '%s\n' "$output" | grep '^check ' || log "check: no capability has a sample request to send"
    return 0
  fi
  printf '%s\n' "$output" | grep -E '^check |Error|FAILED' >&2 || printf '%s\n' "$output" >&2
  return 1
}

# The namespace is created here, not by helm, so that it carries a label saying an install made
# it: uninstall removes such a namespace once nothing else is left in it, and no other.
namespace_label=asf.io/created-by=install
ensure_namespace() {
  kubectl get namespace "$namespace" >/dev/null 2>&1 && return 0
  log "creating namespace $namespace"
  kubectl create namespace "$namespace" >/dev/null || die "cannot create namespace $namespace (above)"
  kubectl label namespace "$namespace" "$namespace_label" >/dev/null
}

remove_namespace_if_ours() {
  local label left
  label="$(kubectl get namespace "$namespace" -o jsonpath='{.metadata.labels.asf\.io/created-by}' 2>/dev/null)" || return 0
  [ "$label" = install ] || return 0
  left="$(kubectl -n "$namespace" get pods,services,deployments,statefulsets,daemonsets,jobs,configmaps,secrets,persistentvolumeclaims -o name 2>/dev/null | grep -vx 'configmap/kube-root-ca.crt' || true)"
  if [ -n "$left" ]; then
    log "namespace $namespace kept: it still holds $(printf '%s\n' "$left" | wc -l) objects that are not ours ($(printf '%s\n' "$left" | head -3 | tr '\n' ' '))"
    return 0
  fi
  log "deleting namespace $namespace (an install created it; nothing else is in it)"
  kubectl delete namespace "$namespace" --wait=true --timeout=120s >/dev/null || log "namespace $namespace is still terminating; kubectl get namespace $namespace shows when it is gone"
}

do_uninstall() {
  local helm; helm="$(helm_bin)"
  [ -n "$helm" ] || die "helm not found (neither $bundle/bin/helm nor on PATH); nothing was removed"
  local name
  # Ours, and the device plugin a gpu install put beside it.
  for name in "$release" "$plugin_release"; do
    if "$helm" status "$name" --namespace "$namespace" >/dev/null 2>&1; then
      log "helm uninstall $name --namespace $namespace"
      "$helm" uninstall "$name" --namespace "$namespace" --wait --timeout 5m
    elif [ "$name" = "$release" ]; then
      log "release $release is not installed in $namespace; nothing to remove"
    fi
  done
  # helm leaves hook resources (the `helm test` Pod) behind: they are ours too. And its --wait
  # covers the Deployments, not their Pods, which take their grace period to go.
  kubectl -n "$namespace" delete pods -l "app.kubernetes.io/instance=$release,app.kubernetes.io/component=test" --ignore-not-found --wait=true >/dev/null 2>&1 || true
  if [ -n "$(kubectl -n "$namespace" get pods -l "app.kubernetes.io/instance=$release" -o name 2>/dev/null)" ]; then
    log "waiting for the release's Pods to stop"
    kubectl -n "$namespace" wait --for=delete pods -l "app.kubernetes.io/instance=$release" --timeout=180s >/dev/null 2>&1 ||
      log "some Pods of $release are still terminating: kubectl -n $namespace get pods"
  fi
  remove_namespace_if_ours
  if [ "$purge" = 1 ]; then
    stop_registry
    log "removing registry data $registry_data"
    rm -rf "$registry_data" "$registry_config" "$registry_pidfile" "$registry_server" "$registry_log"
    rmdir "$state_dir" 2>/dev/null || true
    remove_mirror_config
    [ -z "$registry" ] || log "images pushed to $registry stay there; delete them with that registry's own tools"
  fi
}

# The gateway's /healthz answer (a JSON file) as one line per capability, plus one per loader whose
# capability is not known yet; exit 2 when the file is not such an answer. The body looks like
# {"status":"ready"|"not ready","services":{"<id>":[{"address","state","error","idle","total"}]},
#  "pending":[{"address","state","error"}]}; awk reads it (no jq, no Node.js on the target).
healthz_lines() { # FILE
  awk '
    { s = s $0 "\n" }
    function ws() { while (pos <= n && index(" \t\r\n", substr(s, pos, 1)) > 0) pos++ }
    function str(   out, c) {
      out = ""; pos++
      while (pos <= n) {
        c = substr(s, pos, 1); pos++
        if (c == "\"") return out
        if (c == "\\") {
          c = substr(s, pos, 1); pos++
          if (c == "u") { c = "?"; pos += 4 } else if (index("nrtbf", c) > 0) c = " "
        }
        out = out c
      }
      bad = 1; return out
    }
    # One JSON value at path p: scalars go to leaf[p]; objects keep their keys in order
    # (nkeys[p], key[p, i]); arrays their length (len[p]). Path parts are joined by SUBSEP.
    function value(p,   c, k, i, start) {
      if (bad) return
      ws(); c = substr(s, pos, 1)
      if (c == "{") {
        pos++; ws()
        if (substr(s, pos, 1) == "}") { pos++; return }
        for (;;) {
          ws(); if (substr(s, pos, 1) != "\"") { bad = 1; return }
          k = str(); ws()
          if (substr(s, pos, 1) != ":") { bad = 1; return }
          pos++; key[p, ++nkeys[p]] = k
          value(p SUBSEP k); if (bad) return
          ws(); c = substr(s, pos++, 1)
          if (c == "}") return
          if (c != ",") { bad = 1; return }
        }
      }
      if (c == "[") {
        pos++; ws(); len[p] = 0
        if (substr(s, pos, 1) == "]") { pos++; return }
        for (i = 0; ; i++) {
          value(p SUBSEP i); if (bad) return
          len[p] = i + 1
          ws(); c = substr(s, pos++, 1)
          if (c == "]") return
          if (c != ",") { bad = 1; return }
        }
      }
      if (c == "\"") { leaf[p] = str(); return }
      start = pos
      while (pos <= n && index(",}] \t\r\n", substr(s, pos, 1)) == 0) pos++
      if (pos == start) { bad = 1; return }
      leaf[p] = substr(s, start, pos - start)
    }
    # "STATE: ERROR" of one loader entry.
    function state(r,   e) {
      e = leaf[r SUBSEP "error"]
      return leaf[r SUBSEP "state"] (e == "" || e == "null" ? "" : ": " e)
    }
    END {
      n = length(s); pos = 1; value("")
      if (bad || !((SUBSEP "status") in leaf)) exit 2
      svc = SUBSEP "services"; shown = 0
      for (i = 1; i <= nkeys[svc]; i++) {
        id = key[svc, i]; base = svc SUBSEP id; ready = 0; others = ""
        for (j = 0; j < len[base]; j++) {
          r = base SUBSEP j
          if (leaf[r SUBSEP "state"] == "ready") ready++
          else others = others "; " leaf[r SUBSEP "address"] " " state(r)
        }
        printf "capability %s: %s (%d of %d loaders ready%s)\n", id, (ready > 0 ? "ready" : "not ready"), ready, len[base], others
        shown++
      }
      p = SUBSEP "pending"
      for (j = 0; j < len[p]; j++) { printf "loader %s: not ready (%s; its capability is not known yet)\n", leaf[p SUBSEP j SUBSEP "address"], state(p SUBSEP j); shown++ }
      if (!shown) print "capabilities: none registered with the gateway yet"
    }
  ' "$1"
}

# Prints the gateway's readiness and each capability's; fails when it is not ready or not reached.
gateway_readiness() { # BASE_URL
  local url="$1" body code lines
  body="$(mktemp)"
  # No --retry here: curl would retry the 503 of a gateway that is not ready yet.
  code="$(curl --silent --show-error --connect-timeout 5 --max-time 30 -o "$body" -w '%{http_code}' "$url/healthz" 2>/dev/null)" || true
  code="${code:-000}"
  if [ "$code" = 000 ]; then
    rm -f "$body"
    log "gateway $url: not reachable, capability readiness unknown (check the gateway Pod: kubectl -n $namespace get pods; from a machine that cannot reach the node, pass --gateway URL, e.g. after kubectl port-forward)"
    return 1
  fi
  if ! lines="$(healthz_lines "$body")"; then
    rm -f "$body"
    log "gateway $url/healthz: HTTP $code, not an ASF gateway's answer; is --gateway (or --node-port) right?"
    return 1
  fi
  rm -f "$body"
  if [ "$code" = 200 ]; then log "gateway $url/healthz: ready (HTTP 200)"; else log "gateway $url/healthz: not ready (HTTP $code)"; fi
  while IFS= read -r line; do log "$line"; done <<<"$lines"
  [ "$code" = 200 ]
}

do_status() {
  # Never healthy unless checked: what could not be checked counts as a problem.
  local helm deployed=0 problems=0 answer; helm="$(helm_bin)"
  if [ -z "$helm" ]; then
    log "release $release in $namespace: NOT CHECKED: helm not found (neither $bundle/bin/helm nor on PATH; pass --bundle DIR or set ASF_HELM)"
    problems=$((problems + 1))
  elif answer="$("$helm" status "$release" --namespace "$namespace" 2>&1)"; then
    log "release $release in $namespace: $(printf '%s\n' "$answer" | sed -n 's/^STATUS: //p')"
    deployed=1
  elif [[ "$answer" == *"release: not found"* ]]; then
    log "release $release in $namespace: not installed"
    problems=$((problems + 1))
  else
    log "release $release in $namespace: NOT CHECKED: helm status failed: $(printf '%s' "$answer" | tail -1)"
    problems=$((problems + 1))
  fi
  if [ "$deployed" = 1 ] && "$helm" status "$plugin_release" --namespace "$namespace" >/dev/null 2>&1; then
    log "release $plugin_release in $namespace: $("$helm" status "$plugin_release" --namespace "$namespace" | sed -n 's/^STATUS: //p') (NVIDIA device plugin)"
  fi
  if [ -z "$registry" ] && registry_running; then
    serve_addr="$(sed -n 's/^  addr: //p' "$registry_config")"; registry="$(served_local_addr)"; scheme=http
  fi
  local repo tag digest code
  if [ ! -d "$v2" ]; then log "images: not checked (pass --bundle DIR to check the bundle's images in the registry)"
  elif [ -z "$registry" ]; then log "images: not checked (pass --registry HOST:PORT, or serve them with install --serve-registry)"; fi
  if [ -n "$registry" ] && [ -d "$v2" ]; then
    for repo in $(bundle_repos); do
      while read -r tag digest; do
        [ -n "$tag" ] || continue
        code="$(http_status HEAD "$scheme://$registry/v2/$repo/manifests/$digest" --head -H "Accept: $manifest_accept")"
        if [ "$code" = 200 ]; then log "image $repo:$tag@$digest present in $registry"
        else log "image $repo:$tag@$digest MISSING from $registry (HTTP $code)"; problems=$((problems + 1)); fi
      done < <(bundle_tags "$repo")
    done
  fi
  local url="${gateway_url%/}"
  if [ -z "$url" ]; then
    local ip; ip="$(node_ip)"
    [ -n "$ip" ] && url="http://$ip:$node_port"
  fi
  if [ -z "$url" ]; then
    log "gateway: NOT CHECKED (no node address from kubectl; pass --gateway URL)"
    problems=$((problems + 1))
  elif [ "$deployed" = 1 ] || [ -n "$gateway_url" ]; then
    gateway_readiness "$url" || problems=$((problems + 1))
  else
    log "gateway: not checked (release $release is not installed)"
  fi
  [ "$problems" = 0 ] || exit 1
}

case "$action" in
  install) do_install ;;
  uninstall) do_uninstall ;;
  status) do_status ;;
  check) do_check || exit 1 ;;
  __push-blob) # internal: one blob, run by xargs from push_images: REPO DIGEST [FROM]
    registry="$ASF_PUSH_REGISTRY" bundle="$ASF_PUSH_BUNDLE" scheme="$ASF_PUSH_SCHEME"
    [ "$ASF_PUSH_INSECURE" = 1 ] && curl_opts+=(--insecure)
    v2="$bundle/registry/docker/registry/v2"
    push_blob "$@" ;;
esac
