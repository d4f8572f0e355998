import { Module, type DynamicModule } from '@nestjs/common';
import type { Static } from '@sinclair/typebox';
import { ServiceKitModule } from '@cdp/service-kit';
import type { CollectionConfigSchema } from './config';
import { ConnectorsModule } from './connectors/connectors.module';
import { ConsentsModule } from './consents/consents.module';
import { Customer360Module } from './customer360/customer360.module';
import { CustomersModule } from './customers/customers.module';
import { DevicesModule } from './devices/devices.module';
import { GovernanceModule } from './governance/governance.module';
import { HistoryModule } from './history/history.module';
import { IdentityModule } from './identity/identity.module';
import { IngestModule } from './ingest/ingest.module';
import { OperationalModule } from './operational/operational.module';
import { ProfilesModule } from './profiles/profiles.module';
import { ReplayModule } from './replay/replay.module';
import { SourcesModule } from './sources/sources.module';
import { TrackingModule } from './tracking/tracking.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule {
  static forRoot(config: Static<typeof CollectionConfigSchema>): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forRoot({ service: 'collection', config }),
        SourcesModule,
        TrackingModule,
        IdentityModule,
        IngestModule,
        CustomersModule,
        Customer360Module,
        HistoryModule,
        ProfilesModule,
        OperationalModule,
        DevicesModule,
        WebhooksModule,
        ConnectorsModule,
        ConsentsModule,
        ReplayModule,
        GovernanceModule,
      ],
    };
  }
}
