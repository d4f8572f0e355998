import type { RunServiceOptions } from '@cdp/service-kit';
import { AppModule } from './app.module';
import { CollectionConfigSchema } from './config';
import { registerTrackingBodyParser } from './tracking/body-parser';
import { MAX_WIRE_BYTES } from './tracking/tracking-limits';

/** How the collection service is built: by main.ts as a process, by tests in-process. */
export const collectionService: RunServiceOptions<typeof CollectionConfigSchema> = {
  service: 'collection',
  configSchema: CollectionConfigSchema,
  module: (config) => AppModule.forRoot(config),
  bodyLimit: MAX_WIRE_BYTES,
  // Tracking bodies come gzipped and under any content type (SDKs send text/plain).
  configure: (app) => registerTrackingBodyParser(app),
};
