import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { BadRequestException, HttpException, HttpStatus, PayloadTooLargeException } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MAX_BATCH_BYTES, MAX_WIRE_BYTES } from './tracking-limits';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

interface RequestHeaders {
  url?: string;
  headers: Record<string, string | string[] | undefined>;
}

const TRACKING_ROUTE = /^\/v1\/(identify|track|page|screen|group|alias|batch|import)\/?(\?|$)/;

/** Segment's 500 KB on the tracking API; other routes (management, bulk imports) keep the wire limit. */
export function decompressedLimitOf(url: string | undefined): number {
  return TRACKING_ROUTE.test(url ?? '') ? MAX_BATCH_BYTES : MAX_WIRE_BYTES;
}

function tooLarge(limit: number): PayloadTooLargeException {
  return new PayloadTooLargeException({
    statusCode: 413,
    error: 'Payload Too Large',
    message: `Request body is larger than ${limit} bytes once decompressed`,
  });
}

function badBody(message: string): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message,
    issues: [{ path: '/', reason: message }],
  });
}

/**
 * Undoes Content-Encoding. `maxOutputLength` stops zlib as soon as the output passes the
 * limit, so a small gzip bomb cannot inflate into memory.
 */
async function decode(body: Buffer, encoding: string, limit: number): Promise<Buffer> {
  const inflater =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? gunzipAsync
      : encoding === 'deflate'
        ? inflateAsync
        : undefined;
  if (encoding === '' || encoding === 'identity') return body;
  if (!inflater)
    throw new HttpException(
      {
        statusCode: 415,
        error: 'Unsupported Media Type',
        message: `Content-Encoding "${encoding}" is not supported: send gzip or no encoding`,
      },
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
    );
  try {
    return await inflater(body, { maxOutputLength: limit + 1 });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit);
    throw badBody(`Body is not valid ${encoding} data: ${(error as Error).message}`);
  }
}

/** Parses a request body as JSON whatever its content type (SDKs send text/plain too). */
export async function parseTrackingBody(request: RequestHeaders, raw: Buffer): Promise<unknown> {
  const header = request.headers['content-encoding'];
  const encoding = (Array.isArray(header) ? header.join(',') : (header ?? '')).trim().toLowerCase();
  const limit = decompressedLimitOf(request.url);
  const body = await decode(raw, encoding, limit);
  if (body.length > limit) throw tooLarge(limit);
  if (body.length === 0) return undefined;
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw badBody(`Malformed JSON: ${(error as Error).message}`);
  }
  return parsed;
}

/**
 * Replaces Fastify's JSON-only parsers: every content type, gzip or plain, up to the wire limit.
 * Registered through Nest so its own default parsers stay out of the way.
 */
export function registerTrackingBodyParser(app: NestFastifyApplication): void {
  app.getHttpAdapter().getInstance().removeAllContentTypeParsers();
  app.useBodyParser('*', { bodyLimit: MAX_WIRE_BYTES }, (request: RequestHeaders, raw: Buffer) =>
    parseTrackingBody(request, raw),
  );
}
