import type { PayloadOf, Subjects } from '@cdp/contracts';

/** When a stored event counts from: its time, unless the client's clock was ahead of ours. */
export function eventTime(event: PayloadOf<typeof Subjects.eventIngested>): Date {
  const received = new Date(event.receivedAt);
  const occurred = new Date(event.occurredAt);
  // A client clock ahead of ours must not push a decay's or a window's reference time into the future.
  return occurred < received ? occurred : received;
}
