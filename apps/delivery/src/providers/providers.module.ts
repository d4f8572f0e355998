import { Module } from '@nestjs/common';
import { SERVICE_CONFIG } from '@cdp/service-kit';
import type { DeliveryConfig } from '../config';
import { ProvidersController } from './providers.controller';
import { ProvidersService } from './providers.service';
import { SecretBox } from './secret-box';

@Module({
  controllers: [ProvidersController],
  providers: [
    ProvidersService,
    {
      provide: SecretBox,
      useFactory: (config: DeliveryConfig) => new SecretBox(config.DELIVERY_SECRET_KEYS),
      inject: [SERVICE_CONFIG],
    },
  ],
  exports: [ProvidersService, SecretBox],
})
export class ProvidersModule {}
