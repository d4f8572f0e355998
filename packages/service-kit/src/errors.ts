import { STATUS_CODES } from 'node:http';
import {
  ArgumentsHost,
  BadRequestException,
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  ServiceUnavailableException,
  type ExceptionFilter,
} from '@nestjs/common';
import type { TSchema, Static } from '@sinclair/typebox';
import { validate } from '@cdp/contracts';
import { MessagingUnavailableError } from '@cdp/messaging';

export const RETRY_AFTER_SECONDS = 5;

/** A dependency (Postgres, Redis, NATS) did not answer: the client should retry later. */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: string,
    cause?: unknown,
  ) {
    super(`${dependency} is unavailable`, { cause });
    this.name = 'DependencyUnavailableError';
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
  'P1001',
  'P1002',
  'P1008',
  'P1017',
  'P2024',
]);

/** Recognises "could not reach a dependency" errors from pg/Prisma, ioredis and NATS. */
export function dependencyOf(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let e: unknown = error;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    if (e instanceof DependencyUnavailableError) return e.dependency;
    if (e instanceof MessagingUnavailableError) return 'nats';
    const { name, code, message } = e as { name?: string; code?: unknown; message?: unknown };
    if (name === 'PrismaClientInitializationError') return 'postgres';
    if (
      name === 'MaxRetriesPerRequestError' ||
      (typeof message === 'string' && /Connection is closed|Stream isn't writeable/.test(message))
    )
      return 'redis';
    if (typeof code === 'string' && CONNECTION_CODES.has(code))
      return /^P|^\d|^57/.test(code) ? 'postgres' : 'dependency';
    if (
      typeof message === 'string' &&
      /Can't reach database server|Connection terminated|connection timeout|timeout exceeded when trying to connect|DatabaseNotReachable/i.test(
        message,
      )
    )
      return 'postgres';
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * One place that turns errors into HTTP answers: HttpExceptions as they are, an unreachable
 * dependency as 503 with Retry-After (so SDKs retry and nothing is dropped), anything else 500.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    const reply = host.switchToHttp().getResponse<{
      status(code: number): unknown;
      header(k: string, v: string): unknown;
      send(body: unknown): unknown;
    }>();
    if (error instanceof ServiceUnavailableException)
      reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const body = error.getResponse();
      reply.status(status);
      // Framework errors (body parsing, size limits) arrive as a bare message: always answer JSON.
      reply.send(
        typeof body === 'string'
          ? { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message: body }
          : body,
      );
      return;
    }
    const dependency = dependencyOf(error);
    if (dependency) {
      this.logger.warn(`${dependency} unavailable, answering 503: ${(error as Error).message}`);
      reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
      reply.status(HttpStatus.SERVICE_UNAVAILABLE);
      reply.send({
        statusCode: 503,
        error: 'Service Unavailable',
        message: `${dependency} is unavailable, retry later`,
      });
      return;
    }
    // Fastify's own client errors (bad JSON, body too large, wrong content type) carry a 4xx statusCode.
    const status = (error as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      reply.status(status);
      reply.send({ statusCode: status, error: 'Bad Request', message: (error as Error).message });
      return;
    }
    this.logger.error(error instanceof Error ? (error.stack ?? error.message) : JSON.stringify(error));
    reply.status(HttpStatus.INTERNAL_SERVER_ERROR);
    reply.send({ statusCode: 500, error: 'Internal Server Error', message: 'Unexpected error' });
  }
}

/** Validates a request body against a contracts schema; 400 with each field path and reason. */
export function parseBody<S extends TSchema>(schema: S, body: unknown): Static<S> {
  const result = validate(schema, body);
  if (result.ok) return result.value;
  throw new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: 'Invalid request body',
    issues: result.issues,
  });
}
