import { Type, type Static } from '@sinclair/typebox';
import { KeysetPage } from './pages';

const When = Type.String({ format: 'date-time' });
const WhenOrNull = Type.Union([When, Type.Null()]);
const TextOrNull = Type.Union([Type.String(), Type.Null()]);

/** A message of the send ledger (delivery), as `GET /v1/messages[/:id]` shows it. */
export const MessageView = Type.Object({
  id: Type.String(),
  idempotencyKey: Type.String(),
  campaignId: TextOrNull,
  campaignRunId: TextOrNull,
  customerId: Type.String(),
  channel: Type.String(),
  provider: TextOrNull,
  recipient: Type.String(),
  status: Type.String({
    description: 'queued, sending, sent, delivered, bounced, complained, opened, clicked, failed or unknown',
  }),
  providerMessageId: TextOrNull,
  error: TextOrNull,
  attempts: Type.Integer(),
  requestedAt: When,
  sentAt: WhenOrNull,
  deliveredAt: WhenOrNull,
  openedAt: WhenOrNull,
  clickedAt: WhenOrNull,
  bouncedAt: WhenOrNull,
  complainedAt: WhenOrNull,
  updatedAt: When,
});
export type MessageView = Static<typeof MessageView>;

export const MessagePage = KeysetPage(MessageView);
export type MessagePage = Static<typeof MessagePage>;
