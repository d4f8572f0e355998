import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { LoggerModule, PinoLogger } from 'nestjs-pino';
import { pinoHttp, type Options } from 'pino-http';
import { MessagingModule } from '@cdp/messaging';
import type { ServiceName } from '@cdp/contracts';
import type { BaseConfig } from './config';
import { ApiKeyGuard, ApiKeys } from './api-key.guard';
import { ApiKeyUseReporter } from './api-key-uses';
import { DatabaseService } from './database.service';
import { HttpErrorFilter } from './errors';
import { HealthController } from './health.controller';
import { RedisService } from './redis.service';
import { SERVICE_CONFIG, SERVICE_NAME } from './tokens';

export interface ServiceKitOptions {
  service: ServiceName;
  config: BaseConfig;
}

/**
 * What a log line says of a request: an allow-list, so credentials (Authorization, cookies, write
 * keys) never reach the logs. pino-http binds it to a child logger at the start of every request,
 * eagerly serialized; a few fields keep that cheap on the tracking hot path (the whole header set
 * with redaction cost ~4% of the API tier's CPU).
 */
export function requestSummary(req: SerializedRequest) {
  return {
    id: req.id,
    method: req.method,
    url: req.url,
    remoteAddress: req.remoteAddress,
    userAgent: req.headers['user-agent'],
  };
}

/** The request as pino's standard serializer hands it to a custom one. */
interface SerializedRequest {
  id: unknown;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  remoteAddress?: string;
}

export function requestIdOf(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
  res.setHeader('x-request-id', id);
  return id;
}

/** pino-http's options: JSON request logs with the request id and what requestSummary keeps. */
export function httpLoggerOptions(service: ServiceName, level: string): Options {
  return {
    level,
    base: { service },
    genReqId: requestIdOf,
    autoLogging: { ignore: (req) => req.url === '/metrics' || (req.url ?? '').startsWith('/health') },
    serializers: { req: requestSummary },
  };
}

/**
 * One JSON log line per request (pino-http, httpLoggerOptions) from a Fastify hook, on the root
 * logger nestjs-pino built from the same options. Log lines written while a request is handled
 * do not carry its id: that would take an AsyncLocalStorage context per request (see forRoot).
 */
export function logRequests(app: NestFastifyApplication, service: ServiceName, level: string): void {
  const log = pinoHttp({
    ...httpLoggerOptions(service, level),
    ...(PinoLogger.root && { logger: PinoLogger.root }),
  });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (req, reply, done) => {
      log(req.raw, reply.raw);
      done();
    });
}

/**
 * Everything a CDP service runs on: validated config, JSON logs with request ids, Prometheus
 * metrics, health probes, Postgres, Redis, NATS JetStream, and one error-to-HTTP mapping.
 */
@Global()
@Module({})
export class ServiceKitModule {
  static forRoot({ service, config }: ServiceKitOptions): DynamicModule {
    return {
      module: ServiceKitModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: httpLoggerOptions(service, config.LOG_LEVEL),
          // No nestjs-pino middleware: it runs every request inside an AsyncLocalStorage, which
          // turns on Node's promise hooks for every promise of the process (~13% of the tracking
          // API's CPU). Request logs come from a Fastify hook instead (logRequests, createService).
          forRoutes: [],
        }),
        PrometheusModule.register({
          path: '/metrics',
          defaultMetrics: { enabled: true },
          defaultLabels: { service },
        }),
        TerminusModule.forRoot({ logger: false }),
        MessagingModule.forRoot({ servers: config.NATS_URL.split(','), prefix: config.NATS_PREFIX, service }),
      ],
      controllers: [HealthController],
      providers: [
        { provide: SERVICE_CONFIG, useValue: config },
        { provide: SERVICE_NAME, useValue: service },
        DatabaseService,
        RedisService,
        ApiKeys,
        ApiKeyGuard,
        ApiKeyUseReporter,
        { provide: APP_FILTER, useClass: HttpErrorFilter },
      ],
      exports: [SERVICE_CONFIG, SERVICE_NAME, DatabaseService, RedisService, ApiKeys, ApiKeyGuard],
    };
  }
}
