import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { SERVICE_CONFIG, type BaseConfig } from '@cdp/service-kit';
import { HistoryModule } from '../history/history.module';
import { ReplayController } from './replay.controller';
import { ReplayProcessor } from './replay.processor';
import { ReplayService } from './replay.service';
import { REPLAY_QUEUE } from './replay.types';

@Module({
  imports: [
    HistoryModule,
    BullModule.forRootAsync({
      inject: [SERVICE_CONFIG],
      useFactory: (config: BaseConfig) => ({
        // Workers block on Redis: BullMQ needs maxRetriesPerRequest null on its connections.
        connection: { url: config.REDIS_URL, maxRetriesPerRequest: null },
        // Test runs share one Redis: their queues live under their NATS prefix.
        prefix: config.NATS_PREFIX || 'bull',
      }),
    }),
    BullModule.registerQueue({ name: REPLAY_QUEUE }),
  ],
  controllers: [ReplayController],
  providers: [ReplayService, ReplayProcessor],
})
export class ReplayModule {}
