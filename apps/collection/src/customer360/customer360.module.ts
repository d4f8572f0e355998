import { Module } from '@nestjs/common';
import { ConsentsModule } from '../consents/consents.module';
import { CustomersModule } from '../customers/customers.module';
import { DevicesModule } from '../devices/devices.module';
import { OperationalModule } from '../operational/operational.module';
import { Customer360Controller } from './customer360.controller';
import { Customer360Service } from './customer360.service';

@Module({
  imports: [CustomersModule, ConsentsModule, OperationalModule, DevicesModule],
  controllers: [Customer360Controller],
  providers: [Customer360Service],
})
export class Customer360Module {}
