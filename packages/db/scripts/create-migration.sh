#!/usr/bin/env bash
# Usage: pnpm --filter @cdp/db migration:create <name> [--allow-empty] [--apply]
#
# "Create only" for this machine (see README.md): `prisma migrate dev --create-only` writes the file
# but exits 1 ("null pointer passed to rust") with the WASM schema engine, so diff instead:
#   migrations already in prisma/migrations (replayed on a temporary shadow database)
#   -> prisma/schema.prisma, as SQL, into prisma/migrations/<UTC timestamp>_<name>/migration.sql.
# Review/edit the SQL, then apply it with `pnpm --filter @cdp/db migrate:deploy` (not `migrate dev`:
# it cannot apply a created-but-unapplied migration here). --apply runs migrate:deploy right away.
# An empty diff is refused unless --allow-empty (for hand-written SQL migrations).
set -euo pipefail
cd "$(dirname "$0")/.."

name="" allow_empty=0 apply=0
for arg in "$@"; do
  case "$arg" in
    --allow-empty) allow_empty=1 ;;
    --apply) apply=1 ;;
    -*) echo "unknown option $arg" >&2; exit 2 ;;
    *) name="$arg" ;;
  esac
done
if [[ ! "$name" =~ ^[a-z0-9][a-z0-9_]*$ ]]; then
  echo "usage: $0 <name: lower-case letters, digits, _> [--allow-empty] [--apply]" >&2
  exit 2
fi

prisma=node_modules/.bin/prisma
url="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/cdp}"
# The diff only needs the server (for the shadow database), not the target database itself: connect
# to the `postgres` maintenance database so that this works before the target exists.
diff_url="$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/postgres"; console.log(u.toString())' "$url")"

tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
# stdout is clean SQL; "Loaded Prisma config ..." goes to stderr.
DATABASE_URL="$diff_url" CHECKPOINT_DISABLE=1 "$prisma" migrate diff \
  --from-migrations prisma/migrations --to-schema-datamodel prisma/schema.prisma --script >"$tmp"

if ! grep -qvE '^\s*(--.*)?$' "$tmp"; then
  if [[ $allow_empty -eq 0 ]]; then
    echo "No schema changes: nothing to migrate (use --allow-empty for a hand-written migration)." >&2
    exit 1
  fi
  echo "-- Hand-written migration: $name" >"$tmp"
fi

dir="prisma/migrations/$(date -u +%Y%m%d%H%M%S)_${name}"
mkdir -p "$dir"
cp "$tmp" "$dir/migration.sql"
echo "Created $dir/migration.sql"

if [[ $apply -eq 1 ]]; then
  DATABASE_URL="$url" node scripts/ensure-database.js
  DATABASE_URL="$url" CHECKPOINT_DISABLE=1 "$prisma" migrate deploy
else
  echo "Review it, then apply: pnpm --filter @cdp/db migrate:deploy" >&2
fi
