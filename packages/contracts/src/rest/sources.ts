import { Type, type Static } from '@sinclair/typebox';

/** The kinds of system a source can be (`source_kind` in the database). */
export const SOURCE_KINDS = [
  'web',
  'app',
  'server',
  'branch',
  'call_centre',
  'import',
  'webhook',
  'operational_db',
] as const;

const SourceName = Type.String({ minLength: 1, maxLength: 100, description: 'Unique within the workspace' });
const Description = Type.String({ maxLength: 1000 });

/** `POST /v1/sources` (collection): a new source; the answer carries its write key, once. */
export const CreateSourceRequest = Type.Object(
  {
    name: SourceName,
    kind: Type.Union(
      SOURCE_KINDS.map((k) => Type.Literal(k)),
      { description: `One of ${SOURCE_KINDS.join(', ')}` },
    ),
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);
export type CreateSourceRequest = Static<typeof CreateSourceRequest>;

/** `PATCH /v1/sources/:id` (collection): a disabled source's write keys are refused. */
export const UpdateSourceRequest = Type.Object(
  {
    name: Type.Optional(SourceName),
    description: Type.Optional(Type.Union([Description, Type.Null()])),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateSourceRequest = Static<typeof UpdateSourceRequest>;

/** One week: long enough to redeploy every SDK that carries the old key. */
export const MAX_PREVIOUS_KEY_SECONDS = 7 * 24 * 3600;

/** `POST /v1/sources/:id/write-key/rotate` (collection). */
export const RotateWriteKeyRequest = Type.Object(
  {
    previousKeyValidSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_PREVIOUS_KEY_SECONDS,
        description: 'How long the replaced key keeps working (default 86400; 0: it stops at once)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RotateWriteKeyRequest = Static<typeof RotateWriteKeyRequest>;

/** `POST /v1/api-keys` (collection): a management key; the answer carries it, once. */
export const CreateApiKeyRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, description: 'Who or what uses the key' }),
    scopes: Type.Array(Type.String({ pattern: '^[a-z_]+(:[a-z_]+)?$', maxLength: 64 }), {
      minItems: 1,
      maxItems: 50,
      uniqueItems: true,
      description: 'Permissions, e.g. `admin`, `customers:read`',
    }),
    expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the key stops working' })),
  },
  { additionalProperties: false },
);
export type CreateApiKeyRequest = Static<typeof CreateApiKeyRequest>;
