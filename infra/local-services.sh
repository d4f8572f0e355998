#!/usr/bin/env bash
# Checks (and, unless --check, starts) the local services the CDP needs on a developer or CI machine:
#   PostgreSQL 15 on 127.0.0.1:5432 (trust auth) with a `cdp` database,
#   Redis 7 on 127.0.0.1:6379,
#   NATS 2.9+ with JetStream on 127.0.0.1:4222.
# These are the Debian packages postgresql, redis-server and nats-server, started with the same
# commands the machine image uses. Idempotent, and fast when everything already answers.
#
# Usage: infra/local-services.sh [--check] [--timeout SECONDS] [--quiet]
#   --check     only check; never start anything or create the database
#   --timeout   how long to wait for a started service to answer (default 30)
#   --quiet     print only problems
# Exit status: 0 all up; 1 something is down or missing (each problem is named on stderr);
#              2 bad usage.
# Environment: CDP_PG_HOST/CDP_PG_PORT/CDP_PG_USER (127.0.0.1/5432/postgres), CDP_DATABASE (cdp),
#              CDP_REDIS_PORT (6379), CDP_NATS_PORT (4222).
set -uo pipefail

CHECK_ONLY=0
TIMEOUT=30
QUIET=0
while [ $# -gt 0 ]; do
  case "$1" in
    --check) CHECK_ONLY=1 ;;
    --timeout) TIMEOUT="${2:?--timeout needs a value}"; shift ;;
    --timeout=*) TIMEOUT="${1#*=}" ;;
    --quiet|-q) QUIET=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "local-services: unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$TIMEOUT" in ''|*[!0-9]*) echo "local-services: --timeout must be a whole number of seconds" >&2; exit 2 ;; esac

PG_HOST="${CDP_PG_HOST:-127.0.0.1}"
PG_PORT="${CDP_PG_PORT:-5432}"
PG_USER="${CDP_PG_USER:-postgres}"
CDP_DB="${CDP_DATABASE:-cdp}"
REDIS_PORT="${CDP_REDIS_PORT:-6379}"
NATS_PORT="${CDP_NATS_PORT:-4222}"
NATS_SERVER_BIN="${NATS_SERVER_BIN:-/usr/sbin/nats-server}"

PROBLEMS=()
say() { [ "$QUIET" = 1 ] || echo "$@"; }
problem() { PROBLEMS+=("$1"); echo "local-services: $1" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

# --- probes (each returns 0 when the service answers) ----------------------------------------
tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

pg_up() {
  if have pg_isready; then pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2
  else tcp_open "$PG_HOST" "$PG_PORT"; fi
}

redis_up() {
  local reply
  if have redis-cli; then reply=$(timeout 3 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)
  else
    reply=$(timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT; printf 'PING\r\n' >&3; IFS= read -r -t 2 l <&3; printf '%s' \"\$l\"" 2>/dev/null)
    reply="${reply#+}"; reply="${reply%$'\r'}"
  fi
  [ "$reply" = PONG ]
}

# A NATS server greets every client with an INFO line; it carries "jetstream":true when JetStream
# is enabled, so this checks JetStream without needing the monitoring port.
NATS_INFO=""
nats_info() {
  NATS_INFO=$(timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$NATS_PORT; IFS= read -r -t 2 l <&3; printf '%s' \"\$l\"" 2>/dev/null) || NATS_INFO=""
  [[ "$NATS_INFO" == INFO\ * ]]
}
nats_up() { nats_info && [[ "$NATS_INFO" == *'"jetstream":true'* ]]; }

wait_for() { # name probe
  local name="$1" probe="$2" deadline=$((SECONDS + TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    "$probe" && return 0
    sleep 0.5
  done
  "$probe"
}

# --- starters (same commands as the machine image) -------------------------------------------
start_postgres() {
  local version
  version=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
  if ! have pg_ctlcluster || [ -z "$version" ]; then
    problem "PostgreSQL is not answering on $PG_HOST:$PG_PORT and is not installed (no pg_ctlcluster or /etc/postgresql): apt-get install -y postgresql"
    return 1
  fi
  say "starting PostgreSQL $version (pg_ctlcluster $version main start)"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start \
    || problem "PostgreSQL $version failed to start: see /var/log/postgresql/postgresql-$version-main.log"
}

start_redis() {
  if ! have redis-server; then
    problem "Redis is not answering on 127.0.0.1:$REDIS_PORT and redis-server is not installed: apt-get install -y redis-server"
    return 1
  fi
  say "starting Redis (redis-server --daemonize yes ...)"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log \
    || problem "Redis failed to start: see /var/log/redis/ci.log"
}

start_nats() {
  if [ ! -x "$NATS_SERVER_BIN" ]; then
    problem "NATS is not answering on 127.0.0.1:$NATS_PORT and $NATS_SERVER_BIN is not installed: apt-get install -y nats-server"
    return 1
  fi
  say "starting NATS with JetStream (start-stop-daemon ... nats-server -js)"
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec "$NATS_SERVER_BIN" -- \
    -a 127.0.0.1 -p "$NATS_PORT" -js -sd /var/lib/nats-server -l /var/log/nats-server.log \
    || problem "NATS failed to start: see /var/log/nats-server.log"
}

# --- one service: check, maybe start, wait ----------------------------------------------------
ensure() { # name probe starter where
  local name="$1" probe="$2" starter="$3" where="$4"
  if "$probe"; then say "ok       $name ($where)"; return 0; fi
  if [ "$CHECK_ONLY" = 1 ]; then
    problem "$name is not answering on $where (run infra/local-services.sh without --check to start it)"
    return 1
  fi
  local before=${#PROBLEMS[@]}
  "$starter" || return 1
  [ ${#PROBLEMS[@]} -gt "$before" ] && return 1
  if wait_for "$name" "$probe"; then say "started  $name ($where)"; return 0; fi
  problem "$name was started but did not answer on $where within ${TIMEOUT}s"
  return 1
}

ensure PostgreSQL pg_up start_postgres "$PG_HOST:$PG_PORT"
PG_OK=$?
ensure Redis redis_up start_redis "127.0.0.1:$REDIS_PORT"

# NATS without JetStream is a distinct failure: a server started without -js holds the port.
if nats_info && [[ "$NATS_INFO" != *'"jetstream":true'* ]]; then
  problem "a NATS server answers on 127.0.0.1:$NATS_PORT but JetStream is disabled: restart it with -js (see infra/nats/nats-server.conf)"
elif ! nats_info && tcp_open 127.0.0.1 "$NATS_PORT"; then
  problem "port $NATS_PORT on 127.0.0.1 is open but does not speak NATS"
else
  ensure "NATS JetStream" nats_up start_nats "127.0.0.1:$NATS_PORT"
fi

# --- the cdp database --------------------------------------------------------------------------
if [ "$PG_OK" = 0 ]; then
  if ! have psql; then
    problem "psql is not installed, so the '$CDP_DB' database cannot be checked: apt-get install -y postgresql-client"
  else
    db_exists() {
      [ "$(psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -XtAc \
        "SELECT 1 FROM pg_database WHERE datname = '$CDP_DB'" 2>/dev/null)" = 1 ]
    }
    if db_exists; then
      say "ok       database $CDP_DB"
    elif [ "$CHECK_ONLY" = 1 ]; then
      problem "database '$CDP_DB' does not exist (run infra/local-services.sh without --check to create it)"
    else
      # CREATE DATABASE cannot be IF NOT EXISTS; a concurrent creator is fine, so re-check on error.
      psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -Xqc "CREATE DATABASE \"$CDP_DB\"" >/dev/null 2>&1 || true
      if db_exists; then say "created  database $CDP_DB"
      else problem "could not create database '$CDP_DB' as $PG_USER@$PG_HOST:$PG_PORT (is trust auth configured for $PG_USER?)"; fi
    fi
  fi
fi

if [ ${#PROBLEMS[@]} -gt 0 ]; then
  echo "local-services: ${#PROBLEMS[@]} problem(s); see above" >&2
  exit 1
fi
say "local services: all up"
