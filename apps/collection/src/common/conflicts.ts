/** SQLSTATEs (and Prisma codes) of a transaction that lost a race: retrying it is safe and succeeds. */
const CONFLICT_CODES = new Set(['40P01', '40001', '23505', 'P2002', 'P2034']);

/** Whether `error` is a transaction that lost a race (deadlock, serialization, concurrent duplicate). */
export function isConflict(error: unknown): boolean {
  const e = error as {
    code?: unknown;
    meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } };
  } | null;
  const codes = [e?.code, e?.meta?.driverAdapterError?.cause?.originalCode];
  return codes.some((c) => typeof c === 'string' && CONFLICT_CODES.has(c));
}
