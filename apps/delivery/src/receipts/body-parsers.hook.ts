import { Readable } from 'node:stream';
import { Injectable, PayloadTooLargeException, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import busboy from 'busboy';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Paths whose exact request bytes a signature covers. */
const SIGNED_PATHS = ['/v1/receipts/sendgrid'];

export type RequestWithRawBody = FastifyRequest & { rawBody?: Buffer };

function clientError(message: string): Error & { statusCode: number } {
  return Object.assign(new Error(message), { statusCode: 400 });
}

/**
 * Body handling the receipts need beyond Nest's JSON and form parsers (which every route shares):
 * the raw bytes of signed webhooks (a re-serialised JSON body would not verify), raw emails
 * (`message/rfc822`) from a mail pipe, and `multipart/form-data` fields, the encoding RFC 8058
 * recommends for one-click unsubscribe POSTs.
 */
@Injectable()
export class BodyParsersHook implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    const limit = fastify.initialConfig.bodyLimit ?? 1024 * 1024;

    fastify.addHook('preParsing', async (request: RequestWithRawBody, _reply, payload) => {
      const path = request.url.split('?')[0] ?? '';
      if (!SIGNED_PATHS.some((p) => path === p || path.startsWith(`${p}/`))) return payload;
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
      (_request, body, done) => done(null, body),
    );

    fastify.addContentTypeParser('multipart/form-data', (request, payload, done) => {
      const fields: Record<string, string> = {};
      let form: busboy.Busboy;
      try {
        form = busboy({
          headers: request.headers,
          limits: { fields: 20, fieldSize: 4096, files: 0, parts: 20 },
        });
      } catch (e) {
        done(clientError(`Invalid multipart/form-data: ${(e as Error).message}`), undefined);
        return;
      }
      form.on('field', (name, value) => {
        fields[name] = value;
      });
      form.on('error', (e: Error) =>
        done(clientError(`Invalid multipart/form-data: ${e.message}`), undefined),
      );
      form.on('close', () => done(null, fields));
      payload.pipe(form);
    });
  }
}
