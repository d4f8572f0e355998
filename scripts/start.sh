#!/usr/bin/env bash
# Starts the whole platform in the foreground: local services (started where missing), install,
# build, database migration, then the four services as separate processes. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."

bash infra/local-services.sh
bash scripts/setup.sh
# delivery encrypts provider secrets with DELIVERY_SECRET_KEYS. Local runs keep one dev key in a
# gitignored file, so secrets saved in one run still decrypt in the next.
if [ -z "${DELIVERY_SECRET_KEYS:-}" ]; then
  keyfile=.local/delivery-secret-keys
  if [ ! -s "$keyfile" ]; then
    mkdir -p .local
    node -e "console.log('dev:' + require('crypto').randomBytes(32).toString('base64'))" >"$keyfile"
  fi
  DELIVERY_SECRET_KEYS="$(cat "$keyfile")"
  export DELIVERY_SECRET_KEYS
fi
echo "==> migrating ${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/cdp}"
pnpm --filter @cdp/db migrate:deploy
cat <<'TXT'
==> starting collection :3001  analysis :3002  campaign :3003  delivery :3004
    create a workspace and keys in another terminal:  pnpm cdp:bootstrap
TXT
exec pnpm exec turbo run start --filter='./apps/*' --ui=stream --concurrency=10
