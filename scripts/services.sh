#!/usr/bin/env bash
# Run the project's real services on 127.0.0.1, without Docker:
#   postgres  PostgreSQL 15   ${DEMOCRATA_PG_PORT:-55432}         Dagster storage + our tables
#   redis     Redis           ${DEMOCRATA_REDIS_PORT:-56379}      query cache, rate limits (no persistence)
#   weaviate  Weaviate 1.39   ${DEMOCRATA_WEAVIATE_PORT:-58080}   gRPC ${DEMOCRATA_WEAVIATE_GRPC_PORT:-50151}
#   s3        moto_server     ${DEMOCRATA_S3_PORT:-59000}         S3 stand-in, IN MEMORY: lost on stop
#
# Usage: scripts/services.sh start|stop|status|env|restart [service...]
#   start   start what is not answering yet (a no-op when all answer), wait until ready
#   stop    stop what this checkout started (pid files under .services/<name>/)
#   status  one line per service: up/down, port, pid
#   env     export lines; use as: eval "$(scripts/services.sh env)"
# Data, pid files and logs live in <repo>/.services/<name>/ (logs in .services/<name>/log/).
# Install first with scripts/setup.sh.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL_SERVICES=(postgres redis weaviate s3)

log_dir() { echo "$SERVICES_DIR/$1/log"; }
log_file() { echo "$SERVICES_DIR/$1/log/$1.log"; }

# The pid recorded in a pidfile, or nothing.
pidfile_pid() { if [[ -f "$1" ]]; then cat "$1" 2>/dev/null || true; fi; }

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# Pid of whatever listens on 127.0.0.1:$1 (empty when unknown, e.g. owned by another user).
listener_pid() {
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -oE 'pid=[0-9]+' | head -n1 | cut -d= -f2 || true
}

http_code() { curl -s -o /dev/null -m "${2:-2}" -w '%{http_code}' "$1" 2>/dev/null || true; }

fail_service() {
  local name=$1 msg=$2 log
  log="$(log_file "$name")"
  printf '%sfail%s %s: %s\n     log: %s\n' "$_R" "$_N" "$name" "$msg" "$log" >&2
  if [[ -f "$log" ]]; then
    echo "----- last 20 lines of $log -----" >&2
    tail -n 20 "$log" >&2
    echo "-----" >&2
  fi
  exit 1
}

# ==================================================================================================
# PostgreSQL
# ==================================================================================================
PG_HOME="$SERVICES_DIR/postgres"
PG_DATA="$PG_HOME/data"

# pg refuses to run as root: as root, run its binaries as the `postgres` OS user.
as_pg() {
  if is_root; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# The unix socket goes next to the data (sun_path is limited to ~107 bytes: long checkout paths
# fall back to /tmp). Our clients all use TCP on 127.0.0.1; the socket is for bootstrapping roles.
pg_socket_dir() {
  local d="$PG_HOME/run"
  if ((${#d} + 20 > 100)); then
    d="/tmp/democrata-pg-$(echo -n "$PG_HOME" | sha256sum | cut -c1-12)"
  fi
  echo "$d"
}

postgres_ready() { "$PG_BINDIR/pg_isready" -q -h "$HOST" -p "$PG_PORT" -t 2 >/dev/null 2>&1; }

postgres_pid() {
  local pid=""
  [[ -f "$PG_DATA/postmaster.pid" ]] && pid="$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
  if pid_alive "$pid"; then echo "$pid"; else listener_pid "$PG_PORT"; fi
}

postgres_init() {
  [[ -f "$PG_DATA/PG_VERSION" ]] && return 0
  say "postgres: initdb $PG_DATA"
  mkdir -p "$PG_DATA" "$(log_dir postgres)"
  if is_root; then
    chown -R postgres: "$PG_HOME"
    runuser -u postgres -- test -w "$PG_DATA" ||
      die "postgres: the 'postgres' OS user cannot reach $PG_DATA (a parent directory is not traversable: chmod o+x it, or set DEMOCRATA_SERVICES_DIR)"
  fi
  chmod 700 "$PG_DATA"
  as_pg "$PG_BINDIR/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >"$(log_file postgres).initdb" 2>&1 ||
    fail_service postgres "initdb failed (see $(log_file postgres).initdb)"
  echo "include_if_exists = 'democrata.conf'" >>"$PG_DATA/postgresql.conf"
}

postgres_start() {
  if postgres_ready; then
    ok "postgres: already up on $HOST:$PG_PORT (pid $(postgres_pid))"
    return 0
  fi
  postgres_init
  local sock
  sock="$(pg_socket_dir)"
  mkdir -p "$sock" "$(log_dir postgres)"
  # Rewritten on every start so a changed DEMOCRATA_PG_PORT takes effect; loopback only.
  cat >"$PG_DATA/democrata.conf" <<EOF
# Written by scripts/services.sh on every start; edits are lost.
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$sock'
max_connections = 200
shared_buffers = 128MB
log_min_messages = warning
EOF
  is_root && chown -R postgres: "$PG_HOME" "$sock"
  say "postgres: starting on $HOST:$PG_PORT"
  as_pg "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -l "$(log_file postgres)" -w -t 60 start >/dev/null 2>&1 ||
    fail_service postgres "pg_ctl start failed"
  postgres_ready || fail_service postgres "not answering pg_isready on $HOST:$PG_PORT"
  # Role and database for Dagster storage and our tables (idempotent).
  local psql=(as_pg "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$PG_PORT" -U postgres -d postgres -tA)
  # CREATEDB: the test suite makes a throwaway database per session for its Dagster instance.
  if [[ -z "$("${psql[@]}" -c "select 1 from pg_roles where rolname = '$PG_USER'")" ]]; then
    "${psql[@]}" -c "create role $PG_USER login createdb password '$PG_PASSWORD'" || fail_service postgres "create role failed"
  else
    "${psql[@]}" -c "alter role $PG_USER createdb" || fail_service postgres "alter role failed"
  fi
  if [[ -z "$("${psql[@]}" -c "select 1 from pg_database where datname = '$PG_DB'")" ]]; then
    "${psql[@]}" -c "create database $PG_DB owner $PG_USER" || fail_service postgres "create database failed"
  fi
  ok "postgres: up on $HOST:$PG_PORT (pid $(postgres_pid))"
}

postgres_stop() {
  if [[ -f "$PG_DATA/postmaster.pid" ]] && pid_alive "$(head -n1 "$PG_DATA/postmaster.pid")"; then
    as_pg "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null && ok "postgres: stopped"
  else
    ok "postgres: not running (from this checkout)"
  fi
}

# ==================================================================================================
# Redis
# ==================================================================================================
REDIS_HOME="$SERVICES_DIR/redis"
REDIS_PIDFILE="$REDIS_HOME/redis.pid"

redis_ready() { [[ "$(redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == "PONG" ]]; }

redis_pid() {
  local pid
  pid="$(pidfile_pid "$REDIS_PIDFILE")"
  if pid_alive "$pid"; then echo "$pid"; else listener_pid "$REDIS_PORT"; fi
}

redis_start() {
  if redis_ready; then
    ok "redis: already up on $HOST:$REDIS_PORT (pid $(redis_pid))"
    return 0
  fi
  mkdir -p "$CACHE_DIR/redis" "$(log_dir redis)"
  # Caches and rate limits, bounded memory with LRU eviction. Snapshots go to the machine-wide cache
  # dir (like the Weaviate binary), so a fresh clone on the same machine starts with a warm embedding
  # cache instead of re-running the model over the same Hansard text; losing it only costs time.
  cat >"$REDIS_HOME/redis.conf" <<EOF
# Written by scripts/services.sh on every start; edits are lost.
bind $HOST
protected-mode yes
port $REDIS_PORT
daemonize yes
pidfile $REDIS_PIDFILE
logfile $(log_file redis)
loglevel warning
dir $CACHE_DIR/redis
dbfilename democrata-cache.rdb
save 300 1 60 1000
appendonly no
maxmemory 1gb
maxmemory-policy allkeys-lru
EOF
  say "redis: starting on $HOST:$REDIS_PORT"
  local log offset i
  log="$(log_file redis)"
  offset=$(($(stat -c %s "$log" 2>/dev/null || echo 0) + 1))
  redis-server "$REDIS_HOME/redis.conf" >>"$log" 2>&1 || fail_service redis "redis-server failed to start"
  for ((i = 0; i < 100; i++)); do
    redis_ready && break
    # The daemon has forked away from us: watch its log for an abort (e.g. port in use).
    if tail -c "+$offset" "$log" 2>/dev/null | grep -qE 'aborting|Fatal|FATAL'; then
      fail_service redis "redis-server exited during startup"
    fi
    sleep 0.1
  done
  redis_ready || fail_service redis "no PONG on $HOST:$REDIS_PORT after 10 s"
  ok "redis: up on $HOST:$REDIS_PORT (pid $(redis_pid))"
}

redis_stop() {
  local pid
  pid="$(pidfile_pid "$REDIS_PIDFILE")"
  if pid_alive "$pid"; then
    redis-cli -h "$HOST" -p "$REDIS_PORT" shutdown save >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    wait_gone "$pid" redis
    rm -f "$REDIS_PIDFILE"
    ok "redis: stopped"
  else
    ok "redis: not running (from this checkout)"
  fi
}

# ==================================================================================================
# Weaviate (env vars: ../shared/reference/weaviate.md)
# ==================================================================================================
WEAVIATE_HOME="$SERVICES_DIR/weaviate"
WEAVIATE_PIDFILE="$WEAVIATE_HOME/weaviate.pid"
# Fixed: a changed hostname over old data loops on Raft join.
WEAVIATE_HOSTNAME=democrata-node1

weaviate_ready() { [[ "$(http_code "http://$HOST:$WEAVIATE_PORT/v1/.well-known/ready")" == 200 ]]; }

weaviate_pid() {
  local pid
  pid="$(pidfile_pid "$WEAVIATE_PIDFILE")"
  if pid_alive "$pid"; then echo "$pid"; else listener_pid "$WEAVIATE_PORT"; fi
}

weaviate_start() {
  if weaviate_ready; then
    ok "weaviate: already up on $HOST:$WEAVIATE_PORT (pid $(weaviate_pid))"
    return 0
  fi
  [[ -x "$WEAVIATE_BIN" ]] || fail_service weaviate "binary $WEAVIATE_BIN missing: run scripts/setup.sh"
  local pid
  pid="$(pidfile_pid "$WEAVIATE_PIDFILE")"
  if ! pid_alive "$pid"; then
    mkdir -p "$WEAVIATE_HOME/data" "$WEAVIATE_HOME/backups" "$(log_dir weaviate)"
    say "weaviate: starting on $HOST:$WEAVIATE_PORT (gRPC $WEAVIATE_GRPC_PORT)"
    # setsid + nohup: the server outlives this script and its terminal.
    (
      cd "$WEAVIATE_HOME"
      exec env \
        PERSISTENCE_DATA_PATH="$WEAVIATE_HOME/data" \
        CLUSTER_HOSTNAME="$WEAVIATE_HOSTNAME" \
        CLUSTER_IN_LOCALHOST=true \
        CLUSTER_BIND_ADDR="$HOST" \
        CLUSTER_GOSSIP_BIND_PORT="$WEAVIATE_GOSSIP_PORT" \
        CLUSTER_DATA_BIND_PORT="$((WEAVIATE_GOSSIP_PORT + 1))" \
        RAFT_PORT="$WEAVIATE_RAFT_PORT" \
        RAFT_INTERNAL_RPC_PORT="$((WEAVIATE_RAFT_PORT + 1))" \
        RAFT_JOIN="$WEAVIATE_HOSTNAME:$WEAVIATE_RAFT_PORT" \
        RAFT_BOOTSTRAP_EXPECT=1 \
        RAFT_TIMEOUTS_MULTIPLIER=1 \
        GRPC_PORT="$WEAVIATE_GRPC_PORT" \
        GO_PROFILING_DISABLE=true \
        DISABLE_TELEMETRY=true \
        DEFAULT_VECTORIZER_MODULE=none \
        API_BASED_MODULES_DISABLED=true \
        AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true \
        ENABLE_MODULES=backup-filesystem \
        BACKUP_FILESYSTEM_PATH="$WEAVIATE_HOME/backups" \
        QUERY_DEFAULTS_LIMIT=25 \
        QUERY_MAXIMUM_RESULTS=10000 \
        GOMEMLIMIT="${DEMOCRATA_WEAVIATE_GOMEMLIMIT:-2GiB}" \
        LOG_LEVEL="${DEMOCRATA_WEAVIATE_LOG_LEVEL:-warning}" \
        setsid nohup "$WEAVIATE_BIN" --host "$HOST" --port "$WEAVIATE_PORT" --scheme http \
        --read-timeout=600s --write-timeout=600s </dev/null >>"$(log_file weaviate)" 2>&1 &
      echo $! >"$WEAVIATE_PIDFILE"
    )
    pid="$(pidfile_pid "$WEAVIATE_PIDFILE")"
  else
    say "weaviate: pid $pid is running but not ready yet; waiting"
  fi
  # 200 only once Raft is up; the port listens earlier.
  local i
  for ((i = 0; i < 180; i++)); do
    weaviate_ready && break
    pid_alive "$pid" || fail_service weaviate "process $pid exited during startup"
    sleep 0.5
  done
  weaviate_ready || fail_service weaviate "/v1/.well-known/ready not 200 on $HOST:$WEAVIATE_PORT after 90 s (pid $pid still running)"
  ok "weaviate: up on $HOST:$WEAVIATE_PORT gRPC $WEAVIATE_GRPC_PORT (pid $pid)"
}

weaviate_stop() { stop_by_pidfile weaviate "$WEAVIATE_PIDFILE" 60; }

# ==================================================================================================
# S3 stand-in: moto (in memory: buckets and objects vanish when it stops)
# ==================================================================================================
S3_HOME="$SERVICES_DIR/s3"
S3_PIDFILE="$S3_HOME/moto.pid"

s3_ready() { [[ "$(http_code "http://$HOST:$S3_PORT/")" == 200 ]]; }

s3_pid() {
  local pid
  pid="$(pidfile_pid "$S3_PIDFILE")"
  if pid_alive "$pid"; then echo "$pid"; else listener_pid "$S3_PORT"; fi
}

s3_start() {
  if s3_ready; then
    ok "s3: already up on $HOST:$S3_PORT (pid $(s3_pid))"
    return 0
  fi
  [[ -x "$VENV/bin/moto_server" ]] || fail_service s3 "$VENV/bin/moto_server missing: run scripts/setup.sh"
  local pid
  pid="$(pidfile_pid "$S3_PIDFILE")"
  if ! pid_alive "$pid"; then
    mkdir -p "$(log_dir s3)"
    say "s3: starting moto_server on $HOST:$S3_PORT (in memory)"
    (
      cd "$S3_HOME"
      exec setsid nohup "$VENV/bin/moto_server" -H "$HOST" -p "$S3_PORT" </dev/null >>"$(log_file s3)" 2>&1 &
      echo $! >"$S3_PIDFILE"
    )
    pid="$(pidfile_pid "$S3_PIDFILE")"
  fi
  local i
  for ((i = 0; i < 120; i++)); do
    s3_ready && break
    pid_alive "$pid" || fail_service s3 "moto_server (pid $pid) exited during startup"
    sleep 0.25
  done
  s3_ready || fail_service s3 "no HTTP 200 on $HOST:$S3_PORT after 30 s"
  ok "s3: up on $HOST:$S3_PORT (pid $pid)"
}

s3_stop() { stop_by_pidfile s3 "$S3_PIDFILE" 20; }

# ==================================================================================================
# Generic helpers and commands
# ==================================================================================================
wait_gone() { # pid name [timeout_s]
  local i
  for ((i = 0; i < ${3:-30} * 10; i++)); do
    pid_alive "$1" || return 0
    sleep 0.1
  done
  warn "$2: pid $1 still alive after ${3:-30}s; sending SIGKILL"
  kill -KILL "$1" 2>/dev/null || true
}

stop_by_pidfile() { # name pidfile timeout_s
  local name=$1 pidfile=$2 pid=""
  pid="$(pidfile_pid "$pidfile")"
  if pid_alive "$pid"; then
    kill -TERM "$pid"
    wait_gone "$pid" "$name" "$3"
    ok "$name: stopped"
  else
    ok "$name: not running (from this checkout)"
  fi
  rm -f "$pidfile"
}

service_port() {
  case $1 in
    postgres) echo "$PG_PORT" ;;
    redis) echo "$REDIS_PORT" ;;
    weaviate) echo "$WEAVIATE_PORT grpc=$WEAVIATE_GRPC_PORT" ;;
    s3) echo "$S3_PORT" ;;
  esac
}

cmd_status() {
  local name down=0 pid
  for name in "$@"; do
    if "${name}_ready"; then
      pid="$("${name}_pid")"
      printf '%-9s up    port=%-18s pid=%s\n' "$name" "$(service_port "$name")" "${pid:-?}"
    else
      printf '%-9s down  port=%s\n' "$name" "$(service_port "$name")"
      down=1
    fi
  done
  return "$down"
}

cmd_env() {
  # SQLAlchemy URL with an explicit driver: SQLAlchemy 2.1 maps a bare postgresql:// to psycopg (v3),
  # which is not installed (psycopg2-binary is). DEMOCRATA_PG_DSN is the libpq form (psql, psycopg2.connect).
  local pg_dsn="postgresql://$PG_USER:$PG_PASSWORD@$HOST:$PG_PORT/$PG_DB"
  local pg_url="postgresql+psycopg2://$PG_USER:$PG_PASSWORD@$HOST:$PG_PORT/$PG_DB"
  local kv=(
    "DEMOCRATA_PG_PORT=$PG_PORT"
    "DEMOCRATA_PG_URL=$pg_url"
    "DEMOCRATA_PG_DSN=$pg_dsn"
    "DAGSTER_PG_HOST=$HOST"
    "DAGSTER_PG_PORT=$PG_PORT"
    "DAGSTER_PG_USERNAME=$PG_USER"
    "DAGSTER_PG_PASSWORD=$PG_PASSWORD"
    "DAGSTER_PG_DB=$PG_DB"
    "DEMOCRATA_REDIS_PORT=$REDIS_PORT"
    "DEMOCRATA_REDIS_URL=redis://$HOST:$REDIS_PORT/0"
    "DEMOCRATA_WEAVIATE_PORT=$WEAVIATE_PORT"
    "DEMOCRATA_WEAVIATE_HTTP_HOST=$HOST"
    "DEMOCRATA_WEAVIATE_HTTP_PORT=$WEAVIATE_PORT"
    "DEMOCRATA_WEAVIATE_GRPC_PORT=$WEAVIATE_GRPC_PORT"
    "DEMOCRATA_S3_PORT=$S3_PORT"
    "DEMOCRATA_S3_ENDPOINT_URL=http://$HOST:$S3_PORT"
    "AWS_ACCESS_KEY_ID=testing"
    "AWS_SECRET_ACCESS_KEY=testing"
    "AWS_DEFAULT_REGION=eu-west-2"
    "DAGSTER_HOME=$REPO_ROOT/dagster_home"
  )
  local item
  for item in "${kv[@]}"; do
    printf 'export %s=%q\n' "${item%%=*}" "${item#*=}"
  done
}

usage() {
  sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  local services=("$@")
  ((${#services[@]})) || services=("${ALL_SERVICES[@]}")
  local s
  for s in "${services[@]}"; do
    [[ " ${ALL_SERVICES[*]} " == *" $s "* ]] || die "unknown service '$s' (one of: ${ALL_SERVICES[*]})"
  done
  case $cmd in
    start)
      local t0=$SECONDS
      mkdir -p "$SERVICES_DIR"
      for s in "${services[@]}"; do "${s}_start"; done
      ok "all started in $((SECONDS - t0))s; next: eval \"\$(scripts/services.sh env)\""
      ;;
    stop)
      local i
      for ((i = ${#services[@]} - 1; i >= 0; i--)); do "${services[i]}_stop"; done
      ;;
    restart)
      "$0" stop "${services[@]}"
      "$0" start "${services[@]}"
      ;;
    status) cmd_status "${services[@]}" ;;
    env) cmd_env ;;
    -h | --help | help) usage 0 ;;
    *) usage 2 ;;
  esac
}

main "$@"
