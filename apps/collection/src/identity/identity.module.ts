import { Global, Module } from '@nestjs/common';
import { MergeAnnouncer } from '../merges/merge-announcer';
import { MergeService } from '../merges/merge.service';
import { MergesController } from '../merges/merges.controller';
import { IdentityRulesController } from './identity.controller';
import { IdentityRulesService } from './identity-rules.service';
import { IdentityService } from './identity.service';
import { RestrictionAnnouncer } from './restriction-announcer';
import { SuppressionService } from './suppressions.service';

/**
 * Identity resolution, merges and their outbox relay. Global so that ingest (which resolves
 * inside its own transaction) and customers (merged-id look-ups) can inject IdentityService and
 * MergeService.
 */
@Global()
@Module({
  controllers: [IdentityRulesController, MergesController],
  providers: [
    IdentityService,
    IdentityRulesService,
    MergeService,
    MergeAnnouncer,
    SuppressionService,
    RestrictionAnnouncer,
  ],
  exports: [IdentityService, IdentityRulesService, MergeService, MergeAnnouncer, SuppressionService],
})
export class IdentityModule {}
