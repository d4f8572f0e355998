import { runService } from '@cdp/service-kit';
import { AppModule } from './app.module';
import { DeliveryConfigSchema } from './config';

void runService({
  service: 'delivery',
  configSchema: DeliveryConfigSchema,
  module: (config) => AppModule.forRoot(config),
});
