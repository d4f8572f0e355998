import { Type, type Static } from '@sinclair/typebox';

/**
 * SendGrid Event Webhook (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event):
 * a JSON array of events; custom_args of the send come back as top-level fields of each event.
 */
export const SendGridEvent = Type.Object(
  {
    event: Type.String({ minLength: 1, maxLength: 64 }),
    timestamp: Type.Integer({ minimum: 0, description: 'Unix seconds' }),
    email: Type.Optional(Type.String()),
    sg_message_id: Type.Optional(Type.String({ maxLength: 512 })),
    sg_event_id: Type.Optional(Type.String({ maxLength: 512 })),
    cdp_message_id: Type.Optional(
      Type.String({ maxLength: 64, description: 'Our ledger message id, sent as a custom_arg' }),
    ),
    reason: Type.Optional(Type.String()),
    response: Type.Optional(Type.String()),
    status: Type.Optional(Type.String()),
    type: Type.Optional(Type.String()),
    url: Type.Optional(Type.String()),
  },
  { description: 'One SendGrid delivery or engagement event' },
);
export type SendGridEvent = Static<typeof SendGridEvent>;
export const SendGridEventBatch = Type.Array(SendGridEvent, { maxItems: 10_000 });

/** Twilio Messaging status callback (form-encoded). Only the fields we read are listed. */
export const TwilioStatusCallback = Type.Object(
  {
    MessageSid: Type.String({ pattern: '^(SM|MM)[0-9a-fA-F]{32}$' }),
    MessageStatus: Type.String({ minLength: 1, maxLength: 32 }),
    ErrorCode: Type.Optional(Type.String({ maxLength: 16 })),
    AccountSid: Type.Optional(Type.String()),
  },
  { description: 'Twilio message status callback' },
);
export type TwilioStatusCallback = Static<typeof TwilioStatusCallback>;

/** What a receipt endpoint did with what it received. */
export const ReceiptsResult = Type.Object({
  applied: Type.Integer({ description: 'Receipts that matched a message and were recorded' }),
  unmatched: Type.Integer({ description: 'Receipts naming no known message (logged)' }),
  ignored: Type.Integer({
    description: 'Receipts of kinds that do not change the ledger (processed, deferred ...)',
  }),
});
export type ReceiptsResult = Static<typeof ReceiptsResult>;
