import { Logger as NestLogger, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Static, TObject } from '@sinclair/typebox';
import { Logger } from 'nestjs-pino';
import { Histogram } from 'prom-client';
import type { ServiceName } from '@cdp/contracts';
import { JetStreamServer } from '@cdp/messaging';
import { ConfigError, loadConfig, type BaseConfig } from './config';
import { logRequests } from './service-kit.module';

export interface RunServiceOptions<S extends TObject> {
  service: ServiceName;
  configSchema: S;
  module: (config: Static<S>) => DynamicModule | Type;
  /** Largest request body accepted, in bytes. */
  bodyLimit?: number;
  /** Extra set-up on the app before it listens (content parsers, hooks). */
  configure?: (app: NestFastifyApplication, config: Static<S>) => void | Promise<void>;
}

const httpDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request duration by route and status',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
});

/** Builds the Nest app of one service; `listen: false` leaves it unstarted (tests use inject()). */
export async function createService<S extends TObject>(
  options: RunServiceOptions<S>,
  config: Static<S> & BaseConfig,
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: options.bodyLimit ?? 1024 * 1024, trustProxy: true });
  const app = await NestFactory.create<NestFastifyApplication>(options.module(config), adapter, {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  logRequests(app, options.service, config.LOG_LEVEL);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onResponse', (req, reply, done) => {
    httpDuration
      .labels(req.method, req.routeOptions.url ?? 'unmatched', String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
    done();
  });
  if (config.CONSUMERS)
    app.connectMicroservice<MicroserviceOptions>(
      {
        strategy: new JetStreamServer({
          servers: config.NATS_URL.split(','),
          prefix: config.NATS_PREFIX,
          service: options.service,
        }),
      },
      { inheritAppConfig: true },
    );
  await options.configure?.(app, config);
  return app;
}

/**
 * A service inside the calling process (integration tests): config read from `env`, the app
 * initialised and its JetStream consumers and responders started; requests go through `inject()`.
 */
export async function startServiceInProcess<S extends TObject>(
  options: RunServiceOptions<S>,
  env: Record<string, string>,
): Promise<NestFastifyApplication> {
  const app = await createService(options, loadConfig(options.configSchema, env) as Static<S> & BaseConfig);
  try {
    await app.init();
    await app.startAllMicroservices();
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

/**
 * Starts one service as its own process: config validated first (a bad variable stops it with
 * its name), then HTTP + JetStream consumers; SIGTERM/SIGINT drain everything before exit.
 */
export async function runService<S extends TObject>(
  options: RunServiceOptions<S>,
): Promise<NestFastifyApplication> {
  let config: Static<S> & BaseConfig;
  try {
    config = loadConfig(options.configSchema) as Static<S> & BaseConfig;
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(
        `${JSON.stringify({ level: 'fatal', service: options.service, msg: e.message, problems: e.problems })}\n`,
      );
      process.exit(78); // EX_CONFIG
    }
    throw e;
  }
  const app = await createService(options, config);
  const logger = new NestLogger(options.service);
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.log(`${signal} received, draining`);
      setTimeout(() => {
        logger.error(`shutdown took longer than ${config.SHUTDOWN_TIMEOUT_MS} ms, exiting`);
        process.exit(1);
      }, config.SHUTDOWN_TIMEOUT_MS).unref();
      app
        .close()
        .then(() => process.exit(0))
        .catch((e: unknown) => {
          logger.error(`shutdown failed: ${e instanceof Error ? e.message : String(e)}`);
          process.exit(1);
        });
    });
  }
  await app.startAllMicroservices();
  await app.listen({ port: config.PORT, host: config.HOST });
  logger.log(`${options.service} listening on ${config.HOST}:${config.PORT}`);
  return app;
}
