import { Module } from '@nestjs/common';
import { CustomerLookupHandler } from './customer-lookup.handler';
import { CustomersController } from './customers.controller';
import { CustomersService } from './customers.service';
import { ErasureService } from './erasure.service';

@Module({
  controllers: [CustomersController, CustomerLookupHandler],
  providers: [CustomersService, ErasureService],
  exports: [CustomersService],
})
export class CustomersModule {}
