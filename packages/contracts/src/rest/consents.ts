import { Type, type Static } from '@sinclair/typebox';
import { Json } from '../payloads/common';
import { ConsentFields } from '../payloads/delivery';

/**
 * A consent given or withdrawn, recorded by a preference centre, a branch or a call centre
 * (`PUT /v1/customers/:id/consents`); the same change other services report with cdp.consent.changed.
 */
export const RecordConsentRequest = Type.Object(
  {
    ...ConsentFields,
    source: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Where it was given or withdrawn, e.g. `web:preferences-v2`, `branch:gangnam`',
    }),
    at: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'When it happened (default: now); a change older than the one recorded is ignored',
      }),
    ),
    evidence: Type.Optional(Json),
  },
  { additionalProperties: false },
);
export type RecordConsentRequest = Static<typeof RecordConsentRequest>;
