import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Global, Module, RequestMethod, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { LoggerModule } from 'nestjs-pino';
import type { Options } from 'pino-http';
import { MessagingModule } from '@cdp/messaging';
import type { ServiceName } from '@cdp/contracts';
import type { BaseConfig } from './config';
import { ApiKeyGuard } from './api-key.guard';
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
          // nestjs-pino's default route pattern matches nothing under Nest 12 + Fastify.
          forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
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
        ApiKeyGuard,
        { provide: APP_FILTER, useClass: HttpErrorFilter },
      ],
      exports: [SERVICE_CONFIG, SERVICE_NAME, DatabaseService, RedisService, ApiKeyGuard],
    };
  }
}
