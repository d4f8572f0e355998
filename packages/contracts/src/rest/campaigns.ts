import { oneOf, Timestamp } from '../payloads/common';
import { Type, type Static } from '@sinclair/typebox';

/**
 * What starts a campaign's send to one customer: entering a segment, or leaving one (cdp.segment.exited,
 * e.g. a lifecycle segment the customer moved out of: a welcome when they leave "prospects").
 */
export const CampaignTrigger = Type.Union([
  Type.Object(
    { type: Type.Literal('segment_entered'), segmentId: Type.String({ minLength: 1 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('segment_exited'), segmentId: Type.String({ minLength: 1 }) },
    { additionalProperties: false },
  ),
]);
export type CampaignTrigger = Static<typeof CampaignTrigger>;

/** Channels a campaign can send through (delivery's `email`, `sms` and `push`). */
export const CAMPAIGN_CHANNELS = ['email', 'sms', 'push'] as const;
export type CampaignChannel = (typeof CAMPAIGN_CHANNELS)[number];

/** What a frequency cap counts: one channel's sends, or (`any`) all of them. */
export const FREQUENCY_CAP_CHANNELS = ['any', ...CAMPAIGN_CHANNELS] as const;
export type FrequencyCapChannel = (typeof FREQUENCY_CAP_CHANNELS)[number];

/**
 * Which of a customer's push addresses a push campaign sends to: their app installations (FCM
 * registration tokens) or their browsers (Web Push subscriptions). Delivery sends a workspace's
 * push through one provider, FCM or Web Push: the campaign names the matching kind.
 */
export const PUSH_TARGETS = ['app', 'browser'] as const;
export type PushTarget = (typeof PUSH_TARGETS)[number];

/**
 * A campaign's message: an email has a `subject`, a `body` and maybe `html`; an SMS a `body` only;
 * a push message a `body` and maybe a title (`subject`) (checked per channel when the campaign is
 * created, with the field's path).
 */
export const CampaignTemplate = Type.Object(
  {
    subject: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 998,
        description: 'Email subject (required there), or the title of a push message',
      }),
    ),
    body: Type.String({
      minLength: 1,
      maxLength: 100_000,
      description:
        'Plain-text body; {{ traits.firstName }} style variables. An SMS body is at most 1,600 characters (10 segments)',
    }),
    html: Type.Optional(Type.String({ maxLength: 500_000, description: 'HTML body (email only)' })),
  },
  { additionalProperties: false },
);
export type CampaignTemplate = Static<typeof CampaignTemplate>;

/** Longest SMS body a campaign takes: 10 concatenated segments (providers refuse more). */
export const SMS_MAX_BODY = 1600;
/** Longest push body a campaign takes: FCM and Web Push carry at most 4 KB, title and data included. */
export const PUSH_MAX_BODY = 1000;

/** A wall-clock time of day, HH:MM on a 24-hour clock. */
const TimeOfDay = (description: string) =>
  Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description });

/**
 * Hours in which the campaign sends nothing (e.g. 21:00-08:00, as marketing law has it in some
 * countries): a trigger that falls in them is held and handled when they end, with consent,
 * restriction and frequency caps checked then. In the customer's own time zone (their `timezone`
 * trait, an IANA name) where known, else in `timeZone`. A period whose start is after its end
 * spans midnight.
 */
export const QuietHours = Type.Object(
  {
    start: TimeOfDay('Local time the quiet period starts (HH:MM, 24-hour clock)'),
    end: TimeOfDay('Local time it ends (HH:MM); before `start`: the next day'),
    timeZone: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'IANA time zone for customers without a valid `timezone` trait, e.g. Asia/Seoul',
    }),
  },
  { additionalProperties: false },
);
export type QuietHours = Static<typeof QuietHours>;

const StartsAt = Type.String({
  ...Timestamp,
  description: 'When the campaign starts sending (ISO-8601); triggers before it send nothing',
});
const EndsAt = Type.String({
  ...Timestamp,
  description:
    'When it stops (ISO-8601, after startsAt); triggers from then on, and held ones released then, send nothing',
});

/** When a campaign sends: its quiet hours and its active period, as stored with it. */
export const CampaignSchedule = Type.Object(
  {
    quietHours: Type.Optional(QuietHours),
    startsAt: Type.Optional(StartsAt),
    endsAt: Type.Optional(EndsAt),
  },
  { additionalProperties: false },
);
export type CampaignSchedule = Static<typeof CampaignSchedule>;

/** One message of an A/B test: its name, its share of the customers who get one, its template. */
export const CampaignVariant = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Za-z0-9 _.-]+$' }),
    weight: Type.Integer({
      minimum: 1,
      maximum: 100,
      description: 'Relative share of the customers sent a message who get this variant',
    }),
    template: CampaignTemplate,
  },
  { additionalProperties: false },
);
export type CampaignVariant = Static<typeof CampaignVariant>;

/** An A/B test's variants, as a campaign is created with them and stores them. */
export const CampaignVariants = Type.Array(CampaignVariant, {
  minItems: 2,
  maxItems: 5,
  description:
    'An A/B test: each customer gets one variant, drawn by weight and kept for the campaign (the same customer always gets the same one); either this or template',
});

/** Most customers a campaign keeps out as its control group, in percent. */
export const MAX_HOLDOUT_PERCENT = 50;

export const CreateCampaignRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    channel: oneOf(CAMPAIGN_CHANNELS, {
      description:
        "Channel of the send; the address is the customer's email, phone (E.164), or their push devices (pushTo)",
    }),
    pushTo: Type.Optional(
      oneOf(PUSH_TARGETS, {
        description:
          "Push campaigns only: send to the customer's app installations (app, the default: FCM registration tokens) or browsers (browser: Web Push subscriptions), each of them",
      }),
    ),
    trigger: CampaignTrigger,
    /** The message; either this or `variants`. */
    template: Type.Optional(CampaignTemplate),
    variants: Type.Optional(CampaignVariants),
    holdoutPercent: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_HOLDOUT_PERCENT,
        description:
          'Control group: this share of the customers the campaign would send to get nothing, recorded, to measure its effect against',
      }),
    ),
    status: Type.Optional(Type.Union([Type.Literal('draft'), Type.Literal('active')])),
    quietHours: Type.Optional(QuietHours),
    startsAt: Type.Optional(StartsAt),
    endsAt: Type.Optional(EndsAt),
    consent: Type.Optional(
      Type.Union([Type.Literal('opt_out'), Type.Literal('opt_in'), Type.Literal('transactional')], {
        description:
          "Marketing consent a send needs (purpose marketing, the campaign's channel or any): opt_out (default) sends unless it was withdrawn; opt_in only where it is granted and not expired; transactional for service messages (a loan decision, a card block), which need none. A customer whose processing is restricted gets none of them",
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateCampaignRequest = Static<typeof CreateCampaignRequest>;

/** States a marketer moves a campaign between; `archived` is final. */
export const CAMPAIGN_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export type CampaignStatusName = (typeof CAMPAIGN_STATUSES)[number];

/**
 * PATCH /v1/campaigns/:id: what a marketer may change of a campaign (its channel and trigger stay:
 * its sends are keyed by them). `null` removes quiet hours, a start or an end.
 */
export const UpdateCampaignRequest = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    status: Type.Optional(
      oneOf(CAMPAIGN_STATUSES, {
        description: 'draft and paused send nothing, active sends; archived is final (nothing changes after)',
      }),
    ),
    template: Type.Optional(CampaignTemplate),
    quietHours: Type.Optional(Type.Union([QuietHours, Type.Null()])),
    startsAt: Type.Optional(Type.Union([StartsAt, Type.Null()])),
    endsAt: Type.Optional(Type.Union([EndsAt, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateCampaignRequest = Static<typeof UpdateCampaignRequest>;

/**
 * PUT /v1/frequency-cap: at most `maxSends` marketing messages per customer in any `periodHours`,
 * on `channel` (its own cap: e.g. SMS, which cost more) or on all channels together (`any`, the
 * default). A send must fit every cap that counts it.
 */
export const FrequencyCapRequest = Type.Object(
  {
    channel: Type.Optional(
      oneOf(FREQUENCY_CAP_CHANNELS, {
        description: 'Channel whose sends the cap counts; any (default): all marketing sends',
      }),
    ),
    maxSends: Type.Integer({
      minimum: 1,
      maximum: 1000,
      description: 'Most marketing messages per customer',
    }),
    periodHours: Type.Integer({
      minimum: 1,
      maximum: 720,
      description: 'Sliding period, in hours (at most 30 days: sends are kept that long)',
    }),
  },
  { additionalProperties: false },
);
export type FrequencyCapRequest = Static<typeof FrequencyCapRequest>;
