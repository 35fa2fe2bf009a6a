# Versions of the Compose engine suite's tools and where the built Compose is cached (outside the
# repo, keyed on every version that changes the output, so only the first run on a machine pays the
# Go build). The engine itself is Debian's docker.io (scripts/setup.sh installs it).
COMPOSE_VERSION=${COMPOSE_VERSION:-2.28.1}
GO_VERSION=$(go env GOVERSION 2>/dev/null || echo go-missing)
COMPOSE_CACHE=${ASF_COMPOSE_CACHE:-/var/cache/asf-kit/compose}
COMPOSE_BIN=$COMPOSE_CACHE/compose-$COMPOSE_VERSION-$GO_VERSION/docker-compose
