import { Type } from '@sinclair/typebox';
import { configSchema } from '@cdp/service-kit';
import { DEFAULT_LANES } from './ingest/lanes';

export const CollectionConfigSchema = configSchema(3001, {
  NATIONAL_ID_HMAC_SECRET: Type.String({
    minLength: 32,
    description:
      'Master secret (32+ characters) from which the per-workspace HMAC keys for national IDs are derived (HKDF-SHA-256). Secret; changing it breaks matching of stored hashes',
  }),
  DEDUP_RETENTION_HOURS: Type.Integer({
    minimum: 24,
    default: 48,
    description:
      'How long the messageId of a stored event keeps a retried call with the same messageId from being stored again (event_message_ids rows; older ones are deleted every hour by the worker tier)',
  }),
  INGEST_LANES: Type.Integer({
    minimum: 1,
    maximum: 8,
    default: DEFAULT_LANES,
    description:
      'Batch lanes of the persisting consumer (worker tier): calls go to a lane by person, and each lane stores its own batches, so more lanes store more events per second at the cost of more concurrent Postgres work. On a host shared with the API tier, 1 leaves Postgres to the calls clients wait for',
  }),
  MERGE_OUTBOX_SWEEP_MS: Type.Integer({
    minimum: 100,
    default: 5000,
    description:
      'How often the outboxes (identity merges, customer erasures, restriction changes) are looked through for rows not yet published (crash recovery, NATS outages); each commit is announced at once anyway',
  }),
});
