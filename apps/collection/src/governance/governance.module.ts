import { Module } from '@nestjs/common';
import { CustomersModule } from '../customers/customers.module';
import { CustomerRetentionController } from './customer-retention.controller';
import { DisposalService } from './disposal.service';
import { RetentionController } from './retention.controller';
import { RetentionService } from './retention.service';

/** Retention of personal data: the policies, and disposal when a customer's retention ends. */
@Module({
  imports: [CustomersModule],
  controllers: [RetentionController, CustomerRetentionController],
  providers: [RetentionService, DisposalService],
})
export class GovernanceModule {}
