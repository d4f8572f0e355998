/**
 * Lanes of batches per collection worker process (INGEST_LANES). A batch locks the identifiers and
 * customers of its calls until it commits, so two batches sharing one person wait for each other;
 * calls go to a lane by person (laneOf), so different lanes' batches rarely share a lock. Measured
 * on the 2-core machine while draining a backlog: one batcher (2 flushes, 64 messages in flight)
 * stored ~2,100 events/s, two lanes ~3,500/s; three lanes stored less than two (smaller batches).
 */
export const DEFAULT_LANES = 2;

/**
 * The lane of a call: the same for every call of one person (workspace and userId, else
 * anonymousId), so that person's calls never wait for each other's locks across lanes. Locks keep
 * the resolution correct whatever the lane (an anonymous visitor who later identifies may change
 * lanes); lanes only make two batches sharing a lock rare.
 */
export function laneOf(
  call: { workspaceId: string; userId?: string; anonymousId?: string },
  lanes: number,
): number {
  const person = `${call.workspaceId}|${call.userId ?? call.anonymousId ?? ''}`;
  let hash = 0;
  for (let i = 0; i < person.length; i++) hash = (Math.imul(hash, 31) + person.charCodeAt(i)) | 0;
  return (hash >>> 0) % lanes;
}
