import { configSchema } from '@cdp/service-kit';

export const CampaignConfigSchema = configSchema(3003, {});
