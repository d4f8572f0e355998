import { Module, type DynamicModule } from '@nestjs/common';
import type { Static } from '@sinclair/typebox';
import { ServiceKitModule } from '@cdp/service-kit';
import type { CollectionConfigSchema } from './config';
import { CustomersModule } from './customers/customers.module';
import { HistoryModule } from './history/history.module';
import { IngestModule } from './ingest/ingest.module';
import { ReplayModule } from './replay/replay.module';
import { TrackingModule } from './tracking/tracking.module';

@Module({})
export class AppModule {
  static forRoot(config: Static<typeof CollectionConfigSchema>): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forRoot({ service: 'collection', config }),
        TrackingModule,
        IngestModule,
        CustomersModule,
        HistoryModule,
        ReplayModule,
      ],
    };
  }
}
