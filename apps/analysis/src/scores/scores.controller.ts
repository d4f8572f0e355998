import { Body, Controller, Get, Param, Put, UseGuards } from '@nestjs/common';
import { CustomerValueParametersRequest } from '@cdp/contracts';
import {
  ApiKeyGuard,
  CurrentPrincipal,
  parseBody,
  RequireScope,
  uuidParam,
  type Principal,
} from '@cdp/service-kit';
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

/** The workspace's parameters of the customer_value score (its own, or the deployment's). */
@Controller('v1/scores/customer-value/parameters')
@UseGuards(ApiKeyGuard)
@RequireScope('scores:read')
export class ScoreParametersController {
  constructor(private readonly scores: ScoresService) {}

  @Get()
  get(@CurrentPrincipal() p: Principal) {
    return this.scores.parameters(p.workspaceId);
  }

  @RequireScope('scores:write')
  @Put()
  set(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.scores.setParameters(
      p.workspaceId,
      parseBody(CustomerValueParametersRequest, body),
      `api-key:${p.apiKeyId}`,
    );
  }
}
