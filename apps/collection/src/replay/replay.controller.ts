import { Body, Controller, Get, HttpCode, NotFoundException, Param, Post, UseGuards } from '@nestjs/common';
import { ProfilesReplayRequest, ReplayRequest, type ReplayStatus } from '@cdp/contracts';
import { ApiKeyGuard, CurrentPrincipal, parseBody, type Principal, RequireScope } from '@cdp/service-kit';
import { ReplayService } from './replay.service';

/**
 * Re-announce stored events of a time range to cdp.event.ingested, or every profile to
 * cdp.profile.updated (late or rebuilding consumers).
 */
@Controller('v1/replay')
@UseGuards(ApiKeyGuard)
@RequireScope('replay:read')
export class ReplayController {
  constructor(private readonly replays: ReplayService) {}

  /** 202: the replay runs as a job; follow it with GET /v1/replay/:id. */
  @RequireScope('replay:write')
  @Post()
  @HttpCode(202)
  start(@CurrentPrincipal() p: Principal, @Body() body: unknown): Promise<ReplayStatus> {
    return this.replays.start(p.workspaceId, parseBody(ReplayRequest, body));
  }

  /** 202: every live customer's profile to cdp.profile.updated, as a job; follow it with GET /v1/replay/:id. */
  @RequireScope('replay:write')
  @Post('profiles')
  @HttpCode(202)
  startProfiles(@CurrentPrincipal() p: Principal, @Body() body: unknown): Promise<ReplayStatus> {
    parseBody(ProfilesReplayRequest, body ?? {});
    return this.replays.startProfiles(p.workspaceId);
  }

  @Get(':id')
  async status(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<ReplayStatus> {
    const status = await this.replays.status(p.workspaceId, id);
    if (!status) throw new NotFoundException('No replay with this id');
    return status;
  }
}
