import { Module, type DynamicModule } from '@nestjs/common';
import type { Static } from '@sinclair/typebox';
import { ServiceKitModule } from '@cdp/service-kit';
import type { AnalysisConfigSchema } from './config';
import { SegmentsModule } from './segments/segments.module';

@Module({})
export class AppModule {
  static forRoot(config: Static<typeof AnalysisConfigSchema>): DynamicModule {
    return {
      module: AppModule,
      imports: [ServiceKitModule.forRoot({ service: 'analysis', config }), SegmentsModule],
    };
  }
}
