#!/usr/bin/env bash
# Runs every test: static checks, unit, integration and end-to-end, against the real local
# Postgres, Redis and NATS. A missing service fails the run (it is started where possible first).
# Each suite creates its own database and NATS prefix and removes them afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

bash infra/local-services.sh
bash scripts/setup.sh
echo "==> typecheck (sources and tests)"
pnpm exec tsc -p tsconfig.check.json
echo "==> lint and format"
pnpm exec eslint . --max-warnings=0
pnpm exec prettier --check . --log-level=warn
echo "==> jest"
pnpm exec jest --ci "$@"
