import { Module } from '@nestjs/common';
import { RetentionController } from './retention.controller';
import { RetentionService } from './retention.service';

/** Retention of personal data (erasure on request lives with the customers). */
@Module({ controllers: [RetentionController], providers: [RetentionService] })
export class GovernanceModule {}
