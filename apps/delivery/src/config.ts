import { Type, type Static } from '@sinclair/typebox';
import { configSchema } from '@cdp/service-kit';

export const DeliveryConfigSchema = configSchema(3004, {
  SMTP_HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'SMTP relay host' }),
  SMTP_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 1025, description: 'SMTP relay port' }),
  SMTP_SECURE: Type.Boolean({
    default: false,
    description: 'Use implicit TLS (port 465 style); otherwise STARTTLS when offered',
  }),
  SMTP_USER: Type.Optional(Type.String({ description: 'SMTP user name' })),
  SMTP_PASSWORD: Type.Optional(Type.String({ description: 'SMTP password' })),
  SMTP_POOL_SIZE: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 5,
    description: 'Pooled SMTP connections',
  }),
  SMTP_FROM: Type.String({
    minLength: 3,
    default: 'CDP <no-reply@cdp.local>',
    description: 'From address of emails',
  }),
  NODE_ENV: Type.String({ default: 'development', description: 'production refuses DELIVERY_FAULTS' }),
  DELIVERY_WORKER_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 500,
    default: 10,
    description: 'Jobs each channel worker sends at once',
  }),
  DELIVERY_MAX_ATTEMPTS: Type.Integer({
    minimum: 1,
    maximum: 50,
    default: 5,
    description: 'Send attempts of a message before it is failed and dead-lettered',
  }),
  DELIVERY_BACKOFF_MS: Type.Integer({
    minimum: 10,
    maximum: 3_600_000,
    default: 2000,
    description: 'First retry delay; doubles each attempt (a provider Retry-After wins)',
  }),
  DELIVERY_RATE_LIMIT_PER_SECOND: Type.Integer({
    minimum: 1,
    maximum: 100_000,
    default: 50,
    description: 'Sends per second per provider account (workspace and provider)',
  }),
  DELIVERY_JOB_LOCK_MS: Type.Integer({
    minimum: 1000,
    maximum: 600_000,
    default: 30_000,
    description: "Lock of a running job; a crashed worker's jobs are picked up again after it",
  }),
  DELIVERY_KEEP_COMPLETED_JOBS: Type.Integer({
    minimum: 0,
    default: 1000,
    description: 'Finished jobs kept in Redis per queue (also at most one day old)',
  }),
  DELIVERY_KEEP_FAILED_JOBS: Type.Integer({
    minimum: 0,
    default: 5000,
    description:
      'Failed jobs kept in Redis per queue (also at most seven days old); dead letters stay in Postgres',
  }),
  DELIVERY_FALLBACK_LOCALE: Type.String({
    minLength: 2,
    default: 'en',
    description: 'Template locale used when the requested one has no variant',
  }),
  DELIVERY_FAULTS: Type.String({
    default: '',
    pattern: '^((after-claim|after-provider-accept|before-status-publish)(:[0-9.]+)?(,|$))*$',
    description:
      'Test only: crash points, e.g. "after-claim,after-provider-accept:0.01" (kill -9 at the first pass, or with a probability; an integer N = at the Nth pass)',
  }),
});
export type DeliveryConfig = Static<typeof DeliveryConfigSchema>;
