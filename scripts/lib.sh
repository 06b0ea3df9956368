# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
# Shared settings for scripts/setup.sh and scripts/services.sh. Source it; do not run it.
#
# Everything here is overridable from the environment, so two checkouts (or CI) can run side by side
# on other ports. Service data lives in <repo>/.services (git-ignored); built binaries and Go caches
# live in ${DEMOCRATA_CACHE:-$HOME/.cache/democrata} so every clone on one machine shares them.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVICES_DIR="${DEMOCRATA_SERVICES_DIR:-$REPO_ROOT/.services}"
CACHE_DIR="${DEMOCRATA_CACHE:-$HOME/.cache/democrata}"
VENV="${DEMOCRATA_VENV:-$REPO_ROOT/.venv}"

# --- Weaviate build -------------------------------------------------------------------------------
WEAVIATE_VERSION="1.39.0"
WEAVIATE_MODULE="github.com/weaviate/weaviate/cmd/weaviate-server"
WEAVIATE_BIN="${DEMOCRATA_WEAVIATE_BIN:-$CACHE_DIR/bin/weaviate-server}"
WEAVIATE_BUILD_LOG="$CACHE_DIR/weaviate-build.log"
# Go caches for the build (exported only by the build step in setup.sh).
GO_PATH="$CACHE_DIR/go"
GO_MODCACHE="$GO_PATH/pkg/mod"
GO_BUILDCACHE="$GO_PATH/cache"
GO_BINDIR="$CACHE_DIR/bin"

# --- Ports (loopback only, deliberately not the defaults so system services never clash) --------
PG_PORT="${DEMOCRATA_PG_PORT:-55432}"
REDIS_PORT="${DEMOCRATA_REDIS_PORT:-56379}"
WEAVIATE_PORT="${DEMOCRATA_WEAVIATE_PORT:-58080}"
WEAVIATE_GRPC_PORT="${DEMOCRATA_WEAVIATE_GRPC_PORT:-50151}"
WEAVIATE_RAFT_PORT="${DEMOCRATA_WEAVIATE_RAFT_PORT:-58300}"       # RAFT_INTERNAL_RPC_PORT = +1
WEAVIATE_GOSSIP_PORT="${DEMOCRATA_WEAVIATE_GOSSIP_PORT:-57946}"   # CLUSTER_DATA_BIND_PORT = +1
S3_PORT="${DEMOCRATA_S3_PORT:-59000}"
HOST=127.0.0.1

# --- PostgreSQL ----------------------------------------------------------------------------------
PG_MAJOR=15
PG_BINDIR="${DEMOCRATA_PG_BINDIR:-/usr/lib/postgresql/$PG_MAJOR/bin}"
PG_USER=democrata
PG_PASSWORD=democrata
PG_DB=democrata

# --- Output helpers ------------------------------------------------------------------------------
if [[ -t 1 ]]; then _B=$'\e[1m' _R=$'\e[31m' _G=$'\e[32m' _Y=$'\e[33m' _N=$'\e[0m'; else _B='' _R='' _G='' _Y='' _N=''; fi
say() { printf '%s==>%s %s\n' "$_B" "$_N" "$*"; }
ok() { printf '%s ok%s %s\n' "$_G" "$_N" "$*"; }
warn() { printf '%swarn%s %s\n' "$_Y" "$_N" "$*" >&2; }
die() {
  printf '%sfail%s %s\n' "$_R" "$_N" "$*" >&2
  exit 1
}

is_root() { [[ "$(id -u)" == 0 ]]; }

# Find a Go toolchain: PATH first, then the usual tarball location.
find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    echo /usr/local/go/bin/go
  else
    return 1
  fi
}

# True when $WEAVIATE_BIN exists and (when Go is around to read its build info, ~10 ms) is the pinned version.
weaviate_binary_ok() {
  [[ -x "$WEAVIATE_BIN" ]] || return 1
  local go
  go="$(find_go)" || return 0
  "$go" version -m "$WEAVIATE_BIN" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]]+github.com/weaviate/weaviate[[:space:]]+v${WEAVIATE_VERSION}[[:space:]]"
}

weaviate_build_running() { pgrep -f "go install.*weaviate-server" >/dev/null 2>&1; }
