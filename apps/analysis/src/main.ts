import { runService } from '@cdp/service-kit';
import { AppModule } from './app.module';
import { AnalysisConfigSchema } from './config';

void runService({
  service: 'analysis',
  configSchema: AnalysisConfigSchema,
  module: (config) => AppModule.forRoot(config),
});
