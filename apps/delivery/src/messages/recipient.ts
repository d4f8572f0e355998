import type { ChannelName } from '../channels/channel-adapter';

// Deliberately plain checks: they catch what no provider would accept, providers judge the rest.
const EMAIL = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:"]{2,}$/;
const E164 = /^\+[1-9]\d{6,14}$/;

/** Why a recipient can never be sent to on the channel, or undefined when it looks sendable. */
export function recipientProblem(channel: ChannelName, recipient: string): string | undefined {
  if (channel === 'email' && !EMAIL.test(recipient)) return `invalid email address "${recipient}"`;
  if (channel === 'sms' && !E164.test(recipient))
    return `invalid phone number "${recipient}" (E.164 expected, e.g. +41791234567)`;
  if (channel === 'webhook' && !/^https?:\/\/\S+$/.test(recipient))
    return `invalid webhook URL "${recipient}"`;
  return undefined;
}
