#!/usr/bin/env bash
# Deploy smoke test: for each service, do exactly what infra/docker/Dockerfile does -
# `pnpm --filter @cdp/<app> deploy --prod <dir>` - then start `node dist/main.js` from that folder
# with a clean environment (only the service's variables, as in a container), wait for
# GET /health/ready to answer 200, check /health/live and /metrics, send SIGTERM and require exit
# status 0 within the stop timeout. Proves the deployed folder is self-contained (workspace
# packages' dist folders, production dependencies, the Prisma client) and shuts down cleanly.
#
# Usage: infra/ci/deploy-smoke.sh [DATABASE_URL] [--apps "collection delivery"] [--no-build]
#                                 [--no-migrate] [--keep]
#   DATABASE_URL  database the services use ($1, else $SMOKE_DATABASE_URL, else a local
#                 cdp_smoke_<pid> database created for the run and dropped afterwards)
#   --apps        which services (default: collection analysis campaign delivery)
#   --no-build    the workspace is already built (dist folders exist); skip `pnpm ... run build`
#   --no-migrate  the database is already migrated; skip `pnpm --filter @cdp/db migrate:deploy`
#   --keep        keep the temporary deploy folders and logs (their path is printed)
# Environment: SMOKE_REDIS_URL (redis://127.0.0.1:6379/15), SMOKE_NATS_URL (nats://127.0.0.1:4222),
#   SMOKE_NATS_PREFIX (smoke_<pid>; its streams are deleted afterwards), SMOKE_READY_TIMEOUT (60 s), SMOKE_STOP_TIMEOUT (10 s).
# Prints one PASS/FAIL line per service and a summary; exit 1 on any failure.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
APPS="collection analysis campaign delivery"
BUILD=1
MIGRATE=1
KEEP=0
DB_URL="${SMOKE_DATABASE_URL:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --apps) APPS="${2:?--apps needs a list}"; shift ;;
    --apps=*) APPS="${1#*=}" ;;
    --no-build) BUILD=0 ;;
    --no-migrate) MIGRATE=0 ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    postgres://*|postgresql://*) DB_URL="$1" ;;
    *) echo "deploy-smoke: unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
REDIS_URL="${SMOKE_REDIS_URL:-redis://127.0.0.1:6379/15}"
NATS_URL="${SMOKE_NATS_URL:-nats://127.0.0.1:4222}"
NATS_PREFIX="${SMOKE_NATS_PREFIX:-smoke_$$}"
READY_TIMEOUT="${SMOKE_READY_TIMEOUT:-60}"
STOP_TIMEOUT="${SMOKE_STOP_TIMEOUT:-10}"

for tool in pnpm node curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "deploy-smoke: $tool is not installed" >&2; exit 1; }
done
for app in $APPS; do
  [ -f "$ROOT/apps/$app/package.json" ] || { echo "deploy-smoke: no such service: apps/$app" >&2; exit 2; }
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/cdp-deploy-smoke.XXXXXX")"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  done
  if [ "$KEEP" = 1 ]; then echo "deploy-smoke: kept $TMP"; else rm -rf "$TMP"; fi
  # Leave nothing behind on the shared servers: the run's streams and its own database.
  (cd "$ROOT" && NATS_URL="$NATS_URL" node -e "
    const { connect } = require('@nats-io/transport-node');
    const { jetstreamManager } = require('@nats-io/jetstream');
    (async () => {
      const nc = await connect({ servers: process.env.NATS_URL });
      const jsm = await jetstreamManager(nc);
      for await (const s of jsm.streams.list()) if (s.config.name.startsWith('${NATS_PREFIX}_')) await jsm.streams.delete(s.config.name);
      await nc.close();
    })().catch((e) => { console.error('deploy-smoke: could not delete streams: ' + e.message); });
  ") || true
  if [ -n "$OWN_DB" ]; then
    psql -h 127.0.0.1 -U postgres -d postgres -Xqc "DROP DATABASE IF EXISTS \"$OWN_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "deploy-smoke: $*"; }
now_ms() { date +%s%3N; }
secs_since() { local d=$(( $(now_ms) - $1 )); printf '%d.%01ds' $((d / 1000)) $(((d % 1000) / 100)); }

# --- the database ------------------------------------------------------------------------------
OWN_DB=""
if [ -z "$DB_URL" ]; then
  OWN_DB="cdp_smoke_$$"
  DB_URL="postgresql://postgres@127.0.0.1:5432/$OWN_DB"
  psql -h 127.0.0.1 -U postgres -d postgres -Xqc "CREATE DATABASE \"$OWN_DB\"" >/dev/null 2>&1 || true
fi
log "database $(printf '%s' "${DB_URL%%\?*}" | sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#')"
cd "$ROOT" || exit 1

# --- build (deploy copies dist folders, so they must exist first) -----------------------------
if [ "$BUILD" = 1 ]; then
  filters=()
  for app in $APPS; do filters+=(--filter "@cdp/$app..."); done
  log "building ${APPS// /, } and their workspace packages"
  if ! pnpm "${filters[@]}" run build >"$TMP/build.log" 2>&1; then
    tail -n 40 "$TMP/build.log" >&2
    log "FAIL build (see above)"
    exit 1
  fi
fi

if [ "$MIGRATE" = 1 ]; then
  log "migrating (pnpm --filter @cdp/db migrate:deploy)"
  if ! DATABASE_URL="$DB_URL" pnpm --filter @cdp/db migrate:deploy >"$TMP/migrate.log" 2>&1; then
    tail -n 40 "$TMP/migrate.log" >&2
    log "FAIL migrate (see above)"
    exit 1
  fi
fi

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

http_code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null || true; }

PASSED=0
FAILED=0
fail() { # app message logfile
  echo "FAIL $1: $2"
  if [ -n "${3:-}" ] && [ -s "$3" ]; then echo "---- last lines of $3"; tail -n 30 "$3"; echo "----"; fi
  FAILED=$((FAILED + 1))
}

smoke_one() {
  local app="$1"
  local dir="$TMP/$app" logf="$TMP/$app.log" t0 port pid code status

  # 1. pnpm deploy --prod, exactly as the Dockerfile's build stage.
  t0=$(now_ms)
  if ! pnpm --filter "@cdp/$app" deploy --prod "$dir" >"$TMP/$app.deploy.log" 2>&1; then
    fail "$app" "pnpm deploy --prod failed" "$TMP/$app.deploy.log"; return
  fi
  if [ ! -f "$dir/dist/main.js" ]; then
    fail "$app" "deployed folder has no dist/main.js (was apps/$app built?)"; return
  fi
  local missing=""
  for dep in "$dir"/node_modules/@cdp/*; do
    [ -e "$dep" ] || continue
    [ -d "$dep/dist" ] || missing+=" @cdp/$(basename "$dep")"
  done
  if [ -n "$missing" ]; then
    fail "$app" "workspace packages deployed without their dist folder:$missing"; return
  fi
  local deployed_in size
  deployed_in=$(secs_since "$t0")
  size=$(du -sh "$dir" 2>/dev/null | cut -f1)

  # 2. Start it the way the container does: `node --max-semi-space-size=32 dist/main.js` in the
  # folder, clean environment.
  port=$(free_port)
  local -a env=(
    "PATH=$PATH" "HOME=${HOME:-/tmp}" NODE_ENV=production
    "PORT=$port" HOST=127.0.0.1
    "DATABASE_URL=$DB_URL" "REDIS_URL=$REDIS_URL" "NATS_URL=$NATS_URL" "NATS_PREFIX=$NATS_PREFIX"
    LOG_LEVEL=warn "SHUTDOWN_TIMEOUT_MS=$(( (STOP_TIMEOUT - 2) * 1000 ))"
  )
  case "$app" in
    collection) env+=("NATIONAL_ID_HMAC_SECRET=$(openssl rand -hex 32)") ;;
    delivery) env+=(SMTP_HOST=127.0.0.1 SMTP_PORT=2525 "SMTP_FROM=CDP smoke <smoke@cdp.local>" "DELIVERY_SECRET_KEYS=smoke:$(openssl rand -base64 32)") ;;
  esac
  t0=$(now_ms)
  (cd "$dir" && exec env -i "${env[@]}" node --max-semi-space-size=32 dist/main.js) >"$logf" 2>&1 &
  pid=$!
  PIDS+=("$pid")

  # 3. Wait for readiness.
  code=""
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid"; status=$?
      fail "$app" "exited with status $status before /health/ready answered 200" "$logf"; return
    fi
    code=$(http_code "http://127.0.0.1:$port/health/ready")
    [ "$code" = 200 ] && break
    if [ $(( $(now_ms) - t0 )) -ge $((READY_TIMEOUT * 1000)) ]; then
      kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
      fail "$app" "/health/ready did not answer 200 within ${READY_TIMEOUT}s (last: ${code:-no answer})" "$logf"; return
    fi
    sleep 0.5
  done
  local ready_in
  ready_in=$(secs_since "$t0")
  local live metrics
  live=$(http_code "http://127.0.0.1:$port/health/live")
  metrics=$(http_code "http://127.0.0.1:$port/metrics")
  if [ "$live" != 200 ] || [ "$metrics" != 200 ]; then
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    fail "$app" "ready, but /health/live answered ${live:-nothing} and /metrics ${metrics:-nothing}" "$logf"; return
  fi

  # 4. Graceful stop: SIGTERM, exit 0 within the stop timeout.
  t0=$(now_ms)
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    if [ $(( $(now_ms) - t0 )) -ge $((STOP_TIMEOUT * 1000)) ]; then
      kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
      fail "$app" "still running ${STOP_TIMEOUT}s after SIGTERM (killed)" "$logf"; return
    fi
    sleep 0.1
  done
  wait "$pid"; status=$?
  if [ "$status" != 0 ]; then
    fail "$app" "exited with status $status after SIGTERM (want 0)" "$logf"; return
  fi
  echo "PASS $app: deployed in $deployed_in ($size), ready in $ready_in on :$port, live+metrics 200, SIGTERM -> exit 0 in $(secs_since "$t0")"
  PASSED=$((PASSED + 1))
}

for app in $APPS; do smoke_one "$app"; done

echo "deploy-smoke: $PASSED of $((PASSED + FAILED)) services deployed, started and stopped cleanly"
[ "$FAILED" = 0 ]
