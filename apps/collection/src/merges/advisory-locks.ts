import type { Prisma } from '@cdp/db';

/**
 * Transaction-scoped advisory locks on all `keys` in one statement, taken in the order given
 * (the function scan over the array runs in array order): callers pass them sorted, so two
 * transactions never take the same keys in opposite orders.
 */
export async function advisoryLocks(tx: Prisma.TransactionClient, keys: readonly string[]): Promise<void> {
  if (!keys.length) return;
  await tx.$executeRaw`SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) FROM unnest(${keys}::text[]) AS k`;
}
