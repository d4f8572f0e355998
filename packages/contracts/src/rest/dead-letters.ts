import { Type, type Static } from '@sinclair/typebox';

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

export const DeadLetterPage = Type.Object({
  items: Type.Array(DeadLetterView),
  nextCursor: Type.Union([Type.String(), Type.Null()], {
    description: 'Pass as ?cursor= for the next (older) page; null on the last page',
  }),
});
export type DeadLetterPage = Static<typeof DeadLetterPage>;
