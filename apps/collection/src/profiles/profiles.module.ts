import { Module } from '@nestjs/common';
import { LifecycleConsumer } from './lifecycle.consumer';
import { LifecycleController } from './lifecycle.controller';
import { LifecycleService } from './lifecycle.service';

@Module({
  controllers: [LifecycleController, LifecycleConsumer],
  providers: [LifecycleService],
  exports: [LifecycleService],
})
export class ProfilesModule {}
