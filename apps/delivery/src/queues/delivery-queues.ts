import type { ChannelName } from '../channels/channel-adapter';

/**
 * BullMQ queue per channel. Jobs already in Redis live under these names: never rename without a
 * migration plan (drain the old queue first, or move its jobs).
 */
export const DELIVERY_QUEUES: Readonly<Record<ChannelName, string>> = {
  email: 'delivery-email',
  sms: 'delivery-sms',
  push: 'delivery-push',
  webhook: 'delivery-webhook',
  ad_audience: 'delivery-ad_audience',
};

/** Key prefix of every BullMQ key, per NATS prefix so parallel test runs never share queues. */
export function bullPrefix(natsPrefix: string): string {
  return `bull:${natsPrefix || 'cdp'}`;
}

/** One message's part of a send job: the ledger id and the rendered content (kept for a replay). */
export interface SendJob {
  messageId: string;
  subject?: string;
  text: string;
  html?: string;
}

/**
 * A batch job: several messages of one workspace and channel (one provider account), each with its
 * own ledger row, and the row's `sendJobId` is this job's id. Jobs from before batching (and
 * replays) carry one {@link SendJob}; their id is the message id.
 */
export interface BatchSendJob {
  messages: SendJob[];
}

export type SendJobData = SendJob | BatchSendJob;

/** The messages of a job, whichever form it has. */
export function messagesOf(data: SendJobData): SendJob[] {
  return 'messages' in data ? data.messages : [data];
}
