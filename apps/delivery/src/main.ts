import { runService } from '@cdp/service-kit';
import { AppModule } from './app.module';
import { DeliveryConfigSchema } from './config';

// Crash points must never be armed in production; refused before anything starts.
if (process.env.NODE_ENV === 'production' && process.env.DELIVERY_FAULTS) {
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', service: 'delivery', msg: 'DELIVERY_FAULTS is set but NODE_ENV is production: refusing to start' })}\n`,
  );
  process.exit(78);
}

void runService({
  service: 'delivery',
  configSchema: DeliveryConfigSchema,
  module: (config) => AppModule.forRoot(config),
});
