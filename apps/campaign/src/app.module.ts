import { Module, type DynamicModule } from '@nestjs/common';
import type { Static } from '@sinclair/typebox';
import { ServiceKitModule } from '@cdp/service-kit';
import { CampaignsModule } from './campaigns/campaigns.module';
import type { CampaignConfigSchema } from './config';

@Module({})
export class AppModule {
  static forRoot(config: Static<typeof CampaignConfigSchema>): DynamicModule {
    return {
      module: AppModule,
      imports: [ServiceKitModule.forRoot({ service: 'campaign', config }), CampaignsModule],
    };
  }
}
