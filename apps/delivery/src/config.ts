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
});
export type DeliveryConfig = Static<typeof DeliveryConfigSchema>;
