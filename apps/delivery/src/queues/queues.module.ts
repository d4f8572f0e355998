import { Module } from '@nestjs/common';
import { DeadLettersController } from './dead-letters.controller';
import { DeadLettersService } from './dead-letters.service';
import { ProviderRateLimiter } from './provider-rate-limiter';
import { SendQueues } from './send-queues';

@Module({
  controllers: [DeadLettersController],
  providers: [SendQueues, ProviderRateLimiter, DeadLettersService],
  exports: [SendQueues, ProviderRateLimiter],
})
export class QueuesModule {}
