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
