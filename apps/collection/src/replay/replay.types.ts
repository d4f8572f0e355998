export const REPLAY_QUEUE = 'collection-replay';

/** Header on every replayed cdp.event.ingested message: the replay it belongs to. */
export const REPLAY_ID_HEADER = 'Cdp-Replay-Id';

/** A replay of a workspace's stored events of a range to cdp.event.ingested. */
export interface EventsReplayJobData {
  kind?: 'events';
  workspaceId: string;
  /** ISO date-time, inclusive. */
  from: string;
  /** ISO date-time, exclusive. */
  to: string;
  eventNames?: string[];
}

/** A replay of every live customer's profile of a workspace to cdp.profile.updated. */
export interface ProfilesReplayJobData {
  kind: 'profiles';
  workspaceId: string;
}

export type ReplayJobData = EventsReplayJobData | ProfilesReplayJobData;

/** Stored as the BullMQ job's progress after every page, so a retried job resumes where it stopped. */
export interface ReplayProgress {
  published: number;
  /** Last published event (received_at ISO, id decimal), or customer (id), null before the first page. */
  cursor: { receivedAt: string; id: string } | { customerId: string } | null;
  done: boolean;
}

export function progressOf(value: unknown): ReplayProgress {
  const p = value as Partial<ReplayProgress> | null;
  return {
    published: typeof p?.published === 'number' ? p.published : 0,
    cursor: p?.cursor ?? null,
    done: p?.done === true,
  };
}
