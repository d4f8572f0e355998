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
