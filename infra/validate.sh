#!/usr/bin/env bash
# Validates everything under infra/ with tools that run without a Docker engine or a cluster:
#   shell      bash -n (and shellcheck when installed) on infra's scripts
#   compose    `docker compose config -q` (compose v2 plugin) or `docker-compose config -q`
#              (Debian's docker-compose 1.29: same compose-spec schema check, no engine needed)
#   nats       `nats-server -t` on infra/nats/nats-server.conf (a 2.9 server cannot parse
#              sync_interval, which came in 2.10: it then tests the file without that key)
#   dockerfile infra/docker/check-dockerfile.mjs (parse + this repo's rules); hadolint if present
#   k8s        infra/k8s/validate.mjs: kubectl kustomize (offline) + Kubernetes schemas
#              (kubernetes-models) + this repo's rules, for the base and every overlay
# Usage: infra/validate.sh [--strict] [--install]
#   --strict   a check whose tool is missing fails instead of being skipped
#   --install  install missing Debian tools first (docker-compose shellcheck; needs root + apt)
# Ends with "N passed, N failed, N skipped"; exit 1 when anything failed.
set -uo pipefail

INFRA="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$INFRA")"
STRICT=0
INSTALL=0
for a in "$@"; do
  case "$a" in
    --strict) STRICT=1 ;;
    --install) INSTALL=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "validate: unknown argument $a" >&2; exit 2 ;;
  esac
done

PASS=0 FAIL=0 SKIP=0
TMP="$(mktemp -d "${TMPDIR:-/tmp}/cdp-infra-validate.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
have() { command -v "$1" >/dev/null 2>&1; }
pass() { echo "PASS $1"; PASS=$((PASS + 1)); }
fail() { echo "FAIL $1"; [ -s "$TMP/out" ] && sed 's/^/     /' "$TMP/out"; FAIL=$((FAIL + 1)); }
skip() {
  if [ "$STRICT" = 1 ]; then echo "FAIL $1 (tool missing; --strict)"; FAIL=$((FAIL + 1))
  else echo "SKIP $1"; SKIP=$((SKIP + 1)); fi
}
run() { "$@" >"$TMP/out" 2>&1; }

if [ "$INSTALL" = 1 ] && have apt-get; then
  missing=()
  have shellcheck || missing+=(shellcheck)
  if ! docker compose version >/dev/null 2>&1 && ! have docker-compose; then missing+=(docker-compose); fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "validate: installing ${missing[*]}"
    # --no-install-recommends: docker-compose would otherwise pull in the whole docker.io engine.
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >"$TMP/apt.log" 2>&1 \
      || { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >"$TMP/apt.log" 2>&1; } \
      || { echo "validate: apt-get install ${missing[*]} failed"; tail -n 5 "$TMP/apt.log"; }
  fi
fi

# --- shell scripts -----------------------------------------------------------------------------
mapfile -t scripts < <(find "$INFRA" -name '*.sh' -type f | sort)
if run bash -c 'for f in "$@"; do bash -n "$f" || exit 1; done' _ "${scripts[@]}"; then
  pass "shell syntax (${#scripts[@]} scripts)"
else fail "shell syntax"; fi
if have shellcheck; then
  if run shellcheck -x "${scripts[@]}"; then pass "shellcheck"; else fail "shellcheck"; fi
else skip "shellcheck (apt-get install shellcheck)"; fi

# --- compose -----------------------------------------------------------------------------------
# The secrets are required at run time (${VAR:?}); give a dummy one for the schema check.
export NATIONAL_ID_HMAC_SECRET="${NATIONAL_ID_HMAC_SECRET:-validate-only}"
export DELIVERY_SECRET_KEYS="${DELIVERY_SECRET_KEYS:-validate-only}"
COMPOSE="$INFRA/compose.yaml"
if docker compose version >/dev/null 2>&1; then
  if run docker compose -f "$COMPOSE" config -q; then pass "compose.yaml (docker compose config -q)"; else fail "compose.yaml (docker compose config)"; fi
elif have docker-compose; then
  if run docker-compose -f "$COMPOSE" config -q; then
    pass "compose.yaml (docker-compose $(docker-compose version --short 2>/dev/null) config -q)"
  else fail "compose.yaml (docker-compose config)"; fi
else skip "compose.yaml (no docker compose plugin nor docker-compose: apt-get install --no-install-recommends docker-compose)"; fi

# --- NATS config -------------------------------------------------------------------------------
NATS_BIN="$(command -v nats-server || echo /usr/sbin/nats-server)"
if [ -x "$NATS_BIN" ]; then
  ver="$("$NATS_BIN" --version 2>/dev/null | sed -E 's/.*v([0-9]+\.[0-9]+).*/\1/')"
  mkdir -p "$TMP/js"
  sed "s|\"/data/jetstream\"|\"$TMP/js\"|" "$INFRA/nats/nats-server.conf" >"$TMP/nats.conf"
  note=""
  if [ "$ver" != 2.10 ] && printf '%s\n2.10\n' "$ver" | sort -V -C; then # older than 2.10
    grep -v '^[[:space:]]*sync_interval:' "$TMP/nats.conf" >"$TMP/nats-old.conf" && mv "$TMP/nats-old.conf" "$TMP/nats.conf"
    note=", without sync_interval: nats-server $ver predates it"
  fi
  if grep -q '^[[:space:]]*sync_interval:' "$INFRA/nats/nats-server.conf" && run "$NATS_BIN" -c "$TMP/nats.conf" -t; then
    pass "nats-server.conf (nats-server $ver -t$note)"
  else fail "nats-server.conf (nats-server $ver -t; sync_interval must be set)"; fi
else skip "nats-server.conf (apt-get install nats-server)"; fi

# --- Dockerfile --------------------------------------------------------------------------------
if run node "$INFRA/docker/check-dockerfile.mjs"; then pass "Dockerfile ($(sed -n 's/^ok: [^(]*(\(.*\))$/\1/p' "$TMP/out"))"
else fail "Dockerfile (check-dockerfile.mjs)"; fi
if have hadolint; then
  if run hadolint "$INFRA/docker/Dockerfile"; then pass "hadolint"; else fail "hadolint"; fi
fi

# --- Kubernetes --------------------------------------------------------------------------------
if ! have kubectl; then skip "k8s (kubectl not installed)"
elif [ ! -d "$ROOT/node_modules/kubernetes-models" ] || [ ! -d "$ROOT/node_modules/yaml" ]; then
  skip "k8s (root devDependencies kubernetes-models and yaml not installed: pnpm install)"
elif run node "$INFRA/k8s/validate.mjs"; then
  pass "k8s: $(grep -c '^ok' "$TMP/out") renders valid ($(sed -n 's/^ok   infra\/k8s\/\([^:]*\):.*/\1/p' "$TMP/out" | paste -sd, -))"
else fail "k8s (validate.mjs)"; fi

echo "validate: $PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
