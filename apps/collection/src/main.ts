import { runService } from '@cdp/service-kit';
import { AppModule } from './app.module';
import { CollectionConfigSchema } from './config';

void runService({
  service: 'collection',
  configSchema: CollectionConfigSchema,
  module: (config) => AppModule.forRoot(config),
  // Segment's batch limit is 500 KB; leave room for JSON overhead of bad clients.
  bodyLimit: 1024 * 1024,
});
