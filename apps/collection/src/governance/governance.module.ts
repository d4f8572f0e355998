import { Module } from '@nestjs/common';
import { CustomersModule } from '../customers/customers.module';
import { CustomerRetentionController } from './customer-retention.controller';
import { DisposalService } from './disposal.service';
import { RetentionController } from './retention.controller';
import { RetentionService } from './retention.service';
import { SuppressionsController } from './suppressions.controller';

/**
 * Retention of personal data: the policies, disposal when a customer's retention ends, and the
 * suppression list of erased people.
 */
@Module({
  imports: [CustomersModule],
  controllers: [RetentionController, CustomerRetentionController, SuppressionsController],
  providers: [RetentionService, DisposalService],
})
export class GovernanceModule {}
