import { Readable } from 'node:stream';
import { Injectable, PayloadTooLargeException, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Paths whose exact request bytes a signature covers. */
const SIGNED_PATHS = ['/v1/receipts/sendgrid'];

export type RequestWithRawBody = FastifyRequest & { rawBody?: Buffer };

/**
 * Keeps the raw body of signed webhooks (a re-serialised JSON body would not verify) and accepts
 * raw emails (`message/rfc822`) from a mail pipe. Fastify is configured through the adapter because
 * the JSON parser Nest installs is shared by every route.
 */
@Injectable()
export class RawBodyHook implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    const limit = fastify.initialConfig.bodyLimit ?? 1024 * 1024;
    fastify.addHook('preParsing', async (request: RequestWithRawBody, _reply, payload) => {
      if (
        !SIGNED_PATHS.some(
          (p) => request.url === p || request.url.startsWith(`${p}/`) || request.url.startsWith(`${p}?`),
        )
      )
        return payload;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of payload) {
        size += (chunk as Buffer).length;
        if (size > limit) throw new PayloadTooLargeException(`Body larger than ${limit} bytes`);
        chunks.push(chunk as Buffer);
      }
      request.rawBody = Buffer.concat(chunks);
      const replay = Readable.from([request.rawBody]) as Readable & { receivedEncodedLength?: number };
      replay.receivedEncodedLength = request.rawBody.length;
      return replay;
    });
    fastify.addContentTypeParser(
      ['message/rfc822', 'message/global'],
      { parseAs: 'buffer' },
      (_req, body, done) => done(null, body),
    );
  }
}
