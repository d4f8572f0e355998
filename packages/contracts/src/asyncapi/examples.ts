import {
  RpcSubjects,
  Subjects,
  type PayloadOf,
  type ReplyOf,
  type RequestOf,
  type RpcSubject,
  type SubjectKey,
} from '../subjects';

const ACCEPTED_CALL: PayloadOf<typeof Subjects.ingestAccepted> = {
  workspaceId: 'ws_acme',
  messageId: 'c3a1e0f2-6b1d-4f5e-9a57-0d2b8f9e4a11',
  sourceId: 'src_web',
  type: 'track',
  event: 'Product Viewed',
  anonymousId: 'anon-7f3c2a',
  properties: { productId: 'loan-fixed-10y', price: 0 },
  context: { page: { path: '/loans/fixed' }, userAgent: 'Mozilla/5.0' },
  channel: 'web',
  journeyStage: 'explore_compare',
  timestamp: '2025-03-14T09:26:53.589Z',
  sentAt: '2025-03-14T09:26:53.612Z',
  receivedAt: '2025-03-14T09:26:53.701Z',
};

/**
 * One valid payload per event subject. They are the `examples` of the AsyncAPI messages and a unit
 * test checks each against its schema, so they double as a living reference for producers.
 */
export const EventExamples: { readonly [K in SubjectKey]: PayloadOf<(typeof Subjects)[K]> } = {
  ingestAccepted: ACCEPTED_CALL,
  ingestBatchAccepted: { workspaceId: 'ws_acme', calls: [ACCEPTED_CALL] },

  eventIngested: {
    workspaceId: 'ws_acme',
    eventId: '1048577',
    messageId: 'c3a1e0f2-6b1d-4f5e-9a57-0d2b8f9e4a11',
    customerId: 'cus_01HQ3Z8K2M',
    customerCode: 'C-7Q4X-92LD',
    type: 'track',
    name: 'Product Viewed',
    channel: 'web',
    journeyStage: 'explore_compare',
    properties: { productId: 'loan-fixed-10y', price: 0 },
    occurredAt: '2025-03-14T09:26:53.589Z',
    receivedAt: '2025-03-14T09:26:53.701Z',
  },
  profileUpdated: {
    workspaceId: 'ws_acme',
    customerId: 'cus_01HQ3Z8K2M',
    customerCode: 'C-7Q4X-92LD',
    lifecycleStage: 'prospect',
    changedTraits: ['email', 'firstName'],
    traits: { email: 'jane.doe@example.com', firstName: 'Jane', city: 'Utrecht' },
    updatedAt: '2025-03-14T09:27:02.114Z',
  },
  identityMerged: {
    workspaceId: 'ws_acme',
    survivorId: 'cus_01HQ3Z8K2M',
    mergedIds: ['cus_01HQ41B7TR'],
    reason: 'shared identifier email',
    mergeId: 'mrg_01HQ5C0A9E',
    mergedAt: '2025-03-14T09:27:02.301Z',
  },
  identityUnmerged: {
    workspaceId: 'ws_acme',
    mergeId: 'mrg_01HQ5C0A9E',
    restoredIds: ['cus_01HQ41B7TR'],
    survivorId: 'cus_01HQ3Z8K2M',
    unmergedAt: '2025-03-15T14:02:45.000Z',
  },
  customerErased: {
    workspaceId: 'ws_acme',
    customerId: 'cus_01HQ3Z8K2M',
    customerCode: 'C-7Q4X-92LD',
    erasedIds: ['cus_01HQ3Z8K2M', 'cus_01HQ41B7TR'],
    erasedAt: '2025-04-02T08:15:00.000Z',
  },
  customerRestricted: {
    workspaceId: 'ws_acme',
    customerId: 'cus_01HQ3Z8K2M',
    customerCode: 'C-7Q4X-92LD',
    restricted: true,
    changedAt: '2025-04-02T08:15:00.000Z',
  },
  segmentEntered: {
    workspaceId: 'ws_acme',
    segmentId: 'seg_mortgage_interest',
    segmentName: 'Mortgage interest, last 30 days',
    customerId: 'cus_01HQ3Z8K2M',
    at: '2025-03-14T09:27:05.020Z',
    cause: 'c3a1e0f2-6b1d-4f5e-9a57-0d2b8f9e4a11',
  },
  segmentExited: {
    workspaceId: 'ws_acme',
    segmentId: 'seg_mortgage_interest',
    segmentName: 'Mortgage interest, last 30 days',
    customerId: 'cus_01HQ3Z8K2M',
    at: '2025-04-13T09:27:05.020Z',
    cause: 're-evaluation',
  },
  scoreUpdated: {
    workspaceId: 'ws_acme',
    customerId: 'cus_01HQ3Z8K2M',
    model: 'churn',
    modelVersion: '2025-03-01',
    value: 0.17,
    previousValue: 0.23,
    computedAt: '2025-03-14T10:00:00.000Z',
  },
  deliveryRequested: {
    workspaceId: 'ws_acme',
    idempotencyKey: 'run_01HQ6A:cus_01HQ3Z8K2M:email:welcome-1',
    campaignId: 'cmp_welcome',
    campaignRunId: 'run_01HQ6A',
    step: 'welcome-1',
    customerId: 'cus_01HQ3Z8K2M',
    channel: 'email',
    recipient: 'jane.doe@example.com',
    locale: 'nl-NL',
    template: {
      subject: 'Welcome, {{firstName}}',
      body: 'Hi {{firstName}}, thanks for your interest in our fixed-rate loans.',
      html: '<p>Hi {{firstName}}, thanks for your interest in our fixed-rate loans.</p>',
    },
    variables: { firstName: 'Jane' },
    requestedAt: '2025-03-14T09:30:00.000Z',
  },
  deliveryStatus: {
    workspaceId: 'ws_acme',
    idempotencyKey: 'run_01HQ6A:cus_01HQ3Z8K2M:email:welcome-1',
    messageId: 'dlv_01HQ6B2F4X',
    campaignId: 'cmp_welcome',
    customerId: 'cus_01HQ3Z8K2M',
    channel: 'email',
    status: 'delivered',
    provider: 'smtp',
    providerMessageId: '<20250314093001.1234@mail.example.com>',
    at: '2025-03-14T09:30:04.512Z',
  },
  consentChanged: {
    workspaceId: 'ws_acme',
    customerId: 'cus_01HQ3Z8K2M',
    purpose: 'marketing',
    channel: 'email',
    status: 'withdrawn',
    source: 'unsubscribe link',
    at: '2025-03-20T18:12:40.000Z',
    evidence: { messageId: 'dlv_01HQ6B2F4X', ip: '203.0.113.7' },
  },
};

type RpcKey = keyof typeof RpcSubjects;

export interface RpcExample<R extends RpcSubject> {
  readonly request: RequestOf<R>;
  readonly reply: ReplyOf<R>;
}

/** Request/reply pairs per RPC subject; the first pair of each is the one shown first in the docs. */
export const RpcExamples: { readonly [K in RpcKey]: readonly RpcExample<(typeof RpcSubjects)[K]>[] } = {
  customerLookup: [
    {
      request: { workspaceId: 'ws_acme', identifier: { type: 'email', value: 'jane.doe@example.com' } },
      reply: {
        found: true,
        customer: {
          id: 'cus_01HQ3Z8K2M',
          customerCode: 'C-7Q4X-92LD',
          lifecycleStage: 'prospect',
          email: 'jane.doe@example.com',
          traits: { firstName: 'Jane', city: 'Utrecht' },
          consents: [{ purpose: 'marketing', channel: 'email', status: 'granted' }],
          restricted: false,
        },
      },
    },
    {
      request: { workspaceId: 'ws_acme', customerId: 'cus_unknown' },
      reply: { found: false },
    },
  ],
  customerSegments: [
    {
      request: { workspaceId: 'ws_acme', customerId: 'cus_01HQ3Z8K2M' },
      reply: {
        segments: [{ segmentId: 'seg_prospects', name: 'Prospects', enteredAt: '2025-03-14T09:27:02.301Z' }],
      },
    },
  ],
  apiKeysUsed: [
    {
      request: {
        workspaceId: 'ws_acme',
        uses: [{ apiKeyId: '3f1c9a52-6d0e-4b8f-9a41-2c7e5d8b0f13', usedAt: '2026-12-05T09:14:07.212Z' }],
      },
      reply: { recorded: 1 },
    },
  ],
};
