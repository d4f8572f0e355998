import { Type } from '@sinclair/typebox';
import { configSchema } from '@cdp/service-kit';

export const CollectionConfigSchema = configSchema(3001, {
  NATIONAL_ID_HMAC_SECRET: Type.String({
    minLength: 32,
    description:
      'Master secret (32+ characters) from which the per-workspace HMAC keys for national IDs are derived (HKDF-SHA-256). Secret; changing it breaks matching of stored hashes',
  }),
  MERGE_OUTBOX_SWEEP_MS: Type.Integer({
    minimum: 100,
    default: 5000,
    description: 'How often unannounced identity merges are looked for and published (crash recovery)',
  }),
});
