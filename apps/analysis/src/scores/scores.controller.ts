import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentPrincipal, RequireScope, uuidParam, type Principal } from '@cdp/service-kit';
import { ScoresService } from './scores.service';

/** A customer's scores (`customer_value`, and any other model's written to the same table). */
@Controller('v1/customers')
@UseGuards(ApiKeyGuard)
@RequireScope('scores:read')
export class ScoresController {
  constructor(private readonly scores: ScoresService) {}

  @Get(':id/scores')
  scoresOf(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.scores.scoresOf(p.workspaceId, uuidParam(id, 'id'));
  }
}
