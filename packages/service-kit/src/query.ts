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
export function keysetCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

/** Reads a {@link keysetCursor}; 400 at `/cursor` when it is not one. */
export function readKeysetCursor(cursor: string): { at: Date; id: string } {
  const [time, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const at = new Date(time ?? '');
  if (!id || Number.isNaN(at.getTime())) throw invalidInput('/cursor', 'not a cursor from a previous page');
  return { at, id };
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
