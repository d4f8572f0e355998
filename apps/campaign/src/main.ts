import { runService } from '@cdp/service-kit';
import { AppModule } from './app.module';
import { CampaignConfigSchema } from './config';

void runService({
  service: 'campaign',
  configSchema: CampaignConfigSchema,
  module: (config) => AppModule.forRoot(config),
});
