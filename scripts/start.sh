#!/usr/bin/env bash
# Starts the whole platform in the foreground: local services (started where missing), install,
# build, database migration, then the four services as separate processes. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."

bash infra/local-services.sh
bash scripts/setup.sh
# Secrets the services require: collection's national-ID HMAC master key and delivery's keys
# for provider secrets at rest. Local runs keep dev values in a gitignored folder, so what one
# run stored (hashed IDs, encrypted provider settings) still matches in the next.
dev_secret() { # variable, generator
  local file=".local/$1"
  if [ -z "${!1:-}" ]; then
    if [ ! -s "$file" ]; then
      mkdir -p .local
      node -e "$2" >"$file"
    fi
    export "$1=$(cat "$file")"
  fi
}
dev_secret NATIONAL_ID_HMAC_SECRET "console.log(require('crypto').randomBytes(32).toString('hex'))"
dev_secret DELIVERY_SECRET_KEYS "console.log('dev:' + require('crypto').randomBytes(32).toString('base64'))"
echo "==> migrating ${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/cdp}"
pnpm --filter @cdp/db migrate:deploy
cat <<'TXT'
==> starting collection :3001  analysis :3002  campaign :3003  delivery :3004
    create a workspace and keys in another terminal:  pnpm cdp:bootstrap
TXT
exec pnpm exec turbo run start --filter='./apps/*' --ui=stream --concurrency=10
