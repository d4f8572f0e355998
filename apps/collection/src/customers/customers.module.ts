import { Module } from '@nestjs/common';
import { CustomerLookupHandler } from './customer-lookup.handler';
import { CustomersController } from './customers.controller';
import { CustomersService } from './customers.service';

@Module({
  controllers: [CustomersController, CustomerLookupHandler],
  providers: [CustomersService],
  exports: [CustomersService],
})
export class CustomersModule {}
