import { Module } from '@nestjs/common';
import { ConsentsModule } from '../consents/consents.module';
import { DevicesModule } from '../devices/devices.module';
import { CustomerLookupHandler } from './customer-lookup.handler';
import { CustomersController } from './customers.controller';
import { CustomersService } from './customers.service';
import { ErasureAnnouncer } from './erasure-announcer';
import { ErasureService } from './erasure.service';

@Module({
  imports: [ConsentsModule, DevicesModule],
  controllers: [CustomersController, CustomerLookupHandler],
  providers: [CustomersService, ErasureService, ErasureAnnouncer],
  exports: [CustomersService, ErasureService],
})
export class CustomersModule {}
