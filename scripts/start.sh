#!/usr/bin/env bash
# Starts the whole platform in the foreground: local services (started where missing), install,
# build, database migration, then the four services as separate processes. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."

bash infra/local-services.sh
bash scripts/setup.sh
echo "==> migrating ${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/cdp}"
pnpm --filter @cdp/db migrate:deploy
cat <<'TXT'
==> starting collection :3001  analysis :3002  campaign :3003  delivery :3004
    create a workspace and keys in another terminal:  pnpm cdp:bootstrap
TXT
exec pnpm exec turbo run start --filter='./apps/*' --ui=stream --concurrency=10
