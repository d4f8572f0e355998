import { Type, type Static } from '@sinclair/typebox';
import { WebhookMapping } from './webhooks';

const Identifier = Type.String({
  pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$',
  description: 'A plain SQL identifier',
});

/**
 * Incremental pull from a table of an operational PostgreSQL database: rows whose
 * (cursorColumn, idColumn) is past the last one seen, mapped to tracking calls like a webhook.
 */
export const PostgresConnectorConfig = Type.Object(
  {
    urlEnv: Type.String({
      pattern: '^[A-Z][A-Z0-9_]{1,63}$',
      description:
        'Name of the environment variable that holds the connection URL (the secret stays in the deployment)',
    }),
    schema: Type.Optional(Identifier),
    table: Identifier,
    cursorColumn: Identifier,
    idColumn: Identifier,
    intervalSeconds: Type.Integer({ minimum: 5, maximum: 86_400 }),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
    mapping: Type.Omit(WebhookMapping, ['items']),
  },
  { additionalProperties: false },
);
export type PostgresConnectorConfig = Static<typeof PostgresConnectorConfig>;
