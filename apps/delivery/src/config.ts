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
  DELIVERY_SECRET_KEYS: Type.String({
    pattern: '^[A-Za-z0-9_-]+:[A-Za-z0-9+/]{43}=(,[A-Za-z0-9_-]+:[A-Za-z0-9+/]{43}=)*$',
    description:
      'AES-256-GCM keys for provider secrets at rest: "<keyId>:<base64 32 bytes>[,...]"; the first encrypts, all decrypt (rotation)',
  }),
  PROVIDER_CACHE_TTL_MS: Type.Integer({
    minimum: 0,
    maximum: 3_600_000,
    default: 30_000,
    description: "How long a workspace's provider settings are cached before they are read again",
  }),
  PROVIDER_HTTP_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 120_000,
    default: 15_000,
    description:
      'Timeout of one HTTP call to a provider (SendGrid, Twilio, FCM, web push, webhook, ad platform)',
  }),
  AUDIENCE_BATCH_SIZE: Type.Integer({
    minimum: 1,
    maximum: 10_000,
    default: 500,
    description: 'Most members sent to an ad platform in one add or remove call',
  }),
  AUDIENCE_BATCH_WAIT_MS: Type.Integer({
    minimum: 0,
    maximum: 60_000,
    default: 200,
    description: 'How long segment changes are gathered before a batch is sent to the ad platform',
  }),
  DELIVERY_PUBLIC_BASE_URL: Type.String({
    pattern: '^https?://[^/?#]+(/[^?#]*)?$',
    default: 'http://127.0.0.1:3004',
    description:
      'Public base URL of this service as recipients and providers reach it (tracking links, unsubscribe, Twilio signature URL)',
  }),
  DELIVERY_LINK_SECRET: Type.Optional(
    Type.String({
      minLength: 32,
      description:
        'HMAC-SHA256 key of open/click/unsubscribe tokens (at least 32 characters); tracking and unsubscribe are off without it',
    }),
  ),
  SENDGRID_WEBHOOK_PUBLIC_KEY: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'SendGrid signed Event Webhook verification key (base64 DER or PEM) for every workspace',
    }),
  ),
  SENDGRID_WEBHOOK_PUBLIC_KEYS: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+(,[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+)*$',
      description:
        'Per-workspace SendGrid verification keys, "workspaceId:base64DerKey,..." (for POST /v1/receipts/sendgrid/:workspaceId)',
    }),
  ),
  TWILIO_AUTH_TOKEN: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'Twilio auth token that signs status callbacks (X-Twilio-Signature)',
    }),
  ),
  DSN_WEBHOOK_TOKEN: Type.Optional(
    Type.String({
      minLength: 32,
      description: 'Bearer token the mail pipe sends with POST /v1/receipts/dsn (at least 32 characters)',
    }),
  ),
  DSN_SMTP_PORT: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 65_535,
      description:
        'Port of an SMTP listener that takes bounces (RFC 3464 DSNs) straight from an MTA, e.g. as the MX of the Return-Path domain; unset: no listener',
    }),
  ),
  DSN_SMTP_HOST: Type.String({ default: '0.0.0.0', description: 'Address the DSN SMTP listener binds' }),
  NODE_ENV: Type.String({ default: 'development', description: 'production refuses DELIVERY_FAULTS' }),
  DELIVERY_WORKER_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 500,
    default: 10,
    description: 'Jobs each channel worker runs at once (a batch job sends its messages at once)',
  }),
  DELIVERY_BATCH_SIZE: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: 50,
    description:
      'Most messages of one workspace and channel carried by one send job (requests arriving together are batched)',
  }),
  DELIVERY_BATCH_WAIT_MS: Type.Integer({
    minimum: 0,
    maximum: 1000,
    default: 5,
    description: 'How long delivery requests are gathered into one ledger write and batch jobs',
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
  DELIVERY_LOST_JOB_GRACE_MS: Type.Integer({
    minimum: 0,
    maximum: 3_600_000,
    default: 60_000,
    description:
      'After Redis restarted (a new run id), how long to wait before settling the messages whose send job it lost (queued: failed, sending: unknown)',
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
