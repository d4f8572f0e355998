import { Type, type Static } from '@sinclair/typebox';

/**
 * One identity-resolution rule: how many identifiers of `type` one customer may hold
 * (`maxPerCustomer`, null = unlimited; with `perSystem` the limit counts per external system, the
 * part of an `external_key` value before the first `:`), how much the type is trusted when picking
 * the customer a call belongs to (`priority`, 1 = most trusted), and whether sharing an identifier
 * of this type is grounds for merging two customers (`mergeable`).
 */
export const IdentityRule = Type.Object(
  {
    type: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'Identifier type, e.g. email' }),
    maxPerCustomer: Type.Union([Type.Integer({ minimum: 1, maximum: 1000 }), Type.Null()]),
    priority: Type.Integer({ minimum: 1, maximum: 100 }),
    mergeable: Type.Boolean(),
    perSystem: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type IdentityRule = Static<typeof IdentityRule>;

/** `PUT /v1/identity/rules` body and `GET /v1/identity/rules` answer (each type at most once). */
export const IdentityRules = Type.Object(
  { rules: Type.Array(IdentityRule, { minItems: 1, maxItems: 32 }) },
  { additionalProperties: false },
);
export type IdentityRules = Static<typeof IdentityRules>;

/** `POST /v1/identity/rules/preview`: which existing customers candidate rules would merge. */
export const IdentityRulesPreviewRequest = Type.Object(
  {
    rules: Type.Array(IdentityRule, { minItems: 1, maxItems: 32 }),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(
      Type.String({
        pattern: '^[0-9a-f-]{36}:[0-9a-f-]{36}$',
        description: 'nextCursor of the previous page',
      }),
    ),
  },
  { additionalProperties: false },
);
export type IdentityRulesPreviewRequest = Static<typeof IdentityRulesPreviewRequest>;
