import { BadRequestException } from '@nestjs/common';

/** 400 with one field path and reason, the shape every endpoint uses for bad input. */
export function invalidInput(path: string, reason: string, message = 'Invalid request'): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message,
    issues: [{ path, reason }],
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID path parameter as given; 400 at `/<name>` when it is not one. */
export function uuidParam(value: string, name: string): string {
  if (!UUID.test(value)) throw invalidInput(`/${name}`, 'a UUID', 'Invalid path');
  return value;
}

/** Reads an optional integer query parameter within bounds. */
export function queryInteger(
  value: string | undefined,
  name: string,
  bounds: { min: number; max: number; default: number },
): number {
  if (value === undefined) return bounds.default;
  const n = Number(value);
  if (!Number.isInteger(n) || n < bounds.min || n > bounds.max)
    throw invalidInput(`/${name}`, `an integer from ${bounds.min} to ${bounds.max}`, 'Invalid query');
  return n;
}

/** A keyset page cursor: the (time, id) of the last row of a page, newest first. Opaque to callers. */
function keysetCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

/** Reads a {@link keysetCursor}; 400 at `/cursor` when it is not one. */
function readKeysetCursor(cursor: string): { at: Date; id: string } {
  const [time, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const at = new Date(time ?? '');
  if (!id || Number.isNaN(at.getTime())) throw invalidInput('/cursor', 'not a cursor from a previous page');
  return { at, id };
}

/**
 * The `where` part of a keyset page query ordered by (`field`, id) descending: the rows older than
 * the cursor's row, or every row without a cursor. A cursor that is not one is a 400 at `/cursor`.
 */
export function olderThanCursor<K extends string>(
  field: K,
  cursor: string | undefined,
): { OR?: ({ [P in K]: { lt: Date } } | ({ [P in K]: Date } & { id: { lt: string } }))[] } {
  if (cursor === undefined) return {};
  const { at, id } = readKeysetCursor(cursor);
  return {
    OR: [
      { [field]: { lt: at } } as { [P in K]: { lt: Date } },
      { [field]: at, id: { lt: id } } as { [P in K]: Date } & { id: { lt: string } },
    ],
  };
}

/**
 * A page out of the `limit + 1` rows a keyset query read (ordered by time, then id, descending):
 * the first `limit`, and the cursor of the next page when there was one more row.
 */
export function keysetPage<T extends { id: string }>(
  rows: T[],
  limit: number,
  timeOf: (row: T) => Date,
): { rows: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, nextCursor: rows.length > limit && last ? keysetCursor(timeOf(last), last.id) : null };
}

/** Reads an optional query parameter that must be one of `allowed`; 400 at `/<name>` otherwise. */
export function queryEnum<T extends string>(
  value: string | undefined,
  name: string,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw invalidInput(`/${name}`, `one of ${allowed.join(', ')}`, 'Invalid query');
  return value as T;
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Reads an optional ISO 8601 date-time query parameter; 400 at `/<name>` otherwise. */
export function queryDateTime(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (!ISO_DATE_TIME.test(value) || Number.isNaN(at.getTime()))
    throw invalidInput(`/${name}`, 'an ISO 8601 date-time', 'Invalid query');
  return at;
}
