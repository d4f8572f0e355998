import { Type, type Static } from '@sinclair/typebox';
import { Json, oneOf } from '../payloads/common';
import { CONSENT_CHANNELS, CONSENT_PURPOSES } from '../payloads/delivery';

/**
 * A consent given or withdrawn, recorded by a preference centre, a branch or a call centre
 * (`PUT /v1/customers/:id/consents`); the same change other services report with cdp.consent.changed.
 */
export const RecordConsentRequest = Type.Object(
  {
    purpose: oneOf(CONSENT_PURPOSES, { description: 'What the consent is for' }),
    channel: oneOf(CONSENT_CHANNELS, { description: 'Channel the consent applies to; any: every channel' }),
    status: Type.Union([Type.Literal('granted'), Type.Literal('withdrawn')]),
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
    expiresAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description:
          'For a grant: when it lapses unless renewed (e.g. marketing consent reconfirmed every two years); absent: no end',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RecordConsentRequest = Static<typeof RecordConsentRequest>;
