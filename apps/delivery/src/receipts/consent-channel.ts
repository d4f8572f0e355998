import type { CONSENT_CHANNELS } from '@cdp/contracts';

type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

/** Consent channels an unsubscribe or a complaint can withdraw; other delivery channels withdraw `any`. */
const CONSENT_CHANNEL: Record<string, ConsentChannel> = { email: 'email', sms: 'sms', push: 'push' };

/** The consent channel a message's (delivery) channel answers to. */
export const consentChannelOf = (channel: string): ConsentChannel => CONSENT_CHANNEL[channel] ?? 'any';
