import { Type, type Static } from '@sinclair/typebox';
import { configSchema } from '@cdp/service-kit';

export const CampaignConfigSchema = configSchema(3003, {
  QUIET_HOURS_RELEASE_EVERY_MS: Type.Integer({
    minimum: 100,
    maximum: 3_600_000,
    default: 60_000,
    description:
      'How often campaign looks for triggers held in quiet hours whose hours have ended (a held send goes out at most this late)',
  }),
});

export type CampaignConfig = Static<typeof CampaignConfigSchema>;
