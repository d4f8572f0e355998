import type { Sql } from '@cdp/db';

/**
 * Transaction-scoped advisory locks on all `keys` in one statement, taken in the order given
 * (the function scan over the array runs in array order): callers pass them sorted, so two
 * transactions never take the same keys in opposite orders.
 */
export async function advisoryLocks(sql: Sql, keys: readonly string[]): Promise<void> {
  if (!keys.length) return;
  await sql.query(
    'SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0)))::int AS n FROM unnest($1::text[]) AS k',
    [keys],
  );
}
