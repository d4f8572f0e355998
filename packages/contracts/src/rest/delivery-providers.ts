import { Type, type Static, type TObject } from '@sinclair/typebox';

const HttpUrl = (description: string) =>
  Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048, description });
const Secret = (description: string) => Type.String({ minLength: 1, maxLength: 16384, description });

function provider<P extends string, S extends TObject, K extends TObject>(
  name: P,
  channel: 'email' | 'sms' | 'push' | 'webhook',
  settings: S,
  secrets: K,
) {
  return {
    channel,
    schema: Type.Object(
      { provider: Type.Literal(name), settings, secrets },
      { additionalProperties: false, description: `Settings of the ${name} ${channel} provider` },
    ),
  };
}

const strict = { additionalProperties: false } as const;

/** Every provider's settings may set the account's own send rate instead of the service default. */
const RateLimitPerSecond = Type.Optional(
  Type.Integer({
    minimum: 1,
    maximum: 100_000,
    description:
      "Sends per second of this workspace's provider account (default DELIVERY_RATE_LIMIT_PER_SECOND)",
  }),
);

/**
 * Body of `PUT /v1/providers/:channel`, one schema per provider. `settings` are stored as given and
 * returned by `GET /v1/providers`; `secrets` are stored encrypted and never returned.
 */
export const DeliveryProviderSchemas = {
  smtp: provider(
    'smtp',
    'email',
    Type.Object(
      {
        rateLimitPerSecond: RateLimitPerSecond,
        host: Type.String({ minLength: 1, maxLength: 255 }),
        port: Type.Integer({ minimum: 1, maximum: 65535 }),
        secure: Type.Optional(
          Type.Boolean({ description: 'Implicit TLS (port 465); otherwise STARTTLS when offered' }),
        ),
        user: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
        from: Type.String({ minLength: 3, maxLength: 320, description: 'From address' }),
        poolSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
      },
      strict,
    ),
    Type.Object({ password: Type.Optional(Secret('SMTP password')) }, strict),
  ),
  sendgrid: provider(
    'sendgrid',
    'email',
    Type.Object(
      {
        rateLimitPerSecond: RateLimitPerSecond,
        from: Type.String({ format: 'email', maxLength: 320 }),
        fromName: Type.Optional(Type.String({ maxLength: 200 })),
        baseUrl: Type.Optional(HttpUrl('API base URL (default https://api.sendgrid.com)')),
      },
      strict,
    ),
    Type.Object({ apiKey: Secret('SendGrid API key') }, strict),
  ),
  twilio: provider(
    'twilio',
    'sms',
    Type.Object(
      {
        rateLimitPerSecond: RateLimitPerSecond,
        accountSid: Type.String({ pattern: '^AC[0-9a-fA-F]{32}$' }),
        from: Type.String({ pattern: '^\\+[1-9]\\d{1,14}$', description: 'Sender number (E.164)' }),
        statusCallbackUrl: Type.Optional(HttpUrl('Where Twilio posts delivery receipts')),
        baseUrl: Type.Optional(HttpUrl('API base URL (default https://api.twilio.com)')),
      },
      strict,
    ),
    Type.Object({ authToken: Secret('Twilio auth token') }, strict),
  ),
  webpush: provider(
    'webpush',
    'push',
    Type.Object(
      {
        rateLimitPerSecond: RateLimitPerSecond,
        vapidSubject: Type.String({ pattern: '^(mailto:|https://)', maxLength: 512 }),
        vapidPublicKey: Type.String({
          pattern: '^[A-Za-z0-9_-]{87}$',
          description: 'P-256 public key, base64url',
        }),
        ttlSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 2419200 })),
      },
      strict,
    ),
    Type.Object(
      {
        vapidPrivateKey: Type.String({
          pattern: '^[A-Za-z0-9_-]{43}$',
          description: 'P-256 private key, base64url',
        }),
      },
      strict,
    ),
  ),
  fcm: provider(
    'fcm',
    'push',
    Type.Object(
      {
        rateLimitPerSecond: RateLimitPerSecond,
        projectId: Type.String({ minLength: 1, maxLength: 128 }),
        clientEmail: Type.String({ format: 'email', description: 'Service account e-mail' }),
        tokenUrl: Type.Optional(
          HttpUrl('OAuth2 token endpoint (default https://oauth2.googleapis.com/token)'),
        ),
        baseUrl: Type.Optional(HttpUrl('FCM base URL (default https://fcm.googleapis.com)')),
      },
      strict,
    ),
    Type.Object(
      {
        privateKey: Type.String({
          pattern: '-----BEGIN PRIVATE KEY-----',
          description: 'Service account key, PKCS#8 PEM',
        }),
      },
      strict,
    ),
  ),
  webhook: provider(
    'webhook',
    'webhook',
    Type.Object(
      {
        rateLimitPerSecond: RateLimitPerSecond,
        url: HttpUrl('Receiver URL'),
        timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60000 })),
      },
      strict,
    ),
    Type.Object(
      { signingSecret: Type.String({ minLength: 16, maxLength: 512, description: 'HMAC-SHA256 key' }) },
      strict,
    ),
  ),
} as const;

export type DeliveryProviderName = keyof typeof DeliveryProviderSchemas;
export const DELIVERY_PROVIDER_NAMES = Object.keys(DeliveryProviderSchemas) as DeliveryProviderName[];

export type DeliveryProviderRequest<P extends DeliveryProviderName = DeliveryProviderName> = Static<
  (typeof DeliveryProviderSchemas)[P]['schema']
>;

/** `GET /v1/providers` item: settings as stored, secret names only (values masked). */
export const DeliveryProviderView = Type.Object({
  channel: Type.String(),
  provider: Type.String(),
  settings: Type.Record(Type.String(), Type.Unknown()),
  secrets: Type.Record(Type.String(), Type.Literal('********')),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type DeliveryProviderView = Static<typeof DeliveryProviderView>;

/** Body of `POST /v1/audiences`: sync a segment to an ad platform audience (customer match format). */
export const CreateAdAudienceRequest = Type.Object(
  {
    segmentId: Type.String({ minLength: 1, maxLength: 64 }),
    provider: Type.Literal('customer_match'),
    externalAudienceId: Type.String({ minLength: 1, maxLength: 256 }),
    settings: Type.Object({ baseUrl: HttpUrl('Ad platform API base URL') }, strict),
    secrets: Type.Object({ accessToken: Secret('Ad platform access token') }, strict),
  },
  strict,
);
export type CreateAdAudienceRequest = Static<typeof CreateAdAudienceRequest>;
