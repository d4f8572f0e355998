import { oneOf } from './common';
import { ConsentState } from './delivery';
import { Type } from '@sinclair/typebox';
import { Channel, CustomerId, Json, JourneyStage, LifecycleStage, Timestamp, payload } from './common';

/** A tracking call accepted by the HTTP API and made durable before the 2xx; not yet resolved to a customer. */
export const IngestAcceptedV1 = payload(
  {
    messageId: Type.String({ minLength: 1, maxLength: 256 }),
    sourceId: Type.String({ minLength: 1 }),
    type: oneOf(['track', 'identify', 'page', 'screen', 'group', 'alias'] as const),
    event: Type.Optional(Type.String({ maxLength: 512 })),
    userId: Type.Optional(Type.String({ maxLength: 512 })),
    anonymousId: Type.Optional(Type.String({ maxLength: 512 })),
    previousId: Type.Optional(Type.String({ maxLength: 512 })),
    groupId: Type.Optional(
      Type.String({ maxLength: 512, description: 'Group (company, household) of a group call' }),
    ),
    name: Type.Optional(Type.String({ maxLength: 512, description: 'Page or screen name' })),
    category: Type.Optional(Type.String({ maxLength: 512, description: 'Page or screen category' })),
    properties: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'Event properties; for a group call, the traits of the group',
      }),
    ),
    traits: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: "The person's traits (identify call, or context.traits)",
      }),
    ),
    context: Type.Optional(Json),
    channel: Channel,
    journeyStage: Type.Optional(JourneyStage),
    timestamp: Timestamp,
    sentAt: Type.Optional(Timestamp),
    receivedAt: Timestamp,
    violations: Type.Optional(
      Type.Array(
        Type.Object({
          path: Type.String({ description: 'JSON pointer into the call, e.g. /properties/amount' }),
          reason: Type.String(),
        }),
        {
          description:
            'Where the call breaks the tracking plan (rules in report mode, or an unplanned event under a report policy); absent when it does not',
        },
      ),
    ),
  },
  'A tracking call accepted by the collection API (internal to collection: raw ingest stream)',
);

/** Largest number of calls one cdp.ingest.batch message carries (the API splits bigger batches). */
export const MAX_CALLS_PER_INGEST_BATCH = 1000;

/** The valid calls of one /v1/batch request (or a slice of it), made durable as one message. */
export const IngestBatchAcceptedV1 = payload(
  {
    calls: Type.Array(IngestAcceptedV1, {
      minItems: 1,
      maxItems: MAX_CALLS_PER_INGEST_BATCH,
      description: 'Accepted calls, each as on cdp.ingest.accepted, all of this workspace',
    }),
  },
  'Tracking calls of one batch request made durable together, awaiting identity resolution and storage',
);

export const EventIngestedV1 = payload(
  {
    eventId: Type.String({ description: 'Stored event id (decimal string)' }),
    messageId: Type.String(),
    customerId: CustomerId,
    customerCode: Type.String({ description: 'Pseudonymous customer code' }),
    type: Type.String(),
    name: Type.Optional(Type.String()),
    channel: Channel,
    journeyStage: Type.Optional(JourneyStage),
    properties: Json,
    occurredAt: Timestamp,
    receivedAt: Timestamp,
  },
  'An interaction stored in the customer history and linked to one customer',
);

export const ProfileUpdatedV1 = payload(
  {
    customerId: CustomerId,
    customerCode: Type.String(),
    lifecycleStage: LifecycleStage,
    changedTraits: Type.Array(Type.String(), { description: 'Names of the traits whose value changed' }),
    traits: Json,
    updatedAt: Timestamp,
  },
  'A customer profile changed (traits, attributes or lifecycle stage)',
);

export const IdentityMergedV1 = payload(
  {
    survivorId: CustomerId,
    mergedIds: Type.Array(CustomerId, { minItems: 1 }),
    reason: Type.String({
      description: 'Rule or call that caused the merge (alias, shared identifier, ...)',
    }),
    mergeId: Type.String(),
    mergedAt: Timestamp,
  },
  'Customers found to be one person were merged into a survivor',
);

export const IdentityUnmergedV1 = payload(
  {
    mergeId: Type.String(),
    restoredIds: Type.Array(CustomerId, { minItems: 1 }),
    survivorId: CustomerId,
    unmergedAt: Timestamp,
  },
  'A merge was undone; the split customers exist again with their identities and events',
);

export const CustomerErasedV1 = payload(
  {
    customerId: CustomerId,
    customerCode: Type.String({
      description: 'Pseudonymous code of the customer; the row stays as a tombstone',
    }),
    erasedIds: Type.Array(CustomerId, {
      minItems: 1,
      description: 'The customer and every profile that had been merged into it: erase what you hold of each',
    }),
    erasedAt: Timestamp,
  },
  "A customer's personal data was erased (right to erasure, or disposal at the end of its retention); services erase their own copies",
);

export const CustomerRestrictedV1 = payload(
  {
    customerId: CustomerId,
    customerCode: Type.String({ description: 'Pseudonymous code of the customer' }),
    restricted: Type.Boolean({
      description:
        'true: processing is restricted from now on (suppressed without erasure): send nothing, share nothing with ad platforms, keep the data; false: lifted',
    }),
    changedAt: Timestamp,
  },
  "A live customer's restriction of processing changed (e.g. a GDPR art. 18 request, or its end); services stop or resume using their copies",
);

/** Management API keys of a workspace that a service saw used since its last report. */
export const ApiKeysUsedRequestV1 = payload(
  {
    uses: Type.Array(
      Type.Object(
        {
          apiKeyId: Type.String({ minLength: 1, maxLength: 64 }),
          usedAt: Timestamp,
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 1000 },
    ),
  },
  'API keys of one workspace used since the last report, each with its latest use',
);

export const ApiKeysUsedReplyV1 = Type.Object(
  { recorded: Type.Integer({ minimum: 0, description: 'Keys whose last use moved' }) },
  { additionalProperties: false },
);

export const CustomerLookupRequestV1 = payload(
  {
    customerId: Type.Optional(CustomerId),
    identifier: Type.Optional(
      Type.Object({ type: Type.String(), value: Type.String() }, { additionalProperties: false }),
    ),
  },
  'Find one customer by id or by any identifier',
);

export const CustomerLookupReplyV1 = Type.Object(
  {
    found: Type.Boolean(),
    customer: Type.Optional(
      Type.Object({
        id: CustomerId,
        customerCode: Type.String(),
        lifecycleStage: LifecycleStage,
        email: Type.Optional(Type.String()),
        emailBounced: Type.Optional(
          Type.Boolean({
            description:
              'The email address hard-bounced: nothing should be sent to it until the customer gives another',
          }),
        ),
        phone: Type.Optional(Type.String()),
        traits: Json,
        consents: Type.Optional(
          Type.Array(ConsentState, {
            description:
              "The customer's consents as they stand, one per purpose and channel (none recorded: empty)",
          }),
        ),
        restricted: Type.Optional(
          Type.Boolean({
            description:
              'Processing is restricted (the customer was suppressed without erasure, POST /v1/suppressions, e.g. a GDPR art. 18 request): their data is kept, but nothing may be sent to them or shared with ad platforms until the suppression is lifted',
          }),
        ),
        pushTargets: Type.Optional(
          Type.Array(
            Type.Object({
              kind: oneOf(['fcm', 'apns', 'webpush'] as const),
              recipient: Type.String({
                description:
                  'An FCM or APNs registration token, or a Web Push subscription as JSON {endpoint, keys: {p256dh, auth}}',
              }),
            }),
            {
              description:
                'Where push messages reach the customer: their device tokens and browser subscriptions not revoked or expired, most recently registered first (at most 10 of each)',
            },
          ),
        ),
      }),
    ),
  },
  { description: 'The customer found, if any' },
);
