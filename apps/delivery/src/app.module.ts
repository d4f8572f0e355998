import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceKitModule } from '@cdp/service-kit';
import type { DeliveryConfig } from './config';
import { AudiencesModule } from './audiences/audiences.module';
import { MessagesModule } from './messages/messages.module';
import { ProvidersModule } from './providers/providers.module';
import { ReceiptsModule } from './receipts/receipts.module';

@Module({})
export class AppModule {
  static forRoot(config: DeliveryConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forRoot({ service: 'delivery', config }),
        MessagesModule,
        ProvidersModule,
        AudiencesModule,
        ReceiptsModule,
      ],
    };
  }
}
