import { Type, type Static } from '@sinclair/typebox';
import { KeysetPage } from './pages';

export const DeadLetterView = Type.Object({
  id: Type.String(),
  messageId: Type.String(),
  queue: Type.String(),
  reason: Type.String(),
  attempts: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  replayedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type DeadLetterView = Static<typeof DeadLetterView>;

export const DeadLetterPage = KeysetPage(DeadLetterView);
export type DeadLetterPage = Static<typeof DeadLetterPage>;
