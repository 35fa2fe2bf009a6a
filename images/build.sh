#!/usr/bin/env bash
# Builds ASF kit images WITHOUT any container daemon, on a Debian/Ubuntu host, as root:
#   base     Debian bookworm minbase (debootstrap) + python3 + python3-venv + ca-certificates,
#            caches and docs removed                                      -> layer 1 (cached)
#   runtime  base + Node.js + ASF kit at /opt/asf (production node_modules, compiled runtime,
#            examples), user asf (10001)                                   -> layer 2
#   mmocr    runtime + the mmocr capability at /opt/asf/capabilities/mmocr with its Python venv
#            and model files (pip, wheels only, at build time)             -> layer 3
#   runtime-cuda  runtime + the CUDA runtime libraries (not the driver) from NVIDIA's wheels
#            (images/runtime-cuda/requirements.txt) in /usr/local/cuda/lib64, known to the
#            dynamic loader through /etc/ld.so.conf.d/cuda.conf             -> layer 3
# All images go into ONE OCI image layout (blobs shared): $ASF_IMAGES/oci, tagged
# <repository basename>-<version> (asf-runtime-0.1.0, asf-runtime-0.1.0-cuda12.4, asf-mmocr-0.1.0); manifest digests are
# recorded in $ASF_IMAGES/digests.txt as "<reference> <digest>" (references from images/images.yaml).
#
# Usage: images/build.sh [runtime] [runtime-cuda] [mmocr]     (default: runtime)
# Env:   ASF_IMAGES    output folder (default: .cache/images)
#        DEBIAN_MIRROR mirror for debootstrap (default: http://deb.debian.org/debian)
#        NODE_BIN      Node.js binary to ship (default: the one on PATH; must be v20)
#        PYTHON        Python with pip that downloads wheels (default: python3)
# Needs: debootstrap umoci skopeo (Debian packages), npm, a built tree (npm run build).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${ASF_IMAGES:-$root/.cache/images}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite=bookworm
base_packages=python3,python3-venv,ca-certificates
version="$(node -p "require('$root/package.json').version")"
layout="$out/oci"
epoch="$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)"
created="$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)"

say() { printf 'images: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap and file ownership need it)"
for tool in debootstrap umoci skopeo npm tar flock; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install debootstrap umoci skopeo)"
done
[ -f "$root/dist/cli/main.js" ] || die "dist/ missing: run npm run build first"

ref_of() { # the reference images/images.yaml gives the image called $1
  awk -v n="$1" '$1=="-" && $2=="name:" {cur=$3} $1=="ref:" && cur==n {print $2; exit}' "$root/images/images.yaml"
}
tag_of() { local ref; ref="$(ref_of "$1")"; local repo="${ref%:*}"; echo "${repo##*/}-${ref##*:}"; }

# A layer tar of a folder: numeric owners, sorted, fixed mtimes, no "./" prefix.
layer_tar() { # <dir> <out.tar>
  (cd "$1" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
    tar --numeric-owner --mtime="@$epoch" --no-recursion -cf "$2" -T -)
}

base_tar() { # prints the cached base layer, building it on first use
  local key tarball work
  key="$(printf '%s %s %s' "$suite" "$base_packages" "$mirror" | sha256sum | cut -c1-12)"
  tarball="$out/base/$suite-minbase-$key.tar"
  if [ ! -f "$tarball" ]; then
    work="$out/work/base"
    rm -rf "$work" && mkdir -p "$work" "$out/base"
    say "debootstrap $suite (minbase + $base_packages) from $mirror"
    debootstrap --variant=minbase --include="$base_packages" "$suite" "$work/rootfs" "$mirror" >"$out/work/debootstrap.log" 2>&1 ||
      die "debootstrap failed, see $out/work/debootstrap.log"
    # Small image: no package caches, lists, docs, manuals or logs.
    rm -rf "$work"/rootfs/var/cache/apt/* "$work"/rootfs/var/lib/apt/lists/* "$work"/rootfs/usr/share/doc/* \
      "$work"/rootfs/usr/share/man/* "$work"/rootfs/usr/share/info/* "$work"/rootfs/var/log/* "$work"/rootfs/var/cache/debconf/*-old
    find "$work/rootfs" -name '__pycache__' -type d -prune -exec rm -rf {} +
    layer_tar "$work/rootfs" "$tarball.tmp"
    mv "$tarball.tmp" "$tarball"
    rm -rf "$work"
  fi
  echo "$tarball"
}

build_runtime() {
  local tag stage app node_bin
  tag="$(tag_of runtime)"
  node_bin="$(readlink -f "${NODE_BIN:-$(command -v node)}")"
  [[ "$("$node_bin" -v)" == v20.* ]] || die "$node_bin is $("$node_bin" -v), want v20"
  stage="$out/work/runtime"
  rm -rf "$stage" && mkdir -p "$stage/usr/local/bin" "$stage/opt/asf" "$stage/etc"
  say "runtime: Node.js $("$node_bin" -v) + ASF kit $version"
  install -m 0755 "$node_bin" "$stage/usr/local/bin/node"
  app="$stage/opt/asf"
  cp "$root/package.json" "$root/package-lock.json" "$app/"
  cp -r "$root/bin" "$app/bin"
  mkdir -p "$app/dist" "$app/examples" "$app/capabilities"
  cp -r "$root/dist/runtime" "$root/dist/cli" "$app/dist/"
  find "$app/dist" -name '*.map' -delete
  # Files the runtime reads beside its code: gRPC .proto files, the Python worker and aiges shim.
  (cd "$root" && find runtime -type f ! -name '*.ts' ! -path '*/__pycache__/*' -print0 | xargs -0 cp --parents -t "$app")
  cp -r "$root/examples/echo" "$app/examples/echo"
  # `asf demo mmocr` (the chart's helm test hook runs it from this image) sends this sample.
  mkdir -p "$app/examples/mmocr" && cp "$root/examples/mmocr/sample.jpg" "$app/examples/mmocr/"
  # `asf new --lang c` hands new capabilities the wrapper ABI header.
  mkdir -p "$app/native/include" && cp "$root"/native/include/*.h "$app/native/include/"
  if [ -f "$root/native/build/Release/asf_native.node" ]; then
    mkdir -p "$app/native/build/Release" && cp "$root/native/build/Release/asf_native.node" "$app/native/build/Release/"
  fi
  (cd "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >&2)
  rm -rf "$app/node_modules/.cache"
  ln -s /opt/asf/bin/asf.js "$stage/usr/local/bin/asf"
  # The non-root user the image runs as.
  tar -xf "$(base_tar)" -C "$stage" etc/passwd etc/group
  echo 'asf:x:10001:10001:ASF kit:/opt/asf:/usr/sbin/nologin' >>"$stage/etc/passwd"
  echo 'asf:x:10001:' >>"$stage/etc/group"
  mkdir -p "$stage/tmp" && chmod 1777 "$stage/tmp"
  chown -R 0:0 "$stage"
  layer_tar "$stage" "$out/work/runtime.tar"

  [ -d "$layout" ] || umoci init --layout "$layout"
  umoci new --image "$layout:$tag"
  umoci raw add-layer --image "$layout:$tag" --history.created "$created" --history.created_by "debootstrap $suite minbase + $base_packages" "$(base_tar)"
  umoci raw add-layer --image "$layout:$tag" --history.created "$created" --history.created_by "ASF kit $version, Node.js $("$node_bin" -v)" "$out/work/runtime.tar"
  umoci config --image "$layout:$tag" --created "$created" --history.created "$created" \
    --config.entrypoint /usr/local/bin/node --config.entrypoint /opt/asf/bin/asf.js --config.cmd --help \
    --config.user 10001:10001 --config.workingdir /opt/asf \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.env NODE_ENV=production --config.env PYTHONDONTWRITEBYTECODE=1 \
    --config.exposedports 8889/tcp --config.exposedports 5090/tcp \
    --config.label "org.opencontainers.image.title=asf-runtime" --config.label "org.opencontainers.image.version=$version"
  rm -rf "$stage" "$out/work/runtime.tar"
  record runtime "$tag"
}

build_mmocr() {
  local tag from rootfs cap stage
  tag="$(tag_of mmocr)"
  from="$(tag_of runtime)"
  skopeo inspect "oci:$layout:$from" >/dev/null 2>&1 || build_runtime
  say "mmocr: capability + Python venv with its models (pip, wheels only)"
  rootfs="$out/work/mmocr-rootfs"
  rm -rf "$rootfs" && mkdir -p "$rootfs"
  tar -xf "$(base_tar)" -C "$rootfs"
  cap=/opt/asf/capabilities/mmocr
  mkdir -p "$rootfs$cap"
  cp "$root"/examples/mmocr/{capability.yaml,wrapper.py,ocr_engine.py,requirements.txt,sample.jpg,request.json,README.md} "$rootfs$cap/"
  # The build host fetches the pinned wheels for the image's CPython 3.11 on x86_64 (with its own
  # network and certificate setup); inside the rootfs they install with no index at all.
  local wheels="$out/wheels/mmocr-$(sha256sum "$root/examples/mmocr/requirements.txt" | cut -c1-12)"
  if [ ! -f "$wheels/.complete" ]; then
    rm -rf "$wheels" && mkdir -p "$wheels"
    "${PYTHON:-python3}" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      --implementation cp --python-version 3.11 --abi cp311 --abi abi3 --abi none \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
      --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64 --platform any \
      -r "$root/examples/mmocr/requirements.txt" -d "$wheels" >&2
    touch "$wheels/.complete"
  fi
  mkdir -p "$rootfs/tmp/wheels" && cp "$wheels"/*.whl "$rootfs/tmp/wheels/"
  chroot "$rootfs" python3 -m venv "$cap/.venv"
  chroot "$rootfs" "$cap/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir --no-deps \
    --no-index --find-links /tmp/wheels -r "$cap/requirements.txt" >&2
  chroot "$rootfs" sh -c "cd $cap && .venv/bin/python -c 'from ocr_engine import Settings, model_files; print(sorted(model_files(Settings())))'" >&2
  # The models travel inside this image (and only here): the ones the pinned wheel must hold.
  (cd "$rootfs$cap" && sha256sum --quiet --strict -c "$root/images/mmocr/models.sha256") >&2 ||
    die "mmocr: the OCR model files differ from images/mmocr/models.sha256 (above)"
  find "$rootfs$cap" -name '__pycache__' -type d -prune -exec rm -rf {} +
  stage="$out/work/mmocr"
  rm -rf "$stage" && mkdir -p "$stage/opt/asf/capabilities"
  mv "$rootfs$cap" "$stage$cap"
  chown -R 0:0 "$stage"
  layer_tar "$stage" "$out/work/mmocr.tar"
  rm -rf "$rootfs"
  umoci raw add-layer --image "$layout:$from" --tag "$tag" --history.created "$created" --history.created_by "mmocr capability + venv" "$out/work/mmocr.tar"
  umoci config --image "$layout:$tag" --created "$created" --history.created "$created" \
    --config.cmd loader --config.cmd --capability --config.cmd "$cap" \
    --config.label "org.opencontainers.image.title=asf-mmocr"
  rm -rf "$stage" "$out/work/mmocr.tar"
  record mmocr "$tag"
}

build_runtime_cuda() {
  local tag from requirements cudart wheels rootfs stage conf=etc/ld.so.conf.d/cuda.conf
  tag="$(tag_of runtime-cuda)"
  from="$(tag_of runtime)"
  requirements="$root/images/runtime-cuda/requirements.txt"
  cudart="$(sed -n 's/^nvidia-cuda-runtime-cu12==\([0-9.]*\).*/\1/p' "$requirements")"
  [ -n "$cudart" ] || die "$requirements pins no nvidia-cuda-runtime-cu12==<version>"
  # The tag promises a CUDA version (…-cuda12.4); the pinned cudart must be that release.
  [[ "$tag" == *"-cuda${cudart%.*}" ]] || die "tag $tag does not match cudart $cudart in $requirements"
  skopeo inspect "oci:$layout:$from" >/dev/null 2>&1 || build_runtime
  say "runtime-cuda: CUDA $cudart runtime libraries from NVIDIA's wheels"
  # Like mmocr: the build host fetches the pinned wheels once; only their .so files are kept.
  wheels="$out/wheels/cuda-$(sha256sum "$requirements" | cut -c1-12)"
  if [ ! -f "$wheels/.complete" ]; then
    rm -rf "$wheels" && mkdir -p "$wheels"
    "${PYTHON:-python3}" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      --implementation cp --python-version 3.11 --abi none \
      --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux1_x86_64 \
      -r "$requirements" -d "$wheels" >&2
    touch "$wheels/.complete"
  fi
  stage="$out/work/runtime-cuda"
  rm -rf "$stage" && mkdir -p "$stage/etc/ld.so.conf.d"
  "${PYTHON:-python3}" "$root/images/runtime-cuda/unpack_wheels.py" "$wheels" "$stage/usr/local/cuda" ||
    die "could not unpack the CUDA wheels in $wheels (delete the folder to download them again)"
  echo /usr/local/cuda/lib64 >"$stage/$conf"
  # The loader cache must list the libraries: run the image's own ldconfig in a scratch rootfs
  # and keep its cache. (The NVIDIA container toolkit reruns ldconfig when it adds the driver;
  # cuda.conf keeps our folder in that cache too.)
  rootfs="$out/work/runtime-cuda-rootfs"
  rm -rf "$rootfs" && mkdir -p "$rootfs"
  tar -xf "$(base_tar)" -C "$rootfs"
  cp -a "$stage/." "$rootfs/"
  chroot "$rootfs" ldconfig
  chroot "$rootfs" ldconfig -p | grep -q "libcudart.so.12 .*=> /usr/local/cuda/lib64/" ||
    die "ldconfig in the image does not list libcudart.so.12"
  cp "$rootfs/etc/ld.so.cache" "$stage/etc/ld.so.cache"
  rm -rf "$rootfs"
  chown -R 0:0 "$stage"
  layer_tar "$stage" "$out/work/runtime-cuda.tar"
  umoci raw add-layer --image "$layout:$from" --tag "$tag" --history.created "$created" \
    --history.created_by "CUDA $cudart runtime libraries (NVIDIA wheels: $(grep -v '^#' "$requirements" | xargs))" "$out/work/runtime-cuda.tar"
  # NVIDIA container toolkit conventions: which GPUs and driver parts to mount into the container.
  umoci config --image "$layout:$tag" --created "$created" --history.created "$created" \
    --config.env NVIDIA_VISIBLE_DEVICES=all --config.env NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    --config.env CUDA_VERSION="$cudart" \
    --config.label "org.opencontainers.image.title=asf-runtime-cuda" --config.label "com.nvidia.cuda.version=$cudart"
  rm -rf "$stage" "$out/work/runtime-cuda.tar"
  record runtime-cuda "$tag"
}

record() { # <name> <tag>: "<reference> <manifest digest>" into digests.txt
  local ref digest
  ref="$(ref_of "$1")"
  digest="$(skopeo inspect --format '{{.Digest}}' "oci:$layout:$2")"
  touch "$out/digests.txt"
  grep -v "^$ref " "$out/digests.txt" >"$out/digests.txt.tmp" || true
  echo "$ref $digest" >>"$out/digests.txt.tmp"
  mv "$out/digests.txt.tmp" "$out/digests.txt"
  say "$1: oci:$layout:$2 $digest"
}

mkdir -p "$out/work"
# One build at a time per output folder: builds share the layout, its work folders and umoci gc.
exec 9>"$out/.lock"
flock 9
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(runtime)
for target in "${targets[@]}"; do
  case "$target" in
    runtime) build_runtime ;;
    runtime-cuda) build_runtime_cuda ;;
    mmocr) build_mmocr ;;
    *) die "unknown image $target (runtime, runtime-cuda, mmocr)" ;;
  esac
done
umoci gc --layout "$layout"
