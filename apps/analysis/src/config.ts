import { configSchema } from '@cdp/service-kit';

export const AnalysisConfigSchema = configSchema(3002, {});
