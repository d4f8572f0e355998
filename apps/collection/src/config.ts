import { configSchema } from '@cdp/service-kit';

export const CollectionConfigSchema = configSchema(3001, {});
