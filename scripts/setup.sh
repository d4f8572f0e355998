#!/usr/bin/env bash
# Installs what the platform needs on a machine that has only Node: pnpm, the workspace's
# packages (offline-safe: no install scripts, no Prisma engine downloads), the Prisma client,
# and the build of every package and service.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pnpm >/dev/null 2>&1; then
  echo "==> installing pnpm 12 (npm i -g pnpm@12)"
  npm install --global pnpm@12 --no-fund --no-audit >/dev/null
fi
echo "==> pnpm install"
pnpm install --frozen-lockfile --reporter=append-only
echo "==> build (Prisma client + TypeScript)"
pnpm exec turbo run build --output-logs=errors-only --ui=stream
