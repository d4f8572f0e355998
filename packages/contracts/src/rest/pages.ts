import { Type, type TSchema } from '@sinclair/typebox';

/** A page of a list read newest first: its items and the cursor of the next (older) page. */
export const KeysetPage = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as ?cursor= for the next (older) page; null on the last page',
    }),
  });
