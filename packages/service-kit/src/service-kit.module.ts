import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Global, Module, RequestMethod, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { LoggerModule } from 'nestjs-pino';
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

export function requestIdOf(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
  res.setHeader('x-request-id', id);
  return id;
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
          pinoHttp: {
            level: config.LOG_LEVEL,
            base: { service },
            genReqId: requestIdOf,
            autoLogging: { ignore: (req) => req.url === '/metrics' || (req.url ?? '').startsWith('/health') },
            redact: ['req.headers.authorization', 'req.headers.cookie'],
          },
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
